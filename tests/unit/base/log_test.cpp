// log_test.cpp — the log's observer: every kept line, once, and none of
// what the observer itself logs (berthd turns lines into events).
#include "berth/base/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace berth;

TEST(Log, ObserverSeesKeptLinesOnce) {
  log::configure("/dev/null", log::Format::text, false);
  std::vector<std::string> seen;
  log::set_observer([&](log::Level l, std::string_view m) {
    seen.push_back(std::string(log::level_name(l)) + " " + std::string(m));
    log::warn("from the observer");  // reaches the sink only
  });
  log::info("one");
  log::debug("dropped: debug is off");
  log::error("two");
  log::set_observer(nullptr);
  log::info("after");
  EXPECT_EQ(seen, (std::vector<std::string>{"info one", "error two"}));
}
