// criu_rpc.h — the messages of CRIU's RPC protocol (images/rpc.proto,
// proto2), encoded and decoded by hand: the runtime speaks to `criu swrk`
// the way runc and crun do, without a protobuf library in its binary.
// Only the fields the runtime sets or reads are here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/base/error.h"

namespace berth::runtime::criu {

enum class ReqType : int {
  empty = 0,
  dump = 1,
  restore = 2,
  check = 3,
  pre_dump = 4,
  page_server = 5,
  notify = 6,
  feature_check = 9,
  version = 10,
};

/// criu_cg_mode.
enum class CgMode : int { ignore = 0, none = 1, props = 2, soft = 3, full = 4, strict = 5, dflt = 6 };
/// "soft", "full", "strict", "ignore" (runc's --manage-cgroups-mode words).
Result<CgMode> parse_cg_mode(const std::string& s);

/// criu_opts: unset fields are not sent (criu's defaults apply).
struct Opts {
  int images_dir_fd = -1;  // required
  std::optional<int> pid;
  bool leave_running = false, ext_unix_sk = false, tcp_established = false, shell_job = false, file_locks = false;
  bool evasive_devices = false;
  std::optional<int> log_level;
  std::string log_file;
  std::string ps_address;  // page server
  std::optional<int> ps_port;
  bool notify_scripts = false;
  std::string root;
  std::string parent_img;
  bool track_mem = false, auto_dedup = false;
  std::optional<int> work_dir_fd;
  std::vector<std::pair<std::string, std::string>> ext_mnt;  // key (path inside), val
  bool manage_cgroups = false;
  std::vector<std::pair<std::string, std::string>> cg_root;  // ctrl ("" for all), path
  bool rst_sibling = false;
  std::vector<std::pair<std::string, int>> inherit_fd;  // key, fd in criu
  std::optional<CgMode> manage_cgroups_mode;
  std::vector<std::string> external;
  std::optional<uint32_t> empty_ns;
  std::vector<std::pair<std::string, std::string>> join_ns;  // ns ("ipc"), ns_file
  std::string freeze_cgroup;
  bool lazy_pages = false;
  std::optional<int> status_fd;
  bool orphan_pts_master = false;
  std::string lsm_profile;
};

struct Request {
  ReqType type = ReqType::empty;
  const Opts* opts = nullptr;
  std::optional<bool> notify_success;
  /// FEATURE_CHECK: the features asked about.
  bool ask_mem_track = false, ask_lazy_pages = false;
};

struct Response {
  ReqType type = ReqType::empty;
  bool success = false;
  std::optional<bool> dump_restored;
  std::optional<int> restore_pid;
  std::string notify_script;
  std::optional<int> notify_pid;
  std::optional<int> cr_errno;
  std::string cr_errmsg;
  std::optional<bool> mem_track, lazy_pages;  // FEATURE_CHECK's answer
  std::optional<int> version_major, version_minor, version_sublevel;
};

std::string encode(const Request& r);
/// A malformed message is an error naming what was wrong with it.
Result<Response> decode(std::string_view bytes);

}  // namespace berth::runtime::criu
