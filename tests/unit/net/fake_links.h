// fake_links.h — a recording Links: every call becomes one line of text, so
// attach/detach sequences are checked without root or a kernel.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "berth/net/netlink.h"

namespace berth::net {

class FakeLinks : public Links {
public:
  std::vector<std::string> calls;
  std::map<std::string, int> index;  // links that exist
  std::string fail_on;               // a call starting with this fails (EIO)

  using Links::add_addr;
  using Links::add_route;
  Result<int> ifindex(const std::string& name) override {
    auto it = index.find(name);
    if (it == index.end()) return Error(ENODEV, "find link " + name);
    return it->second;
  }
  Result<std::vector<std::string>> links_with_prefix(const std::string& prefix) override {
    std::vector<std::string> out;
    for (auto& [name, i] : index)
      if (name.starts_with(prefix)) out.push_back(name);
    return out;
  }
  Status add_bridge(const std::string& name, unsigned mtu) override {
    return record("bridge " + name + " mtu " + std::to_string(mtu), name);
  }
  Status add_veth(const VethSpec& s) override {
    std::string c = "veth " + s.host_name + " peer " + s.peer_name + " mtu " + std::to_string(s.mtu);
    if (!s.master.empty()) c += " master " + s.master;
    if (s.peer_mac) c += " mac " + s.peer_mac->str();
    return record(c, s.host_name);
  }
  Status add_ifb(const std::string& name) override { return record("ifb " + name, name); }
  Status del_link(const std::string& name) override {
    index.erase(name);
    return record("del " + name);
  }
  Status set_up(const std::string& name, bool up) override { return record(std::string(up ? "up " : "down ") + name); }
  Status add_addr(int, const Cidr& a, const std::string& ifname) override { return record("addr " + a.str() + " " + ifname); }
  Result<std::vector<Cidr>> addresses(const std::string&) override { return std::vector<Cidr>{}; }
  Status add_route(const Cidr& dst, int, const std::string& ifname, const std::optional<IpAddr>& gw, bool onlink) override {
    return record("route " + dst.str() + " dev " + ifname + (gw ? " via " + gw->str() : "") + (onlink ? " onlink" : ""));
  }
  Status add_proxy_neigh(const std::string& ifname, const IpAddr& a) override { return record("proxy " + a.str() + " " + ifname); }
  Status del_proxy_neigh(const std::string& ifname, const IpAddr& a) override {
    return record("noproxy " + a.str() + " " + ifname);
  }
  Status set_egress_rate(const std::string& ifname, uint64_t rate, unsigned) override {
    return record("tbf " + ifname + " " + std::to_string(rate));
  }
  Status redirect_ingress(const std::string& ifname, const std::string& ifb) override {
    return record("redirect " + ifname + " " + ifb);
  }
  Status sysctl(const std::string& key, const std::string& value) override { return record("sysctl " + key + "=" + value); }

private:
  Status record(const std::string& call, const std::string& creates = "") {
    if (!fail_on.empty() && call.starts_with(fail_on)) return Error(EIO, call);
    calls.push_back(call);
    if (!creates.empty()) index[creates] = static_cast<int>(index.size()) + 10;
    return ok();
  }
};

}  // namespace berth::net
