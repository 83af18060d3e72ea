// disk_snapshot.cpp — snapshot, rollback, list and delete of a container
// disk's contents (copies of its sparse ext4 image).
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>

#include "berth/base/fd.h"
#include "berth/base/fs.h"
#include "berth/base/json.h"
#include "berth/images/disk.h"
#include "disk_internal.h"
#include "loop.h"

namespace berth::images {
namespace {

using json::Value;

std::string snaps(const std::string& dir) { return fs::join(dir, "snapshots"); }

Status check_name(std::string_view name) {
  bool good = !name.empty() && name.size() <= 64 && name[0] != '.' &&
              std::all_of(name.begin(), name.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
              });
  if (!good)
    return Error::msg("snapshot name \"" + std::string(name) +
                      "\": use 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
  return ok();
}

Status fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) < 0) return Error::os("fsync " + dir);
  return ok();
}

Status snapshot_in(const std::string& dir, const std::string& name) {
  BERTH_TRY(check_name(name));
  DiskInfo d = BERTH_TRY(read_disk(dir));
  BERTH_TRY(fs::mkdir_p(snaps(dir), 0700));
  std::string img = fs::join(snaps(dir), name + ".img"), meta = fs::join(snaps(dir), name + ".json");
  if (fs::exists(img)) return Error(EEXIST, "snapshot " + name + " exists");
  std::string tmp = img + ".tmp";
  ::unlink(tmp.c_str());
  Defer drop([&] { ::unlink(tmp.c_str()); });
  {
    // A mounted disk is frozen (writers block, the journal is clean) for
    // the copy, so the snapshot is a consistent file system.
    std::optional<loop::Freeze> freeze;
    if (loop::is_mount_of(disk::mnt(dir), EXT4_SUPER_MAGIC)) freeze.emplace(BERTH_TRY(loop::Freeze::at(disk::mnt(dir))));
    else BERTH_TRY(disk::wait_detached(dir));
    BERTH_TRY(loop::copy_sparse(disk::img(dir), tmp));
  }
  Value v = Value::object();
  v.set("name", name);
  v.set("created", static_cast<int64_t>(::time(nullptr)));
  v.set("size", d.size_bytes);
  BERTH_TRY(fs::write_file_atomic(meta, json::dump(v, true) + "\n", 0600));
  if (::rename(tmp.c_str(), img.c_str()) < 0) return Error::os("rename " + tmp);
  drop.dismiss();
  return fsync_dir(snaps(dir));
}

Result<SnapshotInfo> read_snapshot(const std::string& dir, const std::string& name) {
  std::string meta = fs::join(snaps(dir), name + ".json");
  Value v = BERTH_TRY_CTX(json::parse(BERTH_TRY(fs::read_file(meta))), meta);
  const Value *c = v.find("created"), *s = v.find("size");
  if (!c || !c->is_int() || !s || !s->is_uint()) return Error::msg(meta + ": expected created and size");
  return SnapshotInfo{name, c->as_int(), s->as_uint()};
}

Status rollback_in(const std::string& dir, const std::string& name) {
  BERTH_TRY(check_name(name));
  if (disk_mounted(dir) || loop::is_mount_of(disk::mnt(dir), EXT4_SUPER_MAGIC))
    return Error(EBUSY, "the disk is mounted (stop the container first)");
  DiskInfo d = BERTH_TRY(read_disk(dir));
  std::string img = fs::join(snaps(dir), name + ".img");
  if (!fs::exists(img)) return Error(ENOENT, "snapshot " + name + ": no such snapshot");
  SnapshotInfo s = BERTH_TRY(read_snapshot(dir, name));
  std::string tmp = disk::img(dir) + ".tmp";
  ::unlink(tmp.c_str());
  Defer drop([&] { ::unlink(tmp.c_str()); });
  BERTH_TRY(loop::copy_sparse(img, tmp));
  // The size goes with the contents; disk.json first, so a crash between
  // the two leaves a size that matches one of them and resize can repair it.
  d.size_bytes = s.size_bytes;
  BERTH_TRY(disk::write_info(dir, d));
  if (::rename(tmp.c_str(), disk::img(dir).c_str()) < 0) return Error::os("rename " + tmp);
  drop.dismiss();
  return fsync_dir(dir);
}

}  // namespace

Status snapshot_disk(const std::string& dir, std::string_view name) {
  auto st = snapshot_in(dir, std::string(name));
  if (!st) return std::move(st).error().wrap("snapshot disk " + dir);
  return ok();
}

Status rollback_disk(const std::string& dir, std::string_view name) {
  auto st = rollback_in(dir, std::string(name));
  if (!st) return std::move(st).error().wrap("roll back disk " + dir + " to " + std::string(name));
  return ok();
}

Result<std::vector<SnapshotInfo>> list_snapshots(const std::string& dir) {
  std::vector<SnapshotInfo> out;
  if (!fs::exists(snaps(dir))) return out;
  for (const auto& f : BERTH_TRY(fs::list_dir(snaps(dir)))) {
    if (f.size() < 6 || f.compare(f.size() - 5, 5, ".json") != 0) continue;
    std::string name = f.substr(0, f.size() - 5);
    if (!fs::exists(fs::join(snaps(dir), name + ".img"))) continue;
    out.push_back(BERTH_TRY(read_snapshot(dir, name)));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.created < b.created || (a.created == b.created && a.name < b.name); });
  return out;
}

Status delete_snapshot(const std::string& dir, std::string_view name) {
  std::string n(name);
  BERTH_TRY(check_name(n));
  std::string img = fs::join(snaps(dir), n + ".img");
  if (!fs::exists(img)) return Error(ENOENT, "delete snapshot " + n + " of " + dir + ": no such snapshot");
  if (::unlink(img.c_str()) < 0) return Error::os("delete " + img);
  ::unlink(fs::join(snaps(dir), n + ".json").c_str());
  return ok();
}

}  // namespace berth::images
