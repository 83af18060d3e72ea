#!/usr/bin/env python3
"""api_soak.py — sends N malformed or refused requests to berthd (four
fifths on its unix socket, one fifth over mutual TLS) and counts the
answers that are not 4xx. Every request is built to be refused: a create
or set body always carries something berthd must refuse, so a request that
berthd took would show as a bad answer (2xx/3xx) or a changed container.

  api_soak.py --unix SOCK --tls HOST:PORT --ca CA --cert CRT --key KEY -n N
Prints "sent: N", "bad answers: K" and the first bad ones.
"""
import argparse
import json
import random
import socket
import ssl

rng = random.Random(5736)


def junk(n):
    return bytes(rng.randrange(256) for _ in range(n))


def word():
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-_./%~") for _ in range(rng.randrange(1, 12)))


def req(method, target, body=None, headers=None):
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    h = f"{method} {target} HTTP/1.1\r\nHost: berthd\r\n"
    for k, v in (headers or {}).items():
        h += f"{k}: {v}\r\n"
    if body is not None:
        h += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    return h.encode() + b"\r\n" + data


BAD_VALUES = [None, -1, 1.5, "", "abc", [], {}, True, "9" * 40, "../etc", "\u0000", "1Q", {"a": [1]}]
FIELDS = ["ram", "swap", "cpus", "cpulimit", "pids", "disk", "net", "nameserver", "ports", "autostart",
          "boot_order", "restart", "stop_timeout", "hostname", "rate", "privileged", "template", "init"]


def refused_create():
    body = {"name": rng.choice(["", "../x", "a b", "-x", "x" * 200, word()])}
    for f in rng.sample(FIELDS, rng.randrange(0, 4)):
        body[f] = rng.choice(BAD_VALUES)
    body["zz_" + word()] = 1  # an unknown field: always refused
    return req("POST", "/v1/containers", body)


def refused_set(name):
    body = {rng.choice(FIELDS): rng.choice(BAD_VALUES[:12])}
    body["zz_" + word()] = rng.choice(BAD_VALUES)
    return req("PATCH", f"/v1/containers/{name}", body)


def one(names):
    k = rng.randrange(18)
    name = rng.choice(names)
    if k == 0:
        return junk(rng.randrange(1, 200)) + b"\r\n\r\n", True
    if k == 1:
        return req(rng.choice(["BREW", "TRACE", "PUT", "OPTIONS", "get"]), "/v1/containers"), False
    if k == 2:
        return req("GET", "/v1/" + "/".join(word() for _ in range(rng.randrange(1, 5)))), False
    if k == 3:
        body = rng.choice([b"{", b"[]", b"null", b"\xff\xfe", b'{"name": "x",}', junk(40)])
        return req("POST", "/v1/containers", body), False
    if k == 4:
        return refused_create(), False
    if k == 5:
        return refused_set(name), False
    if k == 6:
        body = {"force": rng.choice(["yes", 1, None]), "timeout": rng.choice([-1, "x", 10 ** 9])}
        return req("POST", f"/v1/containers/{name}/stop", body), False
    if k == 7:
        return req(rng.choice(["POST", "DELETE"]), f"/v1/containers/zz-{word()}/" +
                   rng.choice(["start", "stop", "restart", "suspend", "resume"]), {}), False
    if k == 8:
        return req("DELETE", f"/v1/containers/zz-{word()}"), False
    if k == 9:
        body = rng.choice([{"args": []}, {"args": ["true"], "timeout": 0}, {"args": [1]},
                           {"args": ["sh"], "terminal": "yes"}, {"args": ["sh"], "env": ["A=1"]},
                           {"args": ["sh"], "terminal": True, "rows": 0}])
        return req("POST", f"/v1/containers/{name}/exec", body), False
    if k == 10:
        return req("GET", "/v1/containers", headers={"X-Pad": "a" * rng.randrange(9000, 20000)}), True
    if k == 11:  # a body past berthd's limit, announced by its length
        return (b"POST /v1/containers HTTP/1.1\r\nHost: berthd\r\nContent-Length: 100000000\r\n\r\n{"), True
    if k == 12:
        return (b"POST /v1/containers HTTP/1.1\r\nHost: berthd\r\nContent-Length: 100\r\n\r\n{\"na"), True
    if k == 13:
        body = rng.choice([{"ref": 5}, {"ref": ""}, {"ref": "::::"}, {}, {"image": 1, "ref": "x"}])
        return req("POST", rng.choice(["/v1/images/pull", "/v1/images/push"]), body), False
    if k == 14:
        body = {"name": word(), "mode": rng.choice(["weird", 3, ""]), "subnet4": rng.choice(["1.2.3.4/99", "x"])}
        return req("POST", "/v1/networks", body), False
    if k == 15:
        return req("GET", f"/v1/operations/{word()}/wait?timeout={rng.choice(['abc', '-1', '1e9'])}"), False
    if k == 16:
        return req("POST", f"/v1/containers/{name}/" + rng.choice(["snapshot", "rollback", "commit"]),
                   rng.choice([{}, {"name": 1}, {"tag": ""}, {"name": "../x"}])), False
    return req("POST", "/v1/images", rng.choice([{"template": "nope", "tag": "x"}, {"template": 1},
                                                  {"template": "debian", "tag": "UPPER//x"}])), False


