// subid.h — where unprivileged containers' id ranges come from, as Incus
// does it: root's ranges in /etc/subuid and /etc/subgid when the files give
// root any, else from 2^24 up, clear of every range the files give other
// users (rootless podman's, say). Pure: the caller reads the files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::supervisor {

/// A range of subordinate ids: start, start + count.
struct IdRange {
  uint64_t start = 0, count = 0;
};

/// The ranges a subuid or subgid file ("name:start:count" lines) gives to
/// `user` (by name, or by its numeric id `uid`), and those of everyone
/// else. Malformed lines and comments are skipped.
struct SubIds {
  std::vector<IdRange> own, others;
};
SubIds parse_subids(std::string_view text, const std::string& user, const std::string& uid);

/// The lowest base, a multiple of `size`, of `size` ids that no base in
/// `used` holds: inside one of `uid.own` and one of `gid.own` when the
/// files give the user ranges, else at or above `first` and clear of every
/// range of `uid.others` and `gid.others`. nullopt: none left below 2^32.
std::optional<uint32_t> pick_id_range(const SubIds& uid, const SubIds& gid, const std::vector<uint32_t>& used,
                                      uint64_t first, uint64_t size);

}  // namespace berth::supervisor
