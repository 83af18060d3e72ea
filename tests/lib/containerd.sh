# containerd.sh — Debian's containerd for a test: start_containerd DIR
# mounts a tmpfs at DIR (the overlayfs snapshotter cannot stack on the VM's
# overlay root), writes a config with DIR's own socket, root and state (no
# CRI), starts containerd and waits for its socket; sets CTD_PID and CTR
# (ctr on that socket, namespace berth-test). The caller stops it.
start_containerd() {
  local c=$1
  mkdir -p "$c"
  mount -t tmpfs -o mode=700 berth-ctd "$c"
  cat > "$c/config.toml" <<TOML
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$c/ctd.sock"
[ttrpc]
  address = "$c/ctd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
TOML
  containerd --config "$c/config.toml" >"$c/containerd.log" 2>&1 &
  CTD_PID=$!
  CTR=(ctr --address "$c/ctd.sock" -n berth-test)
  for _ in $(seq 100); do [ -S "$c/ctd.sock" ] && break; sleep 0.1; done
}
