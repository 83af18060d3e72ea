// fs.cpp — cgroupfs file helpers: read, write, mkdir -p, rmdir tree, polling.
#include "fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <thread>

#include "berth/base/fd.h"

namespace berth::cgroups::fs {

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::os("read " + path);
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::os("read " + path);
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

Status write_file(const std::string& path, const std::string& value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) return Error::os("write " + path);
  // cgroupfs parses each write(2) as one value: never split it.
  ssize_t n;
  do n = ::write(fd.get(), value.data(), value.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) return Error::os("write " + path + " \"" + value + "\"");
  if (static_cast<size_t>(n) != value.size())
    return Error(EIO, "write " + path + ": short write");
  return ok();
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status mkdir_p(const std::string& path, const std::function<Status(const std::string&)>& on_new) {
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), 0755) == 0) {
      if (on_new) BERTH_TRY(on_new(prefix));
    } else if (errno != EEXIST) {
      return Error::os("mkdir " + prefix);
    }
  }
  return ok();
}

Result<std::vector<std::string>> subdirs(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) return errno == ENOENT ? Result<std::vector<std::string>>(out) : Error::os("open directory " + path);
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && is_dir(path + "/" + name)))
      out.push_back(path + "/" + name);
  }
  ::closedir(d);
  return out;
}

Status rmdir_tree(const std::string& path) {
  for (const auto& sub : BERTH_TRY(subdirs(path))) BERTH_TRY(rmdir_tree(sub));
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return ok();
    if (errno != EBUSY || attempt == 9) return Error::os("remove cgroup " + path);
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * (attempt + 1)));
  }
}

namespace {

// One write with its fallback/optional rules.
Status apply_one(const std::string& dir, const Write& w) {
  std::string path = dir + "/" + w.file;
  if (!w.fallback_file.empty() && !exists(path)) {
    std::string alt = dir + "/" + w.fallback_file;
    if (w.optional && !exists(alt)) return ok();
    return write_file(alt, w.fallback_value);
  }
  if (w.optional && !exists(path)) return ok();
  return write_file(path, w.value);
}

}  // namespace

Status apply(const std::string& dir, const std::vector<Write>& writes) {
  std::vector<const Write*> retry;
  for (const auto& w : writes) {
    Status s = apply_one(dir, w);
    if (s) continue;
    if (s.error().code() != EINVAL && s.error().code() != EBUSY) return s;
    retry.push_back(&w);
  }
  for (const Write* w : retry) BERTH_TRY(apply_one(dir, *w));
  return ok();
}

uint64_t parse_u64(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  if (s == "max") return UINT64_MAX;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() ? v : 0;
}

std::vector<std::pair<std::string, uint64_t>> parse_flat_keyed(const std::string& text) {
  std::vector<std::pair<std::string, uint64_t>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    size_t sp = line.find(' ');
    if (sp != std::string_view::npos)
      out.emplace_back(std::string(line.substr(0, sp)), parse_u64(line.substr(sp + 1)));
    pos = end + 1;
  }
  return out;
}

uint64_t keyed(const std::vector<std::pair<std::string, uint64_t>>& kv, std::string_view key) {
  for (const auto& [k, v] : kv)
    if (k == key) return v;
  return 0;
}

std::optional<uint64_t> read_u64(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  return parse_u64(*text);
}

Result<std::vector<pid_t>> read_pids(const std::string& path) {
  std::string text = BERTH_TRY(read_file(path));
  std::vector<pid_t> out;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    pid_t pid = 0;
    auto [next, ec] = std::from_chars(p, end, pid);
    if (ec == std::errc()) out.push_back(pid);
    p = next + 1;
  }
  return out;
}

Status collect_pids(const std::string& dir, std::vector<pid_t>& out) {
  auto pids = BERTH_TRY(read_pids(dir + "/cgroup.procs"));
  out.insert(out.end(), pids.begin(), pids.end());
  for (const auto& sub : BERTH_TRY(subdirs(dir))) BERTH_TRY(collect_pids(sub, out));
  return ok();
}

Result<bool> poll_until(const std::function<Result<bool>()>& done,
                        std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto delay = std::chrono::milliseconds(1);
  while (true) {
    if (BERTH_TRY(done())) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(20));
  }
}

}  // namespace berth::cgroups::fs
