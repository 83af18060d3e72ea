// terminal.h — the sessions an upgraded API connection carries: a
// container's console (bytes both ways), and a command on a pty (frames,
// client/frames.h), relayed between this terminal and berthd.
#pragma once

#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/client/api.h"

namespace berth::cli {

/// Sends a request asking to switch to `protocol` and returns the session
/// once berthd answers 101; berthd's error otherwise.
Result<client::Upgraded> upgrade(const client::Api& api, std::string_view method, const std::string& path,
                                 std::string_view protocol, std::string_view body = {});

/// Relays the console between this terminal (raw while it lasts) and the
/// session until Ctrl-] or the console's end.
Result<int> console_session(client::Upgraded s);

/// Relays a command's pty session: keys and window sizes out, output in,
/// until the exit frame; the command's exit status.
Result<int> terminal_session(client::Upgraded s);

}  // namespace berth::cli
