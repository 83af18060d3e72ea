// template.h — OS templates (as Virtuozzo's EZ templates): system images
// whose init boots inside a container. A Debian/Ubuntu template is made
// with debootstrap from a package archive; a busybox template is made
// offline from the host's static busybox, for tests and the quick start.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/images/descriptor.h"
#include "berth/images/store.h"

namespace berth::images {

/// Config labels every template carries.
inline constexpr std::string_view kTemplateLabel = "org.berth.template";        // e.g. "debian-bookworm"
inline constexpr std::string_view kTemplateKeyLabel = "org.berth.template.key"; // what it was built from
inline constexpr std::string_view kInitLabel = "org.berth.init";                // "systemd" | "busybox"

struct BusyboxTemplate {
  std::string busybox = "/bin/busybox";  // must be statically linked
  std::string hostname = "busybox";
};

/// Builds a one-layer image: busybox and its applets, /sbin/init with an
/// inittab and rcS that bring the container up and write /run/berth-booted,
/// passwd/group/shadow for root, hostname and hosts. StopSignal is
/// SIGUSR2 (busybox init's poweroff).
Result<Descriptor> build_busybox_template(const Store& store, std::string_view tag, const BusyboxTemplate& opts);

struct DebianTemplate {
  std::string suite = "bookworm";
  std::string mirror = "http://deb.debian.org/debian";
  std::string variant = "minbase";
  std::vector<std::string> packages;  // besides systemd-sysv, iproute2, netbase
  bool rebuild = false;               // ignore a cached build
  bool verbose = false;               // show debootstrap's output
};

/// Checks suite, variant, mirror and packages (what a request may send),
/// naming the field; build_debian_template checks the same first.
Status check_debian_template(const DebianTemplate& opts);

/// Builds a system image with debootstrap and systemd as its init
/// (StopSignal SIGRTMIN+3). The tag is reused when it already holds a
/// build from the same suite, mirror, variant and packages (unless
/// `rebuild`); downloaded packages are kept under <store>/template-cache.
Result<Descriptor> build_debian_template(const Store& store, std::string_view tag, const DebianTemplate& opts);

}  // namespace berth::images
