// json_boost_probe.cpp — Boost.JSON compiled in (src.hpp) with one parse and serialize, linked into copies of
// berth-runtime and berth-monitor to measure what it adds to their size.
#include <boost/json/src.hpp>

#include <string>
#include <string_view>

/// Parses and serialises `text`; empty on a parse error. Nothing calls it:
/// an object file given to the linker is kept whole, so the copy carries
/// the code a caller would.
std::string berth_bench_boost_json_roundtrip(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  return ec ? std::string() : boost::json::serialize(v);
}
