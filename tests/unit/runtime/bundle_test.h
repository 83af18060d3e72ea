// bundle_test.h — a fixture for the runtime's create-time sequences: a
// bundle in a temporary directory, its config parsed, and an InitContext
// whose Kernel is a recording FakeKernel.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "berth/base/fs.h"
#include "fake_kernel.h"
#include "internal.h"

namespace berth::runtime {

using Calls = std::vector<std::string>;

/// One case of a step's failure: the first call starting with `fail_on`
/// fails, and the sequence's error reads `error`.
struct StepFailure {
  const char* fail_on;
  const char* error;
};

// A bundle in a temporary directory: rootfs/, a data/ directory to bind, and
// a config.json made of `linux` and `mounts` members.
class BundleTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-runtime-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    bundle_ = tmpl;
    ASSERT_TRUE(fs::mkdir_p(bundle_ + "/rootfs/bin", 0755));
    ASSERT_TRUE(fs::mkdir_p(bundle_ + "/data", 0755));
    fake_.bundle = bundle_;
    opts_.bundle = bundle_;
  }
  void TearDown() override {
    if (ctx_.devnull_fd >= 0) ::close(ctx_.devnull_fd);
    (void)fs::remove_tree(bundle_);
  }

  // Parses a config with these "mounts" and "linux" members (JSON text).
  // `extra` is more members (",\"hostname\":\"h\""), `process` the process.
  void config(const std::string& mounts, const std::string& linux, const std::string& extra = "",
              const std::string& process = R"({"args":["/bin/sh"],"cwd":"/"})") {
    std::string text = R"({"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":)" + process + R"(,"mounts":)" +
                       mounts + R"(,"linux":)" + linux + extra + "}";
    auto s = parse_spec(text, bundle_);
    ASSERT_TRUE(s) << s.error().what();
    spec_ = std::move(*s);
    ctx_.spec = &spec_;
    ctx_.opts = &opts_;
    ctx_.kernel = &fake_;
  }
  // Makes a file (or, ending in '/', a directory) inside the rootfs.
  void touch(const std::string& rel) {
    std::string p = bundle_ + "/rootfs/" + rel;
    if (rel.ends_with("/")) {
      ASSERT_TRUE(fs::mkdir_p(p, 0755));
      return;
    }
    ASSERT_TRUE(fs::mkdir_p(p.substr(0, p.rfind('/')), 0755));
    ASSERT_TRUE(fs::write_file_atomic(p, ""));
  }

  std::string bundle_;
  FakeKernel fake_;
  CreateOptions opts_;
  Spec spec_;
  InitContext ctx_;
};

}  // namespace berth::runtime
