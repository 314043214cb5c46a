# SPDX-License-Identifier: GPL-2.0-or-later
"""Test peers for the idlegate-sim integration tests (independent of the
project's own probe): a line-protocol TCP/UDP server and clients that go
idle and report, as one JSON line, what a user would see afterwards.

  server --port P [--udp]         HELLO -> "HELLO ip port" (the address seen)
                                  PING -> PONG; LATER n -> "LATE" after n s
  tcp HOST PORT --idle S [--speaker client|server] [--keepalive I,V,C] [--wait W]
  udp HOST PORT --idle S [--speaker client|server] [--wait W]
Outcomes: alive, reset (ECONNRESET), closed (EOF), timeout, unreachable.
"""
import argparse, errno, json, select, socket, struct, sys, threading, time


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def serve_tcp_conn(c, addr, log):
    f = c.makefile("rb")
    try:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == b"HELLO":
                c.sendall(b"HELLO %s %d\n" % (addr[0].encode(), addr[1]))
            elif w[0] == b"PING":
                c.sendall(b"PONG\n")
            elif w[0] == b"LATER":
                time.sleep(float(w[1]))
                try:
                    c.sendall(b"LATE\n")
                    # an RST from the box shows on the next read
                    c.settimeout(float(w[2]) if len(w) > 2 else 3)
                    try:
                        d = c.recv(100)
                        log("server-after-late " + ("eof" if not d else "data"))
                    except socket.timeout:
                        log("server-after-late timeout")
                except ConnectionResetError:
                    log("server-after-late reset")
                    return
    except ConnectionResetError:
        log("server reset")
    except OSError as e:
        log("server error %s" % e)
    finally:
        c.close()


def server(a):
    lock = threading.Lock()

    def log(msg):
        with lock:
            print(msg, flush=True)

    fam = socket.AF_INET6
    if a.udp:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", a.port))
        log("listening")
        while True:
            d, addr = s.recvfrom(2048)
            ip = addr[0].removeprefix("::ffff:")
            w = d.split()
            log("udp-from %s %d" % (ip, addr[1]))
            if w and w[0] == b"LATER":
                def late(addr=addr, n=float(w[1])):
                    time.sleep(n)
                    s.sendto(b"LATE", addr)
                threading.Thread(target=late, daemon=True).start()
            else:
                s.sendto(b"ECHO %s %d" % (ip.encode(), addr[1]), addr)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", a.port))
    s.listen(64)
    log("listening")
    while True:
        c, addr = s.accept()
        addr = (addr[0].removeprefix("::ffff:"), addr[1])
        log("accept %s %d" % addr)
        threading.Thread(target=serve_tcp_conn, args=(c, addr, log), daemon=True).start()


def report(**kw):
    print(json.dumps(kw), flush=True)


def err_outcome(e):
    if isinstance(e, ConnectionResetError) or getattr(e, "errno", 0) == errno.ECONNRESET:
        return "reset"
    if getattr(e, "errno", 0) in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNREFUSED):
        return "unreachable"
    if getattr(e, "errno", 0) == errno.ETIMEDOUT:
        return "keepalive-timeout"
    return "error:%s" % e


def tcp_client(a):
    c = socket.socket(family(a.host), socket.SOCK_STREAM)
    c.settimeout(5)
    if a.bind_port or a.bind_addr:
        c.bind((a.bind_addr, a.bind_port))
    if a.keepalive:
        idle, intvl, cnt = (int(x) for x in a.keepalive.split(","))
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)
    if a.user_timeout:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, a.user_timeout)
    c.connect((a.host, a.port))
    f = c.makefile("rb")
    c.sendall(b"HELLO\n")
    w = f.readline().split()
    seen = "%s:%s" % (w[1].decode(), w[2].decode())
    lport = c.getsockname()[1]
    start = time.monotonic()
    if a.speaker == "server":
        c.sendall(b"LATER %g %g\n" % (a.idle, a.wait))
        c.settimeout(a.idle + a.wait)
        try:
            line = f.readline()
            out = "alive" if line.startswith(b"LATE") else "closed"
        except socket.timeout:
            out = "timeout"
        except OSError as e:
            out = err_outcome(e)
        report(outcome=out, seen=seen, lport=lport, after=round(time.monotonic() - start, 2))
        return
    # idle: anything arriving now (RST, FIN) ends the idle period early
    r, _, _ = select.select([c], [], [], a.idle)
    if r:
        try:
            d = c.recv(100)
            out = "closed" if not d else "data"
        except OSError as e:
            out = err_outcome(e)
        report(outcome=out, seen=seen, lport=lport, during_idle=True,
               after=round(time.monotonic() - start, 2))
        return
    c.settimeout(a.wait)
    try:
        c.sendall(b"PING\n")
        line = f.readline()
        out = "alive" if line.startswith(b"PONG") else "closed"
    except socket.timeout:
        out = "timeout"
    except OSError as e:
        out = err_outcome(e)
    report(outcome=out, seen=seen, lport=lport, after=round(time.monotonic() - start, 2))


