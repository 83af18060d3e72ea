// node_images.cpp — the node's image store through the API: pull and push
// against registries (progress into the operation), inspect, rm (refused
// while a container was made from the image), prune, templates; and the
// process an image without berth's init label runs as its container's
// PID 1 (INIT="app").
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/images/image.h"
#include "berth/images/progress.h"
#include "berth/images/pull.h"
#include "berth/images/template.h"
#include "berth/supervisor/node_service.h"
#include "berth/supervisor/unix_socket.h"

namespace berth::supervisor {

using namespace std::chrono_literals;

namespace {

const std::string* str_field(const json::Value& req, const char* key) {
  const json::Value* v = req.find(key);
  return v && v->is_string() ? &v->as_string() : nullptr;
}

// "linux/amd64[/variant]" -> Platform; the node's own when absent.
Result<images::Platform> platform_of(const json::Value& req) {
  const std::string* text = str_field(req, "platform");
  if (!text) return images::host_platform();
  std::vector<std::string> parts;
  for (size_t s = 0;;) {
    size_t e = text->find('/', s);
    parts.push_back(text->substr(s, e == std::string::npos ? std::string::npos : e - s));
    if (e == std::string::npos) break;
    s = e + 1;
  }
  bool good = parts.size() == 2 || parts.size() == 3;
  for (const auto& p : parts) good = good && !p.empty();
  if (!good) return Error::msg("platform: expected os/arch[/variant], got \"" + *text + "\"");
  images::Platform p;
  p.os = parts[0];
  p.architecture = parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  return images::normalize_platform(p);
}

// A CA bundle the client sent, in a private file for the registry client
// while the transfer runs; removed with this object.
class CaFile {
public:
  ~CaFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  Result<std::string> write(const std::string& dir, const std::string& pem) {
    BERTH_TRY(fs::mkdir_p(dir, 0700));
    std::string templ = fs::join(dir, "ca-XXXXXX");
    int fd = ::mkstemp(templ.data());
    if (fd < 0) return Error::os("mkstemp " + templ);
    UniqueFd f(fd);
    path_ = templ;
    BERTH_TRY(write_all(f.get(), pem));
    return path_;
  }

private:
  std::string path_;
};

// Collects the images library's progress into one document and hands it
// to the operation: every state change and note as a change (an event),
// byte counts at most four times a second.
class ReportProgress final : public images::Progress {
public:
  explicit ReportProgress(const ProgressReport& report) : report_(report) {}

  void blob(const images::Digest& d, std::string_view kind, images::BlobState s, uint64_t done,
            uint64_t total) override {
    std::lock_guard lock(mu_);
    auto it = std::find_if(blobs_.begin(), blobs_.end(), [&](const Blob& b) { return b.digest == d.str(); });
    bool changed = it == blobs_.end() || it->state != s;
    if (it == blobs_.end()) it = blobs_.insert(blobs_.end(), Blob{d.str(), std::string(kind), s, 0, 0});
    it->state = s;
    it->done = done;
    it->total = total;
    auto now = std::chrono::steady_clock::now();
    if (!changed && now - last_ < 250ms) return;
    last_ = now;
    emit(changed ? blob_json(*it) : json::Value());
  }

  void note(std::string_view line) override {
    std::lock_guard lock(mu_);
    notes_.emplace_back(line);
    json::Value change = json::Value::object();
    change.set("note", std::string(line));
    emit(change);
  }

  void finish() override {
    std::lock_guard lock(mu_);
    emit(json::Value());
  }

private:
  struct Blob {
    std::string digest, kind;
    images::BlobState state;
    uint64_t done, total;
  };

  static json::Value blob_json(const Blob& b) {
    json::Value o = json::Value::object();
    o.set("digest", b.digest);
    o.set("kind", b.kind);
    o.set("state", std::string(images::blob_state_name(b.state)));
    o.set("done", b.done);
    o.set("total", b.total);
    return o;
  }

