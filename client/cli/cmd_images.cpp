// cmd_images.cpp — `berth image ...`: the node's image store through berthd
// (ls, pull, push, rm, prune, inspect, build-template). Pulls and pushes
// are operations: their progress is polled from the operation and drawn
// in place on a terminal, as plain lines otherwise. `berth operation ...`
// lists, shows, waits for and cancels berthd's operations.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <thread>

#include "berth/base/fs.h"
#include "berth/client/format.h"
#include "commands.h"

namespace berth::cli {

using client::field;

const char* const kImageUsage =
    "usage: berth image ls [--format json]\n"
    "       berth image pull REF [--tag TAG] [--platform OS/ARCH[/VARIANT]] [REGISTRY FLAGS] [--quiet]\n"
    "       berth image push IMAGE REF [REGISTRY FLAGS] [--quiet]\n"
    "       berth image rm IMAGE          (refused while a container uses it)\n"
    "       berth image prune\n"
    "       berth image inspect IMAGE [--format json]\n"
    "       berth image build-template busybox|debian TAG [--packages P1,P2,...] [--suite S] [--mirror URL]\n"
    "  REGISTRY FLAGS: --creds USER:PASSWORD | --creds-file FILE (one line USER:PASSWORD),\n"
    "                  --ca FILE (--tls-ca FILE: PEM CA certificates to trust), --plain-http\n";

namespace {

// A usage error of `berth image`: its usage first, on stderr.
Error image_usage(const std::string& msg) {
  std::fputs(kImageUsage, stderr);
  return usage_error(msg);
}

Result<std::string> read_text(const std::string& path, const std::string& flag) {
  auto text = fs::read_file(path);
  if (!text) return usage_error(flag + ": cannot read " + path);
  return std::move(*text);
}

// a[2..] parsed against the text flags `valued` and the boolean `bare`;
// a refusal comes after `berth image`'s usage.
Result<flags::Args> parse(const Argv& a, const std::vector<std::string>& valued, const std::vector<std::string>& bare) {
  std::vector<flags::Flag> known;
  for (const auto& v : valued) known.push_back(flags::Flag::text({v}));
  for (const auto& b : bare) known.push_back(flags::Flag::boolean({b}));
  auto f = parse_flags(a, 2, known, "image " + a[1]);
  if (!f && f.error().code() == EINVAL) return image_usage(f.error().message());
  return f;
}

const std::vector<std::string> kRegistryFlags = {"creds", "creds-file", "ca", "tls-ca"};

// The registry part of a pull or push body. Files are read here, so berthd
// never opens a path a client names.
Status registry_body(const flags::Args& p, json::Value& body) {
  auto has = [&](const char* f) { return p.has(f); };
  if (has("creds") && has("creds-file")) return image_usage("--creds and --creds-file exclude each other");
  if (has("ca") && has("tls-ca")) return image_usage("--ca and --tls-ca name the same thing; give one");
  if (has("creds")) body.set("credentials", p.get("creds"));
  if (has("creds-file")) {
    std::string c = BERTH_TRY(read_text(p.get("creds-file"), "--creds-file"));
    while (!c.empty() && (c.back() == '\n' || c.back() == '\r')) c.pop_back();
    body.set("credentials", c);
  }
  for (const char* f : {"ca", "tls-ca"})
    if (has(f)) body.set("ca", BERTH_TRY(read_text(p.get(f), std::string("--") + f)));
  if (has("plain-http")) body.set("plain_http", true);
  return ok();
}

// Draws an operation's progress document: in place on a terminal, or a
// line per note and per blob state not shown before.
class ProgressView {
public:
  explicit ProgressView(bool tty) : tty_(tty) {}

  void draw(const json::Value& progress) {
    const json::Value* notes = progress.find("notes");
    const json::Value* blobs = progress.find("blobs");
    std::vector<std::string> lines;
    if (notes)
      for (const auto& n : notes->as_array()) lines.push_back(n.as_string());
    if (blobs)
      for (const auto& b : blobs->as_array()) lines.push_back(blob_line(b, tty_));
    if (tty_) {
      if (drawn_) std::fprintf(stderr, "\x1b[%zuA", drawn_);
      for (const auto& l : lines) std::fprintf(stderr, "\r\x1b[K%s\n", l.c_str());
      drawn_ = lines.size();
    } else {
      size_t nnotes = notes ? notes->as_array().size() : 0;
      for (size_t i = 0; i < lines.size(); ++i) {
        bool is_note = i < nnotes;
        std::string key = is_note ? "note " + std::to_string(i) : field((*blobs).as_array()[i - nnotes], "digest");
        if (shown_[key] == lines[i]) continue;
        shown_[key] = lines[i];
        std::fprintf(stderr, "%s\n", lines[i].c_str());
      }
    }
    std::fflush(stderr);
  }

private:
  static std::string blob_line(const json::Value& b, bool bytes) {
    std::string digest = field(b, "digest");
    std::string line = field(b, "kind") + " " + digest.substr(0, 19) + ": " + field(b, "state");
    const json::Value* done = b.find("done");
    const json::Value* total = b.find("total");
    std::string st = field(b, "state");
    if (bytes && done && total && (st == "downloading" || st == "uploading") && total->as_uint() > 0)
      line += " " + client::human_bytes(done->as_uint()) + " / " + client::human_bytes(total->as_uint());
    return line;
  }

