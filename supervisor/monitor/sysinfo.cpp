// sysinfo.cpp — the container's sysinfo(2), answered by the monitor from
// the caller's cgroup (see sysinfo.h).
#include "sysinfo.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/supervisor/unix_socket.h"

namespace berth::supervisor {

namespace {

#if defined(__x86_64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
#else
constexpr uint32_t kNativeArch = 0;  // every call runs the real syscall
#endif

constexpr uint64_t kV1Unlimited = 1ull << 62;  // v1 shows "no limit" as PAGE_COUNTER_MAX pages
constexpr size_t kMaxSenders = 64;
constexpr size_t kMaxState = 1u << 20;  // what a sender may send after its fd
const std::string kCgroupRoot = "/sys/fs/cgroup";

uint64_t room(uint64_t total, uint64_t used) { return used < total ? total - used : 0; }

bool has_controller(std::string_view list, std::string_view name) {
  for (std::string_view c : split(list, ','))
    if (c == name) return true;
  return false;
}

std::string parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string under(const std::string& root, const std::string& path) { return path == "/" ? root : root + path; }

std::optional<uint64_t> read_value(const std::string& path) {
  auto text = fs::read_file(path, 64);
  if (!text) return std::nullopt;
  return parse_limit(*text);
}

// The nearest cgroup with a memory limit, the caller's or an ancestor's: an
// init system inside may run its services in cgroups below the container's.
// Without one anywhere, the caller's own. `up` says how far it climbed.
std::string limited_scope(const std::string& base, const std::string& path, const char* limit_file, int& up) {
  std::string d = path;
  for (int i = 0;; ++i) {
    auto limit = read_value(under(base, d) + "/" + limit_file);
    if (!limit) break;  // past the top of the hierarchy (v2's root has no memory.max)
    if (*limit != kNoLimit) {
      up = i;
      return d;
    }
    if (d == "/") break;
    d = parent(d);
  }
  up = 0;
  return path;
}

Result<CgroupFigures> read_figures(const CgroupPaths& p) {
  const std::string base = p.v2 ? kCgroupRoot : kCgroupRoot + "/memory";
  int up = 0;
  const std::string dir = under(base, limited_scope(base, p.memory, p.v2 ? "memory.max" : "memory.limit_in_bytes", up));
  CgroupFigures f;
  auto limit = read_value(dir + (p.v2 ? "/memory.max" : "/memory.limit_in_bytes"));
  auto usage = read_value(dir + (p.v2 ? "/memory.current" : "/memory.usage_in_bytes"));
  if (!limit || !usage) return Error(ENOENT, "read the memory cgroup " + dir);
  f.mem_limit = *limit;
  f.mem_usage = *usage;
  if (p.v2) {
    if (auto l = read_value(dir + "/memory.swap.max")) f.swap_limit = *l;
    f.swap_usage = read_value(dir + "/memory.swap.current");
  } else if (auto both = read_value(dir + "/memory.memsw.limit_in_bytes")) {
    // v1 counts memory + swap (only with swap accounting).
    f.swap_limit = *both == kNoLimit || f.mem_limit == kNoLimit ? kNoLimit : room(*both, f.mem_limit);
    if (auto used = read_value(dir + "/memory.memsw.usage_in_bytes")) f.swap_usage = room(*used, f.mem_usage);
  }
  std::string pids = p.pids;
  for (int i = 0; i < up; ++i) pids = parent(pids);
  if (!pids.empty()) f.tasks = read_value(under(p.v2 ? kCgroupRoot : kCgroupRoot + "/pids", pids) + "/pids.current");
  return f;
}

}  // namespace

struct sysinfo container_sysinfo(const struct sysinfo& host, const CgroupFigures& cg, long uptime) {
  struct sysinfo s {};
  const uint64_t unit = host.mem_unit ? host.mem_unit : 1;
  s.uptime = std::max(uptime, 0L);
  std::copy(std::begin(host.loads), std::end(host.loads), std::begin(s.loads));
  s.totalram = std::min<uint64_t>(uint64_t{host.totalram} * unit, cg.mem_limit);
  s.freeram = room(s.totalram, cg.mem_usage);
  s.totalswap = std::min<uint64_t>(uint64_t{host.totalswap} * unit, cg.swap_limit);
  s.freeswap = cg.swap_usage ? room(s.totalswap, *cg.swap_usage)
                             : std::min<uint64_t>(uint64_t{host.freeswap} * unit, s.totalswap);
  s.procs = cg.tasks ? static_cast<unsigned short>(std::min<uint64_t>(*cg.tasks, 0xffff)) : host.procs;
  s.totalhigh = 0;
  s.freehigh = 0;
  s.mem_unit = 1;
  return s;
}

std::optional<CgroupPaths> parse_proc_cgroup(std::string_view text) {
  std::optional<std::string> memory, pids, unified;
  while (!text.empty()) {
    size_t nl = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(std::min(nl + 1, text.size()));
    size_t c1 = line.find(':'), c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path(line.substr(c2 + 1));
    if (path.empty() || path[0] != '/') continue;
    if (line.substr(0, c1) == "0" && controllers.empty()) unified = path;
    if (has_controller(controllers, "memory")) memory = path;
    if (has_controller(controllers, "pids")) pids = path;
  }
  if (memory) return CgroupPaths{false, *memory, pids.value_or("")};
  if (unified) return CgroupPaths{true, *unified, *unified};
  return std::nullopt;
}

std::optional<uint64_t> parse_limit(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text == "max") return kNoLimit;
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (v > (UINT64_MAX - 9) / 10) return kNoLimit;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v >= kV1Unlimited ? kNoLimit : v;
}

