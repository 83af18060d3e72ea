// security.h — capabilities, seccomp, and the static JSON documents
// (features, default spec) of the runtime. Private to runtime/.
#pragma once

#include <string>

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

/// Builds the libseccomp filter for `s` and loads it into the calling
/// thread. Returns the user-notification fd when the profile uses
/// SCMP_ACT_NOTIFY, otherwise -1. Errors name the rule ("linux.seccomp.syscalls[3]").
Result<int> load_seccomp(const Seccomp& s);

/// Seccomp notify: connects to `listener_path` and sends the notify fd with
/// SCM_RIGHTS and the container-process-state JSON as the message, as the
/// runtime-spec (config-linux.md "The Container Process State") describes.
Status send_seccomp_fd(const std::string& listener_path, const std::string& state_json, int notify_fd);

/// The runtime-spec features document (`berth-runtime features`).
json::Value features_json();

}  // namespace berth::runtime
