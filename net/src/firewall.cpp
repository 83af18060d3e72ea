// firewall.cpp — rendering and applying the inet berth table.
#include "berth/net/firewall.h"

#include <dlfcn.h>
#include <nftables/libnftables.h>

#include <memory>
#include <mutex>

namespace berth::net {
namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

void render_nat(const NetworkState& ns, std::string& post) {
  const Network& n = ns.network;
  if (!n.nat) return;
  if (n.v4)
    post += "    ip saddr " + n.v4->cidr.str() + " ip daddr != " + n.v4->cidr.str() + " masquerade comment " +
            quoted(n.name) + "\n";
  if (n.v6)
    post += "    ip6 saddr " + n.v6->cidr.str() + " ip6 daddr != " + n.v6->cidr.str() + " masquerade comment " +
            quoted(n.name) + "\n";
}

void render_ports(const Attachment& a, std::string& pre) {
  for (const PortForward& p : a.ports) {
    std::string match = "fib daddr type local " + p.proto + " dport " + std::to_string(p.host_port);
    std::string c = " comment " + quoted(a.container);
    if (a.ipv4)
      pre += "    meta nfproto ipv4 " + match + " dnat ip to " + a.ipv4->str() + ":" +
             std::to_string(p.container_port) + c + "\n";
    if (a.ipv6)
      pre += "    meta nfproto ipv6 " + match + " dnat ip6 to [" + a.ipv6->str() + "]:" +
             std::to_string(p.container_port) + c + "\n";
  }
}

// A routed container may only send from its own addresses (and IPv6
// link-local ones, which neighbour discovery needs).
void render_antispoof(const Attachment& a, std::string& raw) {
  std::string iif = "iifname " + quoted(a.host_if);
  std::string c = " comment " + quoted(a.container);
  raw += "    " + iif + " meta nfproto ipv4 ip saddr != " + (a.ipv4 ? a.ipv4->str() : "0.0.0.0") + " drop" + c + "\n";
  raw += "    " + iif + " meta nfproto ipv6 ip6 saddr != { fe80::/10" + (a.ipv6 ? ", " + a.ipv6->str() : "") +
         " } drop" + c + "\n";
}

}  // namespace

std::string render_ruleset(const std::vector<NetworkState>& state) {
  std::string pre, post, raw;
  for (const NetworkState& ns : state) {
    render_nat(ns, post);
    for (const Attachment& a : ns.leases.items) {
      render_ports(a, pre);
      if (ns.network.mode == Mode::routed) render_antispoof(a, raw);
    }
  }
  std::string t = std::string(kTableFamily) + " " + kTableName;
  // "add" first so that "delete" cannot fail on a missing table; both run
  // in the same transaction as the new table.
  std::string s = "add table " + t + "\ndelete table " + t + "\n";
  if (pre.empty() && post.empty() && raw.empty() && state.empty()) return s;
  s += "table " + t + " {\n";
  s += "  chain prerouting {\n    type nat hook prerouting priority -100; policy accept;\n" + pre + "  }\n";
  s += "  chain output {\n    type nat hook output priority -100; policy accept;\n" + pre + "  }\n";
  s += "  chain postrouting {\n    type nat hook postrouting priority 100; policy accept;\n" + post + "  }\n";
  s += "  chain antispoof {\n    type filter hook prerouting priority -300; policy accept;\n" + raw + "  }\n";
  s += "}\n";
  return s;
}

namespace {

// libnftables is loaded when a table is first applied, not linked: it
// brings seven more shared libraries, and most programs linking this
// library (the network hook run for every container start, berth-cni)
// never touch the firewall.
struct Nft {
  decltype(&nft_ctx_new) ctx_new = nullptr;
  decltype(&nft_ctx_free) ctx_free = nullptr;
  decltype(&nft_ctx_buffer_output) buffer_output = nullptr;
  decltype(&nft_ctx_buffer_error) buffer_error = nullptr;
  decltype(&nft_run_cmd_from_buffer) run_cmd = nullptr;
  decltype(&nft_ctx_get_error_buffer) error_buffer = nullptr;
  std::string error;
};

template <typename F>
bool load_symbol(void* lib, const char* name, F& f, std::string& error) {
  f = reinterpret_cast<F>(::dlsym(lib, name));
  if (!f) error = std::string("nftables: ") + name + " missing from libnftables.so.1";
  return f != nullptr;
}

const Nft& nft() {
  static Nft n;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = ::dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = ::dlerror();
      n.error = std::string("nftables: load libnftables.so.1: ") + (e ? e : "unknown error");
      return;
    }
    (void)(load_symbol(lib, "nft_ctx_new", n.ctx_new, n.error) &&
           load_symbol(lib, "nft_ctx_free", n.ctx_free, n.error) &&
           load_symbol(lib, "nft_ctx_buffer_output", n.buffer_output, n.error) &&
           load_symbol(lib, "nft_ctx_buffer_error", n.buffer_error, n.error) &&
           load_symbol(lib, "nft_run_cmd_from_buffer", n.run_cmd, n.error) &&
           load_symbol(lib, "nft_ctx_get_error_buffer", n.error_buffer, n.error));
  });
  return n;
}

}  // namespace

Status run_nft(const std::string& script) {
  const Nft& f = nft();
  if (!f.error.empty()) return Error(ENOSYS, f.error);
  std::unique_ptr<nft_ctx, void (*)(nft_ctx*)> ctx(f.ctx_new(NFT_CTX_DEFAULT), f.ctx_free);
  if (!ctx) return Error(ENOMEM, "nftables: create context");
  f.buffer_output(ctx.get());
  f.buffer_error(ctx.get());
  if (f.run_cmd(ctx.get(), script.c_str()) != 0) {
    std::string err = f.error_buffer(ctx.get());
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Error::msg("nftables: apply table " + std::string(kTableFamily) + " " + kTableName + ": " + err);
  }
  return ok();
}

}  // namespace berth::net
