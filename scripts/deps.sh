#!/usr/bin/env bash
# deps.sh — installs the Debian 12 packages berth builds and tests with.
set -euo pipefail
pkgs=(build-essential cmake ninja-build ccache pkg-config git
      libseccomp-dev libsystemd-dev libgtest-dev libarchive-dev libssl-dev libzstd-dev
      busybox-static runc crun podman conmon containerd iproute2 procps jq time groff-base
      qemu-system-x86 linux-image-amd64 cpio xz-utils zstd
      libcurl4-openssl-dev docker-registry skopeo apache2-utils openssl curl python3
      zlib1g-dev e2fsprogs debootstrap umoci
      libnl-3-dev libnl-route-3-dev libnftables-dev nftables containernetworking-plugins iperf3
      util-linux libboost1.81-dev libboost-json1.81-dev libcap-dev lxcfs
      etcd-server etcd-client lxc lxc-templates rsync openssh-client criu
      clang-format clang-tidy)
# Boost 1.81, not Debian's default libboost-dev (1.74): Debian 12 has
# Boost.JSON (bench/json.sh compares it with base/json) only in 1.81, and
# the two versions' headers conflict. libcap-dev is for bench/caps.sh only;
# clang-format (with git clang-format) and clang-tidy for scripts/lint.sh.
# criu for checkpoint/restore (it works on the VM tier's kernel).
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# etcd-server enables and tries to start a system etcd; berth's tests start
# their own on free loopback ports, so keep the packaged service off.
# lxc (the anchor of bench/system.sh) would start lxc-net, a bridge with NAT
# in the host's namespace; the bench makes its own network in a namespace.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now etcd >/dev/null 2>&1 || true
  systemctl disable --now lxc-net lxc >/dev/null 2>&1 || true
fi
# lxcfs.service (mounting /var/lib/lxcfs) stays as the package sets it:
# berthd uses that lxcfs when it is mounted and starts its own otherwise.
