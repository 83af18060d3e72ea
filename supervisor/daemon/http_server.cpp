// http_server.cpp — Boost.Beast HTTP/1.1 over the unix socket and, with
// mutual TLS, over TCP; the only translation unit that includes Beast.
#include "http_server.h"

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <grp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <type_traits>

#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/images/reference.h"
#include "berth/images/template.h"
#include "berth/supervisor/access.h"
#include "berth/supervisor/api.h"
#include "berth/supervisor/events.h"
#include "berth/supervisor/operations.h"
#include "berth/supervisor/service.h"
#include "tls_context.h"

namespace berth::supervisor {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using stream = asio::local::stream_protocol;
using tcp = asio::ip::tcp;
using tls_stream = asio::ssl::stream<tcp::socket>;

// A TLS handshake or closing exchange the peer does not finish within this
// ends its connection: a silent peer cannot hold one.
constexpr auto kTlsTimeout = std::chrono::seconds(10);

namespace {

struct Deps {
  asio::io_context& io;
  ApiPools pools;
  Service& svc;
  Operations& ops;
  EventBus& events;
  TrustStore& trust;
  HandOffs handoffs;
  ApiLimits limits;
};

// The verbs that name a container: a project-bound client reaches only
// its projects' (others are "no container", as if they did not exist).
bool names_container(Verb v) {
  switch (v) {
    case Verb::show: case Verb::set: case Verb::destroy: case Verb::start: case Verb::stop: case Verb::restart:
    case Verb::suspend: case Verb::resume: case Verb::exec: case Verb::exec_terminal: case Verb::console:
    case Verb::log: case Verb::snapshots: case Verb::snapshot: case Verb::rollback: case Verb::commit:
    case Verb::export_disk:
      return true;
    default:
      return false;
  }
}

// The project of a container.
std::string project_of(const ContainerStatus& c) {
  return c.record.project.empty() ? std::string(kDefaultProject) : c.record.project;
}

// A privileged container, or one copied from a host directory: its root
// is the node's.
bool host_root(const ContainerStatus& c) { return c.record.privileged || !c.record.rootfs_source.empty(); }

// The names of the containers `who` may see.
std::set<std::string> visible(Service& s, const Identity& who) {
  std::set<std::string> names;
  for (const auto& c : s.list())
    if (who.sees(project_of(c))) names.insert(c.record.name);
  return names;
}

// Every container's record, for a project's limits.
std::vector<Record> records_of(Service& s) {
  std::vector<Record> out;
  for (auto& c : s.list()) out.push_back(std::move(c.record));
  return out;
}

// A verb's container as the API answers it.
Result<json::Value> container_answer(const Result<ContainerStatus>& c) {
  if (!c) return c.error();
  return container_json(*c);
}

// Keeps, of an array of container names, those in `names`.
void keep_names(json::Value& array, const std::set<std::string>& names) {
  json::Value kept = json::Value::array();
  for (auto& n : array.as_array())
    if (n.is_string() && names.count(n.as_string())) kept.push_back(std::move(n));
  array = std::move(kept);
}

// The keys of a set that a project's limits count.
constexpr const char* kCountedByLimits[] = {"ram", "cpus", "cpulimit", "disk"};

bool counted_by_limits(const SetRequest& changes) {
  for (const char* k : kCountedByLimits)
    if (changes.find(k)) return true;
  return false;
}

// The metrics of `names`' containers: comments, and the samples labelled
// with one of them (node-wide samples are left out).
std::string metrics_of(const std::string& text, const std::set<std::string>& names) {
  std::string out;
  for (std::string_view line : split(text, '\n')) {
    bool keep = line.starts_with("#");
    if (size_t at = line.find("{name=\""); !keep && at != std::string_view::npos) {
      size_t from = at + 7, end = line.find('"', from);
      keep = end != std::string_view::npos && names.count(std::string(line.substr(from, end - from)));
    }
    if (keep && !line.empty()) out.append(line).append("\n");
  }
  return out;
}

// Creates in a project with limits, checked and made one at a time so
// that two cannot both take the last room.
std::mutex g_limited_creates;

// A template request refused before its operation starts (and debootstrap
// runs): the kind, the tag, and a Debian build's suite, mirror, packages.
Status check_template(const TemplateRequest& t) {
  if (t.kind != "busybox" && t.kind != "debian")
    return Error::msg("template: expected busybox or debian, got \"" + t.kind + "\"");
  if (auto ref = images::parse_reference(t.tag); !ref) return ref.error().wrap("tag");
  if (t.kind == "busybox") return ok();
  images::DebianTemplate d;
  d.packages = t.packages;
  if (!t.suite.empty()) d.suite = t.suite;
  if (!t.mirror.empty()) d.mirror = t.mirror;
  return images::check_debian_template(d);
}

// Connections open on both listeners (the loop's thread only).
size_t g_open = 0;
bool g_refusing = false;
// Non-terminal execs running per client (the loop's thread only).
std::map<std::string, size_t> g_execs;

// What one TCP client (a certificate's name) holds and may still ask:
// its open connections and a bucket of requests (the loop's thread only).
struct ClientLoad {
  size_t connections = 0;
  double tokens = -1;  // -1: full at the first request
  std::chrono::steady_clock::time_point last;
};
std::map<std::string, ClientLoad> g_tcp_clients;

// One client's connection: requests read and answered one after another.
// `Sock` is the unix socket or the TLS stream over TCP; `by` says who asks
// (the peer's uid, or the client certificate's name) and goes into each
// operation and its event.
template <class Sock>
class Session : public std::enable_shared_from_this<Session<Sock>> {
public:
  using std::enable_shared_from_this<Session>::shared_from_this;

  static constexpr bool kTcp = std::is_same_v<Sock, tls_stream>;

