// guest_files.h — files berthd writes into a guest's root from the host:
// every path resolved inside that root (a link the guest planted never
// leads out), each file replaced atomically and owned by the guest's root.
// The guest's identity and access (SSH keys, root's password) given with
// create and set live here too.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "berth/base/error.h"
#include "berth/base/fd.h"
#include "berth/base/json.h"

namespace berth::supervisor {

/// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) below `root`.
Result<UniqueFd> open_in_guest(int root, const std::string& rel, int flags, mode_t mode = 0);

/// Replaces `dir`/`name` with `text` (temp file, fsync, rename: a link is
/// replaced, not followed), owned by uid/gid with `mode`; an identical
/// file is left alone.
Status write_guest_file(int dir, const std::string& name, const std::string& text, uid_t uid, gid_t gid,
                        mode_t mode = 0644);

/// 128 random bits in hex, as systemd-machine-id-setup writes them.
std::string new_machine_id();
/// A random UUID and a newline, as /proc/sys/kernel/random/boot_id reads.
std::string new_boot_id();

/// SSH keys for root and root's password hash, from create or set.
struct GuestAccess {
  std::string ssh_keys;   // authorized_keys lines, each ending in \n
  std::string root_hash;  // crypt(3) SHA-512 hash
  bool empty() const { return ssh_keys.empty() && root_hash.empty(); }
};

/// Checks root's SSH keys (public key lines) and password as a request
/// gives them and, with `hash`, hashes the password.
Result<GuestAccess> guest_access(const std::optional<std::string>& ssh_key,
                                 const std::optional<std::string>& root_password, bool hash = true);

/// Takes "ssh_key" (public key lines) and "root_password" out of a create
/// or set body, checking the keys' form and (with `hash`) hashing the
/// password; what is left of the body is the record's fields.
Result<GuestAccess> take_guest_access(json::Value& body, bool hash = true);

/// Adds the keys to /root/.ssh/authorized_keys (each once; the guest's own
/// lines stay) and sets root's hash in /etc/shadow, in the guest root
/// `rootfs` whose root is `owner` on the host.
Status apply_guest_access(const std::string& rootfs, const GuestAccess& a, uid_t owner);

/// Access waiting for the next start, in `file` (0600 JSON, merged with
/// what waits already); loading a missing file gives an empty one.
Status save_pending_access(const std::string& file, const GuestAccess& a);
Result<GuestAccess> load_pending_access(const std::string& file);

}  // namespace berth::supervisor
