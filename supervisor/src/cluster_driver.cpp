// cluster_driver.cpp — cluster containers as berthd's own system
// containers: every verb goes through the Service, as an API call would.
#include "berth/supervisor/cluster_driver.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/supervisor/record.h"

namespace berth::supervisor {

namespace {

uint32_t fnv1a32(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

// The limits berthd records for a cluster container's resources ("" for
// berthd's default).
struct Limits {
  std::string ram, cpu_limit, disk;
};

Result<Limits> limits_of(const cluster::ContainerRec& c) {
  Limits l;
  if (c.resources.memory_mb > 0) {
    if (static_cast<uint64_t>(c.resources.memory_mb) < (kMinRam >> 20))
      return Error::msg("memory_mb: " + std::to_string(c.resources.memory_mb) + " is below berthd's minimum of " +
                        std::to_string(kMinRam >> 20) + " MiB");
    l.ram = std::to_string(static_cast<uint64_t>(c.resources.memory_mb) << 20);
  }
  if (c.resources.cpu_milli > 0) l.cpu_limit = std::to_string((c.resources.cpu_milli + 9) / 10);
  if (c.resources.disk_gb > 0) l.disk = std::to_string(static_cast<uint64_t>(c.resources.disk_gb) << 30);
  return l;
}

}  // namespace

std::string cluster_local_name(const std::string& id, bool hashed) {
  std::string n;
  for (char c : id) n += c == '.' || c == '_' ? '-' : c;
  if (!hashed && n.size() <= 64) return n;
  char h[16];
  std::snprintf(h, sizeof h, "-%08x", fnv1a32(id));
  return n.substr(0, 64 - 9) + h;
}

Result<CreateRequest> cluster_create_request(const cluster::ContainerRec& c, const std::string& name) {
  if (c.tmpl.empty()) return Error::msg("container " + c.id + ": no template (berthd makes cluster containers from templates)");
  Limits l = BERTH_TRY_CTX(limits_of(c), "container " + c.id);
  CreateRequest req;
  req.fields = {{"name", name}, {"template", c.tmpl}};
  if (!l.ram.empty()) req.fields.push_back({"ram", l.ram});
  if (!l.cpu_limit.empty()) req.fields.push_back({"cpulimit", l.cpu_limit});
  if (!l.disk.empty()) req.fields.push_back({"disk", l.disk});
  // An address of the node's network of that name, chosen by berthd.
  if (!c.network.empty()) req.fields.push_back({"net", c.network});
  return req;
}

Result<SetRequest> cluster_changes(const Record& have, const cluster::ContainerRec& want) {
  Limits l = BERTH_TRY_CTX(limits_of(want), "container " + want.id);
  auto text = [](const auto& v) { return v ? std::to_string(*v) : std::string(); };
  SetRequest ch;
  // An empty value clears the limit (berthd's default).
  if (text(have.ram) != l.ram) ch.fields.push_back({"ram", l.ram});
  if (text(have.cpu_limit) != l.cpu_limit) ch.fields.push_back({"cpulimit", l.cpu_limit});
  // No disk in the assignment keeps whatever disk the container has.
  if (!l.disk.empty() && text(have.disk) != l.disk) ch.fields.push_back({"disk", l.disk});
  return ch;
}

std::optional<ContainerStatus> ClusterDriver::find(const std::string& id) {
  for (auto& c : svc_.list())
    if (c.record.cluster == id) return std::move(c);
  return std::nullopt;
}

Status ClusterDriver::start(const cluster::ContainerRec& c) {
  auto entry = find(c.id);
  if (!entry) {
    auto req = BERTH_TRY(cluster_create_request(c, cluster_local_name(c.id, false)));
    if (!c.from.empty()) return migrate_in(c, std::move(req));
    return create_here(c, std::move(req), -1, {}, {});
  }
  const std::string& name = entry->record.name;
  auto changes = BERTH_TRY(cluster_changes(entry->record, c));
  if (!changes.empty()) {
    BERTH_TRY_CTX(svc_.check_set(name, changes), "update " + c.id);
    BERTH_TRY_CTX(svc_.set(name, changes), "update " + c.id);
  }
  if (entry->state == State::stopped) BERTH_TRY_CTX(svc_.start(name), "start " + c.id);
  else if (entry->state == State::starting || entry->state == State::stopping)
    return Error(EAGAIN, "start " + c.id + ": container " + name + " is " + state_name(entry->state));
  return ok();
}

Status ClusterDriver::create_here(const cluster::ContainerRec& c, CreateRequest req, int disk, const std::string& image,
                                  const std::vector<std::string>& layers) {
  auto rec = svc_.check_create(req);
  if (!rec && rec.error().code() == EEXIST) {
    // A container of the operator's (or another id's) holds the name.
    for (FieldChange& f : req.fields)
      if (f.key == "name") f.value = cluster_local_name(c.id, true);
    rec = svc_.check_create(req);
  }
  if (!rec) return std::move(rec).error().wrap("create " + c.id);
  rec->cluster = c.id;
  std::string name = rec->name;
  BERTH_TRY_CTX(svc_.create(*rec), "create " + c.id);
  if (disk >= 0) {
    if (auto st = svc_.import_disk(name, disk, image, layers); !st) {
      (void)svc_.destroy(name);
      return std::move(st).error().wrap("migrate " + c.id + " from " + c.from);
    }
  }
  BERTH_TRY_CTX(svc_.start(name), "start " + c.id);
  return ok();
}

namespace {

// A string field of an API object ("" when absent).
std::string str(const json::Value& o, const char* key) {
  const json::Value* v = o.find(key);
  return v && v->is_string() ? v->as_string() : std::string();
}

// The local name of cluster container `id` in another berthd's list (its
// API's answer), or "".
std::string name_in(const json::Value& list, const std::string& id) {
  if (!list.is_array()) return "";
  for (const auto& e : list.as_array())
    if (const json::Value* cfg = e.find("config"); cfg && str(*cfg, "cluster") == id) return str(e, "name");
  return "";
}

// The source disk's layers (the Berth-Layers header, comma-separated).
std::vector<std::string> layer_list(const std::string& header) {
  std::vector<std::string> out;
  if (header.empty()) return out;
  for (std::string_view l : split(header, ',')) out.emplace_back(l);
  return out;
}

}  // namespace

Status ClusterDriver::migrate_in(const cluster::ContainerRec& c, CreateRequest req) {
  std::string what = "migrate " + c.id + " from " + c.from;
  if (c.from_address.empty()) return Error(EINVAL, what + ": the source node has no API address");
  auto list = BERTH_TRY_CTX(peer_request(o_.peer, c.from_address, "GET", "/v1/containers"), what);
  if (list.status != 200) return Error(EIO, what + ": list: " + peer_error(list));
  auto doc = json::parse(list.body);
  if (!doc) return Error(EPROTO, what + ": list: " + doc.error().what());
  std::string src = name_in(*doc, c.id);
  if (src.empty()) {
    log::warn(what + ": the source has no copy of it: made afresh from template " + c.tmpl);
    return create_here(c, std::move(req), -1, {}, {});
  }
  UniqueFd tmp(::open(o_.tmp_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!tmp) return Error::os(what + ": temp file in " + o_.tmp_dir);
  json::Value export_body = json::Value::object();
  export_body.set("cluster", c.id);
  auto t0 = std::chrono::steady_clock::now();
  auto x = BERTH_TRY_CTX(peer_request(o_.peer, c.from_address, "POST", "/v1/containers/" + src + "/export",
                                      json::dump(export_body), tmp.get()),
                         what);
  if (x.status != 200) return Error(EIO, what + ": export: " + peer_error(x));
  if (::lseek(tmp.get(), 0, SEEK_SET) < 0) return Error::os(what + ": seek");
  BERTH_TRY(create_here(c, std::move(req), tmp.get(), x.headers["berth-image"], layer_list(x.headers["berth-layers"])));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  log::info(what + ": " + std::to_string(x.body_size) + " bytes of disk changes copied; running here after " +
            std::to_string(ms) + " ms");
  return ok();
}

Status ClusterDriver::halt(const std::string& id, int timeout, const char* what) {
  auto entry = find(id);
  if (!entry || entry->state == State::stopped) return ok();
  auto st = svc_.stop(entry->record.name, false, timeout);
  if (!st && st.error().code() != EALREADY) return std::move(st).error().wrap(std::string(what) + " " + id);
  return ok();
}

Status ClusterDriver::hand_off(const std::string& id) { return halt(id, o_.stop_timeout, "hand off"); }

Status ClusterDriver::fence(const std::string& id) { return halt(id, o_.fence_stop_timeout, "fence"); }

Status ClusterDriver::fence_all(const std::vector<std::string>& ids) {
  // One thread per container: a halt is mostly waiting for the guest.
  std::vector<Status> results(ids.size(), ok());
  std::vector<std::thread> threads;
  threads.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) threads.emplace_back([&, i] { results[i] = fence(ids[i]); });
  for (auto& t : threads) t.join();
  std::string failed;
  for (auto& r : results)
    if (!r) failed += (failed.empty() ? "" : "; ") + r.error().what();
  if (!failed.empty()) return Error::msg(failed);
  return ok();
}

Status ClusterDriver::stop(const std::string& id) {
  auto entry = find(id);
  if (!entry) return ok();
  const std::string& name = entry->record.name;
  if (entry->state != State::stopped) {
    auto st = svc_.stop(name, false, o_.stop_timeout);
    if (!st && st.error().code() != EALREADY) return std::move(st).error().wrap("stop " + id);
  }
  BERTH_TRY_CTX(svc_.destroy(name), "remove " + id);
  return ok();
}

std::vector<std::string> ClusterDriver::list() {
  std::vector<std::string> out;
  for (const auto& c : svc_.list())
    if (!c.record.cluster.empty()) out.push_back(c.record.cluster);
  return out;
}

json::Value ClusterDriver::usage() {
  int64_t containers = 0, running = 0;
  uint64_t cpu_limit = 0, ram = 0, disk = 0, mem_bytes = 0, cpu_ns = 0;
  for (const auto& c : svc_.list()) {
    const Record& r = c.record;
    if (r.cluster.empty()) continue;
    ++containers;
    cpu_limit += r.cpu_limit.value_or(0);
    ram += r.ram.value_or(0);
    disk += r.disk.value_or(kDefaultDisk);
    if (c.state != State::running) continue;
    ++running;
    auto s = svc_.show(r.name);
    if (!s || !s->usage) continue;
    mem_bytes += s->usage->memory_bytes;
    cpu_ns += s->usage->cpu_ns;
  }
  json::Value used = json::Value::object();
  used.set("cpus", static_cast<double>(cpu_limit) / 100.0);
  used.set("memory_mb", ram >> 20);
  used.set("disk_gb", disk >> 30);
  json::Value u = json::Value::object();
  u.set("containers", containers);
  u.set("running", running);
  u.set("used", std::move(used));
  u.set("memory_bytes", mem_bytes);
  u.set("cpu_seconds", static_cast<double>(cpu_ns) / 1e9);
  return u;
}

namespace {

// The `key` of every object in a listing (nullopt when it failed): the
// network verbs still answer JSON documents.
std::optional<std::vector<std::string>> names(const Result<json::Value>& list, const char* key) {
  if (!list) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& i : list->as_array())
    if (std::string v = str(i, key); !v.empty()) out.push_back(v);
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> ClusterDriver::templates() {
  auto all = svc_.images();
  if (!all) return std::nullopt;
  std::vector<std::string> tags;
  for (const ImageSummary& i : *all)
    if (!i.tag.empty()) tags.push_back(i.tag);
  return tags;
}

std::optional<std::vector<std::string>> ClusterDriver::networks() { return names(svc_.networks(), "name"); }

}  // namespace berth::supervisor
