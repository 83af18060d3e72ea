// main.cpp — berth, the node's command line: vzctl/prlctl-like verbs over
// berthd's API on its unix socket, or on its TCP port with mutual TLS
// (--remote). The global options, the command table and help. Exit
// statuses: 0 done, 1 failed, 2 bad usage or input, 3 no such container or
// operation, 4 conflict (exists, not running, busy), 5 berthd unreachable.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <tuple>

#include "berth/base/strings.h"
#include "commands.h"

namespace berth::cli {

void print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

void print_json(const json::Value& v) { print(json::dump(v, true) + "\n"); }

Result<std::string> need_name(const Argv& a) {
  if (a.size() < 2 || a[1].starts_with("-")) return usage_error(a[0] + ": needs a container name");
  return a[1];
}

Result<flags::Args> parse_flags(const Argv& a, size_t from, const std::vector<flags::Flag>& flags,
                                const std::string& command) {
  Argv words(a.begin() + static_cast<long>(std::min(from, a.size())), a.end());
  auto r = flags::Args::parse(words, flags, {flags::Dialect::gnu, false, command});
  if (!r && r.error().code() != flags::kHelpAsked) return usage_error(r.error().message());
  return r;
}

Status no_more(const Argv& a, size_t from) {
  if (a.size() > from) return usage_error(a[0] + ": unexpected argument \"" + a[from] + "\"");
  return ok();
}

namespace {

constexpr const char* kUsage =
    "usage: berth [--socket PATH | --remote HOST:PORT --cert FILE --key FILE --ca FILE] COMMAND ...\n"
    "  create NAME --template TAG [--disk SIZE] | --rootfs DIR   [--hostname H] [--init busybox|systemd] [--ram SIZE] "
    "[--swap SIZE]\n"
    "              [--ssh-key FILE]... [--root-password PASSWORD] [--project P]\n"
    "              [--cpus N] [--cpulimit PCT] [--cpuweight 1-10000] [--cpuset LIST] [--pids N]\n"
    "              [--autostart yes|no] [--boot-order N] [--boot-delay S]\n"
    "              [--restart no|on-failure|always] [--stop-timeout S] [--privileged yes|no]\n"
    "              [--net NETWORK[:ADDR[+ADDR6]]]... [--nameserver ADDR]... [--searchdomain DOMAIN]... [--rate "
    "BYTES/S]\n"
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
    "  image ls|pull|push|rm|prune|inspect|build-template ...   (berth image for details; Ctrl-C cancels a pull or "
    "push)\n"
    "  operation ls | show ID | wait ID | cancel ID\n"
    "  network create NAME [--mode bridged|routed] --subnet CIDR [--gateway ADDR] [--subnet6 CIDR] [--gateway6 ADDR]\n"
    "                 [--dns ADDR]... [--search DOMAIN]... [--bridge NAME] [--uplink LINK] [--mtu N] [--nat yes|no]\n"
    "  network ls [--format json]   network rm NAME (refused while a container names it)\n"
    "  trust ls | add CERT --role viewer|operator|admin|node [--project P]... [--name N] | rm FINGERPRINT\n"
    "  project ls | set NAME [--containers N] [--ram SIZE] [--disk SIZE] [--cpus N]   (create --project P)\n"
    "cluster (etcd; berth-cluster --help): env create|apply|scale|delete|show|list, node "
    "list|cordon|uncordon|drain|remove,\n"
    "  cluster status, cluster events, cluster move CONTAINER NODE [--wait S]\n";

struct Entry {
  const char* name;
  Command fn;
  const char* usage = nullptr;  // `VERB --help`'s text; nullptr: VERB's lines of kUsage
};

const Entry kCommands[] = {
    {"create", cmd_create},
    {"start", cmd_state_change},
    {"restart", cmd_state_change},
    {"suspend", cmd_state_change},
    {"resume", cmd_state_change},
    {"stop", cmd_stop},
    {"destroy", cmd_stop},
    {"autostart", cmd_autostart},
    {"set", cmd_set},
    {"snapshot", cmd_snapshot},
    {"rollback", cmd_snapshot},
    {"commit", cmd_snapshot},
    {"snapshots", cmd_snapshots},
    {"list", cmd_list},
    {"status", cmd_status},
    {"log", cmd_log},
    {"events", cmd_stream},
    {"metrics", cmd_stream},
    {"exec", cmd_exec},
    {"enter", cmd_enter},
    {"console", cmd_console},
    {"image", cmd_image, kImageUsage},
    {"operation", cmd_operation},
    {"trust", cmd_trust},
    {"project", cmd_project},
    {"network", cmd_network},
};

// The cluster verbs are berth-cluster's, which answers their --help itself.
bool is_cluster_verb(const std::string& v) { return v == "env" || v == "node" || v == "cluster"; }

const Entry* find_verb(const std::string& name) {
  auto e = std::find_if(std::begin(kCommands), std::end(kCommands), [&](const Entry& c) { return name == c.name; });
  return e == std::end(kCommands) ? nullptr : e;
}

// `berth --help` and `berth help`: the whole usage; `berth VERB --help` and
// `berth help VERB`: VERB's usage, on stdout, exit 0; an unknown VERB is
// named on stderr, exit 2.
int help(const std::string& verb) {
  if (verb.empty()) return std::fputs(kUsage, stdout), 0;
  if (const Entry* e = find_verb(verb); e && e->usage) return std::fputs(e->usage, stdout), 0;
  return verb_help("berth", kUsage, verb);
}

// The options before the verb: where berthd is and, for --remote, the TLS
// files; each also from the environment. The verb and its arguments are
// left in `a`.
Result<flags::Args> global_options(Argv& a, client::Endpoint& e) {
  static const std::vector<flags::Flag> kGlobals = {
      flags::Flag::text({"socket"}),      flags::Flag::text({"remote"}), flags::Flag::text({"cert"}),
      flags::Flag::text({"key"}),         flags::Flag::text({"ca"}),     flags::Flag::boolean({"version", "v"}),
      flags::Flag::boolean({"help", "h"})};
  auto g = flags::Args::parse(a, kGlobals, {flags::Dialect::gnu, true, ""});
  if (!g) return usage_error(g.error().message());
  std::tuple<const char*, const char*, std::string*> opts[] = {{"socket", "BERTH_SOCKET", &e.socket},
                                                               {"remote", "BERTH_REMOTE", &e.remote},
                                                               {"cert", "BERTH_TLS_CERT", &e.tls.cert},
                                                               {"key", "BERTH_TLS_KEY", &e.tls.key},
                                                               {"ca", "BERTH_TLS_CA", &e.tls.ca}};
  for (auto [flag, env, value] : opts) {
    if (const char* v = std::getenv(env)) *value = v;
    if (g->has(flag)) *value = g->get(flag);
  }
  a = g->positional();
  return g;
}

int fail(const Error& e) {
  std::fprintf(stderr, "berth: %s\n", client::error_text(e).c_str());
  return client::exit_status(e);
}

}  // namespace

int main_impl(Argv a) {
  client::Endpoint endpoint;
  auto globals = global_options(a, endpoint);
  if (!globals) return fail(globals.error());
  if (globals->has("version")) return std::printf("berth version %s\n", BERTH_VERSION), 0;
  if (globals->has("help")) return help("");
  if (a.empty()) return std::fputs(kUsage, stderr), 2;
  const std::string verb = a[0];
  if (verb == "help") return help(a.size() >= 2 ? a[1] : "");
  if (is_cluster_verb(verb)) {
    std::fprintf(stderr, "berth: %s\n", exec_cluster(a).message().c_str());
    return 127;
  }
  const Entry* e = find_verb(verb);
  if (!e) {
    std::fprintf(stderr, "berth: unknown command %s (berth --help lists them)\n", verb.c_str());
    return 2;
  }
  // VERB --help, and image SUB --help; past those, --help may be an
  // argument of the verb's own (exec NAME ls --help).
  if ((a.size() >= 2 && a[1] == "--help") || (verb == "image" && a.size() >= 3 && a[2] == "--help")) return help(verb);
  Context c{client::Api(std::move(endpoint))};
  c.json_out = a.size() >= 3 && a[a.size() - 2] == "--format" && a.back() == "json";
  if (c.json_out) a.resize(a.size() - 2);
  auto r = e->fn(c, a);
  std::fflush(stdout);
  if (!r && r.error().code() == flags::kHelpAsked) return help(verb);
  return r ? *r : fail(r.error());
}

}  // namespace berth::cli

int main(int argc, char** argv) { return berth::cli::main_impl(berth::cli::Argv(argv + 1, argv + argc)); }
