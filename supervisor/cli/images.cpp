// images.cpp — `berth image ...`: the node's image store through berthd
// (ls, pull, push, rm, prune, inspect, build-template). Pulls and pushes
// are operations: their progress is polled from the operation and drawn
// in place on a terminal, as plain lines otherwise.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "client.h"

namespace berth::cli {

namespace {

constexpr const char* kUsage =
    "usage: berth image ls [--format json]\n"
    "       berth image pull REF [--tag TAG] [--platform OS/ARCH[/VARIANT]] [REGISTRY FLAGS] [--quiet]\n"
    "       berth image push IMAGE REF [REGISTRY FLAGS] [--quiet]\n"
    "       berth image rm IMAGE          (refused while a container uses it)\n"
    "       berth image prune\n"
    "       berth image inspect IMAGE [--format json]\n"
    "       berth image build-template busybox|debian TAG [--packages P1,P2,...] [--suite S] [--mirror URL]\n"
    "  REGISTRY FLAGS: --creds USER:PASSWORD | --creds-file FILE (one line USER:PASSWORD),\n"
    "                  --ca FILE (--tls-ca FILE: PEM CA certificates to trust), --plain-http\n";

[[noreturn]] void usage_error(const std::string& msg) {
  std::fputs(kUsage, stderr);
  die(2, msg);
}

std::string read_text(const std::string& path, const std::string& flag) {
  std::ifstream in(path);
  if (!in) die(2, flag + ": cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Parsed {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // "plain-http" -> ""
};

// Flags with values in `valued`, alone in `bare`; anything else is refused.
Parsed parse(const std::vector<std::string>& a, size_t from, const std::vector<std::string>& valued,
             const std::vector<std::string>& bare) {
  Parsed p;
  for (size_t i = from; i < a.size(); ++i) {
    if (!a[i].starts_with("--")) {
      p.positional.push_back(a[i]);
      continue;
    }
    std::string name = a[i].substr(2), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (std::find(bare.begin(), bare.end(), name) != bare.end()) {
      if (has_value) usage_error("--" + name + ": takes no value");
      p.flags[name] = "";
    } else if (std::find(valued.begin(), valued.end(), name) != valued.end()) {
      if (!has_value) {
        if (i + 1 >= a.size()) usage_error("--" + name + ": needs a value");
        value = a[++i];
      }
      p.flags[name] = value;
    } else {
      usage_error("image " + a[1] + ": unknown flag --" + name);
    }
  }
  return p;
}

const std::vector<std::string> kRegistryFlags = {"creds", "creds-file", "ca", "tls-ca"};

// The registry part of a pull or push body. Files are read here, so berthd
// never opens a path a client names.
void registry_body(const Parsed& p, json::Value& body) {
  auto has = [&](const char* f) { return p.flags.count(f) > 0; };
  if (has("creds") && has("creds-file")) usage_error("--creds and --creds-file exclude each other");
  if (has("ca") && has("tls-ca")) usage_error("--ca and --tls-ca name the same thing; give one");
  if (has("creds")) body.set("credentials", p.flags.at("creds"));
  if (has("creds-file")) {
    std::string c = read_text(p.flags.at("creds-file"), "--creds-file");
    while (!c.empty() && (c.back() == '\n' || c.back() == '\r')) c.pop_back();
    body.set("credentials", c);
  }
  for (const char* f : {"ca", "tls-ca"})
    if (has(f)) body.set("ca", read_text(p.flags.at(f), std::string("--") + f));
  if (has("plain-http")) body.set("plain_http", true);
}

std::string human(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

// Draws an operation's progress document: in place on a terminal, or a
// line per note and per blob state not shown before.
class ProgressView {
public:
  explicit ProgressView(bool tty) : tty_(tty) {}

  void draw(const json::Value& progress) {
    const json::Value* notes = progress.find("notes");
    const json::Value* blobs = progress.find("blobs");
    std::vector<std::string> lines;
    if (notes)
      for (const auto& n : notes->as_array()) lines.push_back(n.as_string());
    if (blobs)
      for (const auto& b : blobs->as_array()) lines.push_back(blob_line(b, tty_));
    if (tty_) {
      if (drawn_) std::fprintf(stderr, "\x1b[%zuA", drawn_);
      for (const auto& l : lines) std::fprintf(stderr, "\r\x1b[K%s\n", l.c_str());
      drawn_ = lines.size();
    } else {
      size_t nnotes = notes ? notes->as_array().size() : 0;
      for (size_t i = 0; i < lines.size(); ++i) {
        bool is_note = i < nnotes;
        std::string key = is_note ? "note " + std::to_string(i) : field((*blobs).as_array()[i - nnotes], "digest");
        if (shown_[key] == lines[i]) continue;
        shown_[key] = lines[i];
        std::fprintf(stderr, "%s\n", lines[i].c_str());
      }
    }
    std::fflush(stderr);
  }

private:
  static std::string blob_line(const json::Value& b, bool bytes) {
    std::string digest = field(b, "digest");
    std::string line = field(b, "kind") + " " + digest.substr(0, 19) + ": " + field(b, "state");
    const json::Value* done = b.find("done");
    const json::Value* total = b.find("total");
    std::string st = field(b, "state");
    if (bytes && done && total && (st == "downloading" || st == "uploading") && total->as_uint() > 0)
      line += " " + human(done->as_uint()) + " / " + human(total->as_uint());
    return line;
  }

  bool tty_;
  size_t drawn_ = 0;
  std::map<std::string, std::string> shown_;
};

volatile sig_atomic_t g_interrupted = 0;

// Starts an operation and follows it to the end, drawing its progress.
// Ctrl-C (or SIGTERM) asks berthd to cancel it, as Incus's client does,
// and still waits for its end: the exit then says it was cancelled.
json::Value follow_operation(const std::string& path, const json::Value& body, bool quiet) {
  json::Value op = expect_ok(call("POST", path, json::dump(body)));
  const json::Value* id = op.find("id");
  if (!id || !id->is_string()) die(1, "no operation id in berthd's answer");
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_interrupted = 1; };
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ProgressView view(::isatty(2) == 1);
  bool asked = false;
  for (;;) {
    if (g_interrupted && !asked) {
      asked = true;
      Response r = call("DELETE", "/v1/operations/" + id->as_string());
      std::fprintf(stderr, "berth: %s\n", r.status < 300 ? ("cancelling operation " + id->as_string()).c_str()
                                                          : ("cannot cancel: " + r.body).c_str());
    }
    json::Value doc = expect_ok(call("GET", "/v1/operations/" + id->as_string()));
    if (!quiet)
      if (const json::Value* p = doc.find("progress")) view.draw(*p);
    std::string status = field(doc, "status");
    if (status != "running" && status != "cancelling") return operation_outcome(doc);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void print_json(const json::Value& v) { std::printf("%s\n", json::dump(v, true).c_str()); }

int ls(bool json_out) {
  json::Value v = expect_ok(call("GET", "/v1/images"));
  if (json_out) return print_json(v), 0;
  std::printf("%-50s %-20s %-14s %s\n", "TAG", "DIGEST", "PLATFORM", "SIZE");
  for (const auto& i : v.as_array())
    std::printf("%-50s %-20.19s %-14s %s\n", field(i, "tag").c_str(), field(i, "digest").c_str(),
                field(i, "platform").c_str(), field(i, "size").c_str());
  return 0;
}

int pull(const std::vector<std::string>& a, bool json_out) {
  std::vector<std::string> valued = kRegistryFlags;
  valued.insert(valued.end(), {"tag", "platform"});
  Parsed p = parse(a, 2, valued, {"plain-http", "quiet"});
  if (p.positional.size() != 1) usage_error("image pull: expected one REF");
  json::Value body = json::Value::object();
  body.set("ref", p.positional[0]);
  if (p.flags.count("tag")) body.set("tag", p.flags["tag"]);
  if (p.flags.count("platform")) body.set("platform", p.flags["platform"]);
  registry_body(p, body);
  json::Value r = follow_operation("/v1/images/pull", body, p.flags.count("quiet") > 0);
  if (json_out) return print_json(r), 0;
  std::printf("%s %s\n", field(r, "tag").c_str(), field(r, "digest").c_str());
  return 0;
}

int push(const std::vector<std::string>& a, bool json_out) {
  Parsed p = parse(a, 2, kRegistryFlags, {"plain-http", "quiet"});
  if (p.positional.size() != 2) usage_error("image push: expected IMAGE and REF");
  json::Value body = json::Value::object();
  body.set("image", p.positional[0]);
  body.set("ref", p.positional[1]);
  registry_body(p, body);
  json::Value r = follow_operation("/v1/images/push", body, p.flags.count("quiet") > 0);
  if (json_out) return print_json(r), 0;
  std::printf("%s %s\n", field(r, "ref").c_str(), field(r, "digest").c_str());
  return 0;
}

int inspect(const std::string& ref, bool json_out) {
  json::Value v = expect_ok(call("GET", "/v1/images/" + ref));
  if (json_out) return print_json(v), 0;
  for (const char* k : {"tag", "digest", "platform", "size", "media_type"}) std::printf("%-12s %s\n", k, field(v, k).c_str());
  const json::Value* cfg = v.find("config");
  for (const char* k : {"entrypoint", "cmd", "working_dir", "user", "labels"})
    std::printf("%-12s %s\n", k, cfg ? field(*cfg, k).c_str() : "-");
  std::printf("%-12s %zu\n", "layers", v.find("layers") ? v.find("layers")->as_array().size() : 0);
  std::printf("%-12s %s\n", "used_by", field(v, "used_by").c_str());
  return 0;
}

int build_template(const std::vector<std::string>& a) {
  Parsed p = parse(a, 2, {"packages", "suite", "mirror"}, {});
  if (p.positional.size() != 2) usage_error("image build-template: expected KIND and TAG");
  json::Value body = json::Value::object();
  body.set("template", p.positional[0]);
  body.set("tag", p.positional[1]);
  if (p.flags.count("packages")) {
    json::Value list = json::Value::array();
    std::stringstream ss(p.flags["packages"]);
    for (std::string pkg; std::getline(ss, pkg, ',');)
      if (!pkg.empty()) list.push_back(pkg);
    body.set("packages", std::move(list));
  }
  for (const char* k : {"suite", "mirror"})
    if (p.flags.count(k)) body.set(k, p.flags[k]);
  json::Value r = run_operation("POST", "/v1/images", json::dump(body));
  std::printf("%s %s\n", p.positional[1].c_str(), field(r, "digest").c_str());
  return 0;
}

}  // namespace

int operation_command(const std::vector<std::string>& a, bool json_out) {
  std::string sub = a.size() >= 2 ? a[1] : "";
  if (sub == "ls" && a.size() == 2) {
    json::Value v = expect_ok(call("GET", "/v1/operations"));
    if (json_out) return print_json(v), 0;
    std::printf("%-8s %-16s %-24s %-11s %-6s %s\n", "ID", "ACTION", "TARGET", "STATUS", "CANCEL", "BY");
    for (const auto& o : v.as_array()) {
      const json::Value* mc = o.find("may_cancel");
      std::printf("%-8s %-16s %-24s %-11s %-6s %s\n", field(o, "id").c_str(), field(o, "action").c_str(),
                  field(o, "target").c_str(), field(o, "status").c_str(), mc && mc->is_bool() && mc->as_bool() ? "yes" : "no",
                  field(o, "by").c_str());
    }
    return 0;
  }
  if ((sub == "show" || sub == "cancel" || sub == "wait") && a.size() == 3) {
    if (a[2].find_first_not_of("0123456789") != std::string::npos) die(2, "operation " + sub + ": \"" + a[2] + "\" is not an operation id");
    std::string path = "/v1/operations/" + a[2];
    json::Value v = sub == "show"     ? expect_ok(call("GET", path))
                    : sub == "cancel" ? expect_ok(call("DELETE", path))
                                      : expect_ok(call("GET", path + "/wait"));
    if (json_out || sub == "show") return print_json(v), 0;
    if (sub == "cancel") return std::printf("operation %s: %s\n", a[2].c_str(), field(v, "status").c_str()), 0;
    operation_outcome(v);
    return std::printf("operation %s: %s\n", a[2].c_str(), field(v, "status").c_str()), 0;
  }
  usage_error(sub.empty() ? "operation: expected ls, show ID, wait ID or cancel ID" : "operation: unknown command or arguments: " + sub);
}

int image_command(const std::vector<std::string>& a, bool json_out) {
  std::string sub = a.size() >= 2 ? a[1] : "";
  if (sub == "--help") return std::fputs(kUsage, stdout), 0;
  if (sub == "ls" && a.size() == 2) return ls(json_out);
  if (sub == "pull") return pull(a, json_out);
  if (sub == "push") return push(a, json_out);
  if (sub == "build-template") return build_template(a);
  if (sub == "rm" || sub == "inspect") {
    if (a.size() != 3 || a[2].starts_with("-")) usage_error("image " + sub + ": expected one IMAGE");
    // The reference becomes part of the request's path.
    if (a[2].find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@-") != std::string::npos)
      die(2, "image reference \"" + a[2] + "\": unexpected character");
  }
  if (sub == "inspect") return inspect(a[2], json_out);
  if (sub == "rm") {
    json::Value r = expect_ok(call("DELETE", "/v1/images/" + a[2]));
    std::printf("untagged %s\n", field(r, "tag").c_str());
    return 0;
  }
  if (sub == "prune" && a.size() == 2) {
    json::Value r = run_operation("POST", "/v1/images/prune", "");
    if (json_out) return print_json(r), 0;
    std::printf("removed %s blobs (%s), %s unpacked layers, %s temporary files\n", field(r, "blobs_removed").c_str(),
                human(r.find("bytes_removed") ? r.find("bytes_removed")->as_uint() : 0).c_str(),
                field(r, "layers_removed").c_str(), field(r, "temps_removed").c_str());
    return 0;
  }
  usage_error(sub.empty() ? "image: expected a command" : "image: unknown command or arguments: " + sub);
}

}  // namespace berth::cli
