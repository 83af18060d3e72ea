// security.h — capabilities, seccomp, and the static JSON documents
// (features, default spec) of the runtime. Private to runtime/.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/runtime/spec.h"
#include "kernel.h"

namespace berth::runtime {

/// Drops every capability not in `bounding` from the bounding set
/// (PR_CAPBSET_DROP); needs CAP_SETPCAP, so call before changing uid.
Status drop_bounding_set(Kernel& k, const std::vector<int>& bounding);

/// Sets effective/permitted/inheritable with capset(2), then raises the
/// ambient set (each ambient cap must also be permitted and inheritable).
/// Call after setresuid with PR_SET_KEEPCAPS.
Status set_capabilities(Kernel& k, const Capabilities& caps);

/// A seccomp profile compiled to classic BPF, with the flags seccomp(2)
/// loads it with (SECCOMP_FILTER_FLAG_NEW_LISTENER when it notifies).
struct SeccompProgram {
  std::vector<sock_filter> code;
  unsigned flags = 0;
  bool notify = false;
};

/// Compiles `s` with libseccomp. Errors name the field
/// ("linux.seccomp.syscalls[3].action").
Result<SeccompProgram> compile_seccomp(const Seccomp& s);

/// compile_seccomp through a cache of programs in `dir` (made 0700 if
/// missing), one file per profile named by a hash of the profile less its
/// listener and of libseccomp's version; the file holds the whole key,
/// compared before use, and is used only when owned by this user and not
/// writable by others. A cache that cannot be read or written only costs
/// the compile.
Result<SeccompProgram> compile_seccomp_cached(const Seccomp& s, const std::string& dir);

/// Loads `p` into the calling thread; the user-notification fd when the
/// profile uses SCMP_ACT_NOTIFY, otherwise -1.
Result<int> load_seccomp_program(Kernel& k, const SeccompProgram& p);

/// compile_seccomp, then load_seccomp_program on the host kernel.
Result<int> load_seccomp(const Seccomp& s);

/// Seccomp notify: connects to `listener_path` and sends the notify fd with
/// SCM_RIGHTS and the container-process-state JSON as the message, as the
/// runtime-spec (config-linux.md "The Container Process State") describes.
Status send_seccomp_fd(const std::string& listener_path, const std::string& state_json, int notify_fd);

/// The runtime-spec features document (`berth-runtime features`).
json::Value features_json();

}  // namespace berth::runtime
