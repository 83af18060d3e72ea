// rootfs_test.cpp — the container's mounts, devices, masks and pivot_root
// as the kernel is asked for them (a recording FakeKernel), in order, with
// their flags; and each error naming what failed. The rootfs is a
// temporary directory: targets are made and resolved for real, only the
// kernel verbs are recorded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "berth/base/fs.h"
#include "bundle_test.h"

namespace berth::runtime {
namespace {

class Rootfs : public BundleTest {
protected:
  Status prepare() { return prepare_rootfs(ctx_); }
};

constexpr const char* kNamespaces = R"("namespaces":[{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"}])";

// runc's default mounts plus a read-only bind of the bundle's data/.
constexpr const char* kMounts = R"([
  {"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]},
  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
  {"destination":"/dev/pts","type":"devpts","source":"devpts",
   "options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},
  {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},
  {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},
  {"destination":"/data","type":"bind","source":"data","options":["rbind","ro","nosuid"]}])";

std::string linux_with(const std::string& extra) {
  return std::string("{") + kNamespaces + (extra.empty() ? "" : "," + extra) + "}";
}

// The mounts, then the default devices of a tmpfs /dev (mknod, mode exact,
// owned by root), then masks (a file: the host's null device bound on it;
// a directory: an empty read-only tmpfs; a missing path: nothing), then
// read-only paths (a recursive bind of itself, remounted read-only).
TEST_F(Rootfs, MountsDevicesMasksInOrder) {
  config(kMounts, linux_with(R"("maskedPaths":["/proc/kcore","/proc/acpi","/proc/missing"],)"
                             R"("readonlyPaths":["/proc/sys"])"));
  touch("proc/kcore");
  touch("proc/acpi/");
  touch("proc/sys/");
  auto st = prepare();
  ASSERT_TRUE(st) << st.error().what();
  Calls want = {
      "mount(NULL, /, NULL, MS_REC|MS_SLAVE, NULL)",
      "mount({b}/rootfs, {b}/rootfs, NULL, MS_BIND|MS_REC, NULL)",
      "mount(proc, {b}/rootfs/proc, proc, MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)",
      "mount(tmpfs, {b}/rootfs/dev, tmpfs, MS_NOSUID|MS_STRICTATIME, mode=755,size=65536k)",
      "mount(devpts, {b}/rootfs/dev/pts, devpts, MS_NOSUID|MS_NOEXEC, newinstance,ptmxmode=0666,mode=0620,gid=5)",
      "mount(shm, {b}/rootfs/dev/shm, tmpfs, MS_NOSUID|MS_NODEV|MS_NOEXEC, mode=1777,size=65536k)",
      "mount(sysfs, {b}/rootfs/sys, sysfs, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)",
      "mount({b}/data, {b}/rootfs/data, NULL, MS_BIND|MS_REC, NULL)",
      "mount(NULL, {b}/rootfs/data, NULL, MS_RDONLY|MS_NOSUID|MS_REMOUNT|MS_BIND, NULL)",
      "mknodat({b}/rootfs/dev/null, S_IFCHR|0666, 1:3)",
      "fchownat({b}/rootfs/dev/null, 0, 0)",
      "mknodat({b}/rootfs/dev/zero, S_IFCHR|0666, 1:5)",
      "fchownat({b}/rootfs/dev/zero, 0, 0)",
      "mknodat({b}/rootfs/dev/full, S_IFCHR|0666, 1:7)",
      "fchownat({b}/rootfs/dev/full, 0, 0)",
      "mknodat({b}/rootfs/dev/random, S_IFCHR|0666, 1:8)",
      "fchownat({b}/rootfs/dev/random, 0, 0)",
      "mknodat({b}/rootfs/dev/urandom, S_IFCHR|0666, 1:9)",
      "fchownat({b}/rootfs/dev/urandom, 0, 0)",
      "mknodat({b}/rootfs/dev/tty, S_IFCHR|0666, 5:0)",
      "fchownat({b}/rootfs/dev/tty, 0, 0)",
      "mount(/dev/null, {b}/rootfs/proc/kcore, NULL, MS_BIND, NULL)",
      "mount(tmpfs, {b}/rootfs/proc/acpi, tmpfs, MS_RDONLY, size=0,mode=755)",
      "mount({b}/rootfs/proc/sys, {b}/rootfs/proc/sys, NULL, MS_BIND|MS_REC, NULL)",
      "mount(NULL, {b}/rootfs/proc/sys, NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND, NULL)",
  };
  EXPECT_EQ(fake_.calls, want);
  // The /dev links are files of the rootfs, made without the kernel's help.
  char buf[64] = {};
  ASSERT_GT(::readlink((bundle_ + "/rootfs/dev/ptmx").c_str(), buf, sizeof buf - 1), 0);
  EXPECT_STREQ(buf, "pts/ptmx");
  EXPECT_TRUE(fs::exists(bundle_ + "/rootfs/dev/fd"));
}