  // `who`: the unix peer (its role known), or the TLS client whose role is
  // looked up at each request from `cert` (a trust change applies at once).
  Session(Sock s, Deps& d, Identity who, std::optional<CertSubject> cert = std::nullopt)
      : sock_(std::move(s)), d_(d), idle_(d.io), who_(std::move(who)), cert_(std::move(cert)), by_(who_.name) {
    ++g_open;
    // One connection past the client's limit is refused at its first
    // request; the ones it already has go on.
    if constexpr (kTcp) over_ = ++g_tcp_clients[by_].connections > d_.limits.tcp_connections_per_client;
  }
  ~Session() {
    --g_open;
    if constexpr (kTcp)
      if (auto it = g_tcp_clients.find(by_); it != g_tcp_clients.end() && --it->second.connections == 0)
        g_tcp_clients.erase(it);
  }

  void read() {
    // A client that sends no request in time loses the connection.
    close_when_idle();
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    http::async_read(sock_, buf_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_read(ec);
    });
  }

private:
  // A TCP client within its connections and request rate goes on; past
  // either it gets 429 (and, for the rate, how many seconds to wait).
  bool admit() {
    ClientLoad& c = g_tcp_clients[by_];
    if (over_) {
      respond(429, error_body(Error(EAGAIN, by_ + " has " + std::to_string(d_.limits.tcp_connections_per_client) +
                                                " connections open, the most one client may")),
              false);
      return false;
    }
    double rate = static_cast<double>(d_.limits.tcp_requests_per_second), burst = 2 * rate;
    auto now = std::chrono::steady_clock::now();
    c.tokens = c.tokens < 0 ? burst : std::min(burst, c.tokens + rate * std::chrono::duration<double>(now - c.last).count());
    c.last = now;
    if (c.tokens >= 1) {
      c.tokens -= 1;
      return true;
    }
    retry_after_ = static_cast<int>(std::ceil((1 - c.tokens) / rate));
    respond(429, error_body(Error(EAGAIN, by_ + " asks more than " + std::to_string(d_.limits.tcp_requests_per_second) +
                                              " requests a second")));
    return false;
  }

  // Closes the connection once the idle time passes, unless idle_ is
  // cancelled or set again first.
  void close_when_idle() {
    idle_.expires_after(d_.limits.idle);
    idle_.async_wait([weak = std::weak_ptr<Session>(shared_from_this())](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      beast::error_code ignored;
      beast::get_lowest_layer(self->sock_).close(ignored);
    });
  }

  void on_read(beast::error_code ec) {
    idle_.cancel();
    if (ec == http::error::body_limit) return respond(413, error_body(Error::msg("body: too large")), false);
    if (ec == http::error::header_limit) return respond(431, error_body(Error::msg("headers: too large")), false);
    if (ec && ec != http::error::end_of_stream && ec.category() == http::make_error_code(http::error::bad_target).category())
      return respond(400, error_body(Error::msg("request: malformed (" + ec.message() + ")")), false);
    if (ec) return;  // closed: drop the connection
    req_ = parser_->release();
    keep_alive_ = req_.keep_alive();
    if constexpr (kTcp)
      if (!admit()) return;
    auto r = decode_request(std::string_view(req_.method_string().data(), req_.method_string().size()),
                            std::string_view(req_.target().data(), req_.target().size()), req_.body());
    if (!r) return respond(r.error().code(), error_body(r.error()));
    if (cert_) {
      auto who = certificate_identity(*cert_, d_.trust);
      if (!who) {
        audit(*r, who.error());
        return respond(403, error_body(who.error()));
      }
      who_ = std::move(*who);
    }
    if (auto st = authorize(who_, *r); !st) {
      audit(*r, st.error());
      return respond(403, error_body(st.error()));
    }
    // A node's export: only of a container this node is handing to it.
    if (who_.role == Role::node && r->verb == Verb::export_disk) {
      auto to = d_.handoffs ? d_.handoffs(r->args[0]) : std::nullopt;
      if (!to || "tls:" + *to != who_.name) {
        Error e(kForbidden, who_.name + " (node) may not export " + r->args[0] + ": it is not being migrated to " +
                               who_.name.substr(4) + (to ? " (it goes to " + *to + ")" : ""));
        audit(*r, e);
        return respond(403, error_body(e));
      }
    }
    std::string tag = who_.role == Role::admin ? "" : written_tag(*r);
    // A non-admin reads a privileged or host-directory container, but never
    // acts in it: root there is root on the node.
    bool reads_only = r->verb == Verb::show || r->verb == Verb::log || r->verb == Verb::snapshots;
    bool bound = names_container(r->verb) && (!who_.projects.empty() || (who_.role != Role::admin && !reads_only));
    if (!bound && tag.empty()) {
      if (is_mutation(r->verb)) audit(*r, ok());
      return dispatch(std::move(*r));
    }
    // A project-bound client: the container must be in one of its
    // projects. A non-admin: the tag it writes must be new (an image the
    // node has, a template other tenants create from, is an admin's to
    // replace).
    asio::post(d_.pools.reads, [self = shared_from_this(), r = std::move(*r), bound, tag, reads_only]() mutable {
      Status st = ok();
      if (bound) {
        auto c = self->d_.svc.show(r.name);
        if (!c) st = c.error();
        else if (!self->who_.sees(project_of(*c))) st = Error(ENOENT, "no container " + r.name);
        else if (self->who_.role != Role::admin && !reads_only && host_root(*c))
          st = Error(kForbidden, self->who_.name + " (" + role_name(self->who_.role) + ") may not " + verb_name(r.verb) +
                                     " container " + r.name + ": it is privileged or a host directory's, an admin's");
      }
      if (st && !tag.empty() && self->d_.svc.inspect_image(tag))
        st = Error(kForbidden, self->who_.name + " (" + role_name(self->who_.role) + ") may not replace image " + tag +
                                   ": it exists, and only an admin may replace an image");
      asio::post(self->d_.io, [self, st, r = std::move(r)]() mutable {
        if (is_mutation(r.verb) || (!st && st.error().code() == kForbidden)) self->audit(r, st);
        if (!st) return self->respond(status_for(st.error()), error_body(st.error()));
        self->dispatch(std::move(r));
      });
    });
  }



