// json.cpp — one JSON implementation per build (base/json, Boost.JSON, or none): times parse and dump of a document, or
// parses it once and reports the peak and private RSS.
//
// BENCH_JSON selects the implementation: 0 none (reads the file only: the
// baseline of size and RSS), 1 berth's base/json, 2 Boost.JSON compiled in
// (boost/json/src.hpp in this file), 3 Boost.JSON from libboost_json.a.
// A file named *.jsonl holds one document a line (the monitor's messages);
// any other file is one document. bench/json.sh runs every build.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "best_of.h"

#if BENCH_JSON == 1
#include "berth/base/json.h"
#elif BENCH_JSON == 2
#include <boost/json/src.hpp>
#elif BENCH_JSON == 3
#include <boost/json.hpp>
#endif

namespace {

// Microseconds per call of f, the least of three rounds.
template <typename F>
double per_call(int reps, F f) {
  return berth::bench::best_of_three(reps, f) * 1e6;
}

#if BENCH_JSON == 1
using Doc = berth::json::Value;
bool parse_doc(std::string_view text, Doc& out) {
  auto r = berth::json::parse(text);
  if (!r) return false;
  out = std::move(*r);
  return true;
}
std::string dump_doc(const Doc& d) { return berth::json::dump(d); }
#elif BENCH_JSON == 2 || BENCH_JSON == 3
using Doc = boost::json::value;
bool parse_doc(std::string_view text, Doc& out) {
  boost::system::error_code ec;
  out = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  return !ec;
}
std::string dump_doc(const Doc& d) { return boost::json::serialize(d); }
#else
using Doc = size_t;
bool parse_doc(std::string_view text, Doc& out) {
  out = text.size();
  return true;
}
std::string dump_doc(const Doc&) { return std::string(); }
#endif

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "berth-bench-json: %s\n", what.c_str());
  std::exit(1);
}

// The documents of a file: its lines for *.jsonl, else the whole text.
std::vector<std::string> read_documents(const std::string& path) {
  // read(2), not iostreams: their locale machinery would swell every build alike
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot read " + path);
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (!path.ends_with(".jsonl")) return {text};
  std::vector<std::string> docs;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    if (nl > at) docs.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return docs;
}

std::vector<Doc> parse_all(const std::vector<std::string>& texts) {
  std::vector<Doc> docs(texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    if (!parse_doc(texts[i], docs[i])) fail("parse failed");
  return docs;
}

size_t dump_all(const std::vector<Doc>& docs) {
  size_t n = 0;
  for (const Doc& d : docs) n += dump_doc(d).size();
  return n;
}

long peak_rss_kib() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// The process's private pages now (RssAnon): the heap and stacks, what each
// process has of its own; the binary's file pages are shared by every copy.
long anon_rss_kib() {
  int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  const char* p = std::strstr(buf, "RssAnon:");
  return p ? std::atol(p + 8) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "time" && argc == 4) {
    int reps = std::atoi(argv[2]);
    if (reps < 1) fail("bad repetition count");
    auto texts = read_documents(argv[3]);
    volatile size_t sink = 0;
    double parse_us = per_call(reps, [&] { sink = sink + parse_all(texts).size(); });
    auto docs = parse_all(texts);
    double dump_us = per_call(reps, [&] { sink = sink + dump_all(docs); });
    std::printf("%.2f %.2f\n", parse_us, dump_us);
    return 0;
  }
  if (mode == "once" && argc == 3) {
    auto texts = read_documents(argv[2]);
    auto docs = parse_all(texts);
    volatile size_t sink = dump_all(docs);
    (void)sink;
    std::printf("%ld %ld\n", peak_rss_kib(), anon_rss_kib());
    return 0;
  }
  std::fprintf(stderr, "usage: %s time REPS FILE | once FILE\n", argv[0]);
  return 2;
}
