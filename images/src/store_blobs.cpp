// store_blobs.cpp — content-addressed blobs: verified while written,
// visible only once complete, deduplicated by name.
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "berth/base/fs.h"
#include "berth/images/store.h"
#include "store_internal.h"
#include "tree.h"

namespace berth::images {

namespace sp = store_paths;

BlobWriter::BlobWriter(BlobWriter&& o) noexcept { *this = std::move(o); }

BlobWriter& BlobWriter::operator=(BlobWriter&& o) noexcept {
  if (this != &o) {
    abort();
    // The temp file changes owner: the moved-from writer must not remove it.
    tmp_path_ = std::exchange(o.tmp_path_, std::string());
    final_path_ = std::move(o.final_path_);
    blobs_dir_ = std::move(o.blobs_dir_);
    fd_ = std::move(o.fd_);
    lease_ = std::move(o.lease_);
    hash_ = std::move(o.hash_);
    expected_ = std::move(o.expected_);
    expected_size_ = o.expected_size_;
    written_ = o.written_;
    resumable_ = o.resumable_;
    keep_partial_ = o.keep_partial_;
  }
  return *this;
}

BlobWriter::~BlobWriter() { abort(); }

void BlobWriter::abort() {
  // An interrupted download keeps its bytes for the next resume_blob; the
  // lock on them goes with the fd.
  if (!keep_partial_ && !tmp_path_.empty()) ::unlink(tmp_path_.c_str());
  fd_.reset();
  tmp_path_.clear();
}

Status BlobWriter::write(const void* data, size_t size) {
  std::string what = "write blob " + expected_.str();
  if (!fd_) return Error::msg(what + ": writer is closed");
  if (expected_size_ && written_ + size > *expected_size_) {
    keep_partial_ = false;
    abort();
    return Error::msg(what + ": more than the expected " + std::to_string(*expected_size_) + " bytes");
  }
  const char* p = static_cast<const char*>(data);
  size_t left = size;
  while (left > 0) {
    ssize_t n = ::write(fd_.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = Error::os(what);
      keep_partial_ = false;
      abort();
      return e;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  hash_.update(data, size);
  written_ += size;
  return {};
}

Status BlobWriter::commit() {
  std::string what = "store blob " + expected_.str();
  if (!fd_) return Error::msg(what + ": writer is closed");
  keep_partial_ = false;  // whatever fails from here on is not worth resuming
  Defer fail([this] { abort(); });
  if (expected_size_ && written_ != *expected_size_)
    return Error::msg(what + ": got " + std::to_string(written_) + " bytes, expected " +
                      std::to_string(*expected_size_) + " (truncated download?)");
  Digest got = hash_.finish();
  if (!(got == expected_)) return Error::msg(what + ": content has digest " + got.str() + " (rejected)");
  if (::fsync(fd_.get()) < 0) return Error::os(what + ": fsync");
  if (::fchmod(fd_.get(), 0444) < 0) return Error::os(what + ": chmod");
  // Renamed while still open: a resume_blob waiting on this partial file's
  // lock must not get it before it has left tmp/.
  if (::renameat2(AT_FDCWD, tmp_path_.c_str(), AT_FDCWD, final_path_.c_str(), RENAME_NOREPLACE) < 0) {
    // Another pull stored the same content first: ours is a duplicate.
    if (errno != EEXIST) return Error::os(what + ": rename into place");
    return {};  // `fail` drops the temp file
  }
  fd_.reset();
  tmp_path_.clear();
  fail.dismiss();
  return fsync_dir(blobs_dir_);
}

Status BlobWriter::restart() {
  std::string what = "write blob " + expected_.str();
  if (!fd_) return Error::msg(what + ": writer is closed");
  if (::ftruncate(fd_.get(), 0) < 0 || ::lseek(fd_.get(), 0, SEEK_SET) < 0) return Error::os(what + ": truncate");
  hash_ = Sha256();
  written_ = 0;
  return {};
}

std::string Store::blob_path(const Digest& d) const { return fs::join(path(sp::blobs), d.hex()); }

bool Store::has_blob(const Digest& d) const { return !d.empty() && fs::exists(blob_path(d)); }

Result<UniqueFd> Store::open_blob(const Digest& d) const {
  UniqueFd fd(::open(blob_path(d).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return Error::os("open blob " + d.str());
  return fd;
}

Result<std::string> Store::read_blob(const Digest& d, size_t limit) const {
  UniqueFd fd = BERTH_TRY(open_blob(d));
  std::string data = BERTH_TRY(fs::read_fd(fd.get(), "blob " + d.str(), limit));
  // Small blobs are read often and cheap to hash: catch on-disk damage.
  if (!(sha256_of(data) == d)) return Error::msg("blob " + d.str() + " is corrupt on disk");
  return data;
}

Result<BlobWriter> Store::begin_blob(const Digest& expected, std::optional<uint64_t> size) const {
  if (expected.empty()) return Error::msg("store blob: no expected digest");
  BlobWriter w;
  w.lease_ = BERTH_TRY(lease());
  std::string tmpl = fs::join(path(sp::tmp), "blob-" + expected.hex().substr(0, 16) + "-XXXXXX");
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return Error::os("store blob " + expected.str() + ": create temp file in " + path(sp::tmp));
  w.fd_.reset(fd);
  w.tmp_path_ = tmpl;
  w.final_path_ = blob_path(expected);
  w.blobs_dir_ = path(sp::blobs);
  w.expected_ = expected;
  w.expected_size_ = size;
  return w;
}

namespace {

// Hashes the first `n` bytes of `fd` (read from its current offset).
Status hash_prefix(int fd, uint64_t n, Sha256& h, const std::string& what) {
  std::vector<char> buf(256 * 1024);
  while (n > 0) {
    ssize_t r = ::read(fd, buf.data(), std::min<uint64_t>(buf.size(), n));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Error::os(what + ": read partial file");
    if (r == 0) return Error::msg(what + ": partial file shrank while read");
    h.update(buf.data(), static_cast<size_t>(r));
    n -= static_cast<uint64_t>(r);
  }
  return {};
}

}  // namespace

Result<BlobWriter> Store::resume_blob(const Digest& expected, std::optional<uint64_t> size) const {
  if (expected.empty()) return Error::msg("store blob: no expected digest");
  std::string what = "resume blob " + expected.str();
  BlobWriter w;
  w.lease_ = BERTH_TRY(lease());
  std::string p = fs::join(path(sp::tmp), "partial-" + expected.hex());
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return Error::os(what + ": open " + p);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK) return Error::os(what + ": lock " + p);
    return begin_blob(expected, size);  // another writer is fetching it now
  }
  // Between open and lock, the previous holder may have committed the file
  // (renamed it away): only the inode still at `p` may be continued.
  struct stat held, named;
  if (::fstat(fd.get(), &held) < 0) return Error::os(what + ": stat " + p);
  if (::stat(p.c_str(), &named) < 0 || held.st_ino != named.st_ino || held.st_dev != named.st_dev)
    return begin_blob(expected, size);
  uint64_t have = static_cast<uint64_t>(held.st_size);
  if (size && have > *size) {
    if (::ftruncate(fd.get(), 0) < 0) return Error::os(what + ": truncate " + p);
    have = 0;
  }
  BERTH_TRY(hash_prefix(fd.get(), have, w.hash_, what));
  w.fd_ = std::move(fd);
  w.tmp_path_ = p;
  w.final_path_ = blob_path(expected);
  w.blobs_dir_ = path(sp::blobs);
  w.expected_ = expected;
  w.expected_size_ = size;
  w.written_ = have;
  w.resumable_ = true;
  return w;
}

Status Store::put_blob(int src_fd, const Digest& expected, std::optional<uint64_t> size) const {
  BlobWriter w = BERTH_TRY(begin_blob(expected, size));
  std::vector<char> buf(256 * 1024);
  for (;;) {
    ssize_t n = ::read(src_fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::os("store blob " + expected.str() + ": read source");
    }
    if (n == 0) break;
    BERTH_TRY(w.write(buf.data(), static_cast<size_t>(n)));
  }
  return w.commit();
}

Result<Digest> Store::put_blob(std::string_view data, const std::optional<Digest>& expected) const {
  Digest d = expected ? *expected : sha256_of(data);
  if (has_blob(d)) {
    if (!expected || sha256_of(data) == d) return d;
    return Error::msg("store blob " + d.str() + ": content has digest " + sha256_of(data).str() + " (rejected)");
  }
  BlobWriter w = BERTH_TRY(begin_blob(d, data.size()));
  BERTH_TRY(w.write(data));
  BERTH_TRY(w.commit());
  return d;
}

void Store::drop_partial(const Digest& d) const {
  std::string p = fs::join(path(sp::tmp), "partial-" + d.hex());
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  // A partial file locked by a live writer is that writer's to keep or drop.
  if (fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) ::unlink(p.c_str());
}

}  // namespace berth::images
