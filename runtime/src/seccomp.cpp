// seccomp.cpp — builds and loads the config's seccomp filter with libseccomp; hands notify fds to a listener.
#include <errno.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/fd.h"
#include "berth/base/fdpass.h"
#include "security.h"

namespace berth::runtime {

namespace {

constexpr unsigned kMaxArgs = 6;

struct ArchName {
  const char* name;
  uint32_t token;
};

// The SCMP_ARCH_* names of the runtime-spec and the tokens libseccomp 2.5 knows.
constexpr ArchName kArches[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

struct OpName {
  const char* name;
  scmp_compare op;
};

constexpr OpName kOps[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// The filter context, released once.
class Filter {
public:
  explicit Filter(scmp_filter_ctx ctx) : ctx_(ctx) {}
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;
  ~Filter() {
    if (ctx_) seccomp_release(ctx_);
  }
  scmp_filter_ctx get() const { return ctx_; }

private:
  scmp_filter_ctx ctx_;
};

// libseccomp returns -errno.
Error lib_error(int rc, std::string message) { return Error(-rc, std::move(message)); }

Result<uint32_t> resolve_action(const std::string& name, std::optional<uint32_t> errno_ret,
                                const std::string& where) {
  const uint32_t ret = errno_ret.value_or(EPERM);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(ret);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(ret);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  return Error::msg(where + ": unknown action " + name);
}

Result<uint32_t> resolve_arch(const std::string& name, const std::string& where) {
  for (const auto& a : kArches)
    if (name == a.name) return a.token;
  return Error::msg(where + ": unknown architecture " + name);
}

Result<scmp_compare> resolve_op(const std::string& name, const std::string& where) {
  for (const auto& o : kOps)
    if (name == o.name) return o.op;
  return Error::msg(where + ": unknown operator " + name);
}

Status set_attr(scmp_filter_ctx ctx, scmp_filter_attr attr, uint32_t value, const std::string& what) {
  int rc = seccomp_attr_set(ctx, attr, value);
  if (rc != 0) return lib_error(rc, "set seccomp attribute " + what);
  return ok();
}

Status apply_flag(scmp_filter_ctx ctx, const std::string& flag, const std::string& where) {
  if (flag == "SECCOMP_FILTER_FLAG_TSYNC") return set_attr(ctx, SCMP_FLTATR_CTL_TSYNC, 1, flag);
  if (flag == "SECCOMP_FILTER_FLAG_LOG") return set_attr(ctx, SCMP_FLTATR_CTL_LOG, 1, flag);
  if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return set_attr(ctx, SCMP_FLTATR_CTL_SSB, 1, flag);
  if (flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
    return set_attr(ctx, SCMP_FLTATR_CTL_WAITKILL, 1, flag);
#else
    return Error(EOPNOTSUPP, where + ": flag " + flag + " needs libseccomp 2.6");
#endif
  }
  return Error::msg(where + ": unknown flag " + flag);
}

Status add_architectures(scmp_filter_ctx ctx, const Seccomp& s) {
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    const std::string where = "linux.seccomp.architectures[" + std::to_string(i) + "]";
    uint32_t token = BERTH_TRY(resolve_arch(s.architectures[i], where));
    int rc = seccomp_arch_add(ctx, token);
    // The native architecture is in every new context already.
    if (rc != 0 && rc != -EEXIST) return lib_error(rc, "add seccomp architecture " + s.architectures[i]);
  }
  return ok();
}

Result<std::vector<scmp_arg_cmp>> build_conditions(const SeccompRule& rule, const std::string& where) {
  if (rule.args.size() > kMaxArgs)
    return Error::msg(where + ".args: at most " + std::to_string(kMaxArgs) + " arguments");
  std::vector<scmp_arg_cmp> conds;
  for (size_t i = 0; i < rule.args.size(); ++i) {
    const SeccompArg& a = rule.args[i];
    const std::string at = where + ".args[" + std::to_string(i) + "]";
    if (a.index >= kMaxArgs) return Error::msg(at + ".index: must be below 6, got " + std::to_string(a.index));
    scmp_compare op = BERTH_TRY(resolve_op(a.op, at + ".op"));
    conds.push_back(scmp_arg_cmp{a.index, op, a.value, a.value_two});
  }
  return conds;
}

// Several conditions on the same argument would be ANDed by libseccomp (and
// usually never match); runc then adds one rule per condition instead.
bool repeats_an_index(const std::vector<scmp_arg_cmp>& conds) {
  unsigned counts[kMaxArgs] = {};
  for (const auto& c : conds)
    if (++counts[c.arg] > 1) return true;
  return false;
}

Status add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const std::vector<scmp_arg_cmp>& conds,
                const std::string& name) {
  if (repeats_an_index(conds)) {
    for (const auto& c : conds) {
      int rc = seccomp_rule_add_array(ctx, action, nr, 1, &c);
      if (rc != 0) return lib_error(rc, "add seccomp rule for " + name);
    }
    return ok();
  }
  int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conds.size()), conds.data());
  if (rc != 0) return lib_error(rc, "add seccomp rule for " + name);
  return ok();
}

