// idmap.cpp — idmapped bind mounts: a detached copy of the source tree
// (open_tree), shifted through a user namespace that carries the mount's
// mappings (mount_setattr MOUNT_ATTR_IDMAP), made by the runtime before the
// init is cloned; the init moves it into place inside the rootfs.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "berth/base/fs.h"
#include "internal.h"
#include "linux_compat.h"

namespace berth::runtime {
namespace {

// A user namespace holding `uids`/`gids`: a child is cloned into a new one,
// its maps are written, its ns file is opened, and it exits.
Result<UniqueFd> make_userns(const std::string& uids, const std::string& gids, const std::string& where) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return Error::os("pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  pid_t pid = static_cast<pid_t>(::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, 0));
  if (pid < 0) return Error::os(where + ": clone a user namespace for the idmapped mount");
  if (pid == 0) {
    wr.reset();
    char c;
    (void)!::read(rd.get(), &c, 1);  // until the parent is done with us
    ::_exit(0);
  }
  rd.reset();
  Defer reap([&] {
    wr.reset();
    ::waitpid(pid, nullptr, 0);
  });
  UniqueFd proc = BERTH_TRY_CTX(open_private_procfs(), where);
  std::string base = std::to_string(pid);
  BERTH_TRY_CTX(write_proc_file(proc.get(), base + "/uid_map", uids), where + ".uidMappings");
  BERTH_TRY_CTX(write_proc_file(proc.get(), base + "/gid_map", gids), where + ".gidMappings");
  UniqueFd ns(::open(("/proc/" + base + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return Error::os(where + ": open the mount's user namespace");
  return ns;
}

}  // namespace

std::string mapping_text(const std::vector<IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  return out;
}

Result<std::vector<UniqueFd>> make_idmapped_trees(Kernel& k, const Spec& spec, const std::string& bundle) {
  std::vector<UniqueFd> out(spec.mounts.size());
  std::map<std::string, UniqueFd> userns;  // one namespace per distinct mapping
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& m = spec.mounts[i];
    if (!m.idmap) continue;
    std::string where = "mounts[" + std::to_string(i) + "]";
    // "idmap" without mappings of its own takes the container's.
    const auto& u = m.uid_mappings.empty() ? spec.linux.uid_mappings : m.uid_mappings;
    const auto& gm = m.gid_mappings.empty() ? spec.linux.gid_mappings : m.gid_mappings;
    if (u.empty() || gm.empty())
      return Error::msg(where + ": an idmapped mount needs uidMappings and gidMappings, its own or the container's");
    std::string uids = mapping_text(u), gids = mapping_text(gm);
    auto& ns = userns[uids + "|" + gids];
    if (!ns) ns = BERTH_TRY(make_userns(uids, gids, where));
    std::string src = m.source;
    if (src.empty()) return Error::msg(where + ".source: required for an idmapped bind mount");
    if (src[0] != '/') src = fs::join(bundle, src);
    unsigned rec = m.recursive ? AT_RECURSIVE : 0;
    int fd = k.open_tree(AT_FDCWD, src.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
    if (fd < 0) return Error::os(where + ".source: open_tree " + src);
    out[i] = UniqueFd(fd);
    MountAttr attr{MOUNT_ATTR_IDMAP, 0, 0, static_cast<uint64_t>(ns.get())};
    if (k.mount_setattr(fd, "", AT_EMPTY_PATH | rec, attr) < 0)
      return Error::os(where + ": idmap " + src + " (the filesystem may not support idmapped mounts)");
  }
  return out;
}

}  // namespace berth::runtime
