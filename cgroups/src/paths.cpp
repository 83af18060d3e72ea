// paths.cpp — cgroupsPath normalisation, systemd slice expansion, mountinfo.
#include "berth/cgroups/paths.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/statfs.h>

#include <vector>

namespace berth::cgroups {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

bool has_suffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<std::string> cgroup_relative_path(const std::string& cgroups_path, const std::string& id) {
  if (cgroups_path.empty()) {
    if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..")
      return Error::msg("linux.cgroupsPath: cannot derive a cgroup from id \"" + id + "\"");
    return "/berth/" + id;
  }
  std::string out;
  for (std::string_view part : split(cgroups_path, '/')) {
    if (part.empty()) continue;
    if (part == "." || part == "..")
      return Error::msg("linux.cgroupsPath: \"" + cgroups_path +
                        "\" must not contain \".\" or \"..\" components");
    out += "/";
    out += part;
  }
  if (out.empty()) return Error::msg("linux.cgroupsPath: \"" + cgroups_path + "\" names the root cgroup");
  return out;
}

Result<std::string> expand_slice(std::string_view slice) {
  auto bad = [&](const char* why) {
    return Error::msg("invalid systemd slice \"" + std::string(slice) + "\": " + why);
  };
  if (!has_suffix(slice, ".slice")) return bad("must end in .slice");
  if (slice.find('/') != std::string_view::npos) return bad("must not contain '/'");
  if (slice == "-.slice") return std::string();
  std::string_view name = slice.substr(0, slice.size() - 6);
  if (name.empty() || name.front() == '-' || name.back() == '-' ||
      name.find("--") != std::string_view::npos)
    return bad("empty component");
  // Every '-' opens a parent slice: a-b-c.slice lives in a.slice/a-b.slice.
  std::string out, prefix;
  for (std::string_view part : split(name, '-')) {
    prefix += prefix.empty() ? std::string(part) : "-" + std::string(part);
    out += "/" + prefix + ".slice";
  }
  return out;
}

Result<SystemdUnit> systemd_unit(const std::string& spec) {
  auto parts = split(spec, ':');
  if (parts.size() != 3)
    return Error::msg("linux.cgroupsPath: \"" + spec + "\" is not of the form slice:prefix:name");
  std::string_view slice = parts[0].empty() ? "system.slice" : parts[0];
  std::string_view prefix = parts[1], name = parts[2];
  if (name.empty()) return Error::msg("linux.cgroupsPath: \"" + spec + "\" has an empty name");
  if (prefix.find('/') != std::string_view::npos || name.find('/') != std::string_view::npos)
    return Error::msg("linux.cgroupsPath: \"" + spec + "\" must not contain '/'");
  std::string base = BERTH_TRY_CTX(expand_slice(slice), "linux.cgroupsPath");
  // A slice name is expanded from the root, like systemd does.
  if (has_suffix(name, ".slice")) {
    std::string path = BERTH_TRY_CTX(expand_slice(name), "linux.cgroupsPath");
    if (path.empty()) return Error::msg("linux.cgroupsPath: \"" + spec + "\" names the root slice");
    return SystemdUnit{std::string(name), "", path};
  }
  std::string unit = prefix.empty() ? std::string(name) + ".scope"
                        : std::string(prefix) + "-" + std::string(name) + ".scope";
  return SystemdUnit{unit, std::string(slice), base + "/" + unit};
}

Result<std::string> systemd_path(const std::string& spec) {
  return BERTH_TRY(systemd_unit(spec)).path;
}

CgroupMounts parse_cgroup_mounts(std::string_view mountinfo) {
  CgroupMounts out;
  for (std::string_view line : split(mountinfo, '\n')) {
    // id parent major:minor root mountpoint opts [optional...] - fstype source superopts
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto head = split(line.substr(0, dash), ' ');
    auto tail = split(line.substr(dash + 3), ' ');
    if (head.size() < 5 || tail.size() < 3) continue;
    std::string mountpoint(head[4]);
    if (tail[0] == "cgroup2") {
      if (out.v2.empty()) out.v2 = mountpoint;
    } else if (tail[0] == "cgroup") {
      for (std::string_view opt : split(tail[2], ',')) {
        if (opt == "rw" || opt == "ro" || opt.find('=') != std::string_view::npos) {
          if (opt.substr(0, 5) != "name=") continue;
        }
        if (opt == "clone_children" || opt == "noprefix" || opt == "xattr" ||
            opt == "cpuset_v2_mode" || opt.substr(0, 14) == "release_agent=")
          continue;
        out.v1.emplace(std::string(opt), mountpoint);
      }
    }
  }
  return out;
}

std::optional<CgroupMounts> cgroup_mounts_by_name(const std::string& root, std::string_view proc_cgroups) {
  constexpr int64_t kCgroupMagic = 0x27e0eb, kCgroup2Magic = 0x63677270;  // linux/magic.h
  auto fs_type = [](const std::string& path) -> int64_t {
    struct statfs sf;
    return ::statfs(path.c_str(), &sf) == 0 ? static_cast<int64_t>(sf.f_type) : -1;
  };
  CgroupMounts out;
  for (std::string_view line : split(proc_cgroups, '\n')) {
    // #subsys_name hierarchy num_cgroups enabled
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, '\t');
    if (f.size() < 4) return std::nullopt;
    if (f[1] == "0" || f[3] != "1") continue;  // on cgroup2 or unmounted, or disabled
    std::string path = root + "/" + std::string(f[0]);
    if (fs_type(path) != kCgroupMagic) return std::nullopt;
    char real[PATH_MAX];
    out.v1.emplace(std::string(f[0]), ::realpath(path.c_str(), real) ? std::string(real) : path);
  }
  if (fs_type(root) == kCgroup2Magic) out.v2 = root;
  else if (fs_type(root + "/unified") == kCgroup2Magic) out.v2 = root + "/unified";
  return out;
}

}  // namespace berth::cgroups
