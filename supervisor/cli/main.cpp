// berth — the node's command line: vzctl/prlctl-like verbs over berthd's
// API on its unix socket, or on its TCP port with mutual TLS (--remote). Exit codes: 0 done, 1 failed, 2 bad usage or
// input, 3 no such container or operation, 4 conflict (exists, not
// running, busy), 5 berthd unreachable.
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/fs.h"
#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/supervisor/peer_client.h"
#include "berth/supervisor/unix_socket.h"
#include "client.h"
#include "connection.h"
#include "human.h"

using namespace berth;
using namespace berth::supervisor;

namespace berth::cli {

std::string g_socket = "/run/berthd/berthd.sock";

[[noreturn]] void die(int code, const std::string& msg) {
  std::fprintf(stderr, "berth: %s\n", msg.c_str());
  std::exit(code);
}

Response call(const std::string& method, const std::string& path, const std::string& body) {
  Connection c = Connection::open();
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: berthd\r\nConnection: close\r\n";
  if (!body.empty()) req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  c.write_all(req);
  // The answer is read into one buffer sized from Content-Length once the
  // head is in, and the body is cut from its front in place: a
  // 500-container list is 200 KB, and every page a short-lived process
  // touches is a fault.
  std::string all;
  char buf[65536];
  size_t hdr_end = std::string::npos;
  int status = 0;
  while (size_t n = c.read(buf, sizeof buf)) {
    all.append(buf, n);
    if (hdr_end != std::string::npos || (hdr_end = all.find("\r\n\r\n")) == std::string::npos) continue;
    auto head = parse_response_head(std::string_view(all).substr(0, hdr_end));
    if (!head) die(1, "malformed answer from berthd: " + head.error().what());
    status = head->status;
    if (auto it = head->headers.find("content-length"); it != head->headers.end()) {
      unsigned long long len = std::strtoull(it->second.c_str(), nullptr, 10);
      if (len <= (64u << 20)) all.reserve(hdr_end + 4 + len);  // a hint only: larger answers just grow
    }
  }
  if (hdr_end == std::string::npos) die(1, "malformed answer from berthd");
  all.erase(0, hdr_end + 4);
  return Response{status, std::move(all)};
}

int exit_code_for(int status) {
  switch (status) {
    case 400: case 405: case 413: return 2;
    case 404: return 3;
    case 409: return 4;
    default: return 1;
  }
}

json::Value parse_or_die(const std::string& body) {
  auto v = json::parse(body);
  if (!v) die(1, "malformed JSON from berthd: " + v.error().what());
  return std::move(*v);  // a copy of a 500-container list costs milliseconds
}

// Fails with the server's error when the status is not 2xx.
json::Value expect_ok(const Response& r) {
  json::Value v = parse_or_die(r.body);
  if (r.status >= 300) {
    const json::Value* e = v.find("error");
    die(exit_code_for(r.status), e && e->is_string() ? e->as_string() : r.body);
  }
  return v;
}

// Sends a request that starts an operation and waits for it to finish.
json::Value run_operation(const std::string& method, const std::string& path, const std::string& body) {
  json::Value op = expect_ok(call(method, path, body));
  const json::Value* id = op.find("id");
  if (!id || !id->is_string()) die(1, "no operation id in berthd's answer");
  return operation_outcome(expect_ok(call("GET", "/v1/operations/" + id->as_string() + "/wait")));
}

json::Value operation_outcome(const json::Value& done) {
  const json::Value* status = done.find("status");
  if (!status || status->as_string() != "success") {
    const json::Value* e = done.find("error");
    std::string msg = e && e->is_string() ? e->as_string() : json::dump(done);
    const json::Value* status_code = done.find("code");
    int code = status_code && status_code->is_uint() ? exit_code_for(static_cast<int>(status_code->as_uint())) : 1;
    die(code, msg);
  }
  const json::Value* result = done.find("result");
  return result ? *result : json::Value();
}

// Options that may be given more than once: their values are joined with
// commas ("--net lan --net dmz:198.18.2.9" -> "lan,dmz:198.18.2.9").
bool repeatable(const std::string& key) {
  return key == "net" || key == "nameserver" || key == "searchdomain" || key == "ports";
}

// A --timeout's seconds.
long seconds_arg(const std::string& v) {
  char* end = nullptr;
  long t = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || t < 0) die(2, "--timeout: expected seconds, got \"" + v + "\"");
  return t;
}

