// criu_rpc.cpp — protobuf's wire format for the few CRIU RPC messages the
// runtime uses: varints, length-delimited strings and sub-messages.
#include "criu_rpc.h"

#include <functional>

namespace berth::runtime::criu {
namespace {

enum Wire : uint32_t { varint = 0, fixed64 = 1, len = 2, fixed32 = 5 };

class Writer {
public:
  void raw_varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void tag(uint32_t field, Wire w) { raw_varint((static_cast<uint64_t>(field) << 3) | w); }
  // int32 and enums: a negative value is sign-extended to ten bytes.
  void int32(uint32_t field, int64_t v) {
    tag(field, varint);
    raw_varint(static_cast<uint64_t>(v));
  }
  void uint32(uint32_t field, uint32_t v) {
    tag(field, varint);
    raw_varint(v);
  }
  void boolean(uint32_t field, bool v) { int32(field, v ? 1 : 0); }
  void bytes(uint32_t field, std::string_view s) {
    tag(field, len);
    raw_varint(s.size());
    out_.append(s);
  }
  void message(uint32_t field, const std::function<void(Writer&)>& fill) {
    Writer sub;
    fill(sub);
    bytes(field, sub.out_);
  }
  const std::string& str() const { return out_; }

private:
  std::string out_;
};

// A field as read: its number, and either a varint or its bytes.
struct Field {
  uint32_t number = 0;
  Wire wire = varint;
  uint64_t value = 0;
  std::string_view bytes;
};

class Reader {
public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool done() const { return pos_ >= in_.size(); }

  Result<uint64_t> raw_varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Error::msg("a varint runs past the end");
      auto b = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return Error::msg("a varint longer than ten bytes");
  }

  Result<Field> next() {
    Field f;
    uint64_t key = BERTH_TRY(raw_varint());
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire = static_cast<Wire>(key & 7);
    if (f.number == 0) return Error::msg("field number 0");
    switch (f.wire) {
      case varint: f.value = BERTH_TRY(raw_varint()); return f;
      case fixed64:
      case fixed32: {
        size_t n = f.wire == fixed64 ? 8 : 4;
        if (in_.size() - pos_ < n) return Error::msg("field " + std::to_string(f.number) + " runs past the end");
        f.bytes = in_.substr(pos_, n);
        pos_ += n;
        return f;
      }
      case len: {
        uint64_t n = BERTH_TRY(raw_varint());
        if (n > in_.size() - pos_) return Error::msg("field " + std::to_string(f.number) + " runs past the end");
        f.bytes = in_.substr(pos_, n);
        pos_ += n;
        return f;
      }
    }
    return Error::msg("field " + std::to_string(f.number) + ": unknown wire type " + std::to_string(key & 7));
  }

private:
  std::string_view in_;
  size_t pos_ = 0;
};

// Calls `on` for every field of `bytes`.
berth::Status each_field(std::string_view bytes, const std::function<berth::Status(const Field&)>& on) {
  Reader r(bytes);
  while (!r.done()) {
    Field f = BERTH_TRY(r.next());
    BERTH_TRY(on(f));
  }
  return {};
}

Result<uint64_t> want_varint(const Field& f, const char* name) {
  if (f.wire != varint) return Error::msg(std::string(name) + ": not a varint");
  return f.value;
}

Result<std::string_view> want_bytes(const Field& f, const char* name) {
  if (f.wire != len) return Error::msg(std::string(name) + ": not length-delimited");
  return f.bytes;
}

int to_int32(uint64_t v) { return static_cast<int>(static_cast<int64_t>(v)); }

void encode_opts(Writer& w, const Opts& o) {
  w.int32(1, o.images_dir_fd);
  if (o.pid) w.int32(2, *o.pid);
  if (o.leave_running) w.boolean(3, true);
  if (o.ext_unix_sk) w.boolean(4, true);
  if (o.tcp_established) w.boolean(5, true);
  if (o.evasive_devices) w.boolean(6, true);
  if (o.shell_job) w.boolean(7, true);
  if (o.file_locks) w.boolean(8, true);
  if (o.log_level) w.int32(9, *o.log_level);
  if (!o.log_file.empty()) w.bytes(10, o.log_file);
  if (!o.ps_address.empty() || o.ps_port)
    w.message(11, [&](Writer& s) {
      if (!o.ps_address.empty()) s.bytes(1, o.ps_address);
      if (o.ps_port) s.int32(2, *o.ps_port);
    });
  if (o.notify_scripts) w.boolean(12, true);
  if (!o.root.empty()) w.bytes(13, o.root);
  if (!o.parent_img.empty()) w.bytes(14, o.parent_img);
  if (o.track_mem) w.boolean(15, true);
  if (o.auto_dedup) w.boolean(16, true);
  if (o.work_dir_fd) w.int32(17, *o.work_dir_fd);
  for (const auto& e : o.ext_mnt)
    w.message(23, [&](Writer& s) {
      s.bytes(1, e.first);
      s.bytes(2, e.second);
    });
  if (o.manage_cgroups) w.boolean(24, true);
  for (const auto& e : o.cg_root)
    w.message(25, [&](Writer& s) {
      if (!e.first.empty()) s.bytes(1, e.first);
      s.bytes(2, e.second);
    });
  if (o.rst_sibling) w.boolean(26, true);
  for (const auto& e : o.inherit_fd)
    w.message(27, [&](Writer& s) {
      s.bytes(1, e.first);
      s.int32(2, e.second);
    });
  if (o.manage_cgroups_mode) w.int32(34, static_cast<int>(*o.manage_cgroups_mode));
  for (const auto& e : o.external) w.bytes(37, e);
  if (o.empty_ns) w.uint32(38, *o.empty_ns);
  for (const auto& e : o.join_ns)
    w.message(39, [&](Writer& s) {
      s.bytes(1, e.first);
      s.bytes(2, e.second);
    });
  if (!o.freeze_cgroup.empty()) w.bytes(44, o.freeze_cgroup);
  if (o.lazy_pages) w.boolean(48, true);
  if (o.status_fd) w.int32(49, *o.status_fd);
  if (o.orphan_pts_master) w.boolean(50, true);
  if (!o.lsm_profile.empty()) w.bytes(53, o.lsm_profile);
}

}  // namespace

