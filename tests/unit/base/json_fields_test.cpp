// json_fields_test.cpp — the typed readers: each kind accepted, each wrong
// kind refused naming the field's path and what it got.
#include "berth/base/json_fields.h"

#include <gtest/gtest.h>

using namespace berth;
using namespace berth::json;

namespace {
Value doc(const std::string& text) {
  auto v = parse(text);
  EXPECT_TRUE(v) << text;
  return v ? *v : Value();
}
}  // namespace

TEST(JsonFields, Paths) {
  EXPECT_EQ(idx("process.args", 2), "process.args[2]");
  EXPECT_EQ(dot("", "root"), "root");
  EXPECT_EQ(dot("root", "path"), "root.path");
}

TEST(JsonFields, KindsAccepted) {
  Value v = doc(R"({"s":"x","b":true,"i":-3,"u":7,"big":4294967296,"a":["p","q"],"o":{"k1":{},"k2":1}})");
  EXPECT_EQ(*get_string(*v.find("s"), "s"), "x");
  EXPECT_TRUE(*get_bool(*v.find("b"), "b"));
  EXPECT_EQ(*get_int(*v.find("i"), "i"), -3);
  EXPECT_EQ(*get_uint(*v.find("u"), "u"), 7u);
  EXPECT_EQ(*get_u32(*v.find("u"), "u"), 7u);
  EXPECT_EQ(*get_strings(*v.find("a"), "a"), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(*get_keys(*v.find("o"), "o"), (std::vector<std::string>{"k1", "k2"}));
  EXPECT_TRUE(expect_object(*v.find("o"), "o"));
  EXPECT_EQ(*required(v, "s", "doc"), v.find("s"));
}

TEST(JsonFields, RefusalsNameThePath) {
  Value v = doc(R"({"s":1,"i":-1,"big":4294967296,"a":["p",2],"o":[]})");
  EXPECT_EQ(get_string(*v.find("s"), "x.s").error().message(),
            "x.s: expected string, got " + std::string(Value::type_name(v.find("s")->type())));
  EXPECT_NE(get_bool(*v.find("s"), "x.s").error().message().find("x.s: expected boolean"), std::string::npos);
  EXPECT_NE(get_uint(*v.find("i"), "x.i").error().message().find("x.i: expected non-negative integer"),
            std::string::npos);
  EXPECT_EQ(get_u32(*v.find("big"), "x.big").error().message(), "x.big: value 4294967296 out of range");
  EXPECT_NE(get_strings(*v.find("a"), "x.a").error().message().find("x.a[1]: expected string"), std::string::npos);
  EXPECT_NE(get_keys(*v.find("o"), "x.o").error().message().find("x.o: expected object"), std::string::npos);
  EXPECT_EQ(required(v, "missing", "x").error().message(), "x.missing: required field is missing");
}
