// registry_retry_test.cpp — the backoff schedule, Retry-After, which
// statuses are retried and how a registry's error body is shown.
#include <gtest/gtest.h>

#include "berth/images/registry.h"

namespace berth::images {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheCap) {
  RetryPolicy p{6, milliseconds(250), milliseconds(3000)};
  EXPECT_EQ(backoff_delay(p, 0), milliseconds(0));
  EXPECT_EQ(backoff_delay(p, 1), milliseconds(250));
  EXPECT_EQ(backoff_delay(p, 2), milliseconds(500));
  EXPECT_EQ(backoff_delay(p, 3), milliseconds(1000));
  EXPECT_EQ(backoff_delay(p, 4), milliseconds(2000));
  EXPECT_EQ(backoff_delay(p, 5), milliseconds(3000));
  EXPECT_EQ(backoff_delay(p, 1000), milliseconds(3000));  // no overflow
}

TEST(Backoff, DefaultPolicyIsBounded) {
  RetryPolicy p;
  milliseconds total(0);
  for (unsigned i = 1; i < p.max_attempts; ++i) total += backoff_delay(p, i);
  EXPECT_LE(total, milliseconds(10000));
}

TEST(RetryAfter, SecondsOnly) {
  EXPECT_EQ(parse_retry_after("3"), milliseconds(3000));
  EXPECT_EQ(parse_retry_after(" 120 "), milliseconds(120000));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(parse_retry_after("-1"));
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("99999999999"));
}

TEST(RetryableStatus, TransientOnly) {
  for (long s : {408, 429, 500, 502, 503, 504}) EXPECT_TRUE(is_retryable_status(s)) << s;
  for (long s : {200, 201, 400, 401, 403, 404, 405, 416, 501}) EXPECT_FALSE(is_retryable_status(s)) << s;
}

TEST(DescribeHttpError, RegistryErrorBody) {
  EXPECT_EQ(describe_http_error(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})"),
            "HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)");
  EXPECT_EQ(describe_http_error(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"a"},{"code":"DENIED"}]})"),
            "HTTP 401 (UNAUTHORIZED: a; DENIED)");
  EXPECT_EQ(describe_http_error(502, "<html>bad gateway</html>"), "HTTP 502");
  EXPECT_EQ(describe_http_error(500, R"({"errors":"x"})"), "HTTP 500");
  EXPECT_EQ(describe_http_error(500, ""), "HTTP 500");
}

}  // namespace
}  // namespace berth::images
