#!/usr/bin/env python3
"""checker.py — the cluster's safety checker for the partition tests.

Samples every node's running set through its berthd API (GET
/v1/containers on the node's unix socket) every 100 ms and fails if a
cluster container ever runs on two nodes at once, or if a placed container
runs nowhere for longer than --bound-ms. Usage:

  checker.py --bound-ms MS --state FILE NODE=SOCKET...

Runs until SIGTERM; then prints a summary and exits 1 on a violation (each
is also printed when seen). The containers it holds to the bound are those
it has seen running. `FILE` receives one line per change: "<ms> <node>
<id> up|down". A node whose API does not answer in a sample is counted as
running what it ran last (a container the checker cannot see is assumed
to run: the safe side for the two-nodes rule).
"""
import argparse
import http.client
import json
import signal
import socket
import sys
import time


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=2)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(self.path)
        self.sock = s


def running(sock):
    c = UnixConnection(sock)
    try:
        c.request("GET", "/v1/containers")
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            return None
        out = set()
        for e in json.loads(body):
            cid = (e.get("config") or {}).get("cluster")
            if cid and e.get("state") == "running":
                out.add(cid)
        return out
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        c.close()


def now_ms():
    return int(time.time() * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bound-ms", type=int, required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("nodes", nargs="+")
    a = ap.parse_args()
    nodes = dict(n.split("=", 1) for n in a.nodes)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    last = {n: set() for n in nodes}
    placed = set()
    down_since = {}  # container -> ms it was first seen running nowhere
    violations = []
    longest = {}
    samples = 0
    log = open(a.state, "a", buffering=1)
    while not stop:
        t = now_ms()
        for n, sock in nodes.items():
            r = running(sock)
            if r is None:
                continue
            for cid in r - last[n]:
                log.write(f"{t} {n} {cid} up\n")
            for cid in last[n] - r:
                log.write(f"{t} {n} {cid} down\n")
            last[n] = r
        samples += 1
        where = {}
        for n, cs in last.items():
            for cid in cs:
                where.setdefault(cid, []).append(n)
        placed |= set(where)
        for cid, ns in where.items():
            if len(ns) > 1:
                v = f"{t}: {cid} runs on {' and '.join(sorted(ns))} at once"
                print("VIOLATION " + v, flush=True)
                violations.append(v)
        for cid in placed:
            if cid in where:
                if cid in down_since:
                    longest[cid] = max(longest.get(cid, 0), t - down_since.pop(cid))
                continue
            since = down_since.setdefault(cid, t)
            if t - since > a.bound_ms and not any(cid in v and "nowhere" in v for v in violations):
                v = f"{t}: {cid} has run nowhere for {t - since} ms (bound {a.bound_ms} ms)"
                print("VIOLATION " + v, flush=True)
                violations.append(v)
        time.sleep(max(0, 0.1 - (now_ms() - t) / 1000))
    t = now_ms()
    for cid, since in down_since.items():
        longest[cid] = max(longest.get(cid, 0), t - since)
    worst = max(longest.values(), default=0)
    print(f"checker: {samples} samples of {len(nodes)} nodes, {len(placed)} containers, "
          f"longest time running nowhere {worst} ms (bound {a.bound_ms} ms), {len(violations)} violations", flush=True)
    sys.exit(1 if violations else 0)


if __name__ == "__main__":
    main()
