// cmd_attach.cpp — attach and detach a container.
#include "args.h"
#include "berth/base/json.h"
#include "commands.h"

namespace berth::net_cli {

Status cmd_attach(net::Manager& m, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(
      parse_flags(argv, {Flag::text({"netns"}), Flag::text({"ifname"}), Flag::text({"ip"}), Flag::text({"mac"}),
                         Flag::text({"port"}), Flag::text({"rate-in"}), Flag::text({"rate-out"})}));
  BERTH_TRY(expect(a, 2, "attach NETWORK CONTAINER"));
  net::AttachRequest r;
  r.network = a.positional()[0];
  r.container = a.positional()[1];
  r.netns = a.get("netns");
  r.ifname = a.get("ifname", "eth0");
  for (const std::string& s : a.all("ip")) {
    net::IpAddr ip = BERTH_TRY_CTX(net::parse_ip(s), "--ip");
    (ip.is_v4() ? r.ipv4 : r.ipv6) = ip;
  }
  if (a.has("mac")) r.mac = BERTH_TRY_CTX(net::parse_mac(a.get("mac")), "--mac");
  for (const std::string& p : a.all("port")) r.ports.push_back(BERTH_TRY(net::parse_port_forward(p)));
  if (a.has("rate-in")) r.rate_in = BERTH_TRY(parse_rate("rate-in", a.get("rate-in")));
  if (a.has("rate-out")) r.rate_out = BERTH_TRY(parse_rate("rate-out", a.get("rate-out")));
  net::Attachment at = BERTH_TRY(m.attach(r));
  print(json::dump(net::to_json(at)) + "\n");
  return ok();
}

Status cmd_detach(net::Manager& m, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {}));
  BERTH_TRY(expect(a, 2, "detach NETWORK CONTAINER"));
  return m.detach(a.positional()[0], a.positional()[1]);
}

}  // namespace berth::net_cli
