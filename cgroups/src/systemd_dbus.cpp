// systemd_dbus.cpp — UnitControl over sd-bus. libsystemd is loaded with
// dlopen on first use: a runtime that is not asked for systemd neither links
// nor maps it.
#include <dlfcn.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>

#include "systemd.h"

namespace berth::cgroups {
namespace {

constexpr const char* library = "libsystemd.so.0";
constexpr const char* systemd_service = "org.freedesktop.systemd1";
constexpr const char* manager_path = "/org/freedesktop/systemd1";
constexpr const char* manager_interface = "org.freedesktop.systemd1.Manager";
constexpr const char* private_socket = "/run/systemd/private";
constexpr auto job_timeout = std::chrono::seconds(30);

// The sd-bus entry points used. The header is included for its types only:
// each pointer has the type of the function it declares, and every call goes
// through these.
struct SdBus {
  decltype(&::sd_bus_new) bus_new;
  decltype(&::sd_bus_set_address) set_address;
  decltype(&::sd_bus_start) start;
  decltype(&::sd_bus_open_system) open_system;
  decltype(&::sd_bus_flush_close_unref) close_unref;
  decltype(&::sd_bus_add_match) add_match;
  decltype(&::sd_bus_slot_unref) slot_unref;
  decltype(&::sd_bus_message_new_method_call) new_method_call;
  decltype(&::sd_bus_message_append) append;
  decltype(&::sd_bus_message_append_array) append_array;
  decltype(&::sd_bus_message_open_container) open_container;
  decltype(&::sd_bus_message_close_container) close_container;
  decltype(&::sd_bus_message_read) read;
  decltype(&::sd_bus_message_unref) message_unref;
  decltype(&::sd_bus_call) call;
  decltype(&::sd_bus_process) process;
  decltype(&::sd_bus_wait) wait;
  decltype(&::sd_bus_error_free) error_free;
};

template <class F>
bool resolve(void* lib, const char* name, F& out, const char*& missing) {
  out = reinterpret_cast<F>(::dlsym(lib, name));
  if (!out) missing = name;
  return out != nullptr;
}

Result<SdBus> open_library() {
  void* lib = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!lib) return Error(ENOENT, std::string("load ") + ::dlerror());
  SdBus b{};
  const char* missing = nullptr;
  bool found = resolve(lib, "sd_bus_new", b.bus_new, missing) &&
               resolve(lib, "sd_bus_set_address", b.set_address, missing) &&
               resolve(lib, "sd_bus_start", b.start, missing) &&
               resolve(lib, "sd_bus_open_system", b.open_system, missing) &&
               resolve(lib, "sd_bus_flush_close_unref", b.close_unref, missing) &&
               resolve(lib, "sd_bus_add_match", b.add_match, missing) &&
               resolve(lib, "sd_bus_slot_unref", b.slot_unref, missing) &&
               resolve(lib, "sd_bus_message_new_method_call", b.new_method_call, missing) &&
               resolve(lib, "sd_bus_message_append", b.append, missing) &&
               resolve(lib, "sd_bus_message_append_array", b.append_array, missing) &&
               resolve(lib, "sd_bus_message_open_container", b.open_container, missing) &&
               resolve(lib, "sd_bus_message_close_container", b.close_container, missing) &&
               resolve(lib, "sd_bus_message_read", b.read, missing) &&
               resolve(lib, "sd_bus_message_unref", b.message_unref, missing) &&
               resolve(lib, "sd_bus_call", b.call, missing) &&
               resolve(lib, "sd_bus_process", b.process, missing) &&
               resolve(lib, "sd_bus_wait", b.wait, missing) &&
               resolve(lib, "sd_bus_error_free", b.error_free, missing);
  if (!found) {
    ::dlclose(lib);
    return Error(ENOSYS, std::string("load ") + library + ": no symbol " + missing);
  }
  return b;  // the library stays loaded for the life of the process
}

Result<const SdBus*> load_sd_bus() {
  static const Result<SdBus> loaded = open_library();
  if (!loaded) return Error(loaded.error());
  return &*loaded;
}

class Message {
public:
  Message(const SdBus& api, sd_bus_message* m) : api_(&api), m_(m) {}
  Message(Message&& o) noexcept : api_(o.api_), m_(std::exchange(o.m_, nullptr)) {}
  Message& operator=(Message&&) = delete;
  ~Message() {
    if (m_) api_->message_unref(m_);
  }
  sd_bus_message* get() const { return m_; }

private:
  const SdBus* api_;
  sd_bus_message* m_;
};

class BusError {
public:
  explicit BusError(const SdBus& api) : api_(api) {}
  BusError(const BusError&) = delete;
  BusError& operator=(const BusError&) = delete;
  ~BusError() { api_.error_free(&e_); }
  sd_bus_error* get() { return &e_; }

