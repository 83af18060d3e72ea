// fake_root.cpp — temp-dir cgroup root for manager tests.
#include "fake_root.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace berth::cgroups::testing {

namespace stdfs = std::filesystem;

FakeRoot::FakeRoot() {
  std::string tmpl = (stdfs::temp_directory_path() / "berth-cgroup-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
}

FakeRoot::~FakeRoot() {
  std::error_code ec;
  stdfs::remove_all(root_, ec);
}

void FakeRoot::file(const std::string& rel, const std::string& content) const {
  stdfs::path p = path(rel);
  stdfs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::trunc) << content;
}

void FakeRoot::files(const std::string& dir, const std::vector<std::string>& names) const {
  for (const auto& n : names) file(dir + "/" + n);
}

void FakeRoot::dir(const std::string& rel) const { stdfs::create_directories(path(rel)); }

std::string FakeRoot::read(const std::string& rel) const {
  std::ifstream in(path(rel));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool FakeRoot::exists(const std::string& rel) const { return stdfs::exists(path(rel)); }

void FakeRoot::strip_files(const std::string& rel) const {
  for (const auto& e : stdfs::recursive_directory_iterator(path(rel)))
    if (e.is_regular_file()) stdfs::remove(e.path());
}

}  // namespace berth::cgroups::testing