  void emit(const json::Value& change) {
    if (!report_) return;
    json::Value doc = json::Value::object(), blobs = json::Value::array(), notes = json::Value::array();
    for (const auto& b : blobs_) blobs.push_back(blob_json(b));
    for (const auto& n : notes_) notes.push_back(n);
    doc.set("blobs", std::move(blobs));
    doc.set("notes", std::move(notes));
    report_(doc, change);
  }

  const ProgressReport& report_;
  std::mutex mu_;
  std::vector<Blob> blobs_;
  std::vector<std::string> notes_;
  std::chrono::steady_clock::time_point last_{};
};

// The registry options a pull or push request names; a CA bundle goes to
// `ca`, under `tmp_dir`.
Result<images::RegistryOptions> registry_options(const json::Value& req, const std::string& tmp_dir, CaFile& ca) {
  images::RegistryOptions o;
  if (const std::string* c = str_field(req, "credentials"))
    o.credentials = BERTH_TRY(images::parse_credentials(*c, "credentials"));
  if (const json::Value* p = req.find("plain_http")) o.plain_http = p->as_bool();
  if (const std::string* pem = str_field(req, "ca")) {
    if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return Error::msg("ca: expected PEM certificates (-----BEGIN CERTIFICATE-----)");
    o.ca_file = BERTH_TRY(ca.write(tmp_dir, *pem));
  }
  return o;
}

json::Value strings_json(const std::vector<std::string>& v) {
  json::Value a = json::Value::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

// "1000", "1000:1000": a numeric user; names are refused (they would need
// the image's /etc/passwd).
Result<std::pair<uint32_t, uint32_t>> numeric_user(const std::string& user, const std::string& image) {
  if (user.empty()) return std::pair<uint32_t, uint32_t>{0, 0};
  size_t colon = user.find(':');
  std::string u = user.substr(0, colon), g = colon == std::string::npos ? u : user.substr(colon + 1);
  auto num = [](const std::string& s) -> std::optional<uint32_t> {
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return static_cast<uint32_t>(std::stoul(s));
  };
  auto uid = num(u), gid = num(g);
  if (!uid || !gid)
    return Error::msg("template: image " + image + " runs as user \"" + user + "\"; only numeric uid[:gid] users are supported");
  return std::pair{*uid, *gid};
}

}  // namespace

Status NodeService::check_image_transfer(const json::Value& req, bool push) {
  const images::Store* s = BERTH_TRY(store());
  BERTH_TRY(images::parse_reference(*str_field(req, "ref")));
  if (const std::string* c = str_field(req, "credentials")) BERTH_TRY(images::parse_credentials(*c, "credentials"));
  if (!push) {
    BERTH_TRY(platform_of(req));
    if (const std::string* t = str_field(req, "tag")) BERTH_TRY_CTX(images::parse_reference(*t), "tag");
    return ok();
  }
  const std::string& image = *str_field(req, "image");
  if (!images::find_tag(*s, image)) return Error(ENOENT, "image: no image " + image + " in the node's store");
  return ok();
}

Result<json::Value> NodeService::pull_image(const json::Value& req, const ProgressReport& report,
                                            const CancelFlag& cancel) {
  const images::Store* s = BERTH_TRY(store());
  images::Reference ref = BERTH_TRY(images::parse_reference(*str_field(req, "ref")));
  CaFile ca;
  images::PullOptions o;
  o.registry = BERTH_TRY(registry_options(req, fs::join(o_.layout.run_dir, "tmp"), ca));
  o.registry.cancel = cancel;
  o.platform = BERTH_TRY(platform_of(req));
  // Layers are unpacked when a container's disk is made, shifted into its
  // id range; an unshifted copy now would go unused.
  o.unpack = false;
  if (const std::string* t = str_field(req, "tag")) o.tag = *t;
  ReportProgress progress(report);
  o.progress = &progress;
  auto r = images::pull(*s, ref, o);
  progress.finish();
  if (!r) return std::move(r).error();
  json::Value out = json::Value::object();
  out.set("tag", r->tag);
  out.set("digest", r->manifest.digest.str());
  out.set("resolved", r->resolved.str());
  if (r->manifest.platform) out.set("platform", r->manifest.platform->str());
  out.set("layers", static_cast<uint64_t>(r->layers));
  out.set("bytes_fetched", r->bytes_fetched);
  events_.publish("image-pulled", r->tag, out);
  return out;
}

Result<json::Value> NodeService::push_image(const json::Value& req, const ProgressReport& report,
                                            const CancelFlag& cancel) {
  const images::Store* s = BERTH_TRY(store());
  images::Reference dest = BERTH_TRY(images::parse_reference(*str_field(req, "ref")));
  std::string tag = BERTH_TRY(images::find_tag(*s, *str_field(req, "image")));
  CaFile ca;
  images::PushOptions o;
  o.registry = BERTH_TRY(registry_options(req, fs::join(o_.layout.run_dir, "tmp"), ca));
  o.registry.cancel = cancel;
  ReportProgress progress(report);
  o.progress = &progress;
  auto d = images::push(*s, tag, dest, o);
  progress.finish();
  if (!d) return std::move(d).error();
  json::Value out = json::Value::object();
  out.set("image", tag);
  out.set("ref", dest.str());
  out.set("digest", d->str());
  events_.publish("image-pushed", tag, out);
  return out;
}

std::vector<std::string> NodeService::image_users(const std::string& tag) {
  std::vector<std::string> users;
  std::lock_guard lock(mu_);
  for (const Entry* e : reg_.all())
    if (e->record.template_tag == tag) users.push_back(e->record.name);
  return users;
}

Result<json::Value> NodeService::inspect_image(const std::string& ref) {
  const images::Store* s = BERTH_TRY(store());
  std::string tag = BERTH_TRY(images::find_tag(*s, ref));
  images::Image img = BERTH_TRY(images::load_image(*s, tag));
  json::Value o = json::Value::object();
  o.set("tag", tag);
  o.set("digest", img.descriptor.digest.str());
  o.set("media_type", img.manifest.media_type);
  o.set("platform", img.config.platform.str());
  uint64_t size = img.manifest.config.size;
  json::Value layers = json::Value::array();
  for (const auto& l : img.manifest.layers) {
    json::Value x = json::Value::object();
    x.set("digest", l.digest.str());
    x.set("media_type", l.media_type);
    x.set("size", l.size);
    layers.push_back(std::move(x));
    size += l.size;
  }
  o.set("size", size);
  o.set("layers", std::move(layers));
  json::Value cfg = json::Value::object();
  cfg.set("digest", img.manifest.config.digest.str());
  cfg.set("entrypoint", strings_json(img.config.entrypoint));
  cfg.set("cmd", strings_json(img.config.cmd));
  cfg.set("env", strings_json(img.config.env));
  cfg.set("working_dir", img.config.working_dir);
  cfg.set("user", img.config.user);
  cfg.set("stop_signal", img.config.stop_signal);
  json::Value labels = json::Value::object();
  for (const auto& [k, v] : img.config.labels) labels.set(k, v);
  cfg.set("labels", std::move(labels));
  o.set("config", std::move(cfg));
  o.set("used_by", strings_json(image_users(tag)));
  return o;
}

Result<json::Value> NodeService::remove_image(const std::string& ref) {
  const images::Store* s = BERTH_TRY(store());
  std::string tag = BERTH_TRY(images::find_tag(*s, ref));
  auto users = image_users(tag);
  if (!users.empty()) {
    std::string names;
    for (const auto& n : users) names += (names.empty() ? "" : ", ") + n;
    return Error(EBUSY, "image " + tag + " is used by container" + (users.size() > 1 ? "s " : " ") + names +
                            ": destroy " + (users.size() > 1 ? "them" : "it") + " first");
  }
  BERTH_TRY(s->untag(tag));
  json::Value o = json::Value::object();
  o.set("tag", tag);
  events_.publish("image-removed", tag, o);
  return o;
}

Result<json::Value> NodeService::prune_images() {
  const images::Store* s = BERTH_TRY(store());
  images::GcStats st = BERTH_TRY_CTX(s->gc(), "prune");
  json::Value o = json::Value::object();
  o.set("blobs_removed", st.blobs_removed);
  o.set("bytes_removed", st.bytes_removed);
  o.set("layers_removed", st.layers_removed);
  o.set("temps_removed", st.temps_removed);
  events_.publish("images-pruned", "", o);
  return o;
}

Result<std::vector<ImageSummary>> NodeService::images() {
  const images::Store* s = BERTH_TRY(store());
  auto list = BERTH_TRY(s->list());
  std::vector<ImageSummary> out;
  for (const auto& d : list) {
    ImageSummary i;
    for (const auto& [k, v] : d.annotations)
      if (k == images::ref_name_annotation) i.tag = v;
    i.digest = d.digest.str();
    i.size = d.size;
    if (d.platform) i.platform = d.platform->str();
    out.push_back(std::move(i));
  }
  return out;
}

Result<json::Value> NodeService::build_template(const TemplateRequest& req) {
  const images::Store* s = BERTH_TRY(store());
  const std::string& kind = req.kind;
  const std::string& tag = req.tag;
  if (kind != "busybox" && kind != "debian")
    return Error::msg("template: expected busybox or debian, got \"" + kind + "\"");
  if (kind == "busybox" && (!req.packages.empty() || !req.suite.empty() || !req.mirror.empty()))
    return Error::msg(std::string(!req.packages.empty() ? "packages" : !req.suite.empty() ? "suite" : "mirror") +
                      ": the busybox template takes none");
  images::DebianTemplate debian;
  debian.packages = req.packages;
  if (!req.suite.empty()) debian.suite = req.suite;
  if (!req.mirror.empty()) debian.mirror = req.mirror;
  auto d = kind == "busybox" ? images::build_busybox_template(*s, tag, images::BusyboxTemplate{})
                             : images::build_debian_template(*s, tag, debian);
  if (!d) return std::move(d).error().wrap("build-template");
  json::Value o = json::Value::object();
  o.set("tag", tag);
  o.set("digest", d->digest.str());
  events_.publish("image-built", tag, o);
  return o;
}

Status NodeService::check_app_image(const images::Image& image) const {
  const auto& c = image.config;
  if (c.entrypoint.empty() && c.cmd.empty())
    return Error::msg("template: image " + image.tag + " has no init label (" + std::string(images::kInitLabel) +
                      ") and no entrypoint or cmd to run; pass --init busybox|systemd if it boots /sbin/init");
  BERTH_TRY(numeric_user(c.user, image.tag));
  return ok();
}

Status NodeService::write_app_process(const Record& r) {
  const images::Store* s = BERTH_TRY(store());
  images::Image img = BERTH_TRY_CTX(images::load_image(*s, r.template_tag), "template");
  const auto& c = img.config;
  json::Value args = json::Value::array();
  for (const auto& a : c.entrypoint) args.push_back(a);
  for (const auto& a : c.cmd) args.push_back(a);
  json::Value env = json::Value::array();
  bool has_path = false, has_term = false;
  for (const auto& e : c.env) {
    has_path = has_path || e.starts_with("PATH=");
    has_term = has_term || e.starts_with("TERM=");
    env.push_back(e);
  }
  if (!has_path) env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (!has_term) env.push_back("TERM=xterm");
  env.push_back("container=berth");
  auto [uid, gid] = BERTH_TRY(numeric_user(c.user, img.tag));
  json::Value p = json::Value::object();
  p.set("args", std::move(args));
  p.set("env", std::move(env));
  p.set("cwd", c.working_dir.empty() ? "/" : c.working_dir);
  p.set("uid", uid);
  p.set("gid", gid);
  return fs::write_file_atomic(o_.layout.app_process(r.name), json::dump(p, true) + "\n", 0644);
}

}  // namespace berth::supervisor
