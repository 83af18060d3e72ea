// platform.cpp — platform normalisation and selection from an index.
#include <sys/utsname.h>

#include <cctype>

#include "berth/images/manifest.h"

namespace berth::images {

Platform normalize_platform(Platform p) {
  for (char& c : p.os) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string& a = p.architecture;
  std::string& v = p.variant;
  if (a == "x86_64" || a == "x86-64") a = "amd64";
  else if (a == "i386" || a == "i686") a = "386";
  else if (a == "aarch64") a = "arm64";
  else if (a == "armhf") a = "arm", v = "v7";
  else if (a == "armel") a = "arm", v = "v6";
  if (a == "arm64" && (v.empty() || v == "8")) v = "v8";
  if (a == "arm" && v.empty()) v = "v7";
  if (a == "arm" && (v == "5" || v == "6" || v == "7")) v = "v" + v;
  return p;
}

Platform host_platform() {
  Platform p;
  p.os = "linux";
  struct utsname u {};
  p.architecture = ::uname(&u) == 0 ? u.machine : "unknown";
  if (p.architecture.rfind("armv", 0) == 0 && p.architecture.size() >= 5) {
    p.variant = "v" + p.architecture.substr(4, 1);
    p.architecture = "arm";
  }
  return normalize_platform(std::move(p));
}

namespace {
bool matches(const Platform& want, const Platform& cand, bool exact_variant) {
  Platform w = normalize_platform(want);
  Platform c = normalize_platform(cand);
  if (w.os != c.os || w.architecture != c.architecture) return false;
  if (exact_variant) return w.variant == c.variant;
  return w.variant.empty() || w.variant == c.variant;
}
}  // namespace

bool platform_matches(const Platform& want, const Platform& candidate) { return matches(want, candidate, false); }

Result<Descriptor> select_platform(const Index& index, const Platform& want) {
  // An exact variant first: a plain "amd64" entry beats "amd64/v3", which
  // this machine may not run.
  for (bool exact : {true, false})
    for (const auto& d : index.manifests)
      if (d.platform && is_manifest_type(d.media_type) && matches(want, *d.platform, exact)) return d;
  if (index.manifests.size() == 1 && !index.manifests[0].platform && is_manifest_type(index.manifests[0].media_type))
    return index.manifests[0];
  std::string offered;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    if (!offered.empty()) offered += ", ";
    offered += d.platform->str();
  }
  return Error::msg("index: no manifest for platform " + want.str() +
                    (offered.empty() ? " (no entry names a platform)" : " (offered: " + offered + ")"));
}

}  // namespace berth::images
