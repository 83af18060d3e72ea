#!/usr/bin/env python3
"""relay.py — a byte relay between a TCP port and a unix socket, so that a
test node in a network namespace of its own reaches the etcd that listens on
the host's loopback, without any address or route in the host namespace:

  relay.py unix PATH PORT   listens on the unix socket PATH, connects to
                            127.0.0.1:PORT (run in the host namespace)
  relay.py tcp PORT PATH    listens on 127.0.0.1:PORT, connects to the unix
                            socket PATH (run in the node's namespace)

Stops on SIGTERM.
"""
import os
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        src.close()


def serve(listener, connect):
    while True:
        client, _ = listener.accept()
        try:
            upstream = connect()
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "unix":
        path, port = args[0], int(args[1])
        if os.path.exists(path):
            os.unlink(path)
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(path)
        lsock.listen(64)
        serve(lsock, lambda: socket.create_connection(("127.0.0.1", port)))
    elif mode == "tcp":
        port, path = int(args[0]), args[1]
        lsock = socket.socket()
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", port))
        lsock.listen(64)

        def connect():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s
        serve(lsock, connect)
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
