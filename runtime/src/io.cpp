// io.cpp — the sync socket between runtime and child, the console socket
// protocol (pty master over SCM_RIGHTS), --pidfd-socket, and seccomp fd
// forwarding.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "berth/base/fdpass.h"
#include "internal.h"
#include "linux_compat.h"
#include "security.h"

namespace berth::runtime {
namespace {

// One message with `pass_fd` attached (if >= 0); `what` names it in the
// error ("send pidfd").
berth::Status send_named(int sock, std::string_view data, int pass_fd, const char* what) {
  auto n = berth::send_with_fd(sock, data, pass_fd);
  if (!n) return Error(n.error().code(), std::string("send ") + what);
  return {};
}

// The pty slave bound on the container's /dev/console (CVE-2025-52565).
// The source is the slave fd itself (TIOCGPTPEER), never a /dev/pts/N
// path a container could swap, and the mount comes after the masks and
// read-only paths; the target is opened without following any symlink (an
// image's or a sharing container's /dev/console -> elsewhere would get the
// pty mounted over what it names) and must be the placeholder file or a
// character device; the mount is made between the two fds (open_tree,
// move_mount), so no path is resolved again and no /proc is needed. No
// /dev at all means no console mount, as before.
// A test-only build (BERTH_TEST_UNDEFEND=cve-2025-52565) mounts on the
// path /dev/console, following it, so that tests/security can show this
// is what stops the redirection.
#ifndef BERTH_UNDEFEND_CVE_2025_52565
berth::Status bind_console(Kernel& k, int slave) {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::os("open /");
  auto target = open_in_root(root.get(), "dev/console", O_PATH, true);
  if (!target) {
    if (target.error().code() == ENOENT) return {};
    return std::move(target).error();
  }
  struct stat st;
  if (::fstat(target->get(), &st) < 0) return Error::os("stat /dev/console");
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    return Error(EPERM, "/dev/console is neither a file nor a character device");
  UniqueFd tree(k.open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (!tree) return Error::os("open_tree of the pty");
  if (k.move_mount(tree.get(), "", target->get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return Error::os("move_mount");
  return {};
}
#else
berth::Status bind_console(Kernel& k, int slave) {
  std::string src = "/proc/self/fd/" + std::to_string(slave);
  if (k.mount(src.c_str(), "/dev/console", nullptr, MS_BIND, nullptr) < 0 && errno != ENOENT) return Error::os("mount");
  return {};
}
#endif

}  // namespace

Result<UniqueFd> connect_unix(const std::string& path, const std::string& what) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::os("socket for " + what);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return Error::msg(what + " " + path + ": path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return Error::os("connect " + what + " " + path);
  return fd;
}

berth::Status send_pidfd(const std::string& socket_path, pid_t pid) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return Error::os("pidfd_open " + std::to_string(pid));
  UniqueFd sock = BERTH_TRY(connect_unix(socket_path, "pidfd socket"));
  return send_named(sock.get(), "pidfd", pidfd.get(), "pidfd");
}

berth::Status sync_send(int fd, Sync s, std::string_view payload, int pass_fd) {
  std::string buf;
  buf.reserve(1 + payload.size());
  buf += static_cast<char>(s);
  buf.append(payload);
  return send_named(fd, buf, pass_fd, "sync message");
}

Result<SyncMsg> sync_recv(int fd) {
  // A sync socket is SOCK_SEQPACKET: a peek with MSG_TRUNC gives the whole
  // message's length, so the buffer is just that (most messages are one
  // byte; a 256 KiB buffer, zeroed, cost every create 64 page faults).
  // recvmsg, not recv (recvfrom): this also runs after the container's
  // seccomp filter is loaded, which may allow only what was used before.
  struct msghdr peek {};
  ssize_t len;
  do {
    len = ::recvmsg(fd, &peek, MSG_PEEK | MSG_TRUNC);
  } while (len < 0 && errno == EINTR);
  if (len < 0) return Error::os("receive sync message");
  std::string buf(static_cast<size_t>(std::max<ssize_t>(len, 1)), '\0');
  SyncMsg out;
  auto n = berth::recv_with_fd(fd, buf, &out.fd);
  if (!n) return std::move(n).error().wrap("receive sync message");
  if (*n == 0) return Error(EPIPE, "container init exited during setup");
  out.kind = static_cast<Sync>(buf[0]);
  out.payload = buf.substr(1, *n - 1);
  return out;
}

berth::Status forward_seccomp_fd(const Spec& spec, const std::string& state_json, SyncMsg& msg, int sync_fd) {
  auto st = send_seccomp_fd(spec.linux.seccomp->listener_path, state_json, msg.fd.get());
  if (!st) {
    (void)sync_send(sync_fd, Sync::error, st.error().what());
    return std::move(st).error().wrap("linux.seccomp.listenerPath");
  }
  return sync_send(sync_fd, Sync::ack);
}

berth::Status setup_console(Kernel& k, int console_fd, const Process& p, bool mount_console) {
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return Error::os("open /dev/ptmx");
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) return Error::os("unlock pty");
  int pty_num = 0;
  if (::ioctl(master.get(), TIOCGPTN, &pty_num) < 0) return Error::os("get pty number");
  // Open the slave through the master (TIOCGPTPEER) so the path cannot be
  // swapped under us.
  int slave = ::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return Error::os("open pty slave");
  UniqueFd slave_fd(slave);
  std::string name = "/dev/pts/" + std::to_string(pty_num);
  if (p.console_size) {
    struct winsize ws {};
    ws.ws_row = static_cast<unsigned short>(p.console_size->first);
    ws.ws_col = static_cast<unsigned short>(p.console_size->second);
    ::ioctl(slave, TIOCSWINSZ, &ws);
  }
  if (mount_console) BERTH_TRY_CTX(bind_console(k, slave), "bind " + name + " on /dev/console");
  BERTH_TRY(send_named(console_fd, name, master.get(), "pty master to console socket"));
  if (k.setsid() < 0 && errno != EPERM) return Error::os("setsid");
  if (::ioctl(slave, TIOCSCTTY, 0) < 0) return Error::os("set controlling terminal");
  for (int i = 0; i < 3; ++i)
    if (::dup2(slave, i) < 0) return Error::os("dup pty to stdio");
  return {};
}

}  // namespace berth::runtime