  // An "audit" event: who asked what, and whether it was allowed.
  void audit(const Request& r, const Status& st) {
    json::Value e = who_.audit();
    if (cert_ && who_.fingerprint.empty()) e.set("fingerprint", cert_->fingerprint);
    e.set("action", verb_name(r.verb));
    e.set("allowed", st.ok());
    if (!st) e.set("error", describe(st.error()));
    std::string target = r.name;
    if (r.verb == Verb::create)
      if (const json::Value* n = r.body.find("name"); n && n->is_string()) target = n->as_string();
    d_.events.publish("audit", target, std::move(e));
  }

  // Runs fn() on the reads' pool and writes its result back from the loop.
  void blocking(std::function<Result<json::Value>()> fn) {
    asio::post(d_.pools.reads, [self = shared_from_this(), fn = std::move(fn)] {
      auto res = fn();
      asio::post(self->d_.io, [self, res = std::move(res)] {
        if (res) self->respond(200, json::dump(*res) + "\n");
        else self->respond(status_for(res.error()), error_body(res.error()));
      });
    });
  }

  // Checks the request on the reads' pool, answers 202 with a new
  // operation, then runs the work on `on` (the operations' pool unless
  // given). `id_out`, when given, receives the operation's id before the
  // work runs; `cancel`, when given, makes the operation cancellable (the
  // work polls it); `release`, when given, runs on the loop once the
  // request is done with, refused or finished.
  void operation(const std::string& target, std::function<Status()> check, std::function<Result<json::Value>()> work,
                 const char* action, const std::shared_ptr<std::string>& id_out = nullptr, CancelFlag cancel = nullptr,
                 asio::thread_pool* on = nullptr, std::function<void()> release = nullptr) {
    asio::post(d_.pools.reads, [self = shared_from_this(), target, check = std::move(check), work = std::move(work),
                                action, id_out, cancel, on, release] {
      auto st = check();
      if (!st) {
        asio::post(self->d_.io, [self, st, release] {
          if (release) release();
          self->respond(status_for(st.error()), error_body(st.error()));
        });
        return;
      }
      std::string id = self->d_.ops.begin(action, target, self->by_, self->who_.fingerprint);
      if (cancel) self->d_.ops.cancellable(id, cancel);
      self->d_.events.publish("operation", target,
                              json::Value(json::Object{{"id", id}, {"action", action}, {"by", self->by_}}));
      auto doc = self->d_.ops.get(id);
      asio::post(self->d_.io, [self, id, doc] { self->respond(202, json::dump(*doc) + "\n", true, "/v1/operations/" + id); });
      if (id_out) *id_out = id;
      asio::post(on ? *on : self->d_.pools.work, [self, id, work, release] {
        self->d_.ops.finish(id, work());
        if (release) asio::post(self->d_.io, release);
      });
    });
  }

  // A non-terminal exec: an operation on the execs' pool, at most
  // `execs_per_client` of one client's (a uid, whatever its processes; a
  // certificate's name) at once.
  void exec(const std::string& n, const std::vector<std::string>& args, std::optional<int> timeout) {
    std::string client = by_.substr(0, by_.find(" pid "));
    size_t& running = g_execs[client];
    if (running >= d_.limits.execs_per_client)
      return respond(429, error_body(Error(EAGAIN, "exec: " + std::to_string(running) + " execs of " + client +
                                                       " are running, the most one client may run at once")));
    ++running;
    Service& s = d_.svc;
    auto exists = [&s, n]() -> Status { return s.show(n).ok() ? ok() : Status(Error(ENOENT, "no container " + n)); };
    operation(n, exists, [&s, n, args, timeout] { return s.exec(n, args, timeout); }, "exec", nullptr, nullptr,
              &d_.pools.execs, [client] {
                if (auto it = g_execs.find(client); it != g_execs.end() && --it->second == 0) g_execs.erase(it);
              });
  }

