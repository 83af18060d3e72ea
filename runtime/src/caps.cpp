// caps.cpp — capability names, the bounding set, and capset(2)/ambient setup without libcap.
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/runtime/spec.h"
#include "security.h"

// Older kernel headers lack the newest capabilities; the numbers are ABI.
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

namespace berth::runtime {

namespace {

struct CapName {
  int value;
  const char* name;
};

#define BERTH_CAP(c) CapName{c, #c}

// Indexed by capability number: kNames[i].value == i (checked below).
constexpr CapName kNames[] = {
    BERTH_CAP(CAP_CHOWN),
    BERTH_CAP(CAP_DAC_OVERRIDE),
    BERTH_CAP(CAP_DAC_READ_SEARCH),
    BERTH_CAP(CAP_FOWNER),
    BERTH_CAP(CAP_FSETID),
    BERTH_CAP(CAP_KILL),
    BERTH_CAP(CAP_SETGID),
    BERTH_CAP(CAP_SETUID),
    BERTH_CAP(CAP_SETPCAP),
    BERTH_CAP(CAP_LINUX_IMMUTABLE),
    BERTH_CAP(CAP_NET_BIND_SERVICE),
    BERTH_CAP(CAP_NET_BROADCAST),
    BERTH_CAP(CAP_NET_ADMIN),
    BERTH_CAP(CAP_NET_RAW),
    BERTH_CAP(CAP_IPC_LOCK),
    BERTH_CAP(CAP_IPC_OWNER),
    BERTH_CAP(CAP_SYS_MODULE),
    BERTH_CAP(CAP_SYS_RAWIO),
    BERTH_CAP(CAP_SYS_CHROOT),
    BERTH_CAP(CAP_SYS_PTRACE),
    BERTH_CAP(CAP_SYS_PACCT),
    BERTH_CAP(CAP_SYS_ADMIN),
    BERTH_CAP(CAP_SYS_BOOT),
    BERTH_CAP(CAP_SYS_NICE),
    BERTH_CAP(CAP_SYS_RESOURCE),
    BERTH_CAP(CAP_SYS_TIME),
    BERTH_CAP(CAP_SYS_TTY_CONFIG),
    BERTH_CAP(CAP_MKNOD),
    BERTH_CAP(CAP_LEASE),
    BERTH_CAP(CAP_AUDIT_WRITE),
    BERTH_CAP(CAP_AUDIT_CONTROL),
    BERTH_CAP(CAP_SETFCAP),
    BERTH_CAP(CAP_MAC_OVERRIDE),
    BERTH_CAP(CAP_MAC_ADMIN),
    BERTH_CAP(CAP_SYSLOG),
    BERTH_CAP(CAP_WAKE_ALARM),
    BERTH_CAP(CAP_BLOCK_SUSPEND),
    BERTH_CAP(CAP_AUDIT_READ),
    BERTH_CAP(CAP_PERFMON),
    BERTH_CAP(CAP_BPF),
    BERTH_CAP(CAP_CHECKPOINT_RESTORE),
};

#undef BERTH_CAP

constexpr int kTableSize = static_cast<int>(std::size(kNames));

constexpr bool table_is_indexed() {
  for (int i = 0; i < kTableSize; ++i)
    if (kNames[i].value != i) return false;
  return true;
}
static_assert(table_is_indexed(), "capability table must be ordered by number");
static_assert(kTableSize == 41, "capability table must cover CAP_CHOWN..CAP_CHECKPOINT_RESTORE");

// Fallback when /proc is not readable: PR_CAPBSET_READ fails with EINVAL for
// numbers the kernel does not know.
int probe_last_capability() {
  for (int cap = 63; cap >= 0; --cap)
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0) return cap;
  return kTableSize - 1;
}

int read_last_capability() {
  auto text = fs::read_file("/proc/sys/kernel/cap_last_cap", 64);
  if (text) {
    char* end = nullptr;
    long v = std::strtol(text->c_str(), &end, 10);
    if (end != text->c_str() && v >= 0 && v < 64) return static_cast<int>(v);
  }
  return probe_last_capability();
}

bool contains(const std::vector<int>& set, int cap) {
  return std::find(set.begin(), set.end(), cap) != set.end();
}

std::string display_name(int cap) {
  const char* n = capability_name(cap);
  return *n ? std::string(n) : "capability " + std::to_string(cap);
}

// Sets the bits of `set` into the two 32-bit words of a version-3 capset.
void fill_words(const std::vector<int>& set, int last, __u32 words[2]) {
  for (int cap : set) {
    if (cap < 0 || cap > last || cap >= 64) continue;
    words[CAP_TO_INDEX(cap)] |= CAP_TO_MASK(cap);
  }
}

}  // namespace

int capability_from_name(std::string_view name) {
  for (const auto& c : kNames)
    if (name == c.name) return c.value;
  return -1;
}

const char* capability_name(int cap) {
  if (cap < 0 || cap >= kTableSize) return "";
  return kNames[cap].name;
}

int last_capability() {
  static const int last = read_last_capability();
  return last;
}

Status drop_bounding_set(Kernel& k, const std::vector<int>& bounding) {
  const int last = last_capability();
  for (int cap = 0; cap <= last; ++cap) {
    if (contains(bounding, cap)) continue;
    if (k.prctl(PR_CAPBSET_DROP, static_cast<unsigned long>(cap), 0) != 0)
      return Error::os("drop " + display_name(cap) + " from the bounding set");
  }
  return ok();
}

Status set_capabilities(Kernel& k, const Capabilities& caps) {
  // Capabilities above the kernel's last one are ignored (as runc does):
  // capset would refuse bits the old permitted set cannot contain.
  const int last = last_capability();
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[2] = {};
  __u32 effective[2] = {}, permitted[2] = {}, inheritable[2] = {};
  fill_words(caps.effective, last, effective);
  fill_words(caps.permitted, last, permitted);
  // Only what was asked for goes into inheritable (CVE-2022-29162).
  fill_words(caps.inheritable, last, inheritable);
  for (int i = 0; i < 2; ++i) {
    data[i].effective = effective[i];
    data[i].permitted = permitted[i];
    data[i].inheritable = inheritable[i];
  }
  if (k.capset(&header, data) != 0) return Error::os("capset");

  if (k.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0) != 0) return Error::os("clear the ambient capability set");
  // The kernel raises an ambient capability only when it is both permitted
  // and inheritable. Nothing is added to inheritable for it (CVE-2022-29162):
  // as runc does, one that cannot be raised is a warning, not a failure
  // (runc's own default spec has an ambient set and no inheritable one).
  for (int cap : caps.ambient) {
    if (cap < 0 || cap > last) continue;
    if (k.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, static_cast<unsigned long>(cap)) != 0)
      log::warn("cannot raise ambient " + display_name(cap) + ": " + std::strerror(errno));
  }
  return ok();
}

}  // namespace berth::runtime
