// cmd_checkpoint.cpp — `checkpoint` and `restore` (CRIU), with runc's flags.
#include "args.h"
#include "commands.h"

namespace berth::cli {
namespace {

const std::vector<Flag> kCriuFlags = {
    Flag::text({"image-path"}),          Flag::text({"work-path"}),    Flag::boolean({"tcp-established"}),
    Flag::boolean({"ext-unix-sk"}),      Flag::boolean({"shell-job"}), Flag::boolean({"file-locks"}),
    Flag::text({"manage-cgroups-mode"}), Flag::text({"empty-ns"}),     Flag::boolean({"auto-dedup"}),
    Flag::boolean({"lazy-pages"}),
};

std::vector<Flag> with(std::vector<Flag> more) {
  more.insert(more.end(), kCriuFlags.begin(), kCriuFlags.end());
  return more;
}

runtime::CriuOptions criu_options(const Args& a) {
  runtime::CriuOptions c;
  c.image_path = a.get("image-path");
  c.work_path = a.get("work-path");
  c.tcp_established = a.has("tcp-established");
  c.ext_unix_sk = a.has("ext-unix-sk");
  c.shell_job = a.has("shell-job");
  c.file_locks = a.has("file-locks");
  c.manage_cgroups_mode = a.get("manage-cgroups-mode");
  c.empty_ns = a.all("empty-ns");
  c.auto_dedup = a.has("auto-dedup");
  c.lazy_pages = a.has("lazy-pages");
  return c;
}

}  // namespace

Result<int> cmd_checkpoint(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(
      parse_flags(argv, with({Flag::text({"parent-path"}), Flag::boolean({"leave-running"}),
                              Flag::boolean({"pre-dump"}), Flag::text({"page-server"}), Flag::text({"status-fd"}),
                              Flag::boolean({"tcp-skip-in-flight"}), Flag::boolean({"link-remap"})})));
  runtime::CheckpointOptions o;
  o.id = BERTH_TRY(one_id(a.positional(), "checkpoint"));
  o.criu = criu_options(a);
  o.parent_path = a.get("parent-path");
  o.leave_running = a.has("leave-running");
  o.pre_dump = a.has("pre-dump");
  o.page_server = a.get("page-server");
  if (a.has("status-fd")) {
    std::string v = a.get("status-fd");
    char* end = nullptr;
    long fd = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || fd < -1 || fd > 1 << 20)
      return Error::msg("--status-fd: expected a descriptor number, got " + v);
    o.status_fd = static_cast<int>(fd);
  }
  BERTH_TRY(runtime::checkpoint(g, o));
  return 0;
}

Result<int> cmd_restore(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(
      argv, with({Flag::text({"bundle", "b"}), Flag::boolean({"detach", "d"}), Flag::text({"pid-file"}),
                  Flag::text({"console-socket"}), Flag::boolean({"no-subreaper"}), Flag::boolean({"no-pivot"}),
                  Flag::text({"lsm-profile"}), Flag::text({"lsm-mount-context"})})));
  runtime::RestoreOptions o;
  o.create.id = BERTH_TRY(one_id(a.positional(), "restore"));
  o.create.bundle = a.get("bundle", ".");
  o.create.pid_file = a.get("pid-file");
  o.create.console_socket = a.get("console-socket");
  o.create.no_pivot = a.has("no-pivot");
  o.create.no_subreaper = a.has("no-subreaper");
  o.criu = criu_options(a);
  o.detach = a.has("detach");
  o.lsm_profile = a.get("lsm-profile");
  if (!a.get("lsm-mount-context").empty())
    return Error::msg("restore: --lsm-mount-context: SELinux is not supported by this runtime");
  return runtime::restore(g, o);
}

}  // namespace berth::cli