  void dispatch(Request r) {
    Service& s = d_.svc;
    std::string n = r.name;
    switch (r.verb) {
      case Verb::ping:
        return respond(200, "{\"api\":\"v1\",\"server\":\"berthd\"}\n");
      case Verb::metrics:
        asio::post(d_.pools.reads, [self = shared_from_this()] {
          std::string text = self->d_.svc.metrics();
          if (!self->who_.projects.empty()) text = metrics_of(text, visible(self->d_.svc, self->who_));
          asio::post(self->d_.io, [self, text] { self->respond(200, text, true, "", "text/plain; version=0.0.4"); });
        });
        return;
      case Verb::list:
        return blocking([&s, who = who_] {
          std::vector<ContainerStatus> mine = s.list();
          if (!who.projects.empty())
            std::erase_if(mine, [&](const ContainerStatus& c) { return !who.sees(project_of(c)); });
          return Result<json::Value>(containers_json(mine));
        });
      case Verb::trust_list: return blocking([&t = d_.trust] { return Result<json::Value>(t.list()); });
      case Verb::trust_add: return blocking([&t = d_.trust, body = r.body] { return trust_add(t, body); });
      case Verb::trust_remove:
        return blocking([&t = d_.trust, n]() -> Result<json::Value> { return trust_entry_json(BERTH_TRY(t.remove(n))); });
      case Verb::projects: return blocking([&s, &t = d_.trust, who = who_] { return projects(s, t, who); });
      case Verb::project_set:
        return blocking([&t = d_.trust, n, body = r.body]() -> Result<json::Value> {
          BERTH_TRY(validate_project(n, "project"));
          ProjectLimits l = t.limits(n);
          BERTH_TRY(apply_project_limits(l, body));
          BERTH_TRY(t.set_limits(n, l));
          json::Value all = t.projects();
          return *all.find(n);
        });
      case Verb::show: return blocking([&s, n] { return container_answer(s.show(n)); });
      case Verb::snapshots: return blocking([&s, n] { return s.snapshots(n); });
      case Verb::images:
        return blocking([&s, who = who_]() -> Result<json::Value> {
          std::vector<ImageSummary> mine = BERTH_TRY(s.images());
          if (!who.projects.empty()) {
            // The node's and its projects'.
            std::erase_if(mine, [&](const ImageSummary& i) {
              std::string p = i.tag.empty() ? "" : image_project(i.tag);
              return !p.empty() && !who.sees(p);
            });
          }
          return images_json(mine);
        });
      case Verb::networks:
        return blocking([&s, who = who_]() -> Result<json::Value> {
          json::Value all = BERTH_TRY(s.networks());
          if (who.projects.empty()) return all;
          // The networks are the node's; the containers on them, only its own.
          std::set<std::string> mine = visible(s, who);
          for (auto& n : all.as_array())
            if (json::Value* on = n.find("containers"); on && on->is_array()) keep_names(*on, mine);
          return all;
        });
      case Verb::network_create: return blocking([&s, body = r.body] { return s.create_network(body); });
      case Verb::network_remove: return blocking([&s, n] { return s.remove_network(n); });
      case Verb::build_template: {
        TemplateRequest t;
        t.kind = r.args[0];
        t.tag = r.args[1];
        t.packages.assign(r.args.begin() + 2, r.args.end());
        if (const json::Value* v = r.body.find("suite")) t.suite = v->as_string();
        if (const json::Value* v = r.body.find("mirror")) t.mirror = v->as_string();
        std::string tag = t.tag;
        return operation(tag, [t] { return check_template(t); }, [&s, t] { return s.build_template(t); },
                         "build-template");
      }
      case Verb::image_pull: case Verb::image_push: return image_transfer(r);
      case Verb::image_prune:
        return operation("", [] { return ok(); }, [&s] { return s.prune_images(); }, "image-prune");
      case Verb::image_inspect:
        return blocking([&s, n, who = who_]() -> Result<json::Value> {
          json::Value i = BERTH_TRY(s.inspect_image(n));
          json::Value* users = i.find("used_by");
          if (who.projects.empty() || !users || !users->is_array()) return i;
          keep_names(*users, visible(s, who));
          return i;
        });
      case Verb::image_remove: return blocking([&s, n] { return s.remove_image(n); });
      case Verb::operations: {
        json::Value all = d_.ops.list();
        if (who_.projects.empty()) return respond(200, json::dump(all) + "\n");
        json::Value mine = json::Value::array();
        for (auto& op : all.as_array())
          if (asked_by_me(op)) mine.push_back(std::move(op));
        return respond(200, json::dump(mine) + "\n");
      }
      case Verb::operation: {
        auto doc = d_.ops.get(n);
        if (!doc || !asked_by_me(*doc)) return respond(404, error_body(Error(ENOENT, "no operation " + n)));
        return respond(200, json::dump(*doc) + "\n");
      }
      case Verb::operation_wait:
        if (auto doc = d_.ops.get(n); doc && !asked_by_me(*doc)) return respond(404, error_body(Error(ENOENT, "no operation " + n)));
        return wait_operation(n, r.timeout);
      case Verb::operation_cancel: {
        if (auto doc = d_.ops.get(n); doc && !asked_by_me(*doc)) return respond(404, error_body(Error(ENOENT, "no operation " + n)));
        auto st = d_.ops.cancel(n, by_);
        if (!st) return respond(status_for(st.error()), error_body(st.error()));
        d_.events.publish("operation-cancel", n, json::Value(json::Object{{"id", n}, {"by", by_}}));
        return respond(202, json::dump(*d_.ops.get(n)) + "\n");
      }
      case Verb::events: return stream_events(r.args);
      case Verb::log:
        asio::post(d_.pools.reads, [self = shared_from_this(), n] {
          auto text = self->d_.svc.console_log(n);
          asio::post(self->d_.io, [self, text] {
            if (text) self->respond(200, *text, true, "", "text/plain; charset=utf-8");
            else self->respond(status_for(text.error()), error_body(text.error()));
          });
        });
        return;
      case Verb::console:
      case Verb::exec_terminal: {
        // Both stream through the container's monitor: the console, or a
        // command on a pty whose frames the monitor reads and writes.
        json::Value req = r.body;
        bool exec = r.verb == Verb::exec_terminal;
        if (exec)
          d_.events.publish("exec", n, json::Value(json::Object{{"args", req.find("args") ? *req.find("args") : json::Value()},
                                                                {"terminal", true}, {"by", by_}}));
        asio::post(d_.pools.reads, [self = shared_from_this(), n, req, exec] {
          auto fd = exec ? self->d_.svc.exec_terminal(n, req) : self->d_.svc.console(n);
          if (!fd) {
            const Error& e = fd.error();
            asio::post(self->d_.io, [self, e] { self->respond(status_for(e), error_body(e)); });
            return;
          }
          int raw = fd->release();
          asio::post(self->d_.io, [self, raw, exec] { self->relay(raw, exec ? "berth-exec" : "berth-console"); });
        });
        return;
      }
      case Verb::export_disk: {
        std::string cluster = r.args.empty() ? "" : r.args[0];
        d_.events.publish("export", n, json::Value(json::Object{{"by", by_}}));
        asio::post(d_.pools.work, [self = shared_from_this(), n, cluster] {
          auto x = std::make_shared<Result<DiskExport>>(self->d_.svc.export_disk(n, cluster));
          asio::post(self->d_.io, [self, x] {
            if (!*x) return self->respond(status_for(x->error()), error_body(x->error()));
            self->send_export(std::make_shared<DiskExport>(std::move(**x)));
          });
        });
        return;
      }
      case Verb::create: {
        auto rec = std::make_shared<Record>();
        json::Value body = r.body;
        auto project = project_for_create(who_, body);
        if (!project) return respond(status_for(project.error()), error_body(project.error()));
        body.set("project", *project);
        const json::Value* name = body.find("name");
        std::string target = name && name->is_string() ? name->as_string() : "";
        TrustStore& t = d_.trust;
        return operation(
            target,
            [&s, &t, rec, body]() -> Status {
              CreateRequest req = BERTH_TRY(decode_create_request(body));
              *rec = BERTH_TRY(s.check_create(req));
              ProjectLimits l = t.limits(rec->project);
              return l.none() ? ok() : check_project_limits(*rec, l, records_of(s));
            },
            [&s, &t, rec]() -> Result<json::Value> {
              ProjectLimits l = t.limits(rec->project);
              if (l.none()) return container_answer(s.create(*rec));
              std::lock_guard lock(g_limited_creates);
              BERTH_TRY(check_project_limits(*rec, l, records_of(s)));
              return container_answer(s.create(*rec));
            },
            "create");
      }
      case Verb::exec: return exec(n, r.args, r.timeout);
      case Verb::stop_all: {
        bool force = r.force;
        auto timeout = r.timeout;
        auto work = [&s, force, timeout]() -> Result<json::Value> {
          std::vector<std::string> names = BERTH_TRY(s.stop_all(force, timeout));
          json::Value stopped = json::Value::array();
          for (auto& name : names) stopped.push_back(std::move(name));
          // A failure is the operation's error, naming each that failed.
          return json::Value(json::Object{{"stopped", std::move(stopped)}, {"failed", json::Value::array()}});
        };
        return operation(
            "", [] { return ok(); }, work, "stop-all");
      }
      case Verb::autostart:
        return operation(
            "", [] { return ok(); }, [&s] { return Result<json::Value>(containers_json(s.start_autostart())); },
            "autostart");
      case Verb::set: {
        auto changes = std::make_shared<SetRequest>();
        json::Value body = r.body;
        TrustStore& t = d_.trust;
        return operation(
            n,
            [&s, &t, n, body, changes]() -> Status {
              *changes = BERTH_TRY(decode_set_request(body));
              BERTH_TRY(s.check_set(n, *changes));
              return check_set_limits(s, t, n, *changes);
            },
            [&s, &t, n, changes]() -> Result<json::Value> {
              if (!counted_by_limits(*changes)) return set_result_json(BERTH_TRY(s.set(n, *changes)));
              // Checked again with the project's other changes held off.
              std::lock_guard lock(g_limited_creates);
              BERTH_TRY(check_set_limits(s, t, n, *changes));
              return set_result_json(BERTH_TRY(s.set(n, *changes)));
            },
            "set");
      }
      default: break;
    }
    auto exists = [&s, n]() -> Status { return s.show(n).ok() ? ok() : Status(Error(ENOENT, "no container " + n)); };
    std::function<Result<json::Value>()> work;
    bool force = r.force;
    auto timeout = r.timeout;
    auto args = r.args;
    switch (r.verb) {
      case Verb::start: work = [&s, n] { return container_answer(s.start(n)); }; break;
      case Verb::stop: work = [&s, n, force, timeout] { return container_answer(s.stop(n, force, timeout)); }; break;
      case Verb::restart: work = [&s, n] { return container_answer(s.restart(n)); }; break;
      case Verb::suspend: work = [&s, n] { return container_answer(s.suspend(n)); }; break;
      case Verb::resume: work = [&s, n] { return container_answer(s.resume(n)); }; break;
      case Verb::destroy:
        work = [&s, n]() -> Result<json::Value> {
          BERTH_TRY(s.destroy(n));
          return json::Value(json::Object{{"name", n}});
        };
        break;
      case Verb::snapshot: work = [&s, n, args] { return s.snapshot(n, args[0]); }; break;
      case Verb::rollback: work = [&s, n, args] { return s.rollback(n, args[0]); }; break;
      case Verb::commit: work = [&s, n, args] { return s.commit(n, args[0]); }; break;
      default: return respond(500, error_body(Error::msg("unhandled request")));
    }
    if (r.verb == Verb::snapshot || r.verb == Verb::rollback || r.verb == Verb::commit) {
      // Only a template's container has a disk: refused before it starts.
      auto has_disk = [&s, n]() -> Status {
        auto c = s.show(n);
        if (!c) return Error(ENOENT, "no container " + n);
        if (!c->record.template_tag.empty()) return ok();
        return Error::msg("container " + n + " has a copied root (--rootfs), not a disk: no snapshots, commit or quota");
      };
      return operation(n, has_disk, std::move(work), verb_name(r.verb));
    }
    operation(n, exists, std::move(work), verb_name(r.verb));
  }