// The --force and (with `timeout`) --timeout S flags of stop, stop --all
// and destroy, from args[from] on, as their request body.
json::Value stop_flags(const std::vector<std::string>& args, size_t from, const std::string& cmd, bool timeout) {
  json::Value body = json::Value::object();
  for (size_t i = from; i < args.size(); ++i) {
    if (args[i] == "--force") {
      body.set("force", true);
    } else if (args[i] == "--timeout" && timeout && i + 1 < args.size()) {
      body.set("timeout", seconds_arg(args[++i]));
    } else {
      die(2, cmd + ": unexpected argument \"" + args[i] + "\"");
    }
  }
  return body;
}

// --key value pairs into an API object ("--stop-timeout" -> "stop_timeout").
json::Value options(const std::vector<std::string>& args, size_t from) {
  json::Value o = json::Value::object();
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--") || a.size() < 3) die(2, "unexpected argument \"" + a + "\" (expected --field value)");
    if (i + 1 >= args.size()) die(2, a + ": needs a value");
    std::string key = a == "--port" ? "ports" : a.substr(2);  // --port is repeatable, PORTS its record key
    for (char& c : key)
      if (c == '-') c = '_';
    const json::Value* had = o.find(key);
    if (key == "ssh_key") {
      // The file's public keys go to berthd (which cannot read the
      // caller's files); repeated, their lines add up.
      auto text = berth::fs::read_file(args[++i]);
      if (!text) die(2, "--ssh-key: " + text.error().what());
      o.set(key, (had ? had->as_string() + "\n" : "") + *text);
    } else if (had && repeatable(key)) o.set(key, had->as_string() + "," + args[++i]);
    else o.set(key, args[++i]);
  }
  return o;
}

std::string field(const json::Value& v, const char* key) {
  const json::Value* f = v.find(key);
  if (!f) return "-";
  if (f->is_string()) return f->as_string();
  return json::dump(*f);
}

// An array of strings as "a,b"; "-" when absent.
std::string joined(const json::Value& v, const char* key) {
  const json::Value* f = v.find(key);
  if (!f || !f->is_array() || f->as_array().empty()) return "-";
  std::string out;
  for (const auto& e : f->as_array()) out += (out.empty() ? "" : ",") + (e.is_string() ? e.as_string() : json::dump(e));
  return out;
}

// A number of the answer, given as a JSON number or (record fields) a string.
std::optional<uint64_t> number(const json::Value* v, const char* key) {
  const json::Value* f = v ? v->find(key) : nullptr;
  if (f && f->is_uint()) return f->as_uint();
  if (!f || !f->is_string() || f->as_string().empty()) return std::nullopt;
  char* end = nullptr;
  unsigned long long n = std::strtoull(f->as_string().c_str(), &end, 10);
  return *end ? std::nullopt : std::optional<uint64_t>(n);
}

// A field as people read it: sizes, durations and times; "-" when absent.
std::string shown(const json::Value& v, const std::string& key) {
  static const char* sizes[] = {"disk", "ram", "swap", "rate", "memory_bytes"};
  for (const char* s : sizes)
    if (key == s) {
      auto n = number(&v, s);
      return n ? human_size(*n) : field(v, s);
    }
  if (key == "uptime") {
    auto n = number(&v, "uptime");
    return n ? human_duration(*n) : "-";
  }
  if (key == "started") {
    auto n = number(&v, "started");
    return n ? iso_time(static_cast<int64_t>(*n)) : "-";
  }
  if (key == "cpu_ns") {
    auto n = number(&v, "cpu_ns");
    if (!n) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(*n) / 1e9);
    return buf;
  }
  return field(v, key.c_str());
}

