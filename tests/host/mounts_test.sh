#!/usr/bin/env bash
# mounts_test.sh — idmapped bind mounts (their own mappings, or the container's) and tmpcopyup.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
chmod 755 $WORK; src=$WORK/idsrc; mkdir -p $src; echo data > $src/f; chown 0:0 $src/f
# Container without a user namespace: the mount's own mapping 0 -> 1000.
b=$(JQ=".mounts += [{\"destination\":\"/mnt\",\"type\":\"bind\",\"source\":\"$src\",\"options\":[\"bind\"],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}]" make_bundle idm1 sh -c 'stat -c "%u:%g" /mnt/f')
out=$("${RT[@]}" run --bundle "$b" c-idm1 2>&1) || true
expect_eq "idmapped mount shifts owners (0 -> 1000)" "1000:1000" "$out"
# A user-namespaced container with a bare "idmap" option takes the container's mappings.
b=$(JQ=".linux.namespaces += [{\"type\":\"user\"}] | .linux.uidMappings=[{\"containerID\":0,\"hostID\":200000,\"size\":65536}] | .linux.gidMappings=[{\"containerID\":0,\"hostID\":200000,\"size\":65536}] | .mounts += [{\"destination\":\"/mnt\",\"type\":\"bind\",\"source\":\"$src\",\"options\":[\"bind\",\"idmap\"]}]" make_bundle idm2 sh -c 'stat -c "%u:%g" /mnt/f; echo new > /mnt/g')
out=$("${RT[@]}" run --bundle "$b" c-idm2 2>&1) || true
expect_eq "container root owns the idmapped files" "0:0" "$out"
expect_eq "a file written through it is root's on disk" "0:0" "$(stat -c %u:%g $src/g 2>&1)"
# tmpcopyup
mkdir -p $(base_rootfs)/etc/tcu; echo keep > $(base_rootfs)/etc/tcu/a; ln -sf a $(base_rootfs)/etc/tcu/l; chown 5:6 $(base_rootfs)/etc/tcu/a
b=$(JQ='.mounts += [{"destination":"/etc/tcu","type":"tmpfs","source":"tmpfs","options":["tmpcopyup","mode=755"]}]' make_bundle tcu sh -c 'cat /etc/tcu/l; stat -c "%u:%g" /etc/tcu/a; grep -c " /etc/tcu tmpfs" /proc/self/mounts; echo w > /etc/tcu/b')
out=$("${RT[@]}" run --bundle "$b" c-tcu 2>&1) || true
expect_eq "tmpcopyup copies the image's files into the tmpfs" $'keep\n5:6\n1' "$out"
check "writes to the tmpfs stay off the image" test ! -e $(base_rootfs)/etc/tcu/b
# A bare "idmap" without a user namespace has no mapping to use.
b=$(JQ=".mounts += [{\"destination\":\"/mnt\",\"type\":\"bind\",\"source\":\"$src\",\"options\":[\"bind\",\"idmap\"]}]" make_bundle idm3 true)
rc=0; out=$("${RT[@]}" run --bundle "$b" c-idm3 2>&1) || rc=$?
check "idmap without mappings is refused" test "$rc" -ne 0
expect_contains "the error names the mount" "mounts[7]: an idmapped mount needs uidMappings" "$out"
check "and leaves nothing" no_leftovers c-idm3
finish
