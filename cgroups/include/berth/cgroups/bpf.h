// bpf.h — cgroup v2 device filtering: an eBPF program built from OCI rules.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "berth/base/error.h"
#include "berth/cgroups/resources.h"

namespace berth::cgroups {

/// A BPF_PROG_TYPE_CGROUP_DEVICE program for `rules`: the last matching rule
/// decides (as runc's devicefilter and the v1 exception list do), and a device
/// no rule matches is denied. Rules are tested from last to first; an
/// unconditional rule ("a *:* rwm") ends the program, since the verifier
/// refuses unreachable instructions. Pure: no syscalls.
std::vector<struct bpf_insn> device_filter_program(const std::vector<DeviceRule>& rules);

/// Loads `program` and attaches it to the cgroup directory `cgroup_fd` with
/// BPF_F_ALLOW_MULTI, then detaches the programs that were attached before
/// (so an update swaps filters without an unfiltered gap).
Status attach_device_filter(int cgroup_fd, const std::vector<struct bpf_insn>& program);

}  // namespace berth::cgroups
