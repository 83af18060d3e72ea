// cmd_disk.cpp — `disk` (container disks: create, mount, umount, resize,
// snapshot, rollback, snapshots, rm-snapshot, commit, export, import,
// destroy) and `build-template` (busybox, debian).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>

#include "args.h"
#include "berth/base/fd.h"
#include "berth/images/disk.h"
#include "berth/images/progress.h"
#include "berth/images/template.h"
#include "commands.h"

namespace berth::image_cli {

using namespace images;

namespace {

// "UID:GID" or "UID:GID:SIZE".
Result<IdShift> parse_shift(const std::string& text) {
  IdShift s;
  unsigned long u = 0, g = 0, n = 65536;
  char tail = 0;
  int got = std::sscanf(text.c_str(), "%lu:%lu:%lu%c", &u, &g, &n, &tail);
  if ((got != 2 && got != 3) || u > UINT32_MAX || g > UINT32_MAX || n == 0 || n > UINT32_MAX)
    return Error::msg("--shift: \"" + text + "\" is not UID:GID[:SIZE]");
  s.uid = static_cast<uint32_t>(u);
  s.gid = static_cast<uint32_t>(g);
  s.size = static_cast<uint32_t>(n);
  return s;
}

Status disk_create(const Globals& g, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(
      parse_flags("disk create", argv, {Flag::size({"size"}), Flag::text({"shift"}), Flag::text({"platform"})}));
  BERTH_TRY(a.expect({"IMAGE", "DIR"}));
  DiskOptions o;
  o.size_bytes = a.size("size", o.size_bytes);
  if (a.has("shift")) o.shift = BERTH_TRY(parse_shift(a.get("shift")));
  o.platform = BERTH_TRY(parse_platform_flag(a.get("platform")));
  Store store = BERTH_TRY(Store::open(g.store));
  DiskInfo d = BERTH_TRY(create_disk(store, a.positional()[0], a.positional()[1], o));
  print(a.positional()[1] + ": " + human_bytes(d.size_bytes) + " disk from " + d.image + "\n");
  return {};
}

Status disk_snapshots(const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags("disk snapshots", argv, {}));
  BERTH_TRY(a.expect({"DIR"}));
  std::string out;
  for (const auto& s : BERTH_TRY(list_snapshots(a.positional()[0]))) {
    char when[32];
    time_t t = s.created;
    struct tm tm;
    ::gmtime_r(&t, &tm);
    ::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    out += s.name + "\t" + when + "\t" + human_bytes(s.size_bytes) + "\n";
  }
  print(out);
  return {};
}

// The stream's end: FILE, or stdin/stdout when FILE is absent or "-".
Result<UniqueFd> open_stream(const std::vector<std::string>& pos, bool write) {
  int std_fd = write ? STDOUT_FILENO : STDIN_FILENO;
  if (pos.size() < 2 || pos[1] == "-") {
    if (::isatty(std_fd))
      return Error::msg(std::string("refusing to ") + (write ? "write the stream to" : "read the stream from") +
                        " a terminal (name a FILE or use a pipe)");
    UniqueFd fd(::fcntl(std_fd, F_DUPFD_CLOEXEC, 0));
    if (!fd.valid()) return Error::os(write ? "dup stdout" : "dup stdin");
    return fd;
  }
  int flags = write ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY;
  UniqueFd fd(::open(pos[1].c_str(), flags | O_CLOEXEC, 0600));
  if (!fd.valid()) return Error::os("open " + pos[1]);
  return fd;
}

// disk export DIR [FILE] | disk import DIR [FILE]. A failed export
// removes the regular FILE it began (never a device); the summary goes to
// stderr when the stream is on stdout.
Status disk_transfer(const Globals& g, const std::string& verb, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags("disk " + verb, argv, {}));
  const auto& pos = a.positional();
  if (pos.size() != 1) BERTH_TRY(a.expect({"DIR", "FILE"}));
  bool out = verb == "export", to_stdout = out && (pos.size() < 2 || pos[1] == "-");
  UniqueFd fd = BERTH_TRY(open_stream(pos, out));
  struct stat st;
  bool partial_file = out && !to_stdout && ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode);
  // A reader that goes away is a write error (EPIPE), not a silent death.
  if (out) std::signal(SIGPIPE, SIG_IGN);
  auto s = out ? export_disk_changes(pos[0], fd.get()) : import_disk_changes(pos[0], fd.get());
  if (out && s && ::close(fd.release()) < 0) s = Error::os("disk export: close " + (to_stdout ? "stdout" : pos[1]));
  if (!s) {
    if (partial_file) ::unlink(pos[1].c_str());
    return std::move(s).error();
  }
  if (g.quiet) return {};
  std::string line = pos[0] + ": " + (out ? "exported " : "imported ") + std::to_string(s->entries) +
                     " entries, " + human_bytes(s->bytes) + " of tar (" + s->diff_id.str() + ")\n";
  if (to_stdout)
    std::fputs(line.c_str(), stderr);
  else
    print(line);
  return {};
}

