// fake_root.h — a temp directory standing in for /sys/fs/cgroup in tests.
#pragma once

#include <string>
#include <vector>

namespace berth::cgroups::testing {

/// Plain directories and files: the test creates the interface files the
/// kernel would, the managers read and write them like cgroupfs.
class FakeRoot {
public:
  FakeRoot();
  ~FakeRoot();
  FakeRoot(const FakeRoot&) = delete;
  FakeRoot& operator=(const FakeRoot&) = delete;

  const std::string& root() const { return root_; }
  std::string path(const std::string& rel) const { return root_ + "/" + rel; }
  /// Creates (or overwrites) a file, making its parent directories.
  void file(const std::string& rel, const std::string& content = "") const;
  /// Creates empty files `names` in directory `dir`.
  void files(const std::string& dir, const std::vector<std::string>& names) const;
  void dir(const std::string& rel) const;
  std::string read(const std::string& rel) const;
  bool exists(const std::string& rel) const;
  /// Deletes the regular files under `rel`, as the kernel does for a cgroup
  /// directory being removed, so rmdir can succeed.
  void strip_files(const std::string& rel) const;

private:
  std::string root_;
};

}  // namespace berth::cgroups::testing
