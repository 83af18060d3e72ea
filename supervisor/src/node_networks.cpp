// node_networks.cpp — the node service's network verbs and its side of
// reconcile; the networking itself is NodeNet's (node_net.cpp).
#include "berth/base/log.h"
#include "berth/supervisor/node_service.h"

namespace berth::supervisor {

std::vector<Record> NodeService::records_locked() const {
  std::vector<Record> out;
  for (const Entry* e : reg_.all()) out.push_back(e->record);
  return out;
}

std::vector<Record> NodeService::records() {
  std::lock_guard lock(mu_);
  return records_locked();
}

void NodeService::reconcile_net() {
  std::set<std::string> running;
  {
    std::lock_guard lock(mu_);
    for (const Entry* e : reg_.all())
      if (e->state != State::stopped) running.insert(e->record.name);
  }
  net_->repair(running);
}

Result<json::Value> NodeService::networks() { return net_->networks(records()); }

Result<json::Value> NodeService::create_network(const json::Value& body) {
  json::Value n = BERTH_TRY(net_->create_network(body));
  events_.publish("network-created", n.find("name")->as_string());
  return n;
}

Result<json::Value> NodeService::remove_network(const std::string& name) {
  {
    // Held across the removal: a create choosing addresses on this network
    // waits for it, then finds the network gone.
    std::lock_guard lock(mu_);
    BERTH_TRY(net_->remove_network(name, records_locked()));
  }
  events_.publish("network-removed", name);
  json::Value o = json::Value::object();
  o.set("name", name);
  return o;
}

}  // namespace berth::supervisor
