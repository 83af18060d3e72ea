// features.cpp — the runtime-spec features document (features.md, features-linux.md).
#include <seccomp.h>

#include <initializer_list>
#include <string>

#include "security.h"

namespace berth::runtime {

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kHooks[] = {"prestart", "createRuntime", "createContainer",
                                  "startContainer", "poststart", "poststop"};

// Everything parse_mount_options accepts by name (filesystem data aside).
constexpr const char* kMountOptions[] = {
    "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion",
    "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion",
    "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow", "symfollow", "private",
    "rbind", "relatime", "remount", "ro", "rprivate", "rshared", "rslave", "runbindable", "rw",
    "shared", "silent", "slave", "strictatime", "suid", "sync", "unbindable",
    // Recursive (mount_setattr) forms.
    "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec", "rnoatime", "ratime",
    "rnodiratime", "rdiratime", "rrelatime", "rnorelatime", "rstrictatime", "rnostrictatime",
    "rnosymfollow", "rsymfollow",
    // Extensions: idmapped bind mounts and copying the image's files into a tmpfs.
    "idmap", "ridmap", "tmpcopyup",
};

constexpr const char* kNamespaces[] = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"};

constexpr const char* kSeccompActions[] = {
    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
};

constexpr const char* kSeccompOperators[] = {
    "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
};

// Must match the table load_seccomp resolves (seccomp.cpp).
constexpr const char* kSeccompArchs[] = {
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
    "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
};

constexpr const char* kSeccompFlags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

template <class Range>
json::Value string_array(const Range& items) {
  json::Value a = json::Value::array();
  for (const char* s : items) a.push_back(s);
  return a;
}

json::Value enabled(bool on) {
  json::Value v = json::Value::object();
  v.set("enabled", on);
  return v;
}

// The flags both this libseccomp and the running kernel support, judged by
// libseccomp's API level (it probes the kernel).
json::Value supported_seccomp_flags() {
  const unsigned level = seccomp_api_get();
  json::Value a = json::Value::array();
  if (level >= 2) a.push_back("SECCOMP_FILTER_FLAG_TSYNC");
  if (level >= 4) a.push_back("SECCOMP_FILTER_FLAG_SPEC_ALLOW");
  if (level >= 3) a.push_back("SECCOMP_FILTER_FLAG_LOG");
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
  if (level >= 7) a.push_back("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
#endif
  return a;
}

json::Value capabilities() {
  json::Value a = json::Value::array();
  for (int cap = 0;; ++cap) {
    const char* name = capability_name(cap);
    if (!*name) break;
    a.push_back(name);
  }
  return a;
}

json::Value seccomp() {
  json::Value v = json::Value::object();
  v.set("enabled", true);
  v.set("actions", string_array(kSeccompActions));
  v.set("operators", string_array(kSeccompOperators));
  v.set("archs", string_array(kSeccompArchs));
  v.set("knownFlags", string_array(kSeccompFlags));
  v.set("supportedFlags", supported_seccomp_flags());
  return v;
}

json::Value linux_features() {
  json::Value cgroup = json::Value::object();
  cgroup.set("v1", true);
  cgroup.set("v2", true);
  cgroup.set("systemd", true);
  cgroup.set("systemdUser", false);
  cgroup.set("rdma", false);

  json::Value idmap = json::Value::object();
  idmap.set("idmap", enabled(true));

  json::Value v = json::Value::object();
  v.set("namespaces", string_array(kNamespaces));
  v.set("capabilities", capabilities());
  v.set("cgroup", std::move(cgroup));
  v.set("seccomp", seccomp());
  v.set("apparmor", enabled(true));
  v.set("selinux", enabled(false));
  v.set("intelRdt", enabled(false));
  v.set("mountExtensions", std::move(idmap));
  return v;
}

std::string libseccomp_version() {
  const scmp_version* ver = seccomp_version();
  if (!ver) return "";
  return std::to_string(ver->major) + "." + std::to_string(ver->minor) + "." + std::to_string(ver->micro);
}

}  // namespace

json::Value features_json() {
  json::Value annotations = json::Value::object();
  annotations.set("io.github.seccomp.libseccomp.version", libseccomp_version());
  annotations.set("org.berth.runtime.version", kVersion);

  json::Value v = json::Value::object();
  v.set("ociVersionMin", "1.0.0");
  v.set("ociVersionMax", "1.2.0");
  v.set("hooks", string_array(kHooks));
  v.set("mountOptions", string_array(kMountOptions));
  v.set("linux", linux_features());
  v.set("annotations", std::move(annotations));
  v.set("potentiallyUnsafeConfigAnnotations", json::Value::array());
  return v;
}

}  // namespace berth::runtime
