// seccomp.cpp — builds and loads the config's seccomp filter with libseccomp; hands notify fds to a listener.
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/fd.h"
#include "berth/base/fdpass.h"
#include "berth/base/fs.h"
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

// A spec flag as the kernel's SECCOMP_FILTER_FLAG_* bit.
Result<unsigned> kernel_flag(const std::string& flag, const std::string& where) {
  if (flag == "SECCOMP_FILTER_FLAG_TSYNC") return SECCOMP_FILTER_FLAG_TSYNC;
  if (flag == "SECCOMP_FILTER_FLAG_LOG") return SECCOMP_FILTER_FLAG_LOG;
  if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  if (flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
    // Announced in features with libseccomp 2.6 only, which probes the kernel for it.
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
    return SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
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

// The program libseccomp made for `ctx`, read back through a memfd
// (libseccomp 2.5 exports to an fd only).
Result<std::vector<sock_filter>> export_program(scmp_filter_ctx ctx) {
  UniqueFd mem(::memfd_create("berth-seccomp", MFD_CLOEXEC));
  if (!mem) return Error::os("memfd for the seccomp program");
  int rc = seccomp_export_bpf(ctx, mem.get());
  if (rc != 0) return lib_error(rc, "export seccomp program");
  struct stat st {};
  if (::fstat(mem.get(), &st) < 0) return Error::os("stat seccomp program");
  const auto size = static_cast<size_t>(st.st_size);
  if (size == 0 || size % sizeof(sock_filter) != 0 || size > BPF_MAXINSNS * sizeof(sock_filter))
    return Error(E2BIG, "seccomp program of " + std::to_string(st.st_size) + " bytes");
  std::vector<sock_filter> code(size / sizeof(sock_filter));
  if (::pread(mem.get(), code.data(), size, 0) != st.st_size) return Error::os("read seccomp program");
  return code;
}

// What the compiled program depends on: the profile less its listener
// (where a notify fd goes is not part of the filter), and the libseccomp
// that compiled it. Every field is length-prefixed, so no two profiles
// give the same text.
std::string cache_key(const Seccomp& s) {
  std::string k = "berth-seccomp 1\n";
  auto put = [&k](std::string_view v) {
    k += std::to_string(v.size());
    k += ':';
    k += v;
  };
  const scmp_version* v = seccomp_version();
  put(v ? std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro) : "?");
  put(std::to_string(seccomp_arch_native()));
  put(s.default_action);
  put(s.default_errno_ret ? std::to_string(*s.default_errno_ret) : "-");
  put(std::to_string(s.architectures.size()));
  for (const auto& a : s.architectures) put(a);
  put(std::to_string(s.flags.size()));
  for (const auto& f : s.flags) put(f);
  put(std::to_string(s.syscalls.size()));
  for (const auto& r : s.syscalls) {
    put(std::to_string(r.names.size()));
    for (const auto& n : r.names) put(n);
    put(r.action);
    put(r.errno_ret ? std::to_string(*r.errno_ret) : "-");
    put(std::to_string(r.args.size()));
    for (const auto& a : r.args)
      put(std::to_string(a.index) + " " + std::to_string(a.value) + " " + std::to_string(a.value_two) + " " + a.op);
  }
  return k;
}

// FNV-1a: names the cache file; the key inside it is compared in full.
std::string key_hash(std::string_view key) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// A cache file: the key, a NUL, the flags and notify bit (4 + 1 bytes),
// then the program.
std::string cache_file(const std::string& key, const SeccompProgram& p) {
  std::string out = key;
  out += '\0';
  uint32_t flags = p.flags;
  out.append(reinterpret_cast<const char*>(&flags), sizeof flags);
  out += p.notify ? '\1' : '\0';
  out.append(reinterpret_cast<const char*>(p.code.data()), p.code.size() * sizeof(sock_filter));
  return out;
}

// The cached program for `key` in `path`, if the file is ours, private and
// holds exactly this key. Anything else is a miss.
std::optional<SeccompProgram> read_cached(const std::string& path, const std::string& key) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & 022) != 0 || st.st_size > 4 * 1024 * 1024)
    return std::nullopt;
  std::string data(static_cast<size_t>(st.st_size), '\0');
  if (::pread(fd.get(), data.data(), data.size(), 0) != st.st_size) return std::nullopt;
  const size_t head = key.size() + 1 + sizeof(uint32_t) + 1;
  if (data.size() <= head || data.compare(0, key.size(), key) != 0 || data[key.size()] != '\0') return std::nullopt;
  size_t bytes = data.size() - head;
  if (bytes % sizeof(sock_filter) != 0 || bytes > BPF_MAXINSNS * sizeof(sock_filter)) return std::nullopt;
  SeccompProgram p;
  uint32_t flags = 0;
  std::memcpy(&flags, data.data() + key.size() + 1, sizeof flags);
  p.flags = flags;
  p.notify = data[head - 1] == '\1';
  p.code.resize(bytes / sizeof(sock_filter));
  std::memcpy(p.code.data(), data.data() + head, bytes);
  return p;
}

}  // namespace

Result<SeccompProgram> compile_seccomp(const Seccomp& s) {
  uint32_t default_action =
      BERTH_TRY(resolve_action(s.default_action, s.default_errno_ret, "linux.seccomp.defaultAction"));
  SeccompProgram p;
  for (size_t i = 0; i < s.flags.size(); ++i)
    p.flags |= BERTH_TRY(kernel_flag(s.flags[i], "linux.seccomp.flags[" + std::to_string(i) + "]"));
  p.notify = uses_notify(s);
  if (p.notify) p.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  // The kernel refuses TSYNC with a listener unless a thread that cannot
  // be synchronised is reported as ESRCH (libseccomp does the same).
  if (p.notify && (p.flags & SECCOMP_FILTER_FLAG_TSYNC)) p.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;

  scmp_filter_ctx raw = seccomp_init(default_action);
  if (!raw) return Error(EINVAL, "create seccomp filter");
  Filter filter(raw);
  scmp_filter_ctx ctx = filter.get();
  BERTH_TRY(add_architectures(ctx, s));
  BERTH_TRY(add_rules(ctx, s, default_action));
  p.code = BERTH_TRY(export_program(ctx));
  return p;
}

Result<SeccompProgram> compile_seccomp_cached(const Seccomp& s, const std::string& dir) {
  std::string key = cache_key(s);
  std::string path = fs::join(dir, key_hash(key) + ".bpf");
  if (auto hit = read_cached(path, key)) return std::move(*hit);
  SeccompProgram p = BERTH_TRY(compile_seccomp(s));
  // A cache that cannot be written is only slower.
  if (fs::mkdir_p(dir, 0700)) (void)fs::write_file_atomic(path, cache_file(key, p), 0600);
  return p;
}

Result<int> load_seccomp_program(Kernel& k, const SeccompProgram& p) {
  sock_fprog prog{static_cast<unsigned short>(p.code.size()), const_cast<sock_filter*>(p.code.data())};
  int rc = k.seccomp_filter(p.flags, prog);
  if (rc < 0) return Error::os("load seccomp filter");
  // The kernel makes the listener with O_CLOEXEC; the caller owns it.
  return p.notify ? rc : -1;
}

Result<int> load_seccomp(const Seccomp& s) {
  SeccompProgram p = BERTH_TRY(compile_seccomp(s));
  return load_seccomp_program(Kernel::host(), p);
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