  bool tty_;
  size_t drawn_ = 0;
  std::map<std::string, std::string> shown_;
};

volatile sig_atomic_t g_interrupted = 0;

// Starts an operation and follows it to the end, drawing its progress.
// Ctrl-C (or SIGTERM) asks berthd to cancel it, as Incus's client does,
// and still waits for its end: the exit then says it was cancelled.
Result<json::Value> follow_operation(const client::Api& api, const std::string& path, const json::Value& body,
                                     bool quiet) {
  json::Value op = BERTH_TRY(api.json("POST", path, json::dump(body)));
  const json::Value* id = op.find("id");
  if (!id || !id->is_string()) return Error(EPROTO, "no operation id in berthd's answer");
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_interrupted = 1; };
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ProgressView view(::isatty(2) == 1);
  bool asked = false;
  for (;;) {
    if (g_interrupted && !asked) {
      asked = true;
      client::Response r = BERTH_TRY(api.call("DELETE", "/v1/operations/" + id->as_string()));
      std::fprintf(
          stderr, "berth: %s\n",
          r.status < 300 ? ("cancelling operation " + id->as_string()).c_str() : ("cannot cancel: " + r.body).c_str());
    }
    json::Value doc = BERTH_TRY(api.json("GET", "/v1/operations/" + id->as_string()));
    if (!quiet)
      if (const json::Value* p = doc.find("progress")) view.draw(*p);
    std::string status = field(doc, "status");
    if (status != "running" && status != "cancelling") return client::operation_outcome(doc);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<int> ls(Context& c) {
  json::Value v = BERTH_TRY(c.api.json("GET", "/v1/images"));
  if (c.json_out) return print_json(v), 0;
  client::Table t({{"TAG", 50}, {"DIGEST", 20, 19}, {"PLATFORM", 14}, {"SIZE"}});
  for (const auto& i : v.as_array())
    t.row({field(i, "tag"), field(i, "digest"), field(i, "platform"), field(i, "size")});
  print(t.str());
  return 0;
}

Result<int> pull(Context& c, const Argv& a) {
  std::vector<std::string> valued = kRegistryFlags;
  valued.insert(valued.end(), {"tag", "platform"});
  flags::Args p = BERTH_TRY(parse(a, valued, {"plain-http", "quiet"}));
  if (p.positional().size() != 1) return image_usage("image pull: expected one REF");
  json::Value body = json::Value::object();
  body.set("ref", p.positional()[0]);
  if (p.has("tag")) body.set("tag", p.get("tag"));
  if (p.has("platform")) body.set("platform", p.get("platform"));
  BERTH_TRY(registry_body(p, body));
  json::Value r = BERTH_TRY(follow_operation(c.api, "/v1/images/pull", body, p.has("quiet")));
  if (c.json_out) return print_json(r), 0;
  std::printf("%s %s\n", field(r, "tag").c_str(), field(r, "digest").c_str());
  return 0;
}

Result<int> push(Context& c, const Argv& a) {
  flags::Args p = BERTH_TRY(parse(a, kRegistryFlags, {"plain-http", "quiet"}));
  if (p.positional().size() != 2) return image_usage("image push: expected IMAGE and REF");
  json::Value body = json::Value::object();
  body.set("image", p.positional()[0]);
  body.set("ref", p.positional()[1]);
  BERTH_TRY(registry_body(p, body));
  json::Value r = BERTH_TRY(follow_operation(c.api, "/v1/images/push", body, p.has("quiet")));
  if (c.json_out) return print_json(r), 0;
  std::printf("%s %s\n", field(r, "ref").c_str(), field(r, "digest").c_str());
  return 0;
}

Result<int> inspect(Context& c, const std::string& ref) {
  json::Value v = BERTH_TRY(c.api.json("GET", "/v1/images/" + ref));
  if (c.json_out) return print_json(v), 0;
  for (const char* k : {"tag", "digest", "platform", "size", "media_type"})
    std::printf("%-12s %s\n", k, field(v, k).c_str());
  const json::Value* cfg = v.find("config");
  for (const char* k : {"entrypoint", "cmd", "working_dir", "user", "labels"})
    std::printf("%-12s %s\n", k, cfg ? field(*cfg, k).c_str() : "-");
  std::printf("%-12s %zu\n", "layers", v.find("layers") ? v.find("layers")->as_array().size() : 0);
  std::printf("%-12s %s\n", "used_by", field(v, "used_by").c_str());
  return 0;
}

Result<int> build_template(Context& c, const Argv& a) {
  flags::Args p = BERTH_TRY(parse(a, {"packages", "suite", "mirror"}, {}));
  if (p.positional().size() != 2) return image_usage("image build-template: expected KIND and TAG");
  json::Value body = json::Value::object();
  body.set("template", p.positional()[0]);
  body.set("tag", p.positional()[1]);
  if (p.has("packages")) {
    json::Value list = json::Value::array();
    std::stringstream ss(p.get("packages"));
    for (std::string pkg; std::getline(ss, pkg, ',');)
      if (!pkg.empty()) list.push_back(pkg);
    body.set("packages", std::move(list));
  }
  for (const char* k : {"suite", "mirror"})
    if (p.has(k)) body.set(k, p.get(k));
  json::Value r = BERTH_TRY(c.api.run_operation("POST", "/v1/images", json::dump(body)));
  std::printf("%s %s\n", p.positional()[1].c_str(), field(r, "digest").c_str());
  return 0;
}

}  // namespace

Result<int> cmd_operation(Context& c, const Argv& a) {
  std::string sub = a.size() >= 2 ? a[1] : "";
  if (sub == "ls" && a.size() == 2) {
    json::Value v = BERTH_TRY(c.api.json("GET", "/v1/operations"));
    if (c.json_out) return print_json(v), 0;
    client::Table t({{"ID", 8}, {"ACTION", 16}, {"TARGET", 24}, {"STATUS", 11}, {"CANCEL", 6}, {"BY"}});
    for (const auto& o : v.as_array()) {
      const json::Value* mc = o.find("may_cancel");
      t.row({field(o, "id"), field(o, "action"), field(o, "target"), field(o, "status"),
             mc && mc->is_bool() && mc->as_bool() ? "yes" : "no", field(o, "by")});
    }
    print(t.str());
    return 0;
  }
  if ((sub == "show" || sub == "cancel" || sub == "wait") && a.size() == 3) {
    if (a[2].find_first_not_of("0123456789") != std::string::npos)
      return usage_error("operation " + sub + ": \"" + a[2] + "\" is not an operation id");
    std::string path = "/v1/operations/" + a[2];
    json::Value v = BERTH_TRY(sub == "show"     ? c.api.json("GET", path)
                              : sub == "cancel" ? c.api.json("DELETE", path)
                                                : c.api.json("GET", path + "/wait"));
    if (c.json_out || sub == "show") return print_json(v), 0;
    if (sub == "wait") BERTH_TRY(client::operation_outcome(v));
    std::printf("operation %s: %s\n", a[2].c_str(), field(v, "status").c_str());
    return 0;
  }
  return image_usage(sub.empty() ? "operation: expected ls, show ID, wait ID or cancel ID"
                                 : "operation: unknown command or arguments: " + sub);
}

Result<int> cmd_image(Context& c, const Argv& a) {
  std::string sub = a.size() >= 2 ? a[1] : "";
  if (sub == "ls" && a.size() == 2) return ls(c);
  if (sub == "pull") return pull(c, a);
  if (sub == "push") return push(c, a);
  if (sub == "build-template") return build_template(c, a);
  if (sub == "rm" || sub == "inspect") {
    if (a.size() != 3 || a[2].starts_with("-")) return image_usage("image " + sub + ": expected one IMAGE");
    // The reference becomes part of the request's path.
    if (a[2].find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@-") !=
        std::string::npos)
      return usage_error("image reference \"" + a[2] + "\": unexpected character");
  }
  if (sub == "inspect") return inspect(c, a[2]);
  if (sub == "rm") {
    json::Value r = BERTH_TRY(c.api.json("DELETE", "/v1/images/" + a[2]));
    std::printf("untagged %s\n", field(r, "tag").c_str());
    return 0;
  }
  if (sub == "prune" && a.size() == 2) {
    json::Value r = BERTH_TRY(c.api.run_operation("POST", "/v1/images/prune", ""));
    if (c.json_out) return print_json(r), 0;
    std::printf("removed %s blobs (%s), %s unpacked layers, %s temporary files\n", field(r, "blobs_removed").c_str(),
                client::human_bytes(client::number(&r, "bytes_removed").value_or(0)).c_str(),
                field(r, "layers_removed").c_str(), field(r, "temps_removed").c_str());
    return 0;
  }
  return image_usage(sub.empty() ? "image: expected a command" : "image: unknown command or arguments: " + sub);
}

}  // namespace berth::cli
