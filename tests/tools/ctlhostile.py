#!/usr/bin/env python3
# ctlhostile.py - test tool: a local user misusing a hive control socket
# (test_control_hostile.sh runs it as accounts with no rights).
#
#   hold SOCKET N STOPFILE   keep N connections open, sending nothing;
#                            reconnect each one the daemon closes (every
#                            0.1 s at most); print "connected" after the
#                            first round; exit when STOPFILE exists
#   idle SOCKET N            open N connections, send nothing; for each,
#                            once the daemon closes it (30 s deadline):
#                            "code=CODE after=SECONDS" (CODE from its
#                            error reply, "none" without one), or "open"
#   refuse SOCKET KIND       one request the daemon refuses (denied,
#                            malformed, oversize; or, for a peer that may
#                            send, second: a second request after a send
#                            --wait); print "code=CODE closed=yes|no"
#                            (closed: the daemon closed within 5 s)
#
# SOCK_SEQPACKET, as the daemon speaks: one datagram, one request.
import json
import os
import select
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(2)
    try:
        s.connect(path)
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s


def gone(s):
    """True once the daemon has closed s (EOF or error); replies ignored."""
    try:
        while True:
            if s.recv(65536) == b"":
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def hold(path, n, stop):
    conns = [connect(path) for _ in range(n)]
    print("connected", sum(c is not None for c in conns), flush=True)
    deadline = time.monotonic() + 300
    while not os.path.exists(stop) and time.monotonic() < deadline:
        live = [c for c in conns if c is not None]
        select.select(live, [], [], 0.1)
        for i, c in enumerate(conns):
            if c is None or gone(c):
                if c is not None:
                    c.close()
                conns[i] = None
        time.sleep(0.1)
        conns = [c if c is not None else connect(path) for c in conns]


def read_close(s, code):
    """One read: (code so far, closed?); the code of an error reply."""
    try:
        d = s.recv(256 * 1024)
    except BlockingIOError:
        return code, False
    except OSError:
        return code, True
    if d == b"":
        return code, True
    try:
        o = json.loads(d)
    except ValueError:
        return code, False
    return (o.get("code", "?") if o.get("ok") is False else code), False


def wait_close(s, deadline):
    """(code of the error reply or "none", closed?) by deadline."""
    code = "none"
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], deadline - time.monotonic())
        if r:
            code, closed = read_close(s, code)
            if closed:
                return code, True
    return code, False


def idle(path, n):
    t0 = time.monotonic()
    conns = {}
    for i in range(n):
        s = connect(path)
        if s is None:
            print("connect-failed")
        else:
            conns[s] = [time.monotonic(), "none"]
    while conns and time.monotonic() < t0 + 30:
        r, _, _ = select.select(list(conns), [], [], 0.5)
        for s in r:
            conns[s][1], closed = read_close(s, conns[s][1])
            if closed:
                print("code=%s after=%.2f" % (conns[s][1],
                      time.monotonic() - conns[s][0]), flush=True)
                del conns[s]
    for s in conns:
        print("open")


def refuse(path, kind):
    s = connect(path)
    if s is None:
        print("connect-failed")
        return
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    send = {"op": "send", "to": "ghost-1", "ch": "command", "text": "t",
            "force": True}
    if kind == "denied":
        req = json.dumps(send).encode()
    elif kind == "malformed":
        req = b'{"op":"sta'
    elif kind == "oversize":
        req = json.dumps(dict(send, text="x" * (200 * 1024))).encode()
    elif kind == "second":
        s.setblocking(True)
        s.send(json.dumps(dict(send, wait=60)).encode())
        s.settimeout(15)
        print("first=%s" % json.loads(s.recv(65536)).get("ok"))
        s.setblocking(False)
        req = b'{"op":"status"}'
    else:
        sys.exit("unknown kind " + kind)
    s.setblocking(True)
    s.send(req)
    s.setblocking(False)
    code, closed = wait_close(s, time.monotonic() + 5)
    print("code=%s closed=%s" % (code, "yes" if closed else "no"))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: ctlhostile.py hold|idle|refuse SOCKET ...")
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "hold":
        hold(path, int(sys.argv[3]), sys.argv[4])
    elif mode == "idle":
        idle(path, int(sys.argv[3]))
    elif mode == "refuse":
        refuse(path, sys.argv[3])
    else:
        sys.exit("unknown mode " + mode)


main()