  // An operation this client may see: any, unless it is bound to
  // projects; then the ones it asked for.
  bool asked_by_me(const json::Value& op) const {
    if (who_.projects.empty()) return true;
    // A certificate's by its fingerprint: two may share a CN.
    const json::Value* by = op.find(who_.fingerprint.empty() ? "by" : "fingerprint");
    return by && by->is_string() && by->as_string() == (who_.fingerprint.empty() ? who_.name : who_.fingerprint);
  }

  // A trust entry from its request: the certificate's fingerprint and
  // name, or a fingerprint given alone.
  static Result<json::Value> trust_add(TrustStore& t, const json::Value& body) {
    TrustEntry e = BERTH_TRY(decode_trust_entry(body));
    if (const json::Value* pem = body.find("certificate")) {
      CertSubject c = BERTH_TRY(pem_certificate(pem->as_string()));
      if (!e.fingerprint.empty() && e.fingerprint != c.fingerprint)
        return Error::msg("fingerprint: " + e.fingerprint + " is not the certificate's (" + c.fingerprint + ")");
      e.fingerprint = c.fingerprint;
      if (e.name.empty()) e.name = c.cn;
    }
    if (e.fingerprint.empty()) return Error::msg("certificate: missing (or give its fingerprint)");
    BERTH_TRY(t.add(e));
    return trust_entry_json(e);
  }