// disk VERB DIR [ARG]: the verbs that take a directory and at most a name.
Status disk_simple(const std::string& verb, const std::vector<std::string>& argv, const Globals& g) {
  bool with_arg = verb == "resize" || verb == "snapshot" || verb == "rollback" || verb == "rm-snapshot" ||
                  verb == "commit";
  Args a = BERTH_TRY(parse_flags("disk " + verb, argv, {}));
  if (with_arg)
    BERTH_TRY(a.expect({"DIR", verb == "resize" ? "SIZE" : verb == "commit" ? "TAG" : "NAME"}));
  else
    BERTH_TRY(a.expect({"DIR"}));
  const std::string& dir = a.positional()[0];
  if (verb == "mount") {
    print(BERTH_TRY(mount_disk(dir)) + "\n");
  } else if (verb == "umount") {
    BERTH_TRY(unmount_disk(dir));
  } else if (verb == "destroy") {
    BERTH_TRY(destroy_disk(dir));
  } else if (verb == "resize") {
    BERTH_TRY(resize_disk(dir, BERTH_TRY(parse_size(a.positional()[1], "SIZE"))));
  } else if (verb == "snapshot") {
    BERTH_TRY(snapshot_disk(dir, a.positional()[1]));
  } else if (verb == "rollback") {
    BERTH_TRY(rollback_disk(dir, a.positional()[1]));
  } else if (verb == "rm-snapshot") {
    BERTH_TRY(delete_snapshot(dir, a.positional()[1]));
  } else if (verb == "commit") {
    Store store = BERTH_TRY(Store::open(g.store));
    Descriptor d = BERTH_TRY(commit_disk(store, dir, a.positional()[1]));
    print(a.positional()[1] + " " + d.digest.str() + "\n");
  } else {
    return Error::msg("disk: unknown verb \"" + verb + "\"");
  }
  return {};
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

Status cmd_disk(const Globals& g, const std::vector<std::string>& argv) {
  if (argv.empty()) return Error::msg("disk: missing verb (create, mount, umount, resize, snapshot, rollback, "
                                      "snapshots, rm-snapshot, commit, export, import, destroy)");
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "create") return disk_create(g, rest);
  if (argv[0] == "export" || argv[0] == "import") return disk_transfer(g, argv[0], rest);
  if (argv[0] == "snapshots") return disk_snapshots(rest);
  return disk_simple(argv[0], rest, g);
}

Status cmd_build_template(const Globals& g, const std::vector<std::string>& argv) {
  if (argv.empty()) return Error::msg("build-template: missing kind (busybox or debian)");
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  Store store = BERTH_TRY(Store::open(g.store));
  if (argv[0] == "busybox") {
    Args a =
        BERTH_TRY(parse_flags("build-template busybox", rest, {Flag::text({"busybox"}), Flag::text({"hostname"})}));
    BERTH_TRY(a.expect({"TAG"}));
    BusyboxTemplate o;
    o.busybox = a.get("busybox", o.busybox);
    o.hostname = a.get("hostname", o.hostname);
    Descriptor d = BERTH_TRY(build_busybox_template(store, a.positional()[0], o));
    print(a.positional()[0] + " " + d.digest.str() + "\n");
    return {};
  }
  if (argv[0] == "debian") {
    Args a = BERTH_TRY(parse_flags("build-template debian", rest,
                                   {Flag::text({"suite"}), Flag::text({"mirror"}), Flag::text({"variant"}),
                                    Flag::text({"packages"}), Flag::boolean({"rebuild"}), Flag::boolean({"verbose"})}));
    BERTH_TRY(a.expect({"TAG"}));
    DebianTemplate o;
    o.suite = a.get("suite", o.suite);
    o.mirror = a.get("mirror", o.mirror);
    o.variant = a.get("variant", o.variant);
    o.packages = split_commas(a.get("packages"));
    o.rebuild = a.has("rebuild");
    o.verbose = a.has("verbose");
    Descriptor d = BERTH_TRY(build_debian_template(store, a.positional()[0], o));
    print(a.positional()[0] + " " + d.digest.str() + "\n");
    return {};
  }
  return Error::msg("build-template: unknown kind \"" + argv[0] + "\" (busybox or debian)");
}

}  // namespace berth::image_cli