class Conn:
    def __init__(self, opener):
        self.opener = opener
        self.s = None
        self.buf = b""

    def send(self, data):
        if self.s is None:
            self.s = self.opener()
            self.buf = b""
        self.s.sendall(data)

    def close(self):
        if self.s is not None:
            try:
                self.s.close()
            except OSError:
                pass
        self.s = None

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def answer(self):
        """The status of the next response, or None when the connection closed."""
        try:
            while b"\r\n\r\n" not in self.buf:
                self._fill()
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            length, close = 0, False
            for line in lines[1:]:
                k, _, v = line.partition(":")
                if k.lower() == "content-length":
                    length = int(v)
                if k.lower() == "connection" and v.strip().lower() == "close":
                    close = True
            while len(self.buf) < length:
                self._fill()
            self.buf = self.buf[length:]
            if close:
                self.close()
            return status
        except (EOFError, ConnectionError, ssl.SSLError, OSError):
            self.close()
            return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unix", required=True)
    ap.add_argument("--tls", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("-n", type=int, default=50000)
    a = ap.parse_args()

    def unix():
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(30)
        s.connect(a.unix)
        return s

    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    host, port = a.tls.rsplit(":", 1)

    def tls():
        s = socket.create_connection((host, int(port)), timeout=30)
        return ctx.wrap_socket(s, server_hostname=host)

    conns = [Conn(unix), Conn(tls)]
    names = ["c1", "c2"]
    sent = bad = closed = 0
    bad_examples = []
    statuses = {}
    for i in range(a.n):
        c = conns[1] if i % 5 == 4 else conns[0]
        data, ends = one(names)
        try:
            c.send(data)
        except OSError:  # berthd closed it after the last answer: a new one
            c.close()
            try:
                c.send(data)
            except OSError:
                c.close()
                sent += 1
                closed += 1
                continue
        sent += 1
        if ends and data.endswith(b'{"na'):
            c.close()  # cut short: the client goes away
            continue
        st = c.answer()
        if ends:
            c.close()
        if st is None:
            closed += 1
            continue
        statuses[st] = statuses.get(st, 0) + 1
        if not 400 <= st <= 499:
            bad += 1
            if len(bad_examples) < 5:
                bad_examples.append(f"{st} for {data[:160]!r}")
    for c in conns:
        c.close()
    print(f"sent: {sent}")
    print(f"answers: {dict(sorted(statuses.items()))}, closed without one: {closed}")
    print(f"bad answers: {bad}")
    for e in bad_examples:
        print(f"bad: {e}")


if __name__ == "__main__":
    main()