  // The projects that have limits or containers, each with its limits
  // and what its containers use; a bound client sees its own.
  static Result<json::Value> projects(Service& s, TrustStore& t, const Identity& who) {
    json::Value limits = t.projects();
    std::map<std::string, size_t> count;
    for (const auto& c : s.list()) ++count[project_of(c)];
    for (const auto& [name, _] : limits.as_object()) count.emplace(name, 0);
    json::Value out = json::Value::array();
    for (const auto& [name, n] : count) {
      if (!who.sees(name)) continue;
      const json::Value* l = limits.find(name);
      out.push_back(json::Value(json::Object{{"name", name}, {"containers", static_cast<uint64_t>(n)},
                                             {"limits", l ? *l : json::Value::object()}}));
    }
    return out;
  }

  // A set that changes what a limited project counts (ram, cpus, disk)
  // must still fit in the project.
  static Status check_set_limits(Service& s, TrustStore& t, const std::string& n, const SetRequest& changes) {
    if (!counted_by_limits(changes)) return ok();
    Record r = BERTH_TRY(s.show(n)).record;
    ProjectLimits l = t.limits(r.project);
    if (!l.ram && !l.disk && !l.cpus) return ok();  // a set leaves the count as it is
    for (const char* k : kCountedByLimits)
      if (const FieldChange* f = changes.find(k)) BERTH_TRY(apply_field(r, *f, ""));
    return check_project_limits(r, l, records_of(s));
  }

  // A pull or push: an operation whose progress goes into its document and,
  // for each blob's change of state, an "operation-progress" event.
  void image_transfer(const Request& r) {
    Service& s = d_.svc;
    bool push = r.verb == Verb::image_push;
    json::Value body = r.body;
    auto id = std::make_shared<std::string>();
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    ProgressReport report = [ops = &d_.ops, events = &d_.events, id, target = r.name](const json::Value& progress,
                                                                                       const json::Value& change) {
      ops->progress(*id, progress);
      if (!change.is_null())
        events->publish("operation-progress", target, json::Value(json::Object{{"id", *id}, {"change", change}}));
    };
    operation(
        r.name, [&s, body, push] { return s.check_image_transfer(body, push); },
        [&s, body, push, report, cancel] {
          return push ? s.push_image(body, report, cancel) : s.pull_image(body, report, cancel);
        },
        verb_name(r.verb), id, cancel);
  }

  void wait_operation(const std::string& id, std::optional<int> timeout) {
    auto done = std::make_shared<bool>(false);
    auto self = shared_from_this();
    auto st = d_.ops.wait(id, [self, done](const json::Value& doc) {
      asio::post(self->d_.io, [self, done, doc] {
        if (std::exchange(*done, true)) return;
        self->timer_.reset();
        self->respond(200, json::dump(doc) + "\n");
      });
    });
    if (!st) return respond(404, error_body(st.error()));
    if (!timeout) return;
    timer_ = std::make_unique<asio::steady_timer>(d_.io, std::chrono::seconds(*timeout));
    timer_->async_wait([self, done, id](beast::error_code ec) {
      if (ec || std::exchange(*done, true)) return;
      auto doc = self->d_.ops.get(id);
      self->respond(200, json::dump(*doc) + "\n");
    });
  }

  // Answers with a stream of JSON lines, one per event (of `types`, when
  // given), until the client hangs up.
  void stream_events(const std::vector<std::string>& types) {
    auto self = shared_from_this();
    queue("HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n");
    sub_ = d_.events.subscribe([weak = std::weak_ptr<Session>(self), types, who = who_](
                                   const std::string& type, const std::string& project, const std::string& line) {
      if (!types.empty() && std::find(types.begin(), types.end(), type) == types.end()) return;
      // A project-bound client hears of its projects' containers only.
      if (!who.projects.empty() && (project.empty() || !who.sees(project))) return;
      if (auto s = weak.lock()) asio::post(s->d_.io, [s, line] { s->queue_event(line); });
    });
    auto byte = std::make_shared<char>();
    sock_.async_read_some(asio::buffer(byte.get(), 1), [self, byte](beast::error_code, size_t) {
      self->d_.events.unsubscribe(self->sub_);
      beast::error_code ignored;
      beast::get_lowest_layer(self->sock_).close(ignored);
    });
  }

  // Answers with a packed disk: the head (its size and what it was made
  // from), then the file, block by block, and the connection closes.
  void send_export(std::shared_ptr<DiskExport> x) {
    std::string layers;
    for (const auto& l : x->layers) layers += (layers.empty() ? "" : ",") + l;
    auto head = std::make_shared<std::string>(
        "HTTP/1.1 200 OK\r\nServer: berthd\r\nContent-Type: application/gzip\r\nContent-Length: " +
        std::to_string(x->size) + "\r\nBerth-Image: " + x->image + "\r\nBerth-Layers: " + layers +
        "\r\nBerth-Diff-Id: " + x->diff_id + "\r\nConnection: close\r\n\r\n");
    asio::async_write(sock_, asio::buffer(*head), [self = shared_from_this(), head, x](beast::error_code ec, size_t) {
      if (!ec) self->send_block(x, std::make_shared<std::array<char, 65536>>());
    });
  }