void print_table(const json::Value& list) {
  std::printf("%-20s %-10s %-8s %-8s %-8s %-5s %s\n", "NAME", "STATE", "PID", "UPTIME", "RAM", "CPUS", "ADDRESSES");
  for (const auto& c : list.as_array()) {
    const json::Value* cfg = c.find("config");
    std::printf("%-20s %-10s %-8s %-8s %-8s %-5s %s\n", field(c, "name").c_str(), field(c, "state").c_str(),
                field(c, "init_pid").c_str(), c.find("uptime") ? shown(c, "uptime").c_str() : "-",
                cfg ? shown(*cfg, "ram").c_str() : "-", cfg ? field(*cfg, "cpus").c_str() : "-",
                joined(c, "addresses").c_str());
  }
}

// berth network create NAME --mode M --subnet CIDR [--gateway A] ... | ls | rm NAME
int network(const std::vector<std::string>& a, bool json_out) {
  std::string sub = a.size() >= 2 ? a[1] : "";
  if (sub == "ls" && a.size() == 2) {
    json::Value v = expect_ok(call("GET", "/v1/networks"));
    if (json_out) return std::printf("%s\n", json::dump(v, true).c_str()), 0;
    std::printf("%-16s %-8s %-20s %-16s %-16s %s\n", "NAME", "MODE", "SUBNET", "GATEWAY", "BRIDGE", "CONTAINERS");
    for (const auto& n : v.as_array()) {
      std::string subnet = field(n, "subnet4"), gw = field(n, "gateway4");
      if (subnet == "-") subnet = field(n, "subnet6"), gw = field(n, "gateway6");
      std::printf("%-16s %-8s %-20s %-16s %-16s %s\n", field(n, "name").c_str(), field(n, "mode").c_str(), subnet.c_str(),
                  gw.c_str(), field(n, "bridge").c_str(), joined(n, "containers").c_str());
    }
    return 0;
  }
  if (sub == "rm" && a.size() == 3) {
    expect_ok(call("DELETE", "/v1/networks/" + a[2]));
    std::printf("removed network %s\n", a[2].c_str());
    return 0;
  }
  if (sub != "create" || a.size() < 3 || a[2].starts_with("-")) die(2, "network: expected create NAME ..., ls or rm NAME");
  // CLI flags to the network's JSON fields; lists may repeat.
  static const std::vector<std::pair<std::string, std::string>> flags = {
      {"--mode", "mode"},       {"--subnet", "subnet4"}, {"--gateway", "gateway4"}, {"--subnet6", "subnet6"},
      {"--gateway6", "gateway6"}, {"--dns", "dns"},      {"--search", "search"},    {"--bridge", "bridge"},
      {"--uplink", "uplink"},   {"--mtu", "mtu"},        {"--nat", "nat"}};
  json::Value body = json::Value::object();
  body.set("name", a[2]);
  for (size_t i = 3; i < a.size(); i += 2) {
    auto f = std::find_if(flags.begin(), flags.end(), [&](const auto& p) { return p.first == a[i]; });
    if (f == flags.end()) die(2, "network create: unknown option \"" + a[i] + "\"");
    if (i + 1 >= a.size()) die(2, a[i] + ": needs a value");
    const std::string& v = a[i + 1];
    if (f->second == "dns" || f->second == "search") {
      json::Value* list = body.find(f->second);
      if (!list) list = &body.set(f->second, json::Value::array());
      list->push_back(v);
    } else if (f->second == "mtu") {
      char* end = nullptr;
      unsigned long m = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end) die(2, "--mtu: expected a number, got \"" + v + "\"");
      body.set("mtu", m);
    } else if (f->second == "nat") {
      if (v != "yes" && v != "no") die(2, "--nat: expected yes or no, got \"" + v + "\"");
      body.set("nat", v == "yes");
    } else {
      body.set(f->second, v);
    }
  }
  json::Value n = expect_ok(call("POST", "/v1/networks", json::dump(body)));
  std::printf("created network %s (%s %s)\n", a[2].c_str(), field(n, "mode").c_str(),
              field(n, field(n, "subnet4") == "-" ? "subnet6" : "subnet4").c_str());
  return 0;
}

