// idshift.cpp — one walk over a fresh rootfs copy, chowning into the range.
#include "berth/supervisor/idshift.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/supervisor/record.h"

namespace berth::supervisor {

namespace {

thread_local uint32_t t_base;
thread_local Error t_error;

int shift_one(const char* path, const struct stat* st, int, struct FTW*) {
  if (st->st_uid >= kIdRange || st->st_gid >= kIdRange) {
    t_error = Error(ERANGE, std::string("shift ") + path + ": owner " + std::to_string(st->st_uid) + ":" +
                                std::to_string(st->st_gid) + " is outside the container's 65536 ids");
    return 1;
  }
  if (::lchown(path, st->st_uid + t_base, st->st_gid + t_base) < 0) {
    t_error = Error::os(std::string("lchown ") + path);
    return 1;
  }
  if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) && ::chmod(path, st->st_mode & 07777) < 0) {
    t_error = Error::os(std::string("chmod ") + path);
    return 1;
  }
  return 0;
}

}  // namespace

Status shift_ownership(const std::string& root, uint32_t base) {
  t_base = base;
  t_error = Error();
  int r = ::nftw(root.c_str(), shift_one, 64, FTW_PHYS | FTW_MOUNT);
  if (r < 0) return Error::os("walk " + root);
  if (r > 0) return t_error;
  return ok();
}

}  // namespace berth::supervisor
