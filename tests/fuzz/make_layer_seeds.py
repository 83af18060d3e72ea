#!/usr/bin/env python3
# make_layer_seeds.py — regenerates the seed layers in corpus/images_layer/: small
# tarballs (plain, gzip, zstd) with every entry kind the unpacker handles
# and the escapes it must refuse. Needs python3 and the zstd command.
import gzip, io, os, subprocess, tarfile

tarfile.RECORDSIZE = 512  # no padding to 10 KiB: smaller seeds
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "images_layer")


def entry(name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644, pax=None):
    t = tarfile.TarInfo(name)
    t.type, t.linkname, t.mode, t.size, t.mtime = kind, link, mode, len(data), 1700000000
    if pax:
        t.pax_headers = pax
    return t, data


def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for t, data in entries:
            tf.addfile(t, io.BytesIO(data) if data else None)
    return buf.getvalue()


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


basic = tar([
    entry("./", tarfile.DIRTYPE, mode=0o755),
    entry("bin/", tarfile.DIRTYPE, mode=0o755),
    entry("bin/busybox", data=b"\x7fELF", mode=0o755),
    entry("bin/sh", tarfile.LNKTYPE, link="bin/busybox"),
    entry("lib", tarfile.SYMTYPE, link="usr/lib", mode=0o777),
    entry("ro/", tarfile.DIRTYPE, mode=0o555),
    entry("ro/f", data=b"x", mode=0o444, pax={"SCHILY.xattr.user.k": "v"}),
    entry("run/fifo", tarfile.FIFOTYPE, mode=0o600),
    entry("dev/null", tarfile.CHRTYPE, mode=0o666),
])
whiteouts = tar([
    entry("etc/", tarfile.DIRTYPE),
    entry("etc/.wh.motd"),
    entry("var/cache/.wh..wh..opq"),
    entry("var/cache/new", data=b"n"),
    entry(".wh..wh.plnk/"),
])
escapes = tar([
    entry("a", tarfile.SYMTYPE, link="/"),
    entry("a/etc/x", data=b"in root"),
    entry("b", tarfile.SYMTYPE, link="../../.."),
    entry("b/x", data=b"in root"),
    entry("c", tarfile.SYMTYPE, link="/etc/passwd"),
    entry("c", data=b"replaces the link"),
    entry("h", tarfile.LNKTYPE, link="a/etc/x"),
])
write("basic.tar", basic)
write("basic.tar.gz", gzip.compress(basic, mtime=0))
write("basic.tar.zst", subprocess.run(["zstd", "-q", "-c"], input=basic, capture_output=True, check=True).stdout)
write("whiteouts.tar", whiteouts)
write("escapes.tar", escapes)
write("dotdot.tar", tar([entry("../escape", data=b"x")]))
write("hardlink_out.tar", tar([entry("h", tarfile.LNKTYPE, link="../../etc/passwd")]))
write("truncated.tar.gz", gzip.compress(basic, mtime=0)[:200])