// Attaches the terminal to a container's console until Ctrl-] or the
// console ends.
int console(const std::string& name) {
  UniqueFd s = upgrade("GET", "/v1/containers/" + name + "/console", "berth-console", "");
  termios saved{};
  bool tty = ::tcgetattr(0, &saved) == 0;
  if (tty) {
    termios raw = saved;
    ::cfmakeraw(&raw);
    ::tcsetattr(0, TCSANOW, &raw);
    std::fputs("connected to the console of the container; Ctrl-] detaches\r\n", stderr);
  }
  pollfd p[2] = {{0, POLLIN, 0}, {s.get(), POLLIN, 0}};
  char buf[8192];
  for (bool open = true; open;) {
    if (::poll(p, 2, -1) < 0) continue;
    if (p[1].revents) {
      ssize_t n = ::read(s.get(), buf, sizeof buf);
      if (n <= 0) break;
      (void)!::write(1, buf, static_cast<size_t>(n));
    }
    if (p[0].revents) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n <= 0) {
        p[0].fd = -1;  // input ended: keep showing the console until it ends
        continue;
      }
      for (ssize_t i = 0; i < n; ++i)
        if (tty && buf[i] == 0x1d) n = i, open = false;  // Ctrl-]
      if (n > 0 && !write_all(s.get(), std::string_view(buf, static_cast<size_t>(n)))) break;
    }
  }
  if (tty) ::tcsetattr(0, TCSANOW, &saved);
  return 0;
}

constexpr const char* kUsage =
      "usage: berth [--socket PATH | --remote HOST:PORT --cert FILE --key FILE --ca FILE] COMMAND ...\n"
      "  create NAME --template TAG [--disk SIZE] | --rootfs DIR   [--hostname H] [--init busybox|systemd] [--ram SIZE] [--swap SIZE]\n"
      "              [--ssh-key FILE]... [--root-password PASSWORD] [--project P]\n"
      "              [--cpus N] [--cpulimit PCT] [--cpuweight 1-10000] [--cpuset LIST] [--pids N]\n"
      "              [--autostart yes|no] [--boot-order N] [--boot-delay S]\n"
      "              [--restart no|on-failure|always] [--stop-timeout S] [--privileged yes|no]\n"
      "              [--net NETWORK[:ADDR[+ADDR6]]]... [--nameserver ADDR]... [--searchdomain DOMAIN]... [--rate BYTES/S]\n"
      "              [--port [tcp|udp:]NODEPORT:PORT]... (forwarded to the first network's address)\n"
      "  start|restart|suspend|resume NAME\n"
      "  stop NAME [--force] [--timeout S]     stop --all [--force] [--timeout S] (parallel; highest boot order first)\n"
      "  destroy NAME   autostart (the stopped --autostart yes containers by boot order)\n"
      "  exec [-t] [--timeout S] NAME [--] COMMAND [ARG...] (exits with the command's status; -t: on a pty)\n"
      "  enter NAME                           (a root login shell on a pty; exit or Ctrl-D ends it)\n"
      "  set NAME --FIELD VALUE ...            (says which changes wait for a restart)\n"
      "  console NAME (Ctrl-] detaches)       log NAME\n"
      "  list [--format json]   status NAME [--format json]   events [--type T,...]   metrics\n"
      "  snapshot NAME SNAP   rollback NAME SNAP (stopped)   snapshots NAME   commit NAME TAG (stopped)\n"
      "  image ls|pull|push|rm|prune|inspect|build-template ...   (berth image for details; Ctrl-C cancels a pull or push)\n"
      "  operation ls | show ID | wait ID | cancel ID\n"
      "  network create NAME [--mode bridged|routed] --subnet CIDR [--gateway ADDR] [--subnet6 CIDR] [--gateway6 ADDR]\n"
      "                 [--dns ADDR]... [--search DOMAIN]... [--bridge NAME] [--uplink LINK] [--mtu N] [--nat yes|no]\n"
      "  network ls [--format json]   network rm NAME (refused while a container names it)\n"
      "  trust ls | add CERT --role viewer|operator|admin|node [--project P]... [--name N] | rm FINGERPRINT\n"
      "  project ls | set NAME [--containers N] [--ram SIZE] [--disk SIZE] [--cpus N]   (create --project P)\n"
      "cluster (etcd; berth-cluster --help): env create|apply|scale|delete|show|list, node list|cordon|uncordon|drain|remove,\n"
      "  cluster status, cluster events, cluster move CONTAINER NODE [--wait S]\n";

[[noreturn]] void usage() {
  std::fputs(kUsage, stderr);
  std::exit(2);
}

