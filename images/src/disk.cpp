// disk.cpp — container disks: create, mount/unmount, resize, destroy.
// Snapshots are in disk_snapshot.cpp, commit in commit.cpp, export and
// import in disk_transfer.cpp.
#include "berth/images/disk.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "berth/base/command.h"
#include "berth/base/fd.h"
#include "berth/base/fs.h"
#include "berth/base/strings.h"
#include "berth/base/json.h"
#include "berth/images/image.h"
#include "disk_internal.h"
#include "loop.h"

namespace berth::images {

using json::Value;

Result<uint64_t> parse_size(std::string_view text, std::string_view field) {
  auto n = berth::parse_size(text);
  if (!n) return n.error().wrap(field);
  return n;
}

namespace disk {

std::string img(const std::string& dir) { return fs::join(dir, "disk.img"); }
std::string loop_note(const std::string& dir) { return fs::join(dir, "loop"); }
std::string mnt(const std::string& dir) { return fs::join(dir, "mnt"); }
std::string rootfs(const std::string& dir) { return fs::join(dir, "rootfs"); }
std::string upper(const std::string& dir) { return fs::join(mnt(dir), "upper"); }
std::string work(const std::string& dir) { return fs::join(mnt(dir), "work"); }

Status check_size(uint64_t size) {
  if (size < kMinDiskSize || size > kMaxDiskSize)
    return Error::msg("size: " + std::to_string(size) + " bytes is outside " + std::to_string(kMinDiskSize >> 20) +
                      " MiB .. " + std::to_string(kMaxDiskSize >> 40) + " TiB");
  if (size % 4096) return Error::msg("size: " + std::to_string(size) + " bytes is not a multiple of 4096");
  return ok();
}

Status write_info(const std::string& dir, const DiskInfo& d) {
  Value v = Value::object();
  v.set("store", d.store);
  v.set("image", d.image);
  v.set("manifest", d.manifest.str());
  Value ids = Value::array();
  for (const auto& id : d.diff_ids) ids.push_back(id.str());
  v.set("diffIds", std::move(ids));
  v.set("size", d.size_bytes);
  if (d.shift) {
    Value s = Value::object();
    s.set("uid", d.shift->uid);
    s.set("gid", d.shift->gid);
    s.set("size", d.shift->size);
    v.set("shift", std::move(s));
  }
  v.set("holder", d.holder);
  return fs::write_file_atomic(fs::join(dir, "disk.json"), json::dump(v, true) + "\n", 0600);
}

// noinit_itable: no background thread zeroing inode tables of a fresh
// file system (they are marked uninitialised; zeroing only costs I/O).
constexpr const char* kExt4Options = "noinit_itable";

// Mounts the superblock still alive on loop device `held` (the image's).
// A read-only mount of a writable superblock is a read-only bind of it.
bool mount_held(const std::string& held, const std::string& at, bool read_only) {
  unsigned long flags = MS_NOATIME | (read_only ? MS_RDONLY : 0);
  if (::mount(held.c_str(), at.c_str(), "ext4", flags, kExt4Options) == 0) return true;
  if (!read_only || errno != EBUSY) return false;
  if (::mount(held.c_str(), at.c_str(), "ext4", MS_NOATIME, kExt4Options) < 0) return false;
  if (::mount(nullptr, at.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOATIME, nullptr) == 0) return true;
  (void)::umount2(at.c_str(), UMOUNT_NOFOLLOW);
  return false;
}

// Mounts disk.img at DIR/mnt (attaching a loop device that detaches
// itself when the mount goes away). Already mounted is fine.
//
// An unmount here does not end the file system when another mount
// namespace holds a copy of the mount: one made meanwhile (a container
// starting, on this node or beside it) keeps it until its init drops
// the old root. A second loop device on the image would make a second
// superblock over the same file, one blind to the other's writes (the
// changes just written would be lost, then the file system corrupted).
// So while the image is still attached, its device is mounted again (the
// same superblock); a read-only superblock a writer cannot share is
// waited for.
Status mount_fs(const std::string& dir, bool read_only) {
  if (loop::is_mount_of(mnt(dir), EXT4_SUPER_MAGIC)) return ok();
  BERTH_TRY(fs::mkdir_p(mnt(dir), 0700));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    std::string held = BERTH_TRY(loop::attached_to(img(dir), loop_note(dir)));
    if (held.empty()) break;
    if (mount_held(held, mnt(dir), read_only)) return ok();
    int err = errno;  // EBUSY: read-only; others: the device went meanwhile
    if (std::chrono::steady_clock::now() > deadline)
      return Error(err, "mount " + img(dir) + ": it is still attached to " + held +
                            " (its file system is still mounted elsewhere, read-only)");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string dev;
  BERTH_TRY(loop::note_attached(loop_note(dir), loop::kAttaching));
  UniqueFd lo = BERTH_TRY(loop::attach(img(dir), read_only, &dev));
  BERTH_TRY(loop::note_attached(loop_note(dir), dev));  // on failure, closing `lo` detaches
  unsigned long flags = MS_NOATIME | (read_only ? MS_RDONLY : 0);
  if (::mount(dev.c_str(), mnt(dir).c_str(), "ext4", flags, kExt4Options) < 0)
    return Error::os("mount " + img(dir) + " (" + dev + ") on " + mnt(dir));
  return ok();  // closing `lo` leaves the mount holding the device
}

// Before an offline fsck, resize or copy of the image: every loop device
// is asked (not only the noted one), since a device the note missed (an
// attach by an older build, or by hand) would mean a live file system.
Status wait_detached(const std::string& dir) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    std::string held = BERTH_TRY(loop::attached_to(img(dir)));
    if (held.empty()) return ok();
    if (std::chrono::steady_clock::now() > deadline)
      return Error(EBUSY, img(dir) + " is still attached to " + held +
                              " (its file system is mounted in another mount namespace)");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status umount_at(const std::string& path) {
  if (::umount2(path.c_str(), UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
    return Error::os("unmount " + path);
  return ok();
}

Status make_upper(const std::string& dir, const DiskInfo& d) {
  for (const auto& p : {upper(dir), work(dir)}) {
    if (::mkdir(p.c_str(), 0755) < 0 && errno != EEXIST) return Error::os("mkdir " + p);
    if (d.shift && ::chown(p.c_str(), d.shift->uid, d.shift->gid) < 0) return Error::os("chown " + p);
  }
  return ok();
}

Result<FsMount> FsMount::open(const std::string& dir, bool read_only) {
  if (loop::is_mount_of(mnt(dir), EXT4_SUPER_MAGIC)) return FsMount("");
  BERTH_TRY(mount_fs(dir, read_only));
  return FsMount(mnt(dir));
}

Status FsMount::close() {
  if (mnt_.empty()) return ok();
  std::string m = std::move(mnt_);
  mnt_.clear();
  return umount_at(m);
}

std::string holder_for(const std::string& dir) {
  return "disk-" + sha256_of(fs::absolute(dir)).hex().substr(0, 24);
}

}  // namespace disk

namespace {

Result<std::string> cached_empty_image(const Store& store, uint64_t size, const std::optional<IdShift>& shift) {
  std::string cache = fs::join(store.root(), "disk-cache");
  BERTH_TRY(fs::mkdir_p(cache, 0700));
  uint32_t uid = shift ? shift->uid : 0, gid = shift ? shift->gid : 0;
  std::string name = "ext4-" + std::to_string(size) + "-" + std::to_string(uid) + "-" + std::to_string(gid) + ".img";
  std::string path = fs::join(cache, name);
  if (fs::exists(path)) return path;
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd f(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!f.valid()) return Error::os("create " + tmp);
    if (::ftruncate(f.get(), static_cast<off_t>(size)) < 0) return Error::os("size " + tmp);
  }
  Defer drop([&] { ::unlink(tmp.c_str()); });
  // No reserved blocks: the container gets its whole quota. Lazy init and
  // no resize inode keep the image sparse (a few hundred KiB of metadata
  // for any size); ext4 still grows online by switching to meta_bg.
  BERTH_TRY_CTX(run_command({"mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^resize_inode", "-E",
                             "lazy_itable_init=1,lazy_journal_init=1,nodiscard,root_owner=" +
                                 std::to_string(uid) + ":" + std::to_string(gid),
                             tmp}),
                "format " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) < 0) return Error::os("rename " + tmp);
  drop.dismiss();
  return path;
}

Status prepare_layers(const Store& store, const Image& image, const std::optional<IdShift>& shift) {
  UnpackOptions opts;
  opts.id_shift = shift;
  for (size_t i = 0; i < image.manifest.layers.size(); ++i)
    BERTH_TRY_CTX(store.unpack_layer(image.manifest.layers[i], image.config.diff_ids[i], opts),
                  "layer " + std::to_string(i) + " of " + image.tag);
  return ok();
}

Result<DiskInfo> create_in(const Store& store, std::string_view image_name, const std::string& dir,
                           const DiskOptions& opts) {
  std::string tag = BERTH_TRY(find_tag(store, image_name));
  Image image = BERTH_TRY(load_image(store, tag, opts.platform));
  BERTH_TRY(prepare_layers(store, image, opts.shift));
  std::string empty = BERTH_TRY(cached_empty_image(store, opts.size_bytes, opts.shift));
  DiskInfo d;
  d.store = fs::absolute(store.root());
  d.image = tag;
  d.manifest = image.descriptor.digest;
  d.diff_ids = image.config.diff_ids;
  d.size_bytes = opts.size_bytes;
  d.shift = opts.shift;
  d.holder = disk::holder_for(dir);
  BERTH_TRY(store.hold(d.holder, d.manifest));
  BERTH_TRY(loop::copy_sparse(empty, disk::img(dir)));
  BERTH_TRY(loop::note_attached(disk::loop_note(dir), loop::kNeverAttached));  // the first mount scans nothing
  BERTH_TRY(disk::write_info(dir, d));
  return d;
}

}  // namespace

Result<DiskInfo> create_disk(const Store& store, std::string_view image, const std::string& dir,
                             const DiskOptions& opts) {
  std::string what = "create disk " + dir;
  if (auto st = disk::check_size(opts.size_bytes); !st) return std::move(st).error().wrap(what);
  if (::mkdir(dir.c_str(), 0700) < 0) return Error::os(what);
  auto r = create_in(store, image, dir, opts);
  if (!r) {
    (void)store.release(disk::holder_for(dir));
    (void)fs::remove_tree(dir);
    return std::move(r).error().wrap(what);
  }
  return r;
}

Result<DiskInfo> read_disk(const std::string& dir) {
  std::string path = fs::join(dir, "disk.json");
  std::string text = BERTH_TRY(fs::read_file(path));
  Value v = BERTH_TRY_CTX(json::parse(text), path);
  auto str = [&](const char* k) -> Result<std::string> {
    const Value* x = v.find(k);
    if (!x || !x->is_string()) return Error::msg(path + ": " + k + ": expected a string");
    return x->as_string();
  };
  DiskInfo d;
  d.store = BERTH_TRY(str("store"));
  d.image = BERTH_TRY(str("image"));
  d.manifest = BERTH_TRY_CTX(Digest::parse(BERTH_TRY(str("manifest")), "manifest"), path);
  d.holder = BERTH_TRY(str("holder"));
  const Value* ids = v.find("diffIds");
  if (!ids || !ids->is_array()) return Error::msg(path + ": diffIds: expected an array");
  for (const auto& id : ids->as_array()) {
    if (!id.is_string()) return Error::msg(path + ": diffIds: expected strings");
    d.diff_ids.push_back(BERTH_TRY_CTX(Digest::parse(id.as_string(), "diffIds"), path));
  }
  const Value* size = v.find("size");
  if (!size || !size->is_uint()) return Error::msg(path + ": size: expected a byte count");
  d.size_bytes = size->as_uint();
  if (const Value* s = v.find("shift")) {
    const Value *u = s->find("uid"), *g = s->find("gid"), *n = s->find("size");
    if (!u || !g || !n || !u->is_uint() || !g->is_uint() || !n->is_uint())
      return Error::msg(path + ": shift: expected uid, gid and size");
    d.shift = IdShift{static_cast<uint32_t>(u->as_uint()), static_cast<uint32_t>(g->as_uint()),
                      static_cast<uint32_t>(n->as_uint())};
  }
  return d;
}

bool disk_mounted(const std::string& dir) { return loop::is_mount_of(disk::rootfs(dir), OVERLAYFS_SUPER_MAGIC); }

namespace {

Result<std::string> mount_in(const std::string& dir) {
  DiskInfo d = BERTH_TRY(read_disk(dir));
  if (d.diff_ids.empty()) return Error::msg("the image " + d.image + " has no layers");
  BERTH_TRY(disk::mount_fs(dir, false));
  Defer unmount_fs([&] { (void)disk::umount_at(disk::mnt(dir)); });
  BERTH_TRY(disk::make_upper(dir, d));
  std::string lower;
  for (size_t i = d.diff_ids.size(); i-- > 0;) {
    std::string layer = Store::layer_key(d.diff_ids[i], d.shift);
    std::string p = fs::join(d.store, "layers/sha256/" + layer);
    if (!fs::exists(p)) return Error(ENOENT, "layer " + d.diff_ids[i].short_str() + " of " + d.image + ": " + p);
    lower += (lower.empty() ? "" : ":") + p;
  }
  std::string data = "lowerdir=" + lower + ",upperdir=" + disk::upper(dir) + ",workdir=" + disk::work(dir);
  if (data.size() >= 4096)
    return Error::msg("mount overlay: " + std::to_string(d.diff_ids.size()) + " layers make options too long");
  BERTH_TRY(fs::mkdir_p(disk::rootfs(dir), 0755));
  if (::mount("overlay", disk::rootfs(dir).c_str(), "overlay", 0, data.c_str()) < 0)
    return Error::os("mount overlay on " + disk::rootfs(dir));
  unmount_fs.dismiss();
  return disk::rootfs(dir);
}

}  // namespace

Result<std::string> mount_disk(const std::string& dir) {
  if (disk_mounted(dir)) return disk::rootfs(dir);
  auto r = mount_in(dir);
  if (!r) return std::move(r).error().wrap("mount disk " + dir);
  return r;
}

Status unmount_disk(const std::string& dir) {
  std::string what = "unmount disk " + dir;
  if (disk_mounted(dir)) BERTH_TRY_CTX(disk::umount_at(disk::rootfs(dir)), what);
  if (loop::is_mount_of(disk::mnt(dir), EXT4_SUPER_MAGIC)) BERTH_TRY_CTX(disk::umount_at(disk::mnt(dir)), what);
  return ok();
}

namespace {

std::string kib(uint64_t bytes) { return std::to_string(bytes >> 10) + "K"; }

// ext4's online resize ioctl wants CAP_SYS_RESOURCE.
bool has_sys_resource() {
  auto r = fs::read_file("/proc/self/status");
  if (!r) return false;
  const std::string& status = *r;
  size_t at = status.find("CapEff:");
  if (at == std::string::npos) return false;
  uint64_t eff = std::strtoull(status.c_str() + at + 7, nullptr, 16);
  return eff & (1ull << 24);
}

Status resize_in(const std::string& dir, uint64_t size) {
  BERTH_TRY(disk::check_size(size));
  DiskInfo d = BERTH_TRY(read_disk(dir));
  std::string image = disk::img(dir);
  bool mounted = loop::is_mount_of(disk::mnt(dir), EXT4_SUPER_MAGIC);
  if (size == d.size_bytes) return ok();
  if (size > d.size_bytes) {
    if (mounted && !has_sys_resource())
      return Error(EPERM, "grow while mounted: ext4 online resize needs CAP_SYS_RESOURCE, which this process "
                          "lacks; stop the container and resize offline");
    if (::truncate(image.c_str(), static_cast<off_t>(size)) < 0) return Error::os("grow " + image);
    if (mounted) {
      // Online grow: the loop device learns the new size, then ext4 grows
      // into it while the container keeps running.
      std::string dev = BERTH_TRY(loop::device_mounted_at(disk::mnt(dir)));
      if (dev.empty()) return Error::msg("no loop device mounted at " + disk::mnt(dir));
      BERTH_TRY(loop::set_capacity(dev));
      BERTH_TRY(run_command({"resize2fs", dev}));
    } else {
      BERTH_TRY(disk::wait_detached(dir));
      BERTH_TRY(run_command({"e2fsck", "-f", "-p", image}));
      BERTH_TRY(run_command({"resize2fs", image}));
    }
  } else {
    if (mounted) return Error(EBUSY, "shrink: the disk is mounted (stop the container first)");
    BERTH_TRY(disk::wait_detached(dir));
    BERTH_TRY(run_command({"e2fsck", "-f", "-p", image}));
    auto st = run_command({"resize2fs", image, kib(size)});
    if (!st) return Error(ENOSPC, "shrink to " + std::to_string(size) + " bytes: " + st.error().what());
    if (::truncate(image.c_str(), static_cast<off_t>(size)) < 0) return Error::os("shrink " + image);
  }
  d.size_bytes = size;
  return disk::write_info(dir, d);
}

}  // namespace

Status resize_disk(const std::string& dir, uint64_t size_bytes) {
  auto st = resize_in(dir, size_bytes);
  if (!st) return std::move(st).error().wrap("resize disk " + dir);
  return ok();
}

Status destroy_disk(const std::string& dir) {
  std::string what = "destroy disk " + dir;
  if (!fs::exists(dir)) return ok();
  BERTH_TRY_CTX(unmount_disk(dir), what);
  if (auto d = read_disk(dir)) {
    auto store = Store::open(d->store);
    if (store) BERTH_TRY_CTX(store->release(d->holder), what);
  }
  BERTH_TRY_CTX(fs::remove_tree(dir), what);
  return ok();
}

}  // namespace berth::images