  /// `what` plus systemd's message; the errno says which error it was.
  Error to_error(int r, const std::string& what) const {
    std::string name = e_.name ? e_.name : "";
    int code = r < 0 ? -r : EIO;
    if (name == "org.freedesktop.systemd1.NoSuchUnit") code = ENOENT;
    if (name == "org.freedesktop.systemd1.UnitExists") code = EEXIST;
    if (name == "org.freedesktop.DBus.Error.PropertyReadOnly") code = ENOTSUP;  // or unknown
    std::string detail = e_.message ? e_.message : name;
    while (!detail.empty() && detail.back() == '.') detail.pop_back();
    return Error(code, detail.empty() ? what : what + ": " + detail);
  }

private:
  const SdBus& api_;
  sd_bus_error e_{};
};

const char* signature(const UnitProperty::Value& v) {
  static constexpr const char* sigs[] = {"b", "t", "s", "au", "ay"};
  return sigs[v.index()];
}

class DbusUnits final : public UnitControl {
public:
  DbusUnits(const SdBus& api, sd_bus* bus, bool bus_client)
      : api_(api), bus_(bus), bus_client_(bus_client) {}
  DbusUnits(const DbusUnits&) = delete;
  DbusUnits& operator=(const DbusUnits&) = delete;
  ~DbusUnits() override {
    if (slot_) api_.slot_unref(slot_);
    api_.close_unref(bus_);
  }

  /// Subscribes to JobRemoved before any job exists, so none is missed.
  Status watch_jobs() {
    // A direct connection carries no sender names.
    std::string match = "type='signal',path='/org/freedesktop/systemd1',"
                        "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'";
    if (bus_client_) match += ",sender='org.freedesktop.systemd1'";
    int r = api_.add_match(bus_, &slot_, match.c_str(), &DbusUnits::on_job_removed, this);
    if (r < 0) return Error(-r, "subscribe to systemd job signals");
    return ok();
  }

  /// Fails unless systemd answers on this connection.
  Status ping() {
    Message m = BERTH_TRY(method("org.freedesktop.DBus.Peer", "Ping"));
    BERTH_TRY(call(m, "ping systemd"));
    return ok();
  }

  Status start_transient_unit(const std::string& name,
                              const std::vector<UnitProperty>& props) override {
    std::string what = "start unit " + name;
    Message m = BERTH_TRY(method(manager_interface, "StartTransientUnit"));
    int r = api_.append(m.get(), "ss", name.c_str(), "replace");
    if (r >= 0) r = append_properties(m.get(), props);
    if (r >= 0) r = api_.append(m.get(), "a(sa(sv))", 0u);  // no auxiliary units
    if (r < 0) return Error(-r, what + ": build D-Bus message");
    return run_job(m, what);
  }

  Status set_unit_properties(const std::string& name,
                             const std::vector<UnitProperty>& props) override {
    std::string what = "set properties of unit " + name;
    Message m = BERTH_TRY(method(manager_interface, "SetUnitProperties"));
    int r = api_.append(m.get(), "sb", name.c_str(), 1);  // runtime: not persisted
    if (r >= 0) r = append_properties(m.get(), props);
    if (r < 0) return Error(-r, what + ": build D-Bus message");
    BERTH_TRY(call(m, what));
    return ok();
  }

  Status stop_unit(const std::string& name) override {
    std::string what = "stop unit " + name;
    Message m = BERTH_TRY(method(manager_interface, "StopUnit"));
    int r = api_.append(m.get(), "ss", name.c_str(), "replace");
    if (r < 0) return Error(-r, what + ": build D-Bus message");
    return run_job(m, what);
  }

  Status reset_failed_unit(const std::string& name) override {
    std::string what = "reset failed unit " + name;
    Message m = BERTH_TRY(method(manager_interface, "ResetFailedUnit"));
    int r = api_.append(m.get(), "s", name.c_str());
    if (r < 0) return Error(-r, what + ": build D-Bus message");
    BERTH_TRY(call(m, what));
    return ok();
  }

private:
  static int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* self = static_cast<DbusUnits*>(userdata);
    uint32_t id = 0;
    const char *job = nullptr, *unit = nullptr, *result = nullptr;
    if (self->api_.read(m, "uoss", &id, &job, &unit, &result) >= 0 && job && result)
      self->finished_[job] = result;
    return 0;
  }

  Result<Message> method(const char* interface, const char* member) {
    sd_bus_message* m = nullptr;
    int r = api_.new_method_call(bus_, &m, systemd_service, manager_path, interface, member);
    if (r < 0) return Error(-r, std::string("make D-Bus call ") + member);
    return Message(api_, m);
  }

