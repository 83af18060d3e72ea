// http_test.cpp — URL helpers of the HTTP layer and its error classes.
#include "http.h"

#include <gtest/gtest.h>

namespace berth::images::http {
namespace {

TEST(Http, ResolveLocation) {
  std::string base = "https://reg.example:5000/v2/a/b/blobs/uploads/";
  EXPECT_EQ(resolve_url(base, "https://other/x?y=1"), "https://other/x?y=1");
  EXPECT_EQ(resolve_url(base, "/v2/a/b/blobs/uploads/uuid?_state=s"),
            "https://reg.example:5000/v2/a/b/blobs/uploads/uuid?_state=s");
  EXPECT_EQ(resolve_url(base, "//cdn.example/blob"), "https://cdn.example/blob");
  EXPECT_EQ(resolve_url(base, "uuid"), "https://reg.example:5000/v2/a/b/blobs/uploads/uuid");
  EXPECT_EQ(resolve_url("https://h", "x"), "https://h/x");
}

TEST(Http, Escape) {
  EXPECT_EQ(url_escape("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
  EXPECT_EQ(url_escape("A-z_0.9~"), "A-z_0.9~");
}

TEST(Http, TransientErrors) {
  EXPECT_TRUE(is_transient(Error(ETIMEDOUT, "x")));
  EXPECT_TRUE(is_transient(Error(ECONNRESET, "x")));
  EXPECT_FALSE(is_transient(Error(EPROTO, "x")));
  EXPECT_FALSE(is_transient(Error::msg("x")));
}

TEST(Http, RefusedConnectionIsTransient) {
  // Port 1 on loopback: nothing listens there on a test machine.
  Handle h;
  Request req;
  req.url = "http://127.0.0.1:1/v2/";
  req.connect_seconds = 2;
  auto r = perform(h, req, Tls{}, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ECONNREFUSED);
  EXPECT_EQ(r.error().message().find("GET http://127.0.0.1:1/v2/: "), 0u) << r.error().message();
}

}  // namespace
}  // namespace berth::images::http
