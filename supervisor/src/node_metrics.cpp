// node_metrics.cpp — the node's per-container cgroup and network figures
// in Prometheus's text format.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

#include "berth/net/netlink.h"
#include "berth/supervisor/node_service.h"

namespace berth::supervisor {

namespace {

// One metric family in Prometheus's text format: HELP, TYPE, then samples.
struct Family {
  std::string name, text;
  Family(const char* n, const char* type, const char* help)
      : name(n), text(std::string("# HELP ") + n + " " + help + "\n# TYPE " + n + " " + type + "\n") {}
  void add(const std::string& labels, const std::string& value) { text += name + "{" + labels + "} " + value + "\n"; }
  void add(const std::string& labels, uint64_t value) { add(labels, std::to_string(value)); }
};

uint64_t member(const json::Value* v, std::initializer_list<const char*> path) {
  for (const char* k : path) {
    if (!v || !v->is_object()) return 0;
    v = v->find(k);
  }
  return v && v->is_number() ? v->as_uint() : 0;
}

// Bytes or operations read and written, summed over devices (the
// runtime's stats name both cgroup versions' counters Read and Write).
void add_io(const json::Value* blkio, const char* list, const std::string& label, Family& read, Family& write) {
  uint64_t r = 0, w = 0;
  const json::Value* a = blkio ? blkio->find(list) : nullptr;
  if (a && a->is_array())
    for (const json::Value& e : a->as_array()) {
      const json::Value* op = e.find("op");
      if (!op || !op->is_string()) continue;
      if (op->as_string() == "Read") r += member(&e, {"value"});
      else if (op->as_string() == "Write") w += member(&e, {"value"});
    }
  read.add(label, r);
  write.add(label, w);
}

}  // namespace

std::string NodeService::metrics() {
  std::vector<std::pair<std::string, pid_t>> running;
  size_t total;
  {
    std::lock_guard lock(mu_);
    total = reg_.size();
    for (const Entry* e : reg_.all())
      if (e->init_pid) running.emplace_back(e->record.name, e->init_pid);
  }
  Family cpu("berth_container_cpu_seconds_total", "counter", "CPU time used by the container's cgroup.");
  Family mem("berth_container_memory_bytes", "gauge", "Memory charged to the container's cgroup.");
  Family pids("berth_container_pids", "gauge", "Processes in the container.");
  Family io_rb("berth_container_io_read_bytes_total", "counter",
               "Bytes read from block devices by the container's cgroup.");
  Family io_wb("berth_container_io_write_bytes_total", "counter",
               "Bytes written to block devices by the container's cgroup.");
  Family io_ro("berth_container_io_reads_total", "counter", "Block device reads by the container's cgroup.");
  Family io_wo("berth_container_io_writes_total", "counter", "Block device writes by the container's cgroup.");
  Family rx_b("berth_container_network_receive_bytes_total", "counter", "Bytes received on the container's interface.");
  Family tx_b("berth_container_network_transmit_bytes_total", "counter", "Bytes sent on the container's interface.");
  Family rx_p("berth_container_network_receive_packets_total", "counter",
              "Packets received on the container's interface.");
  Family tx_p("berth_container_network_transmit_packets_total", "counter",
              "Packets sent on the container's interface.");
  Family rx_d("berth_container_network_receive_drops_total", "counter",
              "Received packets dropped on the container's interface.");
  Family tx_d("berth_container_network_transmit_drops_total", "counter",
              "Packets to send dropped on the container's interface.");
  Family rx_e("berth_container_network_receive_errors_total", "counter",
              "Receive errors on the container's interface.");
  Family tx_e("berth_container_network_transmit_errors_total", "counter",
              "Transmit errors on the container's interface.");
  struct stat mine {};
  (void)::stat("/proc/self/ns/net", &mine);
  for (const auto& [n, pid] : running) {
    auto s = runtime::stats_event(g_, n);
    if (!s) continue;
    const json::Value* d = s->find("data");
    std::string label = "name=\"" + n + "\"";
    char secs[64];
    std::snprintf(secs, sizeof secs, "%.9f", static_cast<double>(member(d, {"cpu", "usage", "total"})) / 1e9);
    cpu.add(label, secs);
    mem.add(label, member(d, {"memory", "usage", "usage"}));
    pids.add(label, member(d, {"pids", "current"}));
    const json::Value* blkio = d ? d->find("blkio") : nullptr;
    add_io(blkio, "ioServiceBytesRecursive", label, io_rb, io_wb);
    add_io(blkio, "ioServicedRecursive", label, io_ro, io_wo);
    // The counters of the interfaces inside the container's own network
    // namespace (a container sharing the host's has none of its own).
    UniqueFd ns(::open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
    struct stat theirs;
    if (!ns || ::fstat(ns.get(), &theirs) < 0 || mine.st_ino == theirs.st_ino) continue;
    auto nl = net::Netlink::open_in(ns.get());
    if (!nl) continue;
    auto links = nl->link_stats();
    if (!links) continue;
    for (const net::LinkStats& l : *links) {
      std::string ll = label + ",interface=\"" + l.name + "\"";
      rx_b.add(ll, l.rx_bytes);
      tx_b.add(ll, l.tx_bytes);
      rx_p.add(ll, l.rx_packets);
      tx_p.add(ll, l.tx_packets);
      rx_d.add(ll, l.rx_dropped);
      tx_d.add(ll, l.tx_dropped);
      rx_e.add(ll, l.rx_errors);
      tx_e.add(ll, l.tx_errors);
    }
  }
  std::string out =
      "# HELP berth_containers Containers known to this node.\n# TYPE berth_containers gauge\nberth_containers " +
      std::to_string(total) +
      "\n# HELP berth_containers_running Containers running.\n# TYPE berth_containers_running gauge\n"
      "berth_containers_running " +
      std::to_string(running.size()) + "\n";
  for (const Family* f :
       {&cpu, &mem, &pids, &io_rb, &io_wb, &io_ro, &io_wo, &rx_b, &tx_b, &rx_p, &tx_p, &rx_d, &tx_d, &rx_e, &tx_e})
    out += f->text;
  return out;
}

}  // namespace berth::supervisor