SysinfoServer::SysinfoServer(int listen_fd) : listen_(listen_fd) {
  // The kernel's structs may be larger than this build's headers say.
  seccomp_notif_sizes sizes{};
  if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) sizes = {};
  req_.resize(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  resp_.resize(std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
}

Status SysinfoServer::listen(const std::string& path) {
  listen_ = BERTH_TRY_CTX(listen_unix(path, 0600), "seccomp socket");
  return ok();
}

void SysinfoServer::fill(std::vector<pollfd>& p) const {
  p.push_back({listen_.get(), POLLIN, 0});
  for (const auto& s : senders_) p.push_back({s.fd.get(), POLLIN, 0});
  for (const auto& n : notify_) p.push_back({n.get(), POLLIN, 0});
}

void SysinfoServer::handle(const pollfd* p, time_t started) {
  const size_t nsenders = senders_.size(), nnotify = notify_.size();
  const pollfd* notify = p + 1 + nsenders;
  for (size_t i = 0; i < nnotify; ++i) {
    bool keep = true;
    if (notify[i].revents & POLLIN) keep = answer(notify_[i].get(), started);
    // POLLHUP: every process under this filter has exited.
    if (!keep || (notify[i].revents & (POLLHUP | POLLERR | POLLNVAL))) notify_[i].reset();
  }
  std::erase_if(notify_, [](const UniqueFd& fd) { return !fd; });
  for (size_t i = 0; i < nsenders; ++i)
    if (p[1 + i].revents && !read_sender(senders_[i])) senders_[i].fd.reset();
  std::erase_if(senders_, [](const Sender& s) { return !s.fd; });
  if (p[0].revents & POLLIN) accept_sender();
}

void SysinfoServer::accept_sender() {
  UniqueFd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (c && senders_.size() < kMaxSenders) senders_.push_back(Sender{std::move(c)});
}

// The runtime sends its state JSON with the notify fd on the first byte and
// hangs up; the rest is drained to EOF so that it never sees EPIPE.
bool SysinfoServer::read_sender(Sender& s) {
  if (!s.got_fd) {
    auto fd = recv_fd(s.fd.get(), MSG_DONTWAIT);
    if (!fd) return fd.error().code() == EAGAIN;
    notify_.push_back(std::move(*fd));
    s.got_fd = true;
    return true;
  }
  char buf[4096];
  ssize_t n = ::read(s.fd.get(), buf, sizeof buf);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  s.read += static_cast<size_t>(n);
  return n > 0 && s.read < kMaxState;
}

// Returns false when the fd is no notify fd worth keeping.
bool SysinfoServer::answer(int notify_fd, time_t started) {
  std::fill(req_.begin(), req_.end(), 0);  // RECV wants a zeroed struct
  auto* req = reinterpret_cast<seccomp_notif*>(req_.data());
  if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
    return errno == ENOENT || errno == EINTR;  // ENOENT: the caller was killed meanwhile
  Status st = req->data.nr == __NR_sysinfo && req->data.arch == kNativeArch
                  ? fake_sysinfo(notify_fd, *req, started)
                  : Error(ENOSYS, "syscall " + std::to_string(req->data.nr) + " is not answered here");
  if (!st && !warned_ && st.error().code() != ENOSYS && st.error().code() != ENOENT &&
      st.error().code() != EFAULT) {
    warned_ = true;  // once: a container calling sysinfo in a loop must not fill the log
    log::warn("sysinfo of pid " + std::to_string(req->pid) + ": " + st.error().what() + "; the real syscall runs");
  }
  std::fill(resp_.begin(), resp_.end(), 0);
  auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_.data());
  resp->id = req->id;
  if (!st) resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  (void)::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
  return true;
}

Status SysinfoServer::fake_sysinfo(int notify_fd, const seccomp_notif& req, time_t started) {
  const std::string proc = "/proc/" + std::to_string(req.pid);
  std::string text = BERTH_TRY(fs::read_file(proc + "/cgroup", 1 << 16));
  auto paths = parse_proc_cgroup(text);
  if (!paths) return Error(ENOENT, "no memory cgroup in " + proc + "/cgroup");
  CgroupFigures cg = BERTH_TRY(read_figures(*paths));
  UniqueFd mem(::open((proc + "/mem").c_str(), O_WRONLY | O_CLOEXEC));
  if (!mem) return Error::os("open " + proc + "/mem");
  // The pid is the caller's only while its notification is pending: checked
  // after the opens, and again after the write, before the answer.
  uint64_t id = req.id;
  if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) return Error(ENOENT, "caller gone");
  struct sysinfo host;
  if (::sysinfo(&host) < 0) return Error::os("sysinfo");
  struct sysinfo s = container_sysinfo(host, cg, static_cast<long>(std::time(nullptr) - started));
  if (::pwrite(mem.get(), &s, sizeof s, static_cast<off_t>(req.data.args[0])) != static_cast<ssize_t>(sizeof s))
    return Error(EFAULT, "write the caller's struct sysinfo");
  if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) return Error(ENOENT, "caller gone");
  return ok();
}

}  // namespace berth::supervisor
