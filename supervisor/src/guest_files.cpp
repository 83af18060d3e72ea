// guest_files.cpp — see guest_files.h.
#include "guest_files.h"

#include <crypt.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

#include "berth/base/fs.h"

namespace berth::supervisor {

namespace {

void fill_random(void* buf, size_t n) {
  auto* p = static_cast<unsigned char*>(buf);
  for (size_t got = 0; got < n;) {
    ssize_t r = ::getrandom(p + got, n - got, 0);
    if (r > 0) got += static_cast<size_t>(r);
  }
}

// One authorized_keys line: [options] TYPE BASE64 [comment], TYPE one of
// OpenSSH's key types. Options are refused: berth hands over plain keys.
bool valid_key_line(const std::string& line) {
  size_t sp = line.find(' ');
  if (sp == std::string::npos) return false;
  std::string type = line.substr(0, sp);
  static const char* types[] = {"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                                "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
                                "sk-ecdsa-sha2-nistp256@openssh.com"};
  bool known = false;
  for (const char* t : types) known = known || type == t;
  if (!known) return false;
  size_t end = line.find(' ', sp + 1);
  std::string blob = line.substr(sp + 1, end == std::string::npos ? std::string::npos : end - sp - 1);
  if (blob.size() < 16) return false;
  for (char c : blob)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=') return false;
  for (char c : line)
    if (static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

Result<std::string> hash_password(const std::string& pw) {
  static const char alphabet[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  unsigned char raw[16];
  fill_random(raw, sizeof raw);
  std::string setting = "$6$";
  for (unsigned char c : raw) setting += alphabet[c % 64];
  struct crypt_data data;
  std::memset(&data, 0, sizeof data);
  const char* h = ::crypt_r(pw.c_str(), setting.c_str(), &data);
  if (!h || h[0] != '$') return Error(EINVAL, "root_password: hashing failed");
  return std::string(h);
}

// Reads a guest file opened below its root (at most 1 MiB).
Result<std::string> read_guest(int fd, const std::string& what) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) return Error::os("read " + what);
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) return Error(EFBIG, what + ": larger than 1 MiB");
  }
}

Result<UniqueFd> guest_dir(int root, const std::string& rel) {
  UniqueFd path = BERTH_TRY(open_in_guest(root, rel, O_PATH | O_DIRECTORY));
  UniqueFd dir(::openat(path.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return Error::os("open /" + rel);
  return dir;
}

Status add_keys(int root, const std::string& keys, uid_t owner) {
  UniqueFd rootdir = BERTH_TRY(guest_dir(root, "root"));
  if (::mkdirat(rootdir.get(), ".ssh", 0700) == 0) {
    if (::fchownat(rootdir.get(), ".ssh", owner, owner, AT_SYMLINK_NOFOLLOW) < 0) return Error::os("chown /root/.ssh");
  } else if (errno != EEXIST) {
    return Error::os("mkdir /root/.ssh");
  }
  UniqueFd ssh = BERTH_TRY(guest_dir(root, "root/.ssh"));
  std::string have;
  if (UniqueFd f{::openat(ssh.get(), "authorized_keys", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)}) {
    struct stat st;
    if (::fstat(f.get(), &st) == 0 && S_ISREG(st.st_mode)) have = BERTH_TRY(read_guest(f.get(), "/root/.ssh/authorized_keys"));
  }
  std::string out = have;
  if (!out.empty() && out.back() != '\n') out += '\n';
  for (size_t pos = 0; pos < keys.size();) {
    size_t nl = keys.find('\n', pos);
    std::string line = keys.substr(pos, nl - pos);
    pos = nl + 1;
    if (("\n" + out).find("\n" + line + "\n") == std::string::npos) out += line + "\n";
  }
  return write_guest_file(ssh.get(), "authorized_keys", out, owner, owner, 0600);
}

Status set_root_hash(int root, const std::string& hash, uid_t owner) {
  UniqueFd etc = BERTH_TRY(guest_dir(root, "etc"));
  UniqueFd f(::openat(etc.get(), "shadow", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!f) return Error::os("open /etc/shadow");
  struct stat st;
  if (::fstat(f.get(), &st) < 0 || !S_ISREG(st.st_mode)) return Error(EINVAL, "/etc/shadow: not a regular file");
  std::string text = BERTH_TRY(read_guest(f.get(), "/etc/shadow"));
  std::string out;
  bool found = false;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.rfind("root:", 0) == 0) {
      size_t second = line.find(':', 5);
      line = "root:" + hash + (second == std::string::npos ? ":" : line.substr(second));
      found = true;
    }
    out += line + "\n";
  }
  if (!found) return Error(ENOENT, "/etc/shadow: no line for root");
  // The file keeps its group (shadow) and mode; the owner is the guest's root.
  return write_guest_file(etc.get(), "shadow", out, owner, st.st_gid, st.st_mode & 07777);
}

}  // namespace

std::string new_machine_id() {
  unsigned char b[16];
  fill_random(b, sizeof b);
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string new_boot_id() {
  std::string h = new_machine_id();
  h[12] = '4';                                             // version 4
  h[16] = "89ab"[std::string("0123456789abcdef").find(h[16]) & 3];  // variant 10
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20) + "\n";
}

Result<UniqueFd> open_in_guest(int root, const std::string& rel, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    int fd = static_cast<int>(::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how));
    if (fd >= 0) return UniqueFd(fd);
    if (errno != EAGAIN && errno != EINTR) return Error::os("open " + rel);
  }
}

