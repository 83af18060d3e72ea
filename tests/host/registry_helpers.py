#!/usr/bin/env python3
"""registry_helpers.py — servers the registry host test starts on 127.0.0.1.

  hang  PORT CERT KEY                       TLS server that accepts, reads the
                                            request and never answers
  proxy PORT CERT KEY UPSTREAM CA MODE LOG  HTTPS proxy in front of a real
                                            registry that injects one fault:
                                            status:CODE:N[:METHOD]
                                                           the first N requests
                                                           (of METHOD) get CODE
                                            cut            every blob GET without
                                                           Range is cut halfway
                                            slow:RATE      blob GETs are sent at
                                                           RATE bytes a second
                                            pass           nothing
  token PORT CERT KEY SIGNCERT SIGNKEY USER PASS SERVICE ISSUER
                                            a bearer-token server: Basic auth in,
                                            an RS256 JWT (x5c header) out

Every request is logged as "METHOD PATH RANGE" to LOG (proxy) for the test
to inspect. The servers stop on SIGTERM.
"""
import base64
import http.client
import http.server
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def serve(port, cert, key, handler):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    srv.daemon_threads = True
    srv.socket = tls_context(cert, key).wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


def hang(port, cert, key):
    ctx = tls_context(cert, key)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(16)
    held = []

    def take(conn):
        try:
            s = ctx.wrap_socket(conn, server_side=True)
            s.recv(65536)
            held.append(s)  # keep it open, say nothing
        except Exception:
            conn.close()

    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=take, args=(conn,), daemon=True).start()


def proxy(port, cert, key, upstream, ca, mode, log):
    up_host, up_port = upstream.rsplit(":", 1)
    up_ctx = ssl.create_default_context(cafile=ca)
    lock = threading.Lock()
    state = {"faults": 0}
    if mode.startswith("status:"):
        parts = mode.split(":")
        state["code"], state["left"] = int(parts[1]), int(parts[2])
        state["method"] = parts[3] if len(parts) > 3 else None

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def relay(self):
            rng = self.headers.get("Range", "-")
            with lock, open(log, "a") as f:
                f.write(f"{self.command} {self.path} {rng}\n")
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length) if length else None
            with lock:
                fault = state.get("left", 0) > 0 and state.get("method") in (None, self.command)
                if fault:
                    state["left"] -= 1
            if fault:
                msg = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"injected by the test"}]}'
                self.send_response(state["code"])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
            conn = http.client.HTTPSConnection(up_host, int(up_port), context=up_ctx, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "content-length")}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read() if self.command != "HEAD" else b""
            cut = (mode == "cut" and self.command == "GET" and "/blobs/sha256:" in self.path
                   and rng == "-" and resp.status == 200 and len(data) > 1)
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(k, v)
            if self.command == "HEAD":
                self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
            else:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if cut:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if mode.startswith("slow:") and self.command == "GET" and "/blobs/sha256:" in self.path:
                rate = int(mode.split(":")[1])
                step = max(1, rate // 10)
                try:
                    for off in range(0, len(data), step):
                        self.wfile.write(data[off:off + step])
                        self.wfile.flush()
                        time.sleep(0.1)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the client gave up (a cancelled pull)
                return
            self.wfile.write(data)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = relay

    serve(port, cert, key, Handler)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(port, cert, key, sign_cert, sign_key, user, password, service, issuer):
    with open(sign_cert) as f:
        pem = f.read()
    der = base64.b64decode("".join(l for l in pem.splitlines() if "-----" not in l))
    want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.headers.get("Authorization") != want:
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                msg = b'{"errors":[{"code":"UNAUTHORIZED","message":"bad user name or password"}]}'
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            access = []
            for scope in q.get("scope", []):
                for one in scope.split(" "):
                    kind, name, actions = one.split(":")[0], ":".join(one.split(":")[1:-1]), one.split(":")[-1]
                    access.append({"type": kind, "name": name, "actions": actions.split(",")})
            now = int(time.time())
            header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
            claims = {"iss": issuer, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 10,
                      "iat": now, "jti": str(now) + str(threading.get_ident()), "access": access}
            signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
            sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", sign_key], input=signing_input,
                                 capture_output=True, check=True).stdout
            tok = signing_input.decode() + "." + b64url(sig)
            body = json.dumps({"token": tok, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    serve(port, cert, key, Handler)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "hang":
        hang(int(args[0]), args[1], args[2])
    elif cmd == "proxy":
        proxy(int(args[0]), *args[1:])
    elif cmd == "token":
        token(int(args[0]), *args[1:])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
