// fdpass.h — one file descriptor passed with a message over a unix socket
// (SCM_RIGHTS): the console socket, --pidfd-socket, the seccomp listener,
// the runtime's sync socket and the monitor's sockets.
#pragma once

#include <span>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/fd.h"

namespace berth {

/// Sends `data` in one sendmsg (MSG_NOSIGNAL, restarted on EINTR) with `fd`
/// attached as SCM_RIGHTS; `fd` < 0 sends the data alone. Returns the bytes
/// sent: a stream socket may take fewer, and the fd travels with the first
/// byte (so `data` must not be empty on one). The error is sendmsg's
/// ("sendmsg").
Result<size_t> send_with_fd(int sock, std::string_view data, int fd);

/// One recvmsg on `sock` into `buf` (`flags` added to MSG_CMSG_CLOEXEC,
/// restarted on EINTR); returns the bytes read (0: end of stream). An fd
/// passed with SCM_RIGHTS lands in `*fd_out`, close-on-exec; with none,
/// `*fd_out` is left as it was. Of several fds the first is kept and the
/// others closed, as is any fd in another kind of control message (a
/// pidfd of SO_PASSPIDFD). A control part larger than the buffer (room for
/// 16 fds; MSG_CTRUNC) is an error, EMSGSIZE, and every fd that did
/// arrive is closed. Other errors are recvmsg's ("recvmsg").
Result<size_t> recv_with_fd(int sock, std::span<char> buf, UniqueFd* fd_out, int flags = 0);

}  // namespace berth