// A remount keeps what the kernel has locked on the source mount: asking
// to clear nosuid/nodev/noexec there fails with EPERM.
TEST_F(Rootfs, BindRemountKeepsLockedFlags) {
  config(R"([{"destination":"/data","type":"bind","source":"data","options":["bind","ro"]}])", linux_with(""));
  fake_.locked_flags = ST_NODEV | ST_NOEXEC | ST_NOATIME;
  ASSERT_TRUE(prepare());
  EXPECT_EQ(fake_.only("mount(NULL, {b}/rootfs/data"),
            Calls{"mount(NULL, {b}/rootfs/data, NULL, MS_RDONLY|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND, NULL)"});
  EXPECT_EQ(fake_.only("mount({b}/data"), Calls{"mount({b}/data, {b}/rootfs/data, NULL, MS_BIND, NULL)"});
}

TEST_F(Rootfs, PropagationAndRecursiveAttributesAfterTheBind) {
  config(R"([{"destination":"/data","type":"bind","source":"data","options":["rbind","rprivate","rro","rnosuid"]}])",
         linux_with(""));
  ASSERT_TRUE(prepare());
  Calls want = {
      "mount({b}/data, {b}/rootfs/data, NULL, MS_BIND|MS_REC, NULL)",
      "mount(NULL, {b}/rootfs/data, NULL, MS_REC|MS_PRIVATE, NULL)",
      "mount_setattr({b}/rootfs/data, 0x9000, set 0x3 clr 0)",  // AT_EMPTY_PATH|AT_RECURSIVE; RDONLY|NOSUID
  };
  EXPECT_EQ(Calls(fake_.calls.begin() + 2, fake_.calls.end()), want);
}

// An idmapped tree made by the runtime is moved into place, fd to fd, and
// never bound by path.
TEST_F(Rootfs, IdmappedTreeIsMovedNotBound) {
  config(R"([{"destination":"/data","type":"bind","source":"data","options":["rbind"]}])", linux_with(""));
  int tree = ::open((bundle_ + "/data").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(tree, 0);
  ctx_.idmap_fds = {tree};  // prepare_rootfs closes it once attached
  ASSERT_TRUE(prepare());
  EXPECT_EQ(Calls(fake_.calls.begin() + 2, fake_.calls.end()),
            Calls{"move_mount({b}/data, {b}/rootfs/data, 0x44)"});  // F_EMPTY_PATH|T_EMPTY_PATH
  EXPECT_LT(::fcntl(tree, F_GETFD), 0);
}

// The sequence stops at the mount that failed; the error names the
// mount's index and destination, and keeps the errno.
TEST_F(Rootfs, FailedMountNamesItsDestination) {
  config(kMounts, linux_with(""));
  fake_.fail_on = "mount(shm, {b}/rootfs/dev/shm";
  fake_.fail_errno = EPERM;
  auto st = prepare();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "mounts[3]: mount tmpfs on /dev/shm: Operation not permitted");
  EXPECT_EQ(st.error().code(), EPERM);
  EXPECT_EQ(fake_.calls.back(),
            "mount(shm, {b}/rootfs/dev/shm, tmpfs, MS_NOSUID|MS_NODEV|MS_NOEXEC, mode=1777,size=65536k)");
}

TEST_F(Rootfs, FailedBindRemountNamesTheDestination) {
  config(kMounts, linux_with(""));
  fake_.fail_on = "mount(NULL, {b}/rootfs/data";
  auto st = prepare();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "mounts[5]: remount /data: Input/output error");
}