Result<CgMode> parse_cg_mode(const std::string& s) {
  if (s == "soft") return CgMode::soft;
  if (s == "full") return CgMode::full;
  if (s == "strict") return CgMode::strict;
  if (s == "ignore") return CgMode::ignore;
  return Error::msg("--manage-cgroups-mode: expected soft, full, strict or ignore, got \"" + s + "\"");
}

std::string encode(const Request& r) {
  Writer w;
  w.int32(1, static_cast<int>(r.type));
  if (r.opts) w.message(2, [&](Writer& s) { encode_opts(s, *r.opts); });
  if (r.notify_success) w.boolean(3, *r.notify_success);
  if (r.ask_mem_track || r.ask_lazy_pages)
    w.message(5, [&](Writer& s) {
      if (r.ask_mem_track) s.boolean(1, true);
      if (r.ask_lazy_pages) s.boolean(2, true);
    });
  return w.str();
}

Result<Response> decode(std::string_view bytes) {
  Response r;
  bool have_type = false, have_success = false;
  auto st = each_field(bytes, [&](const Field& f) -> berth::Status {
    switch (f.number) {
      case 1:
        r.type = static_cast<ReqType>(to_int32(BERTH_TRY(want_varint(f, "criu_resp.type"))));
        have_type = true;
        return {};
      case 2:
        r.success = BERTH_TRY(want_varint(f, "criu_resp.success")) != 0;
        have_success = true;
        return {};
      case 3:
        return each_field(BERTH_TRY(want_bytes(f, "criu_resp.dump")), [&](const Field& d) -> berth::Status {
          if (d.number == 1) r.dump_restored = BERTH_TRY(want_varint(d, "criu_dump_resp.restored")) != 0;
          return {};
        });
      case 4:
        return each_field(BERTH_TRY(want_bytes(f, "criu_resp.restore")), [&](const Field& d) -> berth::Status {
          if (d.number == 1) r.restore_pid = to_int32(BERTH_TRY(want_varint(d, "criu_restore_resp.pid")));
          return {};
        });
      case 5:
        return each_field(BERTH_TRY(want_bytes(f, "criu_resp.notify")), [&](const Field& d) -> berth::Status {
          if (d.number == 1) r.notify_script = std::string(BERTH_TRY(want_bytes(d, "criu_notify.script")));
          if (d.number == 2) r.notify_pid = to_int32(BERTH_TRY(want_varint(d, "criu_notify.pid")));
          return {};
        });
      case 7: r.cr_errno = to_int32(BERTH_TRY(want_varint(f, "criu_resp.cr_errno"))); return {};
      case 8:
        return each_field(BERTH_TRY(want_bytes(f, "criu_resp.features")), [&](const Field& d) -> berth::Status {
          if (d.number == 1) r.mem_track = BERTH_TRY(want_varint(d, "criu_features.mem_track")) != 0;
          if (d.number == 2) r.lazy_pages = BERTH_TRY(want_varint(d, "criu_features.lazy_pages")) != 0;
          return {};
        });
      case 9: r.cr_errmsg = std::string(BERTH_TRY(want_bytes(f, "criu_resp.cr_errmsg"))); return {};
      case 10:
        return each_field(BERTH_TRY(want_bytes(f, "criu_resp.version")), [&](const Field& d) -> berth::Status {
          if (d.number == 1) r.version_major = to_int32(BERTH_TRY(want_varint(d, "criu_version.major_number")));
          if (d.number == 2) r.version_minor = to_int32(BERTH_TRY(want_varint(d, "criu_version.minor_number")));
          if (d.number == 4) r.version_sublevel = to_int32(BERTH_TRY(want_varint(d, "criu_version.sublevel")));
          return {};
        });
      default: return {};  // fields the runtime does not read
    }
  });
  if (!st) return std::move(st).error().wrap("criu response");
  if (!have_type || !have_success) return Error::msg("criu response: required field type or success missing");
  return r;
}

}  // namespace berth::runtime::criu
