// commands.h — the berth-net command functions (one per verb).
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/net/manager.h"

namespace berth::net_cli {

using Command = Status (*)(net::Manager& m, const std::vector<std::string>& args);

Status cmd_network(net::Manager& m, const std::vector<std::string>& args);
Status cmd_attach(net::Manager& m, const std::vector<std::string>& args);
Status cmd_detach(net::Manager& m, const std::vector<std::string>& args);
Status cmd_repair(net::Manager& m, const std::vector<std::string>& args);
Status cmd_netns(net::Manager& m, const std::vector<std::string>& args);
Status cmd_files(net::Manager& m, const std::vector<std::string>& args);

}  // namespace berth::net_cli