Status write_guest_file(int dir, const std::string& name, const std::string& text, uid_t uid, gid_t gid, mode_t mode) {
  // Unchanged (the usual restart): nothing written, nothing synced.
  if (UniqueFd old{::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)}) {
    struct stat st;
    if (::fstat(old.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == uid && st.st_gid == gid &&
        (st.st_mode & 07777) == mode && static_cast<size_t>(st.st_size) == text.size()) {
      std::string have(text.size(), '\0');
      if (::read(old.get(), have.data(), have.size()) == static_cast<ssize_t>(have.size()) && have == text) return ok();
    }
  }
  std::string tmp = "." + name + ".berth";
  (void)::unlinkat(dir, tmp.c_str(), 0);
  UniqueFd f(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!f) return Error::os("create " + tmp);
  Defer drop([&] { (void)::unlinkat(dir, tmp.c_str(), 0); });
  if (::write(f.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) return Error::os("write " + name);
  if (::fchown(f.get(), uid, gid) < 0 || ::fchmod(f.get(), mode) < 0 || ::fsync(f.get()) < 0)
    return Error::os("write " + name);
  if (::renameat(dir, tmp.c_str(), dir, name.c_str()) < 0) return Error::os("rename " + name);
  drop.dismiss();
  return ok();
}

Result<GuestAccess> guest_access(const std::optional<std::string>& ssh_key,
                                 const std::optional<std::string>& root_password, bool hash) {
  GuestAccess a;
  if (root_password) {
    const std::string& s = *root_password;
    if (s.empty()) return Error::msg("root_password: expected a non-empty string");
    if (s.size() > 512 || s.find_first_of("\n\r", 0) != std::string::npos || s.find('\0') != std::string::npos)
      return Error::msg("root_password: expected one line of at most 512 bytes");
    if (hash) a.root_hash = BERTH_TRY(hash_password(s));
  }
  if (!ssh_key) return a;
  const std::string& s = *ssh_key;
  if (s.empty()) return Error::msg("ssh_key: expected a non-empty string");
  size_t n = 0;
  for (size_t pos = 0; pos < s.size();) {
    size_t nl = s.find('\n', pos);
    std::string line = s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? s.size() : nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    ++n;
    if (line.empty() || line[0] == '#') continue;
    if (!valid_key_line(line))
      return Error::msg("ssh_key: line " + std::to_string(n) +
                        ": expected an OpenSSH public key (TYPE BASE64 [COMMENT])");
    a.ssh_keys += line + "\n";
  }
  if (a.ssh_keys.empty()) return Error::msg("ssh_key: no public key given");
  return a;
}

Result<GuestAccess> take_guest_access(json::Value& body, bool hash) {
  if (!body.is_object()) return GuestAccess{};
  std::optional<std::string> given[2];  // ssh_key, root_password
  json::Object rest;
  for (auto& [k, v] : body.as_object()) {
    if (k != "ssh_key" && k != "root_password") {
      rest.emplace_back(k, std::move(v));
      continue;
    }
    if (!v.is_string() || v.as_string().empty()) return Error::msg(k + ": expected a non-empty string");
    given[k == "ssh_key" ? 0 : 1] = v.as_string();
  }
  body = json::Value(std::move(rest));
  return guest_access(given[0], given[1], hash);
}

Status apply_guest_access(const std::string& rootfs, const GuestAccess& a, uid_t owner) {
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::os("open " + rootfs);
  if (!a.ssh_keys.empty()) BERTH_TRY_CTX(add_keys(root.get(), a.ssh_keys, owner), "ssh_key");
  if (!a.root_hash.empty()) BERTH_TRY_CTX(set_root_hash(root.get(), a.root_hash, owner), "root_password");
  return ok();
}

Status save_pending_access(const std::string& file, const GuestAccess& a) {
  GuestAccess all = BERTH_TRY(load_pending_access(file));
  all.ssh_keys += a.ssh_keys;
  if (!a.root_hash.empty()) all.root_hash = a.root_hash;
  json::Value v = json::Value::object();
  if (!all.ssh_keys.empty()) v.set("ssh_keys", all.ssh_keys);
  if (!all.root_hash.empty()) v.set("root_hash", all.root_hash);
  return fs::write_file_atomic(file, json::dump(v) + "\n", 0600);
}

Result<GuestAccess> load_pending_access(const std::string& file) {
  GuestAccess a;
  auto text = fs::read_file(file);
  if (!text && text.error().code() == ENOENT) return a;
  if (!text) return std::move(text).error();
  json::Value v = BERTH_TRY_CTX(json::parse(*text), file);
  if (const json::Value* k = v.find("ssh_keys"); k && k->is_string()) a.ssh_keys = k->as_string();
  if (const json::Value* h = v.find("root_hash"); h && h->is_string()) a.root_hash = h->as_string();
  return a;
}

}  // namespace berth::supervisor