  void send_block(std::shared_ptr<DiskExport> x, std::shared_ptr<std::array<char, 65536>> buf) {
    ssize_t n;
    do n = ::read(x->file.get(), buf->data(), buf->size());
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
      if (n < 0) log::warn("berthd: export: read the packed disk: " + std::string(std::strerror(errno)));
      return end_output();  // short of Content-Length after an error: the client sees it
    }
    asio::async_write(sock_, asio::buffer(buf->data(), static_cast<size_t>(n)),
                      [self = shared_from_this(), x, buf](beast::error_code ec, size_t) {
                        if (!ec) self->send_block(x, buf);
                      });
  }

  // After "101 Switching Protocols" the connection carries the console:
  // bytes both ways between the client and the monitor until either ends.
  void relay(int monitor_fd, const std::string& protocol) {
    auto mon = std::make_shared<stream::socket>(d_.io);
    mon->assign(stream(), monitor_fd);
    std::string head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + protocol + "\r\n\r\n";
    auto early = std::make_shared<std::string>(beast::buffers_to_string(buf_.data()));  // typed ahead
    auto self = shared_from_this();
    asio::async_write(sock_, asio::buffer(head.data(), head.size()),
                      [self, mon, early, keep = std::make_shared<std::string>(head)](beast::error_code ec, size_t) {
                        if (ec) return;
                        asio::async_write(*mon, asio::buffer(*early), [self, mon, early](beast::error_code ec2, size_t) {
                          if (ec2) return;
                          pump(self, self->sock_, *mon, mon);
                          pump(self, *mon, self->sock_, mon);
                        });
                      });
  }

  template <class From, class To>
  static void pump(std::shared_ptr<Session> self, From& from, To& to, std::shared_ptr<stream::socket> mon) {
    auto buf = std::make_shared<std::array<char, 8192>>();
    from.async_read_some(asio::buffer(*buf), [self, &from, &to, mon, buf](beast::error_code ec, size_t n) {
      if (ec) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->sock_).close(ignored);
        mon->close(ignored);
        return;
      }
      asio::async_write(to, asio::buffer(buf->data(), n), [self, &from, &to, mon, buf](beast::error_code ec2, size_t) {
        if (!ec2) pump(self, from, to, mon);
      });
    });
  }

  void queue(std::string data) {
    queued_ += data.size();
    out_.push_back(std::move(data));
    if (out_.size() == 1) write_next();
  }

  // An event for the stream, unless the client reads too slowly: past the
  // backlog's bound the queue is emptied (but for the line being written),
  // one last line says why, and the connection ends once it is out, or
  // after the idle time if the client reads nothing at all.
  void queue_event(std::string line) {
    if (dropped_) return;
    if (queued_ + line.size() <= d_.limits.event_backlog) return queue(std::move(line));
    dropped_ = true;
    d_.events.unsubscribe(sub_);
    log::warn("berthd: events: " + by_ + " reads too slowly (" + std::to_string(queued_) +
              " bytes waiting): its stream ends");
    while (out_.size() > 1) {
      queued_ -= out_.back().size();
      out_.pop_back();
    }
    queue(json::dump(json::Value(json::Object{
              {"type", "dropped"},
              {"reason", "the client read too slowly: " + std::to_string(d_.limits.event_backlog) +
                             " bytes of events were waiting; reconnect and resume from berth status"}})) +
          "\n");
    close_when_idle();
  }

  void write_next() {
    asio::async_write(sock_, asio::buffer(out_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->queued_ -= self->out_.front().size();
      self->out_.pop_front();
      if (!ec && !self->out_.empty()) return self->write_next();
      if (self->dropped_ && self->out_.empty()) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->sock_).close(ignored);
      }
    });
  }

  void respond(int status, std::string body, bool keep = true, const std::string& location = "",
               const char* type = "application/json") {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    res->set(http::field::server, "berthd");
    res->set(http::field::content_type, type);
    if (!location.empty()) res->set(http::field::location, location);
    if (retry_after_ > 0) res->set(http::field::retry_after, std::to_string(std::exchange(retry_after_, 0)));
    res->keep_alive(keep && keep_alive_);
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(sock_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !res->keep_alive()) return self->end_output();
      self->read();
    });
  }

  // The last answer is out: the client reads to the end of the stream.
  void end_output() {
    beast::error_code ignored;
    if constexpr (std::is_same_v<Sock, tls_stream>) {
      // close_notify, then the TCP connection, also when the peer never answers it.
      auto self = shared_from_this();
      timer_ = std::make_unique<asio::steady_timer>(d_.io, kTlsTimeout);
      timer_->async_wait([self](beast::error_code ec) {
        beast::error_code ignored2;
        if (!ec) beast::get_lowest_layer(self->sock_).close(ignored2);
      });
      sock_.async_shutdown([self](beast::error_code) {
        beast::error_code ignored2;
        beast::get_lowest_layer(self->sock_).close(ignored2);
        self->timer_.reset();
      });
    } else {
      sock_.shutdown(stream::socket::shutdown_send, ignored);
    }
  }

  Sock sock_;
  Deps& d_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> req_;
  bool keep_alive_ = true;
  std::unique_ptr<asio::steady_timer> timer_;
  asio::steady_timer idle_;
  std::deque<std::string> out_;
  int retry_after_ = 0;   // seconds, for the next answer (a 429)
  bool over_ = false;     // a TCP connection past its client's limit
  size_t queued_ = 0;     // bytes in out_
  bool dropped_ = false;  // the event stream ended for a slow reader
  int sub_ = 0;
  Identity who_;
  std::optional<CertSubject> cert_;  // a TLS client's certificate
  std::string by_;                   // who_.name
};

