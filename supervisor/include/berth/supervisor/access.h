// access.h — who may do what through berthd's API: roles, projects
// (tenants), the trust store of client certificates, and the rule table
// that every request passes before it runs (no I/O but the trust store's
// file).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/supervisor/api.h"
#include "berth/supervisor/record.h"

namespace berth::supervisor {

/// viewer: reads only. operator: the containers it may touch, never
/// privileged ones or host paths. admin: everything. node: another node of
/// the cluster, only what migration needs.
enum class Role { viewer, operator_, admin, node };

const char* role_name(Role r);
/// "viewer", "operator", "admin" or "node"; errors name `field`.
Result<Role> parse_role(const std::string& text, const std::string& field = "role");

/// The project a container is in when none is asked for.
constexpr const char* kDefaultProject = "default";

/// Validates a project name: 1-32 of [a-z0-9-], starting with a letter or
/// a digit; errors name `field`.
Status validate_project(const std::string& name, const std::string& field = "project");

/// Who asks: "uid 1000 pid 42" on the unix socket, "tls:CN" over TLS; its
/// role; the projects it is bound to (empty: every project); a client
/// certificate's SHA-256 fingerprint (hex, lower case).
struct Identity {
  std::string name;
  Role role = Role::viewer;
  std::vector<std::string> projects;
  std::string fingerprint;

  bool sees(const std::string& project) const;
  /// {"by","role","fingerprint"?,"projects"?}, for audit events.
  json::Value audit() const;
};

/// The least role each verb needs; node certificates are allowed only
/// `node_may` verbs. Every verb has a rule (the switch has no default).
Role role_needed(Verb v);
bool node_may(const Request& r);
/// True for the verbs that change something (their events are audited).
bool is_mutation(Verb v);

/// The rule table and the body checks: 403 naming the identity, its role
/// and what it lacks. An operator may not create or set a privileged
/// container, a --rootfs copy of a host directory, an id map or a cluster
/// binding; a project-bound identity creates only in its projects.
Status authorize(const Identity& who, const Request& r);

/// The project an image tag belongs to: P for "projects/P/...", else ""
/// (the node's, shared). A project-bound client writes images under its
/// project's prefix and reads no other project's.
std::string image_project(std::string_view tag);
/// The image tag a request writes: commit's, a template build's, a pull's
/// (its tag, else its reference); "" for others.
std::string written_tag(const Request& r);

/// The project a create of `who` goes into: the body's "project", or its
/// only project, or "default"; 403 outside its projects, 400 for a bad
/// name or a choice left open (bound to several, none asked).
Result<std::string> project_for_create(const Identity& who, const json::Value& body);

/// The role of a unix-socket peer: root (uid 0) and members of group
/// berth-admin are admin, members of group berth operator, anyone else
/// who reaches the socket viewer. `gids` are the peer's groups (primary and
/// supplementary), `admin_gid`/`operator_gid` the groups' ids (-1: absent).
Role unix_role(uint32_t uid, const std::vector<uint32_t>& gids, long admin_gid, long operator_gid);

/// What berthd reads from a client certificate.
struct CertSubject {
  std::string cn;
  std::vector<std::string> ou, o;
  std::string fingerprint;  // SHA-256 of the DER certificate, hex
};

class TrustStore;

/// A TLS client's identity ("tls:CN"): its trust store entry when its
/// fingerprint is registered, else its subject's OU=ROLE with each O a
/// project it is bound to; 403 when neither says a role.
Result<Identity> certificate_identity(const CertSubject& c, const TrustStore& trust);

/// One trusted client certificate.
struct TrustEntry {
  std::string fingerprint;  // SHA-256 of the DER certificate, hex
  std::string name;         // its subject's CN, or what `add` was given
  Role role = Role::viewer;
  std::vector<std::string> projects;  // empty: every project
};

/// A project's limits (none set: unlimited), checked at create and set.
struct ProjectLimits {
  std::optional<uint64_t> containers, ram, disk, cpus;
  bool none() const { return !containers && !ram && !disk && !cpus; }
};

/// The trust store: `<state>/trust.json`, written atomically on every
/// change. Thread-safe.
class TrustStore {
public:
  /// Loads `path` (absent: empty); errors name the file and the entry.
  Status load(const std::string& path);
  std::optional<TrustEntry> find(const std::string& fingerprint) const;
  /// Adds or replaces the entry with this fingerprint.
  Status add(TrustEntry e);
  /// Removes the entry whose fingerprint is `fp` or starts with it (at
  /// least 12 hex digits, one match); ENOENT when none.
  Result<TrustEntry> remove(const std::string& fp);
  json::Value list() const;
  Status set_limits(const std::string& project, const ProjectLimits& l);
  ProjectLimits limits(const std::string& project) const;
  json::Value projects() const;

private:
  Status save_locked() const;
  mutable std::mutex mu_;
  std::string path_;
  std::vector<TrustEntry> entries_;
  std::map<std::string, ProjectLimits> limits_;
};

/// Whether `adding` fits in its project beside `containers` (the list's
/// entries, each with its "config"): the count, RAM, disk and CPUs the
/// project's limits allow. A limited resource must be given. 403 naming
/// the limit otherwise. A container of `adding`'s name (a set changing
/// it) is not counted twice.
Status check_project_limits(const Record& adding, const ProjectLimits& l, const std::vector<Record>& containers);

json::Value trust_entry_json(const TrustEntry& e);
/// {"certificate"?: PEM, "role", "projects"?, "name"?} as an entry, its
/// fingerprint left for the caller, who parses the certificate.
Result<TrustEntry> decode_trust_entry(const json::Value& body);
/// Changes `l` by {"containers"?, "ram"?, "disk"?, "cpus"?}: sizes as "4G"
/// or bytes, null for no limit; a field not given is left as it was.
Status apply_project_limits(ProjectLimits& l, const json::Value& body);

}  // namespace berth::supervisor
