// criu_swrk.cpp — spawning `criu swrk FD` and the request/notify/answer
// exchange with it.
#include "criu_swrk.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/fdpass.h"

namespace berth::runtime::criu {
namespace {

const char* type_name(ReqType t) {
  switch (t) {
    case ReqType::dump: return "dump";
    case ReqType::restore: return "restore";
    case ReqType::check: return "check";
    case ReqType::pre_dump: return "pre-dump";
    case ReqType::page_server: return "page-server";
    case ReqType::notify: return "notify";
    case ReqType::feature_check: return "feature-check";
    case ReqType::version: return "version";
    default: return "request";
  }
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by ") + ::strsignal(WTERMSIG(status));
  return "ended";
}

berth::Status send_all(int sock, const std::string& bytes) {
  ssize_t n;
  do {
    n = ::send(sock, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::os("send to criu");
  return {};
}

}  // namespace

Result<Response> swrk(const SwrkCall& c) {
  const char* what = type_name(c.request.type);
  std::string log_hint = c.log_path.empty() ? "" : " (see " + c.log_path + ")";
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return Error::os("socketpair for criu");
  UniqueFd ours(sv[0]), theirs(sv[1]);
  std::string fd_arg = std::to_string(theirs.get());
  pid_t pid = ::fork();
  if (pid < 0) return Error::os("fork criu");
  if (pid == 0) {
    if (c.quiet) {
      int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      for (int fd = 0; null >= 0 && fd < 3; ++fd) ::dup2(null, fd);
    }
    ::fcntl(theirs.get(), F_SETFD, 0);
    for (int fd : c.pass_fds) ::fcntl(fd, F_SETFD, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const char* argv[] = {c.criu.c_str(), "swrk", fd_arg.c_str(), nullptr};
    ::execvp(argv[0], const_cast<char* const*>(argv));
    std::fprintf(stderr, "berth-runtime: exec %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  theirs.reset();
  bool reaped = false;
  int status = 0;
  Defer reap([&] {
    if (reaped) return;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  });
  // criu gone before or while it was asked: say how it ended.
  auto gone = [&]() -> Error {
    ours.reset();
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    reaped = true;
    return Error(EIO, std::string("criu ") + what + ": criu " + exit_text(status) + " without an answer" + log_hint);
  };
  if (c.before_request) BERTH_TRY(c.before_request(pid));
  if (auto sent = send_all(ours.get(), encode(c.request)); !sent) {
    if (sent.error().code() == EPIPE || sent.error().code() == ECONNRESET) return gone();
    return std::move(sent).error();
  }

  std::optional<Error> notify_error;
  std::vector<char> buf(1 << 16);
  for (;;) {
    UniqueFd fd;
    auto got = recv_with_fd(ours.get(), buf, &fd);
    if (!got && got.error().code() == ECONNRESET) return gone();
    size_t n = BERTH_TRY_CTX(std::move(got), std::string("criu ") + what);
    if (n == 0) return gone();
    Response r = BERTH_TRY(decode(std::string_view(buf.data(), n)));
    if (r.type == ReqType::notify) {
      berth::Status st = c.on_notify ? c.on_notify(r, std::move(fd)) : berth::Status{};
      if (!st && !notify_error) notify_error = std::move(st).error().wrap("criu notification " + r.notify_script);
      Request answer;
      answer.type = ReqType::notify;
      answer.notify_success = !notify_error.has_value();
      if (auto sent = send_all(ours.get(), encode(answer)); !sent) return gone();
      continue;
    }
    ours.reset();
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    reaped = true;
    if (notify_error) return std::move(*notify_error);
    if (!r.success) {
      std::string msg = std::string("criu ") + what + " failed";
      if (!r.cr_errmsg.empty()) msg += ": " + r.cr_errmsg;
      return Error(r.cr_errno.value_or(0) > 0 ? *r.cr_errno : EIO, msg + log_hint);
    }
    return r;
  }
}

}  // namespace berth::runtime::criu