TEST_F(Rootfs, MissingBindSourceIsNamedAndNothingIsMounted) {
  config(R"([{"destination":"/data","type":"bind","source":"nope","options":["rbind"]}])", linux_with(""));
  auto st = prepare();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "mounts[0]: stat source " + bundle_ + "/nope: No such file or directory");
  EXPECT_EQ(fake_.calls.size(), 2u);  // rslave and the rootfs bind only
}

// CVE-2019-19921: procfs never goes on a symlink an image planted.
TEST_F(Rootfs, ProcOnASymlinkIsRefused) {
  config(R"([{"destination":"/proc","type":"proc","source":"proc"}])", linux_with(""));
  ASSERT_EQ(::symlink("/etc", (bundle_ + "/rootfs/proc").c_str()), 0);
  auto st = prepare();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("mounts[0]: /proc: proc must be mounted on ordinary directory"), std::string::npos)
      << st.error().what();
  EXPECT_TRUE(fake_.only("mount(proc").empty());
}

TEST_F(Rootfs, MountDestinationRootIsRefused) {
  config(R"([{"destination":"/","type":"tmpfs","source":"tmpfs"}])", linux_with(""));
  auto st = prepare();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "mounts[0]: mount destination / is not allowed");
}

// tmpcopyup: the tmpfs is mounted writable, filled, then made read-only.
TEST_F(Rootfs, TmpcopyupMountsWritableThenRemountsReadOnly) {
  config(R"([{"destination":"/etc","type":"tmpfs","source":"tmpfs","options":["tmpcopyup","ro","nosuid"]}])",
         linux_with(""));
  auto st = prepare();
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(Calls(fake_.calls.begin() + 2, fake_.calls.end()),
            (Calls{"mount(tmpfs, {b}/rootfs/etc, tmpfs, MS_NOSUID, NULL)",
                   "mount(NULL, {b}/rootfs/etc, NULL, MS_RDONLY|MS_NOSUID|MS_REMOUNT|MS_BIND, NULL)"}));
}

// The config's devices come after the defaults, with their own mode and
// owner; a failed mknod names the device's index and path.
TEST_F(Rootfs, ConfigDevicesAndTheirErrors) {
  config(R"([{"destination":"/dev","type":"tmpfs","source":"tmpfs"}])",
         linux_with(
             R"("devices":[{"type":"c","path":"/dev/fuse","major":10,"minor":229,"fileMode":384,"uid":1000,"gid":100},)"
             R"({"type":"b","path":"/dev/disk/xvda","major":202,"minor":0}])"));
  ASSERT_TRUE(prepare());
  auto tail = Calls(fake_.calls.end() - 4, fake_.calls.end());
  EXPECT_EQ(
      tail,
      (Calls{"mknodat({b}/rootfs/dev/fuse, S_IFCHR|0600, 10:229)", "fchownat({b}/rootfs/dev/fuse, 1000, 100)",
             "mknodat({b}/rootfs/dev/disk/xvda, S_IFBLK|0666, 202:0)", "fchownat({b}/rootfs/dev/disk/xvda, 0, 0)"}));

  FakeKernel again;
  again.bundle = bundle_;
  again.fail_on = "mknodat({b}/rootfs/dev/disk/xvda";
  again.fail_errno = EPERM;
  ctx_.kernel = &again;
  ::close(ctx_.devnull_fd);
  (void)fs::remove_tree(bundle_ + "/rootfs/dev");
  auto st = prepare();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "linux.devices[1]: mknod /dev/disk/xvda: Operation not permitted");
}