// `berth --help`: the whole usage; `berth VERB --help`: the lines of the
// usage that name VERB, on stdout.
[[noreturn]] void help(const std::string& verb) {
  if (verb.empty()) std::fputs(kUsage, stdout);
  std::exit(verb.empty() ? 0 : berth::verb_help("berth", kUsage, verb));
}

}  // namespace berth::cli

using namespace berth::cli;

namespace {

// The cluster verbs (`berth env|node|cluster ...`) are berth-cluster's,
// run from the directory this binary is in (installed), or from
// ../orchestrator/ (the build tree), else from PATH; `berth cluster events`
// and `berth cluster move` are its `events` and `move`. They speak to
// etcd, not to berthd.
[[noreturn]] void exec_cluster(std::vector<std::string> a) {
  if (a[0] == "cluster" && a.size() >= 2 && (a[1] == "events" || a[1] == "move")) a.erase(a.begin());
  std::string prog = "berth-cluster";
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir.resize(dir.rfind('/') + 1);
    for (const char* sub : {"", "../orchestrator/"})
      if (::access((dir + sub + "berth-cluster").c_str(), X_OK) == 0) {
        prog = dir + sub + "berth-cluster";
        break;
      }
  }
  std::vector<char*> argv{prog.data()};
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  ::execvp(prog.c_str(), argv.data());
  die(127, "cluster commands need berth-cluster (" + prog + "): " + std::string(std::strerror(errno)));
}