// Accepts connections for as long as the loop runs and hands each to
// `start` (the unix socket's and the TCP port's sessions differ there).
template <class Protocol>
class Listener : public std::enable_shared_from_this<Listener<Protocol>> {
public:
  using Start = std::function<void(Deps&, typename Protocol::socket)>;
  using std::enable_shared_from_this<Listener>::shared_from_this;
  Listener(Deps d, typename Protocol::acceptor acc, Start start)
      : d_(std::move(d)), acc_(std::move(acc)), start_(std::move(start)) {}
  void accept() {
    acc_.async_accept([self = shared_from_this()](beast::error_code ec, typename Protocol::socket s) {
      if (!ec && g_open >= self->d_.limits.max_connections) {
        if (!std::exchange(g_refusing, true))
          log::warn("berthd: " + std::to_string(g_open) + " connections open: refusing new ones until some close");
        beast::error_code ignored;
        s.close(ignored);
      } else if (!ec) {
        g_refusing = false;
        self->start_(self->d_, std::move(s));
      }
      self->accept();
    });
  }

private:
  Deps d_;
  typename Protocol::acceptor acc_;
  Start start_;
};

// A group's id, or -1 when the group does not exist.
long group_id(const char* name) {
  group g{}, *found = nullptr;
  std::vector<char> buf(16384);
  if (::getgrnam_r(name, &g, buf.data(), buf.size(), &found) != 0 || !found) return -1;
  return static_cast<long>(found->gr_gid);
}

// Who asks on the unix socket: the peer's uid and pid, and its role from
// its uid and groups (as they were when it connected).
Identity peer_identity(stream::socket& s) {
  Identity id;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return id;  // viewer, unnamed
  id.name = "uid " + std::to_string(cred.uid) + " pid " + std::to_string(cred.pid);
  if (cred.uid == 0) {
    id.role = Role::admin;  // the node's root: no groups to look up
    return id;
  }
  std::vector<uint32_t> gids{cred.gid};
  std::vector<gid_t> groups(64);
  socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  int rc = ::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen);
  if (rc < 0 && errno == ERANGE) {
    groups.resize(glen / sizeof(gid_t));
    rc = ::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen);
  }
  if (rc == 0) gids.insert(gids.end(), groups.begin(), groups.begin() + glen / sizeof(gid_t));
  id.role = unix_role(cred.uid, gids, group_id("berth-admin"), group_id("berth"));
  return id;
}

std::string peer_address(const tcp::socket& s) {
  beast::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

// The TLS handshake of a new TCP connection, within kTlsTimeout; a
// session for the verified client, or a log line and the connection closed.
void start_tls(Deps& d, const std::shared_ptr<asio::ssl::context>& ctx, tcp::socket s) {
  std::string from = peer_address(s);
  auto tls = std::make_shared<tls_stream>(std::move(s), *ctx);
  auto timer = std::make_shared<asio::steady_timer>(d.io, kTlsTimeout);
  timer->async_wait([tls](beast::error_code ec) {
    beast::error_code ignored;
    if (!ec) tls->lowest_layer().close(ignored);
  });
  tls->async_handshake(asio::ssl::stream_base::server, [&d, ctx, tls, timer, from](beast::error_code ec) {
    bool timed_out = timer->cancel() == 0;
    if (ec) {
      std::string why = timed_out ? "no handshake within " + std::to_string(kTlsTimeout.count()) + " s" : ec.message();
      log::warn("berthd: tls handshake from " + from + " failed: " + why);
      beast::error_code ignored;
      tls->lowest_layer().close(ignored);
      return;
    }
    CertSubject cert = peer_certificate(tls->native_handle());
    Identity who;
    who.name = "tls:" + cert.cn;
    log::debug("berthd: tls client " + who.name + " from " + from);
    std::make_shared<Session<tls_stream>>(std::move(*tls), d, std::move(who), std::move(cert))->read();
  });
}

}  // namespace

void serve_api(asio::io_context& io, const ApiPools& pools, int listen_fd, Service& svc, Operations& ops,
               EventBus& events, TrustStore& trust, HandOffs handoffs, const ApiLimits& limits) {
  stream::acceptor acc(io);
  acc.assign(stream(), listen_fd);
  auto start = [](Deps& d, stream::socket s) {
    Identity who = peer_identity(s);
    std::make_shared<Session<stream::socket>>(std::move(s), d, std::move(who))->read();
  };
  std::make_shared<Listener<stream>>(Deps{io, pools, svc, ops, events, trust, std::move(handoffs), limits}, std::move(acc), start)
      ->accept();
}

Status serve_api_tcp(asio::io_context& io, const ApiPools& pools, const TcpApiOptions& o, Service& svc,
                     Operations& ops, EventBus& events, TrustStore& trust, HandOffs handoffs,
                     const ApiLimits& limits) {
  auto ctx = BERTH_TRY(server_tls_context(o));
  beast::error_code ec;
  auto addr = asio::ip::make_address(o.address.host, ec);
  if (ec) return Error::msg("--listen-tcp " + to_string(o.address) + ": " + ec.message());
  tcp::endpoint ep(addr, o.address.port);
  tcp::acceptor acc(io);
  if (acc.open(ep.protocol(), ec); !ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error(ec.value(), "--listen-tcp " + to_string(o.address));
  auto start = [ctx](Deps& d, tcp::socket s) { start_tls(d, ctx, std::move(s)); };
  std::make_shared<Listener<tcp>>(Deps{io, pools, svc, ops, events, trust, std::move(handoffs), limits}, std::move(acc), start)
      ->accept();
  return ok();
}

}  // namespace berth::supervisor
