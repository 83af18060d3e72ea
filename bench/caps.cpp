// caps.cpp — capability names and capset(2) through libcap or through direct syscalls as runtime/src/caps.cpp does;
// times each step.
//
// BENCH_CAPS selects the way: 0 direct (a name table and the raw
// capget/capset syscalls), 1 libcap (cap_from_name, cap_init/cap_set_flag,
// cap_get_proc/cap_set_proc). Both apply the sets the process already has,
// so a run changes nothing and needs no privilege. bench/caps.sh runs both.
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "best_of.h"

#if BENCH_CAPS == 1
#include <sys/capability.h>
#endif

namespace {

// Nanoseconds per call of f, the least of three rounds.
template <typename F>
double per_call(int reps, F f) {
  return berth::bench::best_of_three(reps, f) * 1e9;
}

// Docker's default set, as a config.json names it for every container.
constexpr const char* kDefault[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "berth-bench-caps: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

#if BENCH_CAPS == 1

int lookup(const char* name) {
  cap_value_t v;
  if (cap_from_name(name, &v) != 0) return -1;
  return v;
}

// The default set as effective and permitted; freed again.
void build_sets(const std::vector<int>& caps) {
  cap_t c = cap_init();
  std::vector<cap_value_t> vals(caps.begin(), caps.end());
  cap_set_flag(c, CAP_EFFECTIVE, static_cast<int>(vals.size()), vals.data(), CAP_SET);
  cap_set_flag(c, CAP_PERMITTED, static_cast<int>(vals.size()), vals.data(), CAP_SET);
  cap_free(c);
}

void apply_current() {
  cap_t c = cap_get_proc();
  if (!c) fail("cap_get_proc");
  if (cap_set_proc(c) != 0) fail("cap_set_proc");
  cap_free(c);
}

#else

// A copy of the shape of runtime/src/caps.cpp's table, enough for the names used.
struct CapName {
  int value;
  const char* name;
};
#define BENCH_CAP(c) \
  CapName { c, #c }
constexpr CapName kNames[] = {
    BENCH_CAP(CAP_CHOWN),
    BENCH_CAP(CAP_DAC_OVERRIDE),
    BENCH_CAP(CAP_DAC_READ_SEARCH),
    BENCH_CAP(CAP_FOWNER),
    BENCH_CAP(CAP_FSETID),
    BENCH_CAP(CAP_KILL),
    BENCH_CAP(CAP_SETGID),
    BENCH_CAP(CAP_SETUID),
    BENCH_CAP(CAP_SETPCAP),
    BENCH_CAP(CAP_LINUX_IMMUTABLE),
    BENCH_CAP(CAP_NET_BIND_SERVICE),
    BENCH_CAP(CAP_NET_BROADCAST),
    BENCH_CAP(CAP_NET_ADMIN),
    BENCH_CAP(CAP_NET_RAW),
    BENCH_CAP(CAP_IPC_LOCK),
    BENCH_CAP(CAP_IPC_OWNER),
    BENCH_CAP(CAP_SYS_MODULE),
    BENCH_CAP(CAP_SYS_RAWIO),
    BENCH_CAP(CAP_SYS_CHROOT),
    BENCH_CAP(CAP_SYS_PTRACE),
    BENCH_CAP(CAP_SYS_PACCT),
    BENCH_CAP(CAP_SYS_ADMIN),
    BENCH_CAP(CAP_SYS_BOOT),
    BENCH_CAP(CAP_SYS_NICE),
    BENCH_CAP(CAP_SYS_RESOURCE),
    BENCH_CAP(CAP_SYS_TIME),
    BENCH_CAP(CAP_SYS_TTY_CONFIG),
    BENCH_CAP(CAP_MKNOD),
    BENCH_CAP(CAP_LEASE),
    BENCH_CAP(CAP_AUDIT_WRITE),
    BENCH_CAP(CAP_AUDIT_CONTROL),
    BENCH_CAP(CAP_SETFCAP),
};
#undef BENCH_CAP

int lookup(const char* name) {
  for (const auto& c : kNames)
    if (std::strcmp(name, c.name) == 0) return c.value;
  return -1;
}

__u32 g_words[2];

void build_sets(const std::vector<int>& caps) {
  __u32 words[2] = {0, 0};
  for (int cap : caps) words[CAP_TO_INDEX(cap)] |= CAP_TO_MASK(cap);
  g_words[0] = words[0];
  g_words[1] = words[1];
}

void apply_current() {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2]{};
  if (::syscall(SYS_capget, &h, d) != 0) fail("capget");
  if (::syscall(SYS_capset, &h, d) != 0) fail("capset");
}

#endif

std::vector<int> lookup_all() {
  std::vector<int> out;
  for (const char* n : kDefault) {
    int v = lookup(n);
    if (v < 0) {
      errno = EINVAL;
      fail(n);
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "time" && argc == 3) {
    int reps = std::atoi(argv[2]);
    if (reps < 1) return 2;
    std::vector<int> caps = lookup_all();
    double names = per_call(reps, [] { (void)lookup_all(); });
    double sets = per_call(reps, [&] { build_sets(caps); });
    double apply = per_call(reps, [] { apply_current(); });
    std::printf("%.1f %.1f %.1f\n", names, sets, apply);
    return 0;
  }
  if (mode == "once" && argc == 2) {
    build_sets(lookup_all());
    apply_current();
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    std::printf("%ld\n", ru.ru_maxrss);
    return 0;
  }
  std::fprintf(stderr, "usage: %s time REPS | once\n", argv[0]);
  return 2;
}