// In a user namespace mknod is refused: the host's nodes are bound on
// placeholder files instead.
TEST_F(Rootfs, UserNamespaceBindsTheHostsDevices) {
  config(
      R"([{"destination":"/dev","type":"tmpfs","source":"tmpfs"}])",
      R"({"namespaces":[{"type":"user"},{"type":"mount"}],"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],)"
      R"("gidMappings":[{"containerID":0,"hostID":100000,"size":65536}]})");
  ASSERT_TRUE(prepare());
  EXPECT_TRUE(fake_.only("mknodat").empty());
  EXPECT_EQ(fake_.only("mount(/dev/"), (Calls{"mount(/dev/null, {b}/rootfs/dev/null, NULL, MS_BIND, NULL)",
                                              "mount(/dev/zero, {b}/rootfs/dev/zero, NULL, MS_BIND, NULL)",
                                              "mount(/dev/full, {b}/rootfs/dev/full, NULL, MS_BIND, NULL)",
                                              "mount(/dev/random, {b}/rootfs/dev/random, NULL, MS_BIND, NULL)",
                                              "mount(/dev/urandom, {b}/rootfs/dev/urandom, NULL, MS_BIND, NULL)",
                                              "mount(/dev/tty, {b}/rootfs/dev/tty, NULL, MS_BIND, NULL)"}));
}

TEST_F(Rootfs, FailedMaskAndReadonlyPathAreNamed) {
  config("[]", linux_with(R"("maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"])"));
  touch("proc/kcore");
  touch("proc/sys/");
  fake_.fail_on = "mount(/dev/null, {b}/rootfs/proc/kcore";
  auto st = prepare();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "linux.maskedPaths: mask /proc/kcore: Input/output error");

  FakeKernel again;
  again.bundle = bundle_;
  again.fail_on = "mount(NULL, {b}/rootfs/proc/sys";
  ctx_.kernel = &again;
  ::close(ctx_.devnull_fd);
  st = prepare();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "linux.readonlyPaths: remount /proc/sys: Input/output error");
}

// A terminal gets a placeholder /dev/console for the pty's mount after
// pivot_root.
TEST_F(Rootfs, TerminalGetsAConsolePlaceholder) {
  config(R"([{"destination":"/dev","type":"tmpfs","source":"tmpfs"}])", linux_with(""));
  spec_.process->terminal = true;
  ASSERT_TRUE(prepare());
  EXPECT_TRUE(fs::exists(bundle_ + "/rootfs/dev/console"));
}

// pivot_root(".", "."): the old root is stacked under the new one, made a
// slave (nothing of the unmount reaches the host) and detached.
TEST_F(Rootfs, PivotRootDetachesTheOldRoot) {
  config("[]", linux_with(R"("rootfsPropagation":"rprivate")"));
  auto st = pivot_into_rootfs(fake_, spec_, false);
  ASSERT_TRUE(st) << st.error().what();
  Calls want = {"chdir({b}/rootfs)",
                "pivot_root(., .)",
                "fchdir(/)",
                "mount(NULL, ., NULL, MS_REC|MS_SLAVE, NULL)",
                "umount2(., MNT_DETACH)",
                "chdir(/)",
                "mount(NULL, /, NULL, MS_REC|MS_PRIVATE, NULL)"};
  EXPECT_EQ(fake_.calls, want);
}

TEST_F(Rootfs, NoPivotMovesTheRootAndChroots) {
  config("[]", linux_with(""));
  ASSERT_TRUE(pivot_into_rootfs(fake_, spec_, true));
  EXPECT_EQ(fake_.calls,
            (Calls{"chdir({b}/rootfs)", "mount({b}/rootfs, /, NULL, MS_MOVE, NULL)", "chroot(.)", "chdir(/)"}));
}

TEST_F(Rootfs, FailedPivotRootStopsTheSequence) {
  config("[]", linux_with(""));
  fake_.fail_on = "pivot_root";
  fake_.fail_errno = EINVAL;
  auto st = pivot_into_rootfs(fake_, spec_, false);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "pivot_root " + bundle_ + "/rootfs: Invalid argument");
  EXPECT_EQ(fake_.calls.back(), "pivot_root(., .)");
}

TEST_F(Rootfs, ReadonlyRootIsRemountedAfterThePivot) {
  config("[]", linux_with(""), R"(,"hostname":"h")");
  spec_.root_readonly = true;
  ASSERT_TRUE(finish_rootfs(ctx_));
  EXPECT_EQ(fake_.calls, Calls{"mount(NULL, /, NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL)"});
  fake_.fail_on = "mount(NULL, /";
  auto st = finish_rootfs(ctx_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "root.readonly: remount /: Input/output error");
}

}  // namespace
}  // namespace berth::runtime
