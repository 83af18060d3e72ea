// json_test.cpp — parser and writer.
#include "berth/base/json.h"

#include <gtest/gtest.h>

#include <cmath>

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


TEST(Json, WrongTypeAnswersAreEmptyAndWritesThroughThemAreDropped) {
  Value s("text");
  EXPECT_TRUE(s.as_array().empty());
  EXPECT_TRUE(s.as_object().empty());
  EXPECT_EQ(s.as_int(), 0);
  EXPECT_FALSE(s.as_bool());
  s.as_array().push_back(1);
  EXPECT_TRUE(s.as_array().empty());
  EXPECT_EQ(dump(s), "\"text\"");
  Value n;
  n.as_array().push_back(true);
  EXPECT_TRUE(n.is_null());
  EXPECT_EQ(Value(3).as_string(), "");
  Value t("was text");
  t.set("k", 1);
  EXPECT_EQ(dump(t), "{\"k\":1}");
}

TEST(Json, NumbersBeyondSixtyFourBitsBecomeDoubles) {
  auto v = parse("[18446744073709551616,-9223372036854775809,1e999,-0,0.5e1]");
  ASSERT_TRUE(v) << v.error().what();
  const Array& a = v->as_array();
  EXPECT_FALSE(a[0].is_int());
  EXPECT_DOUBLE_EQ(a[0].as_double(), 18446744073709551616.0);
  EXPECT_DOUBLE_EQ(a[1].as_double(), -9223372036854775809.0);
  EXPECT_TRUE(std::isinf(a[2].as_double()));
  EXPECT_TRUE(a[3].is_int());
  EXPECT_EQ(a[3].as_int(), 0);
  EXPECT_DOUBLE_EQ(a[4].as_double(), 5.0);
  EXPECT_EQ(dump(*v), "[1.8446744073709552e+19,-9.2233720368547758e+18,null,0,5]");
}

TEST(Json, StringsWithEscapesBetweenPlainRuns) {
  auto v = parse(R"("ab\"cd\\ef\u0001gh")");
  ASSERT_TRUE(v) << v.error().what();
  EXPECT_EQ(v->as_string(), std::string("ab\"cd\\ef\x01gh"));
  EXPECT_EQ(dump(*v), R"("ab\"cd\\ef\u0001gh")");
  EXPECT_FALSE(parse("\"abc"));
  EXPECT_FALSE(parse("\"ab\x01c\""));
}

}  // namespace
}  // namespace berth::json
