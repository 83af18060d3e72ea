// mount_options.cpp — OCI mount option strings to mount(2) flags (pure).
#include <sys/mount.h>

#include <cstring>

#include "berth/runtime/spec.h"
#include "linux_compat.h"

namespace berth::runtime {
namespace {

struct FlagOption {
  const char* name;
  bool clear;  // true: the option clears the flag
  unsigned long flag;
};

constexpr FlagOption kFlags[] = {
    {"defaults", false, 0},          {"rw", true, MS_RDONLY},
    {"ro", false, MS_RDONLY},        {"suid", true, MS_NOSUID},
    {"nosuid", false, MS_NOSUID},    {"dev", true, MS_NODEV},
    {"nodev", false, MS_NODEV},      {"exec", true, MS_NOEXEC},
    {"noexec", false, MS_NOEXEC},    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS}, {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},  {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},   {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},  {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME}, {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME}, {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION}, {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME}, {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},       {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
};

struct PropOption {
  const char* name;
  unsigned long flag;
};

constexpr PropOption kPropagation[] = {
    {"private", MS_PRIVATE},   {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},     {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},       {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOption {
  const char* name;
  bool clear;
  unsigned long attr;
};

// Recursive mount attributes (mount_setattr with AT_RECURSIVE).
constexpr AttrOption kAttrs[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},     {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID}, {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},   {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC}, {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME}, {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW}, {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

}  // namespace

Status parse_mount_options(Mount& m, const std::string& where) {
  for (const auto& opt : m.options) {
    bool matched = false;
    if (opt == "bind") {
      m.bind = true;
      matched = true;
    } else if (opt == "rbind") {
      m.bind = m.recursive = true;
      matched = true;
    } else if (opt == "idmap" || opt == "ridmap") {
      m.idmap = true;
      if (opt == "ridmap") m.recursive = true;
      matched = true;
    } else if (opt == "tmpcopyup") {
      m.tmpcopyup = true;
      matched = true;
    }
    for (const auto& f : kFlags) {
      if (matched) break;
      if (opt == f.name) {
        if (f.clear)
          m.flags &= ~f.flag;
        else
          m.flags |= f.flag;
        matched = true;
      }
    }
    for (const auto& p : kPropagation) {
      if (matched) break;
      if (opt == p.name) {
        m.propagation = p.flag;
        matched = true;
      }
    }
    for (const auto& a : kAttrs) {
      if (matched) break;
      if (opt == a.name) {
        if (a.clear) {
          m.attr_clr |= a.attr;
          m.attr_set &= ~a.attr;
        } else {
          m.attr_set |= a.attr;
          m.attr_clr &= ~a.attr;
        }
        matched = true;
      }
    }
    if (!matched && (opt == "ratime" || opt == "rnoatime" || opt == "rrelatime" || opt == "rnorelatime" ||
                     opt == "rstrictatime" || opt == "rnostrictatime")) {
      m.attr_clr |= MOUNT_ATTR__ATIME;
      if (opt == "rnoatime") m.attr_set |= MOUNT_ATTR_NOATIME;
      if (opt == "rstrictatime") m.attr_set |= MOUNT_ATTR_STRICTATIME;
      matched = true;
    }
    if (matched) continue;
    if (opt.empty()) return Error::msg(where + ".options: empty option");
    // Anything else goes to the filesystem as data (mode=755, size=64k...).
    if (!m.data.empty()) m.data += ',';
    m.data += opt;
  }
  return {};
}

}  // namespace berth::runtime
