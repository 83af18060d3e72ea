# guest.sh — checks on a system container's guest, through the berth CLI
# ($BERTH). Sourced by the Debian tests of the host and vm tiers.

# system_running NAME [TRIES]: systemd inside says "running" (TRIES half
# seconds, 120 by default); on anything else, what failed is printed.
system_running() {
  local s= i
  for i in $(seq "${2:-120}"); do
    s=$("$BERTH" exec "$1" systemctl is-system-running 2>/dev/null || true)
    case $s in running) return 0 ;; degraded) break ;; esac
    sleep 0.5
  done
  echo "# $1 is ${s:-unreachable}"
  "$BERTH" exec "$1" systemctl --failed --no-legend 2>&1 | sed 's/^/#   failed: /'
  return 1
}

# network_online NAME [IFNAME]: the guest's systemd-networkd has configured
# IFNAME (eth0) from berth's file, as systemd-networkd-wait-online says.
network_online() {
  "$BERTH" exec "$1" /lib/systemd/systemd-networkd-wait-online -q -i "${2:-eth0}" --timeout=60 && return 0
  "$BERTH" exec "$1" networkctl --no-pager status "${2:-eth0}" 2>&1 | sed 's/^/#   /'
  return 1
}
