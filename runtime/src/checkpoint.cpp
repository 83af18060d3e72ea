// checkpoint.cpp — `checkpoint` and `restore` through CRIU's RPC (criu
// swrk), with runc's flags and behaviour: the container's bind mounts,
// masked files and bind-mounted devices named as external mounts, joined
// namespaces as external ones, its stdio pipes handed back on restore, the
// restored tree placed in the container's cgroup.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/fdpass.h"
#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "criu_swrk.h"
#include "internal.h"

namespace berth::runtime {
namespace {

constexpr const char* kDefaultDevicePaths[] = {"/dev/null",   "/dev/zero",    "/dev/full",
                                               "/dev/random", "/dev/urandom", "/dev/tty"};

struct CriuDirs {
  std::string images_path, work_path;
  UniqueFd images, work;
  std::string log(const char* name) const { return fs::join(work_path.empty() ? images_path : work_path, name); }
};

Result<UniqueFd> open_dir(const std::string& path, const char* flag) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return Error::os(std::string(flag) + ": open " + path);
  return fd;
}

// The image and work directories; made (0700) for a checkpoint, required
// for a restore.
Result<CriuDirs> criu_dirs(const CriuOptions& c, bool make) {
  CriuDirs d;
  d.images_path = fs::absolute(c.image_path.empty() ? "checkpoint" : c.image_path);
  if (make) BERTH_TRY_CTX(fs::mkdir_p(d.images_path, 0700), "--image-path");
  d.images = BERTH_TRY(open_dir(d.images_path, "--image-path"));
  if (!c.work_path.empty()) {
    d.work_path = fs::absolute(c.work_path);
    BERTH_TRY_CTX(fs::mkdir_p(d.work_path, 0700), "--work-path");
    d.work = BERTH_TRY(open_dir(d.work_path, "--work-path"));
  }
  return d;
}

// The flags' words, checked before anything is made.
berth::Status check_options(const CriuOptions& c) {
  if (!c.manage_cgroups_mode.empty()) BERTH_TRY(criu::parse_cg_mode(c.manage_cgroups_mode));
  for (const auto& ns : c.empty_ns)
    if (ns != "network") return Error::msg("--empty-ns: only \"network\" is supported, got \"" + ns + "\"");
  return {};
}

// What checkpoint and restore both tell criu.
berth::Status common_opts(criu::Opts& o, const CriuOptions& c, const CriuDirs& d, const char* log) {
  o.images_dir_fd = d.images.get();
  if (d.work) o.work_dir_fd = d.work.get();
  o.log_level = 4;
  o.log_file = log;
  o.tcp_established = c.tcp_established;
  o.ext_unix_sk = c.ext_unix_sk;
  o.shell_job = c.shell_job;
  o.file_locks = c.file_locks;
  o.auto_dedup = c.auto_dedup;
  o.lazy_pages = c.lazy_pages;
  o.manage_cgroups = true;
  o.manage_cgroups_mode = c.manage_cgroups_mode.empty() ? criu::CgMode::dflt
                                                        : BERTH_TRY(criu::parse_cg_mode(c.manage_cgroups_mode));
  if (!c.empty_ns.empty()) o.empty_ns = CLONE_NEWNET;
  o.notify_scripts = true;
  o.orphan_pts_master = true;
  return {};
}

// The key criu gives an external namespace ("extRootNetNS").
const char* external_ns_key(int type) { return type == CLONE_NEWNET ? "extRootNetNS" : "extRootPidNS"; }

// A mount's destination as criu names it: absolute, clean.
std::string mount_key(const std::string& dest) {
  std::string k = "/";
  for (size_t i = 0; i < dest.size();) {
    size_t j = dest.find('/', i);
    if (j == std::string::npos) j = dest.size();
    std::string part = dest.substr(i, j - i);
    if (!part.empty() && part != ".") k += (k.size() > 1 ? "/" : "") + part;
    i = j + 1;
  }
  return k;
}

// Device nodes bind-mounted from the host (a user namespace cannot mknod).
std::vector<std::string> bound_devices(const Spec& spec) {
  std::vector<std::string> out;
  if (!spec.has_namespace(CLONE_NEWUSER)) return out;
  bool dev_tmpfs = false;
  for (const auto& m : spec.mounts)
    if (m.destination == "/dev" && !m.bind) dev_tmpfs = true;
  if (dev_tmpfs)
    for (const char* p : kDefaultDevicePaths) out.emplace_back(p);
  for (const auto& d : spec.linux.devices) out.push_back(mount_key(d.path));
  return out;
}

// A cgroup mount that the runtime makes as a bind of the container's own
// cgroup directory: no cgroup namespace (cgroup v2; criu works on no other).
bool cgroup_bind(const Mount& m, const Spec& spec, bool unified) {
  return unified && (m.type == "cgroup" || m.type == "cgroup2") && !spec.has_namespace(CLONE_NEWCGROUP);
}

// The host directory of the container's cgroup that a "cgroup" mount binds
// when the container has no cgroup namespace (cgroup v2).
std::string host_cgroup_dir(const Globals& g, const cgroups::Manager& cg) { return g.cgroup_root + cg.relative_path(); }

// readlink of the init's fds 0-2, as runc's descriptors.json holds them.
json::Value external_descriptors(pid_t pid) {
  json::Value a = json::Value::array();
  for (int i = 0; i < 3; ++i) {
    char buf[4096];
    std::string p = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(i);
    ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
    a.push_back(n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string());
  }
  return a;
}

Result<criu::Response> feature_check(const Globals& g, bool mem_track, bool lazy_pages) {
  criu::SwrkCall c;
  c.criu = g.criu;
  c.request.type = criu::ReqType::feature_check;
  c.request.ask_mem_track = mem_track;
  c.request.ask_lazy_pages = lazy_pages;
  c.quiet = true;
  return criu::swrk(c);
}

}  // namespace