Status add_rules(scmp_filter_ctx ctx, const Seccomp& s, uint32_t default_action) {
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompRule& rule = s.syscalls[i];
    const std::string where = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
    uint32_t action = BERTH_TRY(resolve_action(rule.action, rule.errno_ret, where + ".action"));
    auto conds = BERTH_TRY(build_conditions(rule, where));
    // libseccomp refuses rules whose action equals the default.
    if (action == default_action) continue;
    for (const std::string& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      // Unknown to this libseccomp (newer or foreign syscall): skipped, as runc does.
      if (nr == __NR_SCMP_ERROR) continue;
      BERTH_TRY_CTX(add_rule(ctx, action, nr, conds, name), where);
    }
  }
  return ok();
}

bool uses_notify(const Seccomp& s) {
  if (s.default_action == "SCMP_ACT_NOTIFY") return true;
  for (const auto& r : s.syscalls)
    if (r.action == "SCMP_ACT_NOTIFY") return true;
  return false;
}

}  // namespace

Result<int> load_seccomp(const Seccomp& s) {
  uint32_t default_action =
      BERTH_TRY(resolve_action(s.default_action, s.default_errno_ret, "linux.seccomp.defaultAction"));
  scmp_filter_ctx raw = seccomp_init(default_action);
  if (!raw) return Error(EINVAL, "create seccomp filter");
  Filter filter(raw);
  scmp_filter_ctx ctx = filter.get();

  // The runtime sets no_new_privs itself when process.noNewPrivileges asks.
  BERTH_TRY(set_attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "no_new_privs"));
  for (size_t i = 0; i < s.flags.size(); ++i)
    BERTH_TRY(apply_flag(ctx, s.flags[i], "linux.seccomp.flags[" + std::to_string(i) + "]"));
  BERTH_TRY(add_architectures(ctx, s));
  BERTH_TRY(add_rules(ctx, s, default_action));

  int rc = seccomp_load(ctx);
  if (rc != 0) return lib_error(rc, "load seccomp filter");
  if (!uses_notify(s)) return -1;
  // The kernel creates the listener with O_CLOEXEC; the caller owns it.
  int fd = seccomp_notify_fd(ctx);
  if (fd < 0) return lib_error(fd, "get seccomp notify fd");
  return fd;
}

Status send_seccomp_fd(const std::string& listener_path, const std::string& state_json, int notify_fd) {
  const std::string where = "seccomp listener " + listener_path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (listener_path.empty() || listener_path.size() >= sizeof(addr.sun_path))
    return Error(ENAMETOOLONG, "connect to " + where);
  std::memcpy(addr.sun_path, listener_path.data(), listener_path.size());

  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::os("create socket for " + where);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return Error::os("connect to " + where);

  // The fd travels with the first byte; the rest of a short write is sent plainly.
  auto first = send_with_fd(sock.get(), state_json, notify_fd);
  if (!first) return Error(first.error().code(), "send notify fd to " + where);
  size_t sent = *first;
  while (sent < state_json.size()) {
    ssize_t m = ::send(sock.get(), state_json.data() + sent, state_json.size() - sent, MSG_NOSIGNAL);
    if (m < 0 && errno == EINTR) continue;
    if (m < 0) return Error::os("send state to " + where);
    sent += static_cast<size_t>(m);
  }
  return ok();
}

}  // namespace berth::runtime
