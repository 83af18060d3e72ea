// progress.cpp — the terminal and plain-line progress displays.
#include "berth/images/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace berth::images {

std::string_view blob_state_name(BlobState s) {
  switch (s) {
    case BlobState::waiting: return "waiting";
    case BlobState::downloading: return "downloading";
    case BlobState::uploading: return "uploading";
    case BlobState::unpacking: return "unpacking";
    case BlobState::exists: return "exists";
    case BlobState::done: return "done";
    case BlobState::failed: return "failed";
  }
  return "?";
}

std::string human_bytes(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n) / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;  // progress is best effort: a closed terminal is not an error
    off += static_cast<size_t>(n);
  }
}

struct Row {
  Digest digest;
  std::string kind;
  BlobState state = BlobState::waiting;
  uint64_t done = 0, total = 0;
  bool printed = false;  // plain lines: this state has been shown
};

std::string row_text(const Row& r) {
  std::string s = r.digest.short_str() + " " + r.kind;
  s.resize(std::max<size_t>(s.size(), 29), ' ');
  s += " ";
  std::string st(blob_state_name(r.state));
  st.resize(12, ' ');
  s += st;
  bool moving = r.state == BlobState::downloading || r.state == BlobState::uploading;
  if (moving && r.total > 0) {
    const int width = 20;
    int filled = static_cast<int>(static_cast<double>(std::min(r.done, r.total)) / static_cast<double>(r.total) * width);
    s += "[" + std::string(static_cast<size_t>(filled), '=') + std::string(static_cast<size_t>(width - filled), ' ') +
         "] " + human_bytes(r.done) + " / " + human_bytes(r.total);
  } else if (r.total > 0) {
    s += human_bytes(r.total);
  }
  return s;
}

class RowTable {
protected:
  Row& row(const Digest& d, std::string_view kind) {
    for (auto& r : rows_)
      if (r.digest == d) return r;
    rows_.push_back(Row{d, std::string(kind)});
    return rows_.back();
  }
  std::vector<Row> rows_;
};

class TerminalProgress : public Progress, RowTable {
public:
  explicit TerminalProgress(int fd) : fd_(fd) {}

  void blob(const Digest& d, std::string_view kind, BlobState s, uint64_t done, uint64_t total) override {
    std::lock_guard<std::mutex> g(mu_);
    if (finished_) return;
    Row& r = row(d, kind);
    bool changed = r.state != s;
    r.state = s, r.done = done, r.total = total ? total : r.total;
    auto now = std::chrono::steady_clock::now();
    if (!changed && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    redraw("");
  }
  void note(std::string_view line) override {
    std::lock_guard<std::mutex> g(mu_);
    if (!finished_) redraw(std::string(line) + "\n");
  }
  void finish() override {
    std::lock_guard<std::mutex> g(mu_);
    if (!finished_) redraw("");
    finished_ = true;
  }

private:
  // Moves up over the rows drawn last time, prints `above` (notes scroll
  // up out of the table) and the rows again.
  void redraw(const std::string& above) {
    std::string out;
    if (drawn_ > 0) out += "\x1b[" + std::to_string(drawn_) + "F\x1b[J";
    out += above;
    for (const auto& r : rows_) out += row_text(r) + "\x1b[K\n";
    drawn_ = rows_.size();
    write_all(fd_, out);
  }

  int fd_;
  std::mutex mu_;
  size_t drawn_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point last_{};
};

class LineProgress : public Progress, RowTable {
public:
  explicit LineProgress(int fd) : fd_(fd) {}

  void blob(const Digest& d, std::string_view kind, BlobState s, uint64_t done, uint64_t total) override {
    std::lock_guard<std::mutex> g(mu_);
    Row& r = row(d, kind);
    if (r.printed && r.state == s) return;
    r.state = s, r.done = done, r.total = total ? total : r.total;
    r.printed = true;
    std::string line = r.digest.short_str() + " " + r.kind + ": " + std::string(blob_state_name(s));
    if (r.total > 0) line += " (" + human_bytes(r.total) + ")";
    write_all(fd_, line + "\n");
  }
  void note(std::string_view line) override {
    std::lock_guard<std::mutex> g(mu_);
    write_all(fd_, std::string(line) + "\n");
  }
  void finish() override {}

private:
  int fd_;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<Progress> make_terminal_progress(int fd) { return std::make_unique<TerminalProgress>(fd); }
std::unique_ptr<Progress> make_line_progress(int fd) { return std::make_unique<LineProgress>(fd); }
std::unique_ptr<Progress> make_progress(int fd) {
  if (::isatty(fd)) return make_terminal_progress(fd);
  return make_line_progress(fd);
}

}  // namespace berth::images