  Result<Message> call(const Message& m, const std::string& what) {
    BusError err(api_);
    sd_bus_message* reply = nullptr;
    int r = api_.call(bus_, m.get(), 0, err.get(), &reply);
    if (r < 0) return err.to_error(r, what);
    return Message(api_, reply);
  }

  // An "a(sv)" array of properties.
  int append_properties(sd_bus_message* m, const std::vector<UnitProperty>& props) {
    int r = api_.open_container(m, 'a', "(sv)");
    for (const auto& p : props) {
      if (r >= 0) r = api_.open_container(m, 'r', "sv");
      if (r >= 0) r = api_.append(m, "s", p.name.c_str());
      if (r >= 0) r = api_.open_container(m, 'v', signature(p.value));
      if (r >= 0) r = append_value(m, p.value);
      if (r >= 0) r = api_.close_container(m);
      if (r >= 0) r = api_.close_container(m);
    }
    if (r >= 0) r = api_.close_container(m);
    return r;
  }

  int append_value(sd_bus_message* m, const UnitProperty::Value& v) {
    if (auto* b = std::get_if<bool>(&v)) return api_.append(m, "b", *b ? 1 : 0);
    if (auto* n = std::get_if<uint64_t>(&v)) return api_.append(m, "t", *n);
    if (auto* s = std::get_if<std::string>(&v)) return api_.append(m, "s", s->c_str());
    if (auto* a = std::get_if<std::vector<uint32_t>>(&v))
      return api_.append_array(m, 'u', a->data(), a->size() * sizeof(uint32_t));
    const auto& bytes = std::get<std::vector<uint8_t>>(v);
    return api_.append_array(m, 'y', bytes.data(), bytes.size());
  }

  // Calls a method that queues a job, then waits for the job to finish.
  Status run_job(const Message& m, const std::string& what) {
    Message reply = BERTH_TRY(call(m, what));
    const char* path = nullptr;
    int r = api_.read(reply.get(), "o", &path);
    if (r < 0 || !path) return Error(r < 0 ? -r : EPROTO, what + ": read the job path");
    return wait_job(path, what);
  }

  Status wait_job(const std::string& job, const std::string& what) {
    auto deadline = std::chrono::steady_clock::now() + job_timeout;
    for (;;) {
      if (auto it = finished_.find(job); it != finished_.end()) {
        std::string result = it->second;
        finished_.erase(it);
        if (result == "done") return ok();
        return Error::msg(what + ": job " + result);
      }
      int r = api_.process(bus_, nullptr);
      if (r < 0) return Error(-r, what + ": read from D-Bus");
      if (r > 0) continue;
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero())
        return Error(ETIMEDOUT, what + ": job " + job + " did not finish in time");
      auto usec = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
      r = api_.wait(bus_, static_cast<uint64_t>(usec));
      if (r < 0 && r != -EINTR) return Error(-r, what + ": wait for D-Bus");
    }
  }

  const SdBus& api_;
  sd_bus* bus_;
  bool bus_client_;
  sd_bus_slot* slot_ = nullptr;
  std::map<std::string, std::string> finished_;  // job path -> result
};

// As root, systemd's private socket, which needs no D-Bus daemon (what
// systemctl uses too); else, or when that fails, the system bus.
Result<std::pair<sd_bus*, bool>> open_bus(const SdBus& api) {
  std::string tried;
  if (::geteuid() == 0 && ::access(private_socket, F_OK) == 0) {
    sd_bus* bus = nullptr;
    int r = api.bus_new(&bus);
    if (r >= 0) r = api.set_address(bus, "unix:path=/run/systemd/private");
    if (r >= 0) r = api.start(bus);
    if (r >= 0) return std::pair{bus, false};
    if (bus) api.close_unref(bus);
    tried = std::string("connect ") + private_socket + ": " + std::strerror(-r) + "; ";
  }
  sd_bus* bus = nullptr;
  int r = api.open_system(&bus);
  if (r < 0) {
    const char* address = ::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    return Error(-r, tried + "connect to the system bus at " +
                         (address ? address : "/run/dbus/system_bus_socket"));
  }
  return std::pair{bus, true};
}

}  // namespace

Result<std::unique_ptr<UnitControl>> connect_systemd() {
  const SdBus* api = BERTH_TRY(load_sd_bus());
  auto [bus, bus_client] = BERTH_TRY(open_bus(*api));
  auto units = std::make_unique<DbusUnits>(*api, bus, bus_client);
  BERTH_TRY(units->watch_jobs());
  BERTH_TRY(units->ping());
  return std::unique_ptr<UnitControl>(std::move(units));
}

}  // namespace berth::cgroups