berth::Status checkpoint(const Globals& g, const CheckpointOptions& o) {
  BERTH_TRY(check_options(o.criu));
  State s = BERTH_TRY(load_state(g, o.id));
  if (s.status != ContainerStatus::running && s.status != ContainerStatus::paused)
    return Error::msg("cannot checkpoint container " + o.id + " in status " + status_name(s.status) +
                      " (must be running or paused)");
  auto text = BERTH_TRY_CTX(fs::read_file(fs::join(s.bundle, "config.json")), "load bundle " + s.bundle);
  Spec spec = BERTH_TRY_CTX(parse_spec(text, s.bundle), fs::join(s.bundle, "config.json"));
  if (o.pre_dump || o.criu.lazy_pages) {
    auto f = BERTH_TRY(feature_check(g, o.pre_dump, o.criu.lazy_pages));
    if (o.pre_dump && !f.mem_track.value_or(false))
      return Error::msg("--pre-dump: criu cannot track memory changes on this kernel");
    if (o.criu.lazy_pages && !f.lazy_pages.value_or(false))
      return Error::msg("--lazy-pages: criu cannot serve lazy pages on this kernel");
  }
  CriuDirs dirs = BERTH_TRY(criu_dirs(o.criu, true));
  criu::Opts opts;
  BERTH_TRY(common_opts(opts, o.criu, dirs, "dump.log"));
  opts.pid = s.pid;
  opts.root = spec.root_path;
  opts.leave_running = o.leave_running;
  if (!o.parent_path.empty()) {
    if (o.parent_path[0] == '/')
      return Error::msg("--parent-path: must be relative to the image path, got " + o.parent_path);
    if (!fs::exists(fs::join(dirs.images_path, o.parent_path)))
      return Error(ENOENT, "--parent-path: no such checkpoint " + fs::join(dirs.images_path, o.parent_path));
    opts.parent_img = o.parent_path;
    opts.track_mem = true;
  }
  if (!o.page_server.empty()) {
    auto colon = o.page_server.rfind(':');
    char* end = nullptr;
    long port = colon == std::string::npos ? 0 : std::strtol(o.page_server.c_str() + colon + 1, &end, 10);
    if (colon == std::string::npos || colon == 0 || *end || port <= 0 || port > 65535)
      return Error::msg("--page-server: expected ADDRESS:PORT, got " + o.page_server);
    opts.ps_address = o.page_server.substr(0, colon);
    opts.ps_port = static_cast<int>(port);
  }
  for (const auto& ns : spec.linux.namespaces) {
    if (ns.path.empty() || (ns.type != CLONE_NEWNET && ns.type != CLONE_NEWPID)) continue;
    struct stat st;
    if (::stat(ns.path.c_str(), &st) < 0) return Error::os("linux.namespaces " + ns.name + ": stat " + ns.path);
    // criu's names ("net"), not the config's ("network").
    const char* kind = ns.type == CLONE_NEWNET ? "net" : "pid";
    opts.external.push_back(std::string(kind) + "[" + std::to_string(st.st_ino) + "]:" + external_ns_key(ns.type));
  }
  auto cg = BERTH_TRY(cgroup_manager(g, s));
  auto layout = BERTH_TRY(cgroups::detect_layout(g.cgroup_root));
  opts.freeze_cgroup = layout == cgroups::Layout::unified ? host_cgroup_dir(g, *cg)
                                                          : g.cgroup_root + "/freezer" + cg->relative_path();
  if (!o.pre_dump) {
    // Mounts whose source lies outside the container, named by where they
    // are inside; restore maps each name to a source again.
    for (const auto& m : spec.mounts) {
      if (m.bind || cgroup_bind(m, spec, layout == cgroups::Layout::unified))
        opts.ext_mnt.emplace_back(mount_key(m.destination), mount_key(m.destination));
    }
    std::string root = "/proc/" + std::to_string(s.pid) + "/root";
    for (const auto& p : spec.linux.masked_paths) {
      struct stat st;
      if (::stat((root + mount_key(p)).c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
        opts.ext_mnt.emplace_back(mount_key(p), "/dev/null");
    }
    for (const auto& d : bound_devices(spec)) opts.ext_mnt.emplace_back(d, d);
    BERTH_TRY_CTX(fs::write_file_atomic(fs::join(dirs.images_path, "descriptors.json"),
                                        json::dump(external_descriptors(s.pid)), 0600),
                  "--image-path");
  }

  criu::SwrkCall call;
  call.criu = g.criu;
  call.request.type = o.pre_dump ? criu::ReqType::pre_dump : criu::ReqType::dump;
  call.request.opts = &opts;
  call.log_path = dirs.log("dump.log");
  int status_fd = o.status_fd;
  int status_fl = status_fd >= 0 ? ::fcntl(status_fd, F_GETFL) : 0;
  if (status_fl < 0 || (status_fd >= 0 && (status_fl & O_ACCMODE) == O_RDONLY))
    return Error(EBADF, "--status-fd: " + std::to_string(status_fd) + " is not open for writing");
  if (status_fd >= 0) ::fcntl(status_fd, F_SETFD, FD_CLOEXEC);
  call.on_notify = [&](const criu::Response& r, UniqueFd) -> berth::Status {
    if (r.notify_script == "status-ready" && status_fd >= 0) {
      char zero = 0;
      ssize_t n = ::write(status_fd, &zero, 1);
      ::close(status_fd);
      status_fd = -1;
      if (n != 1) return Error::os("--status-fd: write");
    }
    return {};
  };
  BERTH_TRY(criu::swrk(call));
  log::debug("checkpointed container " + o.id + " into " + dirs.images_path);
  // The processes are gone: the container goes as after a delete (runc).
  if (!o.leave_running && !o.pre_dump) BERTH_TRY_CTX(remove(g, o.id, true), "delete after checkpoint");
  return {};
}

Result<int> restore(const Globals& g, const RestoreOptions& o) {
  const CreateOptions& co = o.create;
  BERTH_TRY(validate_id(co.id));
  BERTH_TRY(check_options(o.criu));
  std::string bundle = fs::absolute(co.bundle);
  auto text = BERTH_TRY_CTX(fs::read_file(fs::join(bundle, "config.json")), "load bundle " + bundle);
  Spec spec = BERTH_TRY_CTX(parse_spec(text, bundle), fs::join(bundle, "config.json"));
  if (!spec.process) return Error::msg("process: required to restore a container");
  if (spec.process->terminal && co.console_socket.empty() && o.detach)
    return Error::msg("process.terminal: a detached restore needs --console-socket");
  for (const auto& ns : spec.linux.namespaces)
    if (ns.type == CLONE_NEWCGROUP && !ns.path.empty())
      return Error::msg("linux.namespaces cgroup: a path cannot be restored into (criu makes the namespace)");
  CriuDirs dirs = BERTH_TRY(criu_dirs(o.criu, false));
  // Into a user namespace: criu's tasks open images after taking the
  // container's ids, so the image directory (0700, the dump's) is made
  // searchable by the group of the container's root (0710) while criu
  // runs, and put back after; nobody else gains anything.
  struct stat img_st;
  std::optional<gid_t> img_group;
  if (const Namespace* user = spec.find_namespace(CLONE_NEWUSER); user && user->path.empty()) {
    for (const auto& m : spec.linux.gid_mappings)
      if (m.container_id == 0 && m.size > 0) img_group = m.host_id;
  }
  bool img_opened = false;
  auto close_images = [&] {
    if (!img_opened) return;
    (void)::fchown(dirs.images.get(), static_cast<uid_t>(-1), img_st.st_gid);
    (void)::fchmod(dirs.images.get(), img_st.st_mode & 07777);
    img_opened = false;
  };
  Defer put_back(close_images);
  if (img_group && ::fstat(dirs.images.get(), &img_st) == 0 && (img_st.st_mode & 0011) == 0) {
    img_opened = true;
    // Search only, for that group alone: its other bits are cleared.
    if (::fchown(dirs.images.get(), static_cast<uid_t>(-1), *img_group) < 0 ||
        ::fchmod(dirs.images.get(), (img_st.st_mode & 07707) | 0010) < 0)
      return Error::os("--image-path: open " + dirs.images_path + " to the container's root group");
  }
  criu::Opts opts;
  BERTH_TRY(common_opts(opts, o.criu, dirs, "restore.log"));
  opts.evasive_devices = true;
  opts.rst_sibling = true;
  opts.lsm_profile = o.lsm_profile;

  // Before anything is made: the checkpoint's stdio, to hand back.
  json::Value descriptors = json::Value::array();
  if (auto d = fs::read_file(fs::join(dirs.images_path, "descriptors.json"))) {
    descriptors = BERTH_TRY_CTX(json::parse(*d), fs::join(dirs.images_path, "descriptors.json"));
    if (!descriptors.is_array()) return Error::msg(fs::join(dirs.images_path, "descriptors.json") + ": not an array");
  }

  BERTH_TRY(fs::mkdir_p(g.root, 0700));
  std::string dir = state_dir(g, co.id);
  if (::mkdir(dir.c_str(), 0711) < 0) {
    if (errno == EEXIST) return Error(EEXIST, "container " + co.id + " already exists");
    return Error::os("mkdir " + dir);
  }
  bool committed = false;
  std::unique_ptr<cgroups::Manager> cg;
  pid_t restored = -1;
  std::string criu_root = fs::join(dir, "criu-root");
  bool root_mounted = false;
  // The rootfs's bind goes as soon as criu is done: nothing may walk the
  // state directory (a delete) while it is there.
  auto release_root = [&] {
    if (root_mounted && ::umount2(criu_root.c_str(), MNT_DETACH) == 0) root_mounted = false;
    if (!root_mounted) ::rmdir(criu_root.c_str());
  };
  Defer cleanup([&] {
    release_root();
    if (committed) return;
    if (restored > 0) ::kill(restored, SIGKILL);
    if (cg) {
      (void)cg->kill_all(SIGKILL);
      for (int i = 0; i < 2000 && !cg->destroy(); ++i) ::usleep(1000);
    }
    if (root_mounted) return;  // never remove_tree into the container's files
    (void)fs::remove_tree(dir);
  });

  State state = new_state(g, spec, co.id, bundle);
  BERTH_TRY(make_cgroup(g, state, spec, cg));

  // criu wants the root to be a mount point.
  if (::mkdir(criu_root.c_str(), 0755) < 0) return Error::os("mkdir " + criu_root);
  if (::mount(spec.root_path.c_str(), criu_root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    return Error::os("root.path: bind " + spec.root_path + " for criu");
  root_mounted = true;
  opts.root = criu_root;

  std::vector<UniqueFd> ns_fds;
  std::vector<int> pass;
  for (const auto& ns : spec.linux.namespaces) {
    if (ns.path.empty()) continue;
    if (ns.type == CLONE_NEWNET || ns.type == CLONE_NEWPID) {
      UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd) return Error::os("linux.namespaces " + ns.name + ": open " + ns.path);
      opts.inherit_fd.emplace_back(external_ns_key(ns.type), fd.get());
      pass.push_back(fd.get());
      ns_fds.push_back(std::move(fd));
      continue;
    }
    opts.join_ns.emplace_back(ns.name == "mount" ? "mnt" : ns.name, ns.path);
  }
  bool any_masked = false;
  auto layout = cgroups::detect_layout(g.cgroup_root);
  bool unified = layout && *layout == cgroups::Layout::unified;
  for (const auto& m : spec.mounts) {
    if (m.bind) {
      std::string src = m.source.empty() || m.source[0] == '/' ? m.source : fs::join(bundle, m.source);
      opts.ext_mnt.emplace_back(mount_key(m.destination), src);
    } else if (cgroup_bind(m, spec, unified)) {
      opts.ext_mnt.emplace_back(mount_key(m.destination), host_cgroup_dir(g, *cg));
    }
  }
  for (const auto& p : spec.linux.masked_paths) any_masked = any_masked || !p.empty();
  if (any_masked) opts.ext_mnt.emplace_back("/dev/null", "/dev/null");
  for (const auto& d : bound_devices(spec)) opts.ext_mnt.emplace_back(d, d);
  // The checkpoint's stdio pipes become ours (criu's fds 0-2).
  for (size_t i = 0; i < descriptors.as_array().size() && i < 3; ++i) {
    const auto& v = descriptors.as_array()[i];
    if (v.is_string() && v.as_string().find("pipe:") != std::string::npos)
      opts.inherit_fd.emplace_back(v.as_string(), static_cast<int>(i));
  }

  // The terminal: the pty master criu restores comes to us, then to the
  // console socket (or, in the foreground, to our own end).
  UniqueFd console, ours;
  if (spec.process->terminal) {
    if (!co.console_socket.empty()) {
      console = BERTH_TRY(connect_unix(co.console_socket, "console socket"));
    } else {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return Error::os("socketpair for the terminal");
      ours = UniqueFd(sv[0]);
      console = UniqueFd(sv[1]);
    }
  }

  if (!o.detach && !co.no_subreaper) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  criu::SwrkCall call;
  call.criu = g.criu;
  call.request.type = criu::ReqType::restore;
  call.request.opts = &opts;
  call.pass_fds = pass;
  call.log_path = dirs.log("restore.log");
  call.before_request = [&](pid_t criu_pid) -> berth::Status {
    // criu and so the tree it restores start in the container's cgroup,
    // which criu takes as the root of the restored cgroups.
    BERTH_TRY_CTX(cg->enter(criu_pid), "move criu into the container's cgroup");
    auto lines = BERTH_TRY(fs::read_file("/proc/" + std::to_string(criu_pid) + "/cgroup"));
    size_t pos = 0;
    while (pos < lines.size()) {
      size_t nl = lines.find('\n', pos);
      if (nl == std::string::npos) nl = lines.size();
      std::string line = lines.substr(pos, nl - pos);
      pos = nl + 1;
      auto c1 = line.find(':'), c2 = line.find(':', c1 == std::string::npos ? 0 : c1 + 1);
      if (c1 == std::string::npos || c2 == std::string::npos) continue;
      std::string ctrls = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
      if (ctrls.empty()) {
        opts.cg_root.emplace_back("", path);
        continue;
      }
      for (size_t i = 0; i <= ctrls.size();) {
        size_t comma = ctrls.find(',', i);
        if (comma == std::string::npos) comma = ctrls.size();
        opts.cg_root.emplace_back(ctrls.substr(i, comma - i), path);
        i = comma + 1;
      }
    }
    return {};
  };
  call.on_notify = [&](const criu::Response& r, UniqueFd fd) -> berth::Status {
    if (r.notify_script == "setup-namespaces" && r.notify_pid) {
      State hs = state;
      hs.pid = *r.notify_pid;
      hs.status = ContainerStatus::created;
      std::string sj = json::dump(state_json(hs));
      BERTH_TRY(run_hooks(spec.hooks.prestart, "prestart", sj));
      BERTH_TRY(run_hooks(spec.hooks.create_runtime, "createRuntime", sj));
    } else if (r.notify_script == "post-restore" && r.notify_pid) {
      restored = *r.notify_pid;
    } else if (r.notify_script == "orphan-pts-master") {
      if (!fd) return Error::msg("orphan-pts-master: no pty master came with it");
      if (!console) return Error::msg("orphan-pts-master: the container has no terminal");
      if (!send_with_fd(console.get(), "orphan-pts-master", fd.get()))
        return Error::os("send the pty master to the console socket");
    }
    return {};
  };
  auto called = criu::swrk(call);
  release_root();
  close_images();
  if (root_mounted) return Error::os("umount " + criu_root);
  auto answer = BERTH_TRY(std::move(called));
  if (answer.restore_pid) restored = *answer.restore_pid;
  if (restored <= 0) return Error::msg("criu restore: no pid of the restored init");
  console.reset();

  state.pid = restored;
  state.start_time = proc_info(restored).start_time;
  BERTH_TRY(save_state(g, state));
  if (!co.pid_file.empty())
    BERTH_TRY_CTX(fs::write_file_atomic(fs::absolute(co.pid_file), std::to_string(restored), 0644), "--pid-file");
  committed = true;
  log::debug("restored container " + co.id + " from " + dirs.images_path + " as pid " + std::to_string(restored));
  if (o.detach) return 0;
  UniqueFd master = ours ? receive_master(ours.get()) : UniqueFd();
  auto code = wait_forwarding_signals(restored, master.get());
  auto rm = remove(g, co.id, true);
  if (!rm) return std::move(rm).error().wrap("delete after restore");
  return code;
}

json::Value criu_annotations(const Globals& g) {
  json::Value a = json::Value::object();
  criu::SwrkCall c;
  c.criu = g.criu;
  c.request.type = criu::ReqType::version;
  c.quiet = true;
  auto v = criu::swrk(c);
  if (!v || !v->version_major || !v->version_minor) {
    a.set("org.berth.criu.error", v ? std::string("criu gave no version") : v.error().what());
    return a;
  }
  std::string version = std::to_string(*v->version_major) + "." + std::to_string(*v->version_minor);
  if (v->version_sublevel) version += "." + std::to_string(*v->version_sublevel);
  a.set("org.criu.version", version);
  auto f = feature_check(g, true, true);
  if (f) {
    a.set("org.berth.criu.memTrack", f->mem_track.value_or(false) ? "true" : "false");
    a.set("org.berth.criu.lazyPages", f->lazy_pages.value_or(false) ? "true" : "false");
  } else {
    a.set("org.berth.criu.error", f.error().what());
  }
  return a;
}

}  // namespace berth::runtime
