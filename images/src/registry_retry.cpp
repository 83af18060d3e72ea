// registry_retry.cpp — when to retry, how long to wait, and what a failed
// HTTP exchange is called in an error (pure).
#include "berth/base/json.h"
#include "berth/images/registry.h"

namespace berth::images {

std::chrono::milliseconds backoff_delay(const RetryPolicy& p, unsigned retry) {
  if (retry == 0) return std::chrono::milliseconds(0);
  auto d = p.initial;
  for (unsigned i = 1; i < retry && d < p.cap; ++i) d *= 2;
  return std::min(d, p.cap);
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return std::chrono::seconds(std::stol(std::string(v)));
}

bool is_retryable_status(long s) { return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504; }

std::string describe_http_error(long status, std::string_view body) {
  std::string out = "HTTP " + std::to_string(status);
  auto doc = json::parse(body);
  const json::Value* errs = doc ? doc->find("errors") : nullptr;
  if (!errs || !errs->is_array() || errs->as_array().empty()) return out;
  std::string detail;
  for (const auto& e : errs->as_array()) {
    if (!e.is_object()) continue;
    const json::Value* code = e.find("code");
    const json::Value* msg = e.find("message");
    std::string one;
    if (code && code->is_string()) one = code->as_string().substr(0, 64);
    if (msg && msg->is_string() && !msg->as_string().empty())
      one += (one.empty() ? "" : ": ") + msg->as_string().substr(0, 256);
    if (one.empty()) continue;
    if (!detail.empty()) detail += "; ";
    detail += one;
    if (detail.size() > 512) break;
  }
  return detail.empty() ? out : out + " (" + detail + ")";
}

}  // namespace berth::images
