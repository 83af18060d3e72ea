// store.cpp — state files and the state lock.
#include "store.h"

#include <algorithm>

#include <fcntl.h>
#include <sys/file.h>

#include "berth/base/fs.h"
#include "berth/base/json.h"

namespace berth::net::store {

Result<UniqueFd> lock(const std::string& dir) {
  // One stat on the hot path; the tree is made on first use.
  if (!fs::exists(dir + "/leases")) {
    BERTH_TRY(fs::mkdir_p(dir + "/networks", 0755));
    BERTH_TRY(fs::mkdir_p(dir + "/leases", 0755));
  }
  std::string path = dir + "/lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return Error::os("open " + path);
  while (::flock(fd.get(), LOCK_EX) < 0)
    if (errno != EINTR) return Error::os("lock " + path);
  return fd;
}

std::string network_path(const std::string& dir, const std::string& name) {
  return dir + "/networks/" + name + ".json";
}
std::string leases_path(const std::string& dir, const std::string& name) { return dir + "/leases/" + name + ".json"; }
std::string netns_dir(const std::string& dir) { return dir + "/netns"; }

Result<Network> load_network(const std::string& dir, const std::string& name) {
  std::string path = network_path(dir, name);
  if (name.empty() || name.find('/') != std::string::npos || !fs::exists(path))
    return Error(ENOENT, "network " + name + " does not exist");
  std::string text = BERTH_TRY(fs::read_file(path));
  json::Value v = BERTH_TRY_CTX(json::parse(text), path);
  return BERTH_TRY_CTX(network_from_json(v), path);
}

Result<std::vector<Network>> load_networks(const std::string& dir) {
  std::vector<Network> out;
  if (!fs::exists(dir + "/networks")) return out;
  for (const std::string& f : BERTH_TRY(fs::list_dir(dir + "/networks"))) {
    if (!f.ends_with(".json")) continue;
    out.push_back(BERTH_TRY(load_network(dir, f.substr(0, f.size() - 5))));
  }
  std::sort(out.begin(), out.end(), [](const Network& a, const Network& b) { return a.name < b.name; });
  return out;
}

Status save_network(const std::string& dir, const Network& n) {
  return fs::write_file_atomic(network_path(dir, n.name), json::dump(to_json(n), true) + "\n");
}

Result<LeaseTable> load_leases(const std::string& dir, const std::string& name) {
  std::string path = leases_path(dir, name);
  if (!fs::exists(path)) return LeaseTable{};
  std::string text = BERTH_TRY(fs::read_file(path));
  json::Value v = BERTH_TRY_CTX(json::parse(text), path);
  return BERTH_TRY_CTX(lease_table_from_json(v), path);
}

Status save_leases(const std::string& dir, const std::string& name, const LeaseTable& t) {
  return fs::write_file_atomic(leases_path(dir, name), json::dump(to_json(t), true) + "\n");
}

Result<std::vector<NetworkState>> load_all(const std::string& dir) {
  std::vector<NetworkState> out;
  for (Network& n : BERTH_TRY(load_networks(dir))) {
    LeaseTable t = BERTH_TRY(load_leases(dir, n.name));
    out.push_back({std::move(n), std::move(t)});
  }
  return out;
}

Status apply_firewall(const std::string& dir, bool force) {
  std::string script = render_ruleset(BERTH_TRY(load_all(dir)));
  std::string last_path = dir + "/firewall.nft";
  if (!force && fs::exists(last_path)) {
    auto last = fs::read_file(last_path);
    if (last && *last == script) return ok();
  }
  BERTH_TRY(run_nft(script));
  return fs::write_file_atomic(last_path, script);
}

}  // namespace berth::net::store
