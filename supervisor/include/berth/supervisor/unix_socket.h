// unix_socket.h — unix stream sockets for the monitor protocol and the
// CLI: listen, connect, pass an fd, read a line.
#pragma once

#include <sys/types.h>

#include <string>

#include "berth/base/error.h"
#include "berth/base/fd.h"

namespace berth::supervisor {

/// Binds and listens on `path` (an old socket file is replaced), chmod `mode`.
Result<UniqueFd> listen_unix(const std::string& path, mode_t mode);
/// Connects to `path`.
Result<UniqueFd> connect_unix(const std::string& path);
/// Receives a message carrying one fd (SCM_RIGHTS); the fd is close-on-exec.
/// `flags` go to recvmsg (MSG_DONTWAIT: EAGAIN when nothing is there yet).
Result<UniqueFd> recv_fd(int sock, int flags = 0);
/// Writes all of `data` (restarting on EINTR and short writes).
Status write_all(int fd, std::string_view data);
/// Reads up to and without the next '\n' (at most `limit` bytes); EOF
/// before any byte is an error with code 0 and message "eof".
Result<std::string> read_line(int fd, size_t limit = 65536);

}  // namespace berth::supervisor
