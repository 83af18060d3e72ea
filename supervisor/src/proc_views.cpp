// proc_views.cpp — the node's lxcfs and the bind mounts of its files.
#include "berth/supervisor/proc_views.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>
#include <vector>

#include "berth/base/fd.h"
#include "berth/base/fs.h"
#include "berth/base/log.h"

namespace berth::supervisor {

const char* const kProcViewFiles[8] = {"proc/cpuinfo", "proc/diskstats", "proc/loadavg", "proc/meminfo",
                                       "proc/stat",    "proc/swaps",     "proc/uptime",
                                       "sys/devices/system/cpu/online"};

void add_proc_views(json::Value& spec, const std::string& lxcfs_dir) {
  json::Value* mounts = spec.find("mounts");
  for (const char* f : kProcViewFiles) {
    json::Value m = json::Value::object();
    m.set("destination", std::string("/") + f);
    m.set("type", "bind");
    m.set("source", fs::join(lxcfs_dir, f));
    json::Value opts = json::Value::array();
    for (const char* o : {"bind", "ro", "nosuid", "nodev", "noexec"}) opts.push_back(o);
    m.set("options", std::move(opts));
    mounts->push_back(std::move(m));
  }
}

namespace {

// True when `dir` is an lxcfs mount (fuse.lxcfs in /proc/self/mountinfo).
bool lxcfs_mounted(const std::string& dir) {
  auto text = fs::read_file("/proc/self/mountinfo");
  if (!text) return false;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    size_t dash = line.find(" - ");
    if (point == dir && dash != std::string::npos && line.compare(dash + 3, 10, "fuse.lxcfs") == 0) return true;
  }
  return false;
}

// A mounted lxcfs that answers: the mount of one that died stays in the
// mount table but fails every access (ENOTCONN).
bool lxcfs_alive(const std::string& dir) {
  return lxcfs_mounted(dir) && ::access(fs::join(dir, "proc/meminfo").c_str(), R_OK) == 0;
}

// The fast check of acquire(), made for every start: a FUSE file system
// at `dir` whose meminfo answers. No read of the mount table, which
// holds two mounts for each running container.
bool fuse_alive(const std::string& dir) {
  struct statfs sf;
  constexpr int64_t kFuseMagic = 0x65735546;
  return ::statfs(dir.c_str(), &sf) == 0 && static_cast<int64_t>(sf.f_type) == kFuseMagic &&
         ::access(fs::join(dir, "proc/meminfo").c_str(), R_OK) == 0;
}

// The pid in `pid_file` when it is a running lxcfs, else 0.
pid_t lxcfs_pid(const std::string& pid_file) {
  auto text = fs::read_file(pid_file);
  if (!text) return 0;
  pid_t pid = std::atoi(text->c_str());
  if (pid <= 1) return 0;
  auto comm = fs::read_file("/proc/" + std::to_string(pid) + "/comm");
  return comm && comm->starts_with("lxcfs") ? pid : 0;
}

}  // namespace

ProcViews::ProcViews(std::string own_dir, std::string binary, std::string system_dir)
    : own_dir_(std::move(own_dir)), binary_(std::move(binary)), system_dir_(std::move(system_dir)),
      pid_file_(own_dir_ + ".pid") {}

ProcViews::~ProcViews() {
  std::lock_guard lock(mu_);
  if (users_.empty() && own_) stop_locked();
}

std::string ProcViews::acquire(const std::string& name) {
  std::lock_guard lock(mu_);
  if (binary_ == "none" || missing_) return "";
  if (dir_.empty() || !fuse_alive(dir_)) dir_ = start_locked();
  if (!dir_.empty()) users_.insert(name);
  return dir_;
}

void ProcViews::release(const std::string& name) {
  std::lock_guard lock(mu_);
  users_.erase(name);
  if (users_.empty() && own_) stop_locked();
}

std::string ProcViews::start_locked() {
  own_ = false;
  if (lxcfs_alive(system_dir_)) return system_dir_;
  if (lxcfs_alive(own_dir_)) {
    own_ = true;  // started by an earlier berthd
    return own_dir_;
  }
  // A mount whose lxcfs died: nothing can read it any more.
  if (::umount2(own_dir_.c_str(), MNT_DETACH) == 0) log::warn("lxcfs: detached a dead mount at " + own_dir_);
  if (auto st = fs::mkdir_p(own_dir_, 0755); !st) {
    log::error("lxcfs: " + st.error().what());
    return "";
  }
  std::string log_path = own_dir_ + ".log";
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  // -l: load averages; --enable-cfs: CPU counts from the CPU quota and
  // cpuset. lxcfs stays in the foreground (-f): it is started detached
  // (double fork, own session), never berthd's child. It starts once a
  // node, so the fork of berthd is not worth avoiding here (the monitor,
  // started for every container, is spawned: monitor_client.cpp).
  std::vector<std::string> args = {binary_, "-f", "-l", "--enable-cfs", "-p", pid_file_, own_dir_};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0 || !devnull) {
    log::error("lxcfs: pipe: " + std::string(std::strerror(errno)));
    return "";
  }
  UniqueFd rd(p[0]), wr(p[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    log::error("lxcfs: fork: " + std::string(std::strerror(errno)));
    return "";
  }
  if (pid == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    ::dup2(devnull.get(), 0);
    ::dup2(log ? log.get() : devnull.get(), 1);
    ::dup2(log ? log.get() : devnull.get(), 2);
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // none of berthd's sockets (its pipe stays until the exec)
    ::execvp(argv[0], argv.data());
    int err = errno;
    (void)!::write(wr.get(), &err, sizeof err);  // the exec failed; a successful one closes the pipe
    ::_exit(127);
  }
  wr.reset();
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  int err = 0;
  missing_ = ::read(rd.get(), &err, sizeof err) == sizeof err;
  for (int i = 0; !missing_ && i < 250 && !lxcfs_mounted(own_dir_); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!lxcfs_mounted(own_dir_)) {
    if (!warned_)
      log::warn(missing_ ? "lxcfs: " + binary_ + " not found; containers see the node's /proc/meminfo, cpuinfo, "
                                                 "stat, uptime and loadavg (install lxcfs)"
                         : "lxcfs: did not mount " + own_dir_ + " (see " + log_path +
                               "); containers see the node's /proc files");
    warned_ = true;
    ::rmdir(own_dir_.c_str());
    if (pid_t p = lxcfs_pid(pid_file_)) ::kill(p, SIGTERM);
    return "";
  }
  own_ = true;
  log::info("lxcfs: serving " + own_dir_);
  return own_dir_;
}

void ProcViews::stop_locked() {
  own_ = false;
  dir_.clear();
  if (pid_t pid = lxcfs_pid(pid_file_)) {
    // No container reads it any more and it keeps nothing: SIGKILL, since
    // with -l lxcfs heeds SIGTERM only between its 5-second load-average
    // rounds (the stop of the node's last container waited for that).
    // Its mount, dead now, is detached below.
    UniqueFd pfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    ::kill(pid, SIGKILL);
    pollfd p{pfd.get(), POLLIN, 0};
    if (pfd && ::poll(&p, 1, 2000) == 0) log::warn("lxcfs: pid " + std::to_string(pid) + " still there 2s after SIGKILL");
  }
  if (lxcfs_mounted(own_dir_)) ::umount2(own_dir_.c_str(), MNT_DETACH);
  ::unlink(pid_file_.c_str());
  ::rmdir(own_dir_.c_str());
  log::info("lxcfs: stopped");
}

}  // namespace berth::supervisor
