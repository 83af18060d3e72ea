// loop.h — loop devices and the sparse-file and freeze helpers a
// container disk is made of. The only code in images/ that issues loop,
// FIFREEZE or mount(2) calls.
#pragma once

#include <cstdint>
#include <string>

#include "berth/base/error.h"
#include "berth/base/fd.h"

namespace berth::images::loop {

/// Attaches `image` to a free loop device with LO_FLAGS_AUTOCLEAR, so the
/// device detaches itself once the returned fd is closed and nothing
/// mounted from it remains. Returns the device's fd; `*dev` gets its path.
Result<UniqueFd> attach(const std::string& image, bool read_only, std::string* dev);

/// The loop device `image` is attached to ("/dev/loopN"), from sysfs;
/// empty when none is. An auto-clearing device still attached means a
/// superblock on it is alive somewhere, perhaps only in another mount
/// namespace.
///
/// With `hint`, the file in which every attach of this image notes its
/// device (note_attached), only that device is asked: a node with N disks
/// attached has N loop devices, and a scan of all of them on every mount
/// made starts O(N). A hint that says kNeverAttached answers "none" with
/// no device asked. Without the hint file (an image never attached with
/// one), or with one a crash cut short, every device is asked.
Result<std::string> attached_to(const std::string& image, const std::string& hint = "");

/// What a new image's hint says until its first attach, and what it says
/// while one is under way (no answer: the next look scans).
inline constexpr const char* kNeverAttached = "none";
inline constexpr const char* kAttaching = "attaching";

/// Notes in `hint` what the image is attached to: `dev` ("/dev/loopN")
/// just after an attach, before anything is mounted from the device (a
/// device that stays attached, autoclear keeping it only while mounted,
/// always has its note); kAttaching just before one, so that a crash in
/// between leaves a note that is no answer; kNeverAttached when the
/// image is made.
Status note_attached(const std::string& hint, const std::string& dev);

/// The loop device whose file system is mounted at `mountpoint`, from
/// /proc/self/mountinfo; empty when nothing is mounted there.
Result<std::string> device_mounted_at(const std::string& mountpoint);

/// Tells the loop device to re-read its backing file's size.
Status set_capacity(const std::string& dev);

/// Copies `src` to a new file `dst` (created 0600) writing only the data
/// ranges, so holes stay holes; the size is `src`'s. fsyncs `dst`.
Status copy_sparse(const std::string& src, const std::string& dst);

/// Blocks writers on the file system at `mountpoint` (FIFREEZE) until the
/// guard thaws it (FITHAW).
class Freeze {
public:
  static Result<Freeze> at(const std::string& mountpoint);
  Freeze(Freeze&& o) noexcept : fd_(std::move(o.fd_)) {}
  ~Freeze();

private:
  explicit Freeze(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

/// True when `path` is the root of a mount whose file system magic is `magic`.
bool is_mount_of(const std::string& path, int64_t magic);

}  // namespace berth::images::loop
