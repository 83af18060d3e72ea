// json_test.cpp — parser and writer.
#include "berth/base/json.h"

#include <gtest/gtest.h>

namespace berth::json {
namespace {

TEST(Json, ParsesScalarsAndKeepsIntegers) {
  auto v = parse(R"({"a":1,"b":-2,"c":18446744073709551615,"d":1.5,"e":true,"f":null,"g":"x\ny\u00e9"})");
  ASSERT_TRUE(v) << v.error().what();
  EXPECT_TRUE(v->find("a")->is_int());
  EXPECT_EQ(v->find("b")->as_int(), -2);
  EXPECT_TRUE(v->find("c")->is_uint());
  EXPECT_EQ(v->find("c")->as_uint(), 18446744073709551615ull);
  EXPECT_FALSE(v->find("d")->is_int());
  EXPECT_DOUBLE_EQ(v->find("d")->as_double(), 1.5);
  EXPECT_TRUE(v->find("e")->as_bool());
  EXPECT_TRUE(v->find("f")->is_null());
  EXPECT_EQ(v->find("g")->as_string(), "x\ny\xc3\xa9");
}

TEST(Json, RoundTripsKeepingOrder) {
  std::string text = R"({"z":[1,2,{"k":"v"}],"a":"q\"uote","n":-9223372036854775808})";
  auto v = parse(text);
  ASSERT_TRUE(v);
  EXPECT_EQ(dump(*v), text);
}

TEST(Json, ErrorsNameLineAndColumn) {
  auto v = parse("{\n  \"a\": tru\n}");
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message().find("line 2"), std::string::npos) << v.error().message();
}

TEST(Json, RefusesBadInput) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "\"\\x\"", "01x", "[1] 2", "\"a\tb\"", "{\"a\":}"})
    EXPECT_FALSE(parse(bad)) << bad;
}

TEST(Json, RefusesDeepNesting) {
  std::string deep(10000, '[');
  EXPECT_FALSE(parse(deep));
}

TEST(Json, SetReplacesAndPushBackAppends) {
  Value v;
  v.set("a", 1);
  v.set("a", "two");
  EXPECT_EQ(v.as_object().size(), 1u);
  EXPECT_EQ(v.find("a")->as_string(), "two");
  Value arr;
  arr.push_back(1);
  arr.push_back("x");
  EXPECT_EQ(dump(arr), "[1,\"x\"]");
  EXPECT_EQ(dump(arr, true), "[\n  1,\n  \"x\"\n]");
}

}  // namespace
}  // namespace berth::json