def udp_client(a):
    c = socket.socket(family(a.host), socket.SOCK_DGRAM)
    c.connect((a.host, a.port))
    c.settimeout(3)
    c.send(b"HELLO")
    w = c.recv(2048).split()
    seen = "%s:%s" % (w[1].decode(), w[2].decode())
    if a.speaker == "server":
        c.send(b"LATER %g" % a.idle)
        c.settimeout(a.idle + a.wait)
        try:
            out = "alive" if c.recv(2048).startswith(b"LATE") else "other"
        except socket.timeout:
            out = "timeout"
        except OSError as e:
            out = err_outcome(e)
        if a.then_client is None:
            report(outcome=out, seen=seen)
            return
        # then the client speaks, --then-client seconds later
        then, seen2 = udp_ping(c, a.then_client, a.wait, seen)
        report(outcome=out, seen=seen, then=then, seen_after=seen2)
        return
    out, seen2 = udp_ping(c, a.idle, a.wait, seen)
    report(outcome=out, seen=seen, seen_after=seen2)


def udp_ping(c, idle, wait, seen):
    """After idle seconds, PING: alive (seen from the same address and
    port), rebound (from another), timeout, or the socket's error."""
    time.sleep(idle)
    c.settimeout(wait)
    try:
        c.send(b"PING")
        w = c.recv(2048).split()
        seen2 = "%s:%s" % (w[1].decode(), w[2].decode())
        return ("alive" if seen2 == seen else "rebound"), seen2
    except socket.timeout:
        return "timeout", None
    except OSError as e:
        return err_outcome(e), None


def csum16(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def syn(a):
    """One bare TCP segment (a SYN by default) from SRC:SPORT to HOST:PORT
    through a raw socket: something no socket of ours sent (IPv4)."""
    t = struct.pack("!HHIIBBHHH", a.sport, a.port, 1000, 2000 if a.flags & 0x10 else 0,
                    5 << 4, a.flags, 65535, 0, 0)
    ph = socket.inet_aton(a.src) + socket.inet_aton(a.host) + struct.pack("!BBH", 0, 6, len(t))
    t = t[:16] + struct.pack("!H", csum16(ph + t)) + t[18:]
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    r.sendto(t, (a.host, 0))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--udp", action="store_true")
    for role in ("tcp", "udp"):
        c = sub.add_parser(role)
        c.add_argument("host")
        c.add_argument("port", type=int)
        c.add_argument("--idle", type=float, default=0)
        c.add_argument("--speaker", choices=("client", "server"), default="client")
        c.add_argument("--wait", type=float, default=2)
        if role == "udp":
            c.add_argument("--then-client", type=float, metavar="SECONDS",
                           help="with --speaker server: the client sends this long after")
        if role == "tcp":
            c.add_argument("--keepalive")
            c.add_argument("--user-timeout", type=int, default=0, help="ms")
            c.add_argument("--bind-port", type=int, default=0, help="the client's own port")
            c.add_argument("--bind-addr", default="", help="the client's own address")
    r = sub.add_parser("syn")
    r.add_argument("host")
    r.add_argument("port", type=int)
    r.add_argument("--src", required=True)
    r.add_argument("--sport", type=int, required=True)
    r.add_argument("--flags", type=lambda v: int(v, 0), default=0x02)
    a = p.parse_args()
    {"server": server, "tcp": tcp_client, "udp": udp_client, "syn": syn}[a.role](a)


if __name__ == "__main__":
    main()
