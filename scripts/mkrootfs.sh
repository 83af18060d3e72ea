#!/usr/bin/env bash
# mkrootfs.sh DIR — builds a tiny busybox root filesystem offline (from the
# busybox-static package) for tests, benchmarks and the quick start.
set -euo pipefail
dir=${1:?usage: mkrootfs.sh DIR}
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkrootfs: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,tmp,root,run,var,usr/bin,usr/sbin}
cp "$bb" "$dir/bin/busybox"
for app in $("$bb" --list); do
  [ "$app" = busybox ] && continue
  ln -sf busybox "$dir/bin/$app"
done
ln -sf /bin/true "$dir/usr/bin/true" 2>/dev/null || true
echo "root:x:0:0:root:/root:/bin/sh" > "$dir/etc/passwd"
echo "root:x:0:" > "$dir/etc/group"
chmod 1777 "$dir/tmp"