// The options before the command: where berthd is and, for --remote, the
// TLS files; each also from the environment.
void global_options(std::vector<std::string>& a) {
  std::pair<const char*, std::string*> opts[] = {{"--socket", &g_socket},
                                                 {"--remote", &g_remote.address},
                                                 {"--cert", &g_remote.cert},
                                                 {"--key", &g_remote.key},
                                                 {"--ca", &g_remote.ca}};
  const char* envs[] = {"BERTH_SOCKET", "BERTH_REMOTE", "BERTH_TLS_CERT", "BERTH_TLS_KEY", "BERTH_TLS_CA"};
  for (size_t i = 0; i < std::size(opts); ++i)
    if (const char* v = std::getenv(envs[i])) *opts[i].second = v;
  while (!a.empty()) {
    auto o = std::find_if(std::begin(opts), std::end(opts), [&](const auto& p) { return a[0] == p.first; });
    if (o == std::end(opts)) break;
    if (a.size() < 2) die(2, a[0] + ": needs a value");
    *o->second = a[1];
    a.erase(a.begin(), a.begin() + 2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  global_options(a);
  if (a.empty()) usage();
  std::string cmd = a[0];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") help(cmd == "help" && a.size() >= 2 ? a[1] : "");
  // VERB --help (image SUB --help too); later, --help may be a command's
  // own argument (exec NAME ls --help).
  bool asks_help = (a.size() >= 2 && a[1] == "--help") || (cmd == "image" && a.size() >= 3 && a[2] == "--help");
  if (asks_help && cmd == "image") return image_command({"image", "--help"}, false);
  if (asks_help && cmd != "env" && cmd != "node" && cmd != "cluster") help(cmd);
  if (cmd == "env" || cmd == "node" || cmd == "cluster") exec_cluster(a);
  bool json_out = a.size() >= 3 && a[a.size() - 2] == "--format" && a.back() == "json";
  if (json_out) a.resize(a.size() - 2);
  auto need_name = [&] {
    if (a.size() < 2 || a[1].starts_with("-")) die(2, cmd + ": needs a container name");
    return a[1];
  };
  if (cmd == "list") {
    json::Value v = expect_ok(call("GET", "/v1/containers"));
    if (json_out) std::printf("%s\n", json::dump(v, true).c_str());
    else print_table(v);
    return 0;
  }
  if (cmd == "status") {
    json::Value v = expect_ok(call("GET", "/v1/containers/" + need_name()));
    if (json_out) {
      std::printf("%s\n", json::dump(v, true).c_str());
      return 0;
    }
    // Each key once (the record's name is the container's), figures for
    // people: --format json has the exact numbers.
    auto label = [](const std::string& k) {
      return k == "memory_bytes" ? std::string("memory") : k == "cpu_ns" ? std::string("cpu_time") : k;
    };
    std::vector<std::string> seen;
    for (const auto& [k, val] : v.as_object()) {
      if (val.is_object()) continue;
      seen.push_back(k);
      std::string text = val.is_array() ? joined(v, k.c_str()) : shown(v, k);
      std::printf("%-12s %s\n", label(k).c_str(), text.c_str());
    }
    // A record field named like a figure in use above is its limit.
    for (const char* group : {"resources", "config"})
      if (const json::Value* g = v.find(group))
        for (const auto& [k, val] : g->as_object()) {
          if (k == "name") continue;
          bool again = std::find(seen.begin(), seen.end(), k) != seen.end();
          seen.push_back(k);
          std::printf("%-12s %s\n", (label(k) + (again ? "_limit" : "")).c_str(), shown(*g, k).c_str());
        }
    return 0;
  }
  if (cmd == "create") {
    std::string name = need_name();
    json::Value body = options(a, 2);
    body.set("name", name);
    run_operation("POST", "/v1/containers", json::dump(body));
    std::printf("created %s\n", name.c_str());
    return 0;
  }
  if (cmd == "start" || cmd == "restart" || cmd == "suspend" || cmd == "resume") {
    std::string name = need_name();
    if (a.size() > 2) die(2, cmd + ": unexpected argument \"" + a[2] + "\"");
    json::Value v = run_operation("POST", "/v1/containers/" + name + "/" + cmd, "");
    std::printf("%s %s: %s\n", cmd.c_str(), name.c_str(), field(v, "state").c_str());
    return 0;
  }
  if (cmd == "stop" && a.size() >= 2 && a[1] == "--all") {
    // Node shutdown: every running container, in parallel within each boot
    // order, highest first; berthd goes on past a failure and names it.
    json::Value r = run_operation("POST", "/v1/stop-all", json::dump(stop_flags(a, 2, "stop --all", true)));
    for (const auto& n : r.find("stopped")->as_array()) std::printf("stop %s: done\n", n.as_string().c_str());
    return 0;
  }
  if (cmd == "autostart") {
    if (a.size() > 1) die(2, "autostart: unexpected argument \"" + a[1] + "\"");
    run_operation("POST", "/v1/autostart", "");
    std::printf("autostart: done\n");
    return 0;
  }
  if (cmd == "stop" || cmd == "destroy") {
    std::string name = need_name();
    json::Value body = stop_flags(a, 2, cmd, cmd == "stop");
    std::string b = body.as_object().empty() ? "" : json::dump(body);
    if (cmd == "stop") run_operation("POST", "/v1/containers/" + name + "/stop", b);
    else run_operation("DELETE", "/v1/containers/" + name, b);
    std::printf("%s %s: done\n", cmd.c_str(), name.c_str());
    return 0;
  }
  if (cmd == "exec") {
    // -t/--tty and --timeout S before or after NAME.
    bool terminal = false;
    long timeout = -1;
    for (size_t i = 1; i < a.size() && i <= 2;) {
      if (a[i] == "-t" || a[i] == "--tty") {
        terminal = true;
        a.erase(a.begin() + static_cast<long>(i));
      } else if (a[i] == "--timeout" && i + 1 < a.size()) {
        timeout = seconds_arg(a[i + 1]);
        a.erase(a.begin() + static_cast<long>(i), a.begin() + static_cast<long>(i) + 2);
      } else {
        ++i;
      }
    }
    if (terminal && timeout >= 0) die(2, "exec: --timeout is for a command without -t");
    std::string name = need_name();
    size_t from = a.size() > 2 && a[2] == "--" ? 3 : 2;
    if (from >= a.size()) die(2, "exec: needs a command");
    if (terminal) return exec_terminal(name, std::vector<std::string>(a.begin() + static_cast<long>(from), a.end()));
    json::Value args = json::Value::array();
    for (size_t i = from; i < a.size(); ++i) args.push_back(a[i]);
    json::Value body = json::Value::object();
    body.set("args", std::move(args));
    if (timeout >= 0) body.set("timeout", timeout);
    json::Value r = run_operation("POST", "/v1/containers/" + name + "/exec", json::dump(body));
    const std::string& out = r.find("stdout")->as_string();
    std::fwrite(out.data(), 1, out.size(), stdout);
    const std::string& err = r.find("stderr")->as_string();
    std::fwrite(err.data(), 1, err.size(), stderr);
    if (const json::Value* t = r.find("timed_out"); t && t->is_bool() && t->as_bool())
      std::fprintf(stderr, "berth: exec: %s: timed out after %ld s; the command was killed\n", name.c_str(), timeout);
    return static_cast<int>(r.find("exit_code")->as_int());
  }
  if (cmd == "set") {
    std::string name = need_name();
    json::Value body = options(a, 2);
    if (body.as_object().empty()) die(2, "set: nothing to change");
    json::Value r = run_operation("PATCH", "/v1/containers/" + name, json::dump(body));
    if (json_out) std::printf("%s\n", json::dump(r, true).c_str());
    for (const auto& k : r.find("live")->as_array()) std::printf("%s: applied\n", k.as_string().c_str());
    for (const auto& k : r.find("restart")->as_array())
      std::printf("%s: saved, takes effect at the next start\n", k.as_string().c_str());
    return 0;
  }
  if (cmd == "snapshot" || cmd == "rollback" || cmd == "commit") {
    std::string name = need_name();
    if (a.size() != 3) die(2, cmd + ": expected NAME and " + (cmd == "commit" ? "TAG" : "SNAPSHOT"));
    json::Value body = json::Value::object();
    body.set(cmd == "commit" ? "tag" : "name", a[2]);
    json::Value r = run_operation("POST", "/v1/containers/" + name + "/" + cmd, json::dump(body));
    if (cmd == "commit") std::printf("committed %s as %s %s\n", name.c_str(), a[2].c_str(), field(r, "digest").c_str());
    else std::printf("%s %s: %s\n", cmd.c_str(), name.c_str(), a[2].c_str());
    return 0;
  }
  if (cmd == "snapshots") {
    json::Value v = expect_ok(call("GET", "/v1/containers/" + need_name() + "/snapshots"));
    if (json_out) return std::printf("%s\n", json::dump(v, true).c_str()), 0;
    std::printf("%-24s %-12s %s\n", "SNAPSHOT", "CREATED", "SIZE");
    for (const auto& s : v.as_array())
      std::printf("%-24s %-12s %s\n", field(s, "name").c_str(), field(s, "created").c_str(), field(s, "size").c_str());
    return 0;
  }
  if (cmd == "image") return image_command(a, json_out);
  if (cmd == "operation") return operation_command(a, json_out);
  if (cmd == "console") return console(need_name());
  if (cmd == "network") return network(a, json_out);
  if (cmd == "trust") return trust_command(a, json_out);
  if (cmd == "project") return project_command(a, json_out);
  if (cmd == "enter") {
    std::string name = need_name();
    if (a.size() > 2) die(2, "enter: unexpected argument \"" + a[2] + "\"");
    return enter(name);
  }
  if (cmd == "log") {
    Response r = call("GET", "/v1/containers/" + need_name() + "/log");
    if (r.status >= 300) expect_ok(r);
    std::fputs(r.body.c_str(), stdout);
    return 0;
  }
  if (cmd == "events" || cmd == "metrics") {
    std::string path = cmd == "events" ? "/v1/events" : "/metrics";
    if (cmd == "events" && a.size() == 3 && a[1] == "--type") path += "?type=" + a[2];
    else if (a.size() != 1) die(2, cmd + (cmd == "events" ? ": expected no arguments or --type TYPE[,TYPE...]" : ": expected no arguments"));
    Connection c = Connection::open();
    c.write_all("GET " + path + " HTTP/1.1\r\nHost: berthd\r\nConnection: close\r\n\r\n");
    std::string head;
    char buf[65536];
    bool body = false;
    for (;;) {
      size_t n = c.read(buf, sizeof buf);
      if (n == 0) break;
      if (body) {
        (void)!::write(1, buf, static_cast<size_t>(n));
        continue;
      }
      head.append(buf, static_cast<size_t>(n));
      if (size_t e = head.find("\r\n\r\n"); e != std::string::npos) {
        body = true;
        (void)!::write(1, head.data() + e + 4, head.size() - e - 4);
      }
    }
    return 0;
  }
  usage();
}
