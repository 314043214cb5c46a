#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""When kernel conntrack entries really go away: a ctnetlink event listener.

Run inside a network namespace (ip netns exec NS python3 ctevents.py OUT),
it subscribes to that namespace's destroy events (NFNLGRP_CONNTRACK_DESTROY
on a NETLINK_NETFILTER socket) and notes, per entry (CTA_ID), when the event
arrived (CLOCK_REALTIME as it is read: the removal), the kernel's own stamp
of the entry's end (CTA_TIMESTAMP_STOP; it needs
net.netfilter.nf_conntrack_timestamp = 1 before the entries are made) and
its TCP state. nf_ct_delete() backdates that stamp to the moment the entry
expired when the removal comes after it, so for an entry that expired idle
the stamp is its last packet + timeout, to the jiffy, and the arrival minus
the stamp is how late the kernel removed it.

The socket's receive buffer is raised to BUF bytes (SO_RCVBUFFORCE, root) so
that a burst of 100,000 destroys fits; a message the kernel could not
deliver all the same (ENOBUFS) is counted, never silently lost: the count is
the first line of the output. On SIGTERM or SIGINT it writes OUT:

    lost N
    ID REMOVED STOP STATE

(times in seconds, CLOCK_REALTIME; STATE the TCP conntrack state, 3 =
established; "-": not in the message).
"""
import os
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNLGRP_CONNTRACK_DESTROY = 3
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_DELETE = 2
CTA_ID, CTA_TIMESTAMP, CTA_TIMESTAMP_STOP = 12, 20, 2
CTA_PROTOINFO, CTA_PROTOINFO_TCP, CTA_PROTOINFO_TCP_STATE = 4, 1, 1
NLA_TYPE_MASK = 0x3FFF
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
SO_RCVBUFFORCE = 33
NLMSG_HDR = struct.Struct("=IHHII")
NFGENMSG_LEN = 4
NLA_HDR = struct.Struct("=HH")


class Stop(Exception):
    pass


def attrs(msg, off, end):
    """(type, value offset, value length) of the attributes in msg[off:end]."""
    while off + NLA_HDR.size <= end:
        alen, atype = NLA_HDR.unpack_from(msg, off)
        if alen < NLA_HDR.size or off + alen > end:
            return
        yield atype & NLA_TYPE_MASK, off + NLA_HDR.size, alen - NLA_HDR.size
        off += (alen + 3) & ~3


def nested(msg, voff, vlen, want):
    """The attribute of type want inside a nested one: (offset, length) or None."""
    for t, o, n in attrs(msg, voff, voff + vlen):
        if t == want:
            return o, n
    return None


def ct_fields(msg, off, end):
    """CTA_ID, CTA_TIMESTAMP_STOP (seconds) and the TCP state of one
    message (None for what it does not carry)."""
    cid = stop = state = None
    for atype, voff, vlen in attrs(msg, off + NFGENMSG_LEN, end):
        if atype == CTA_ID and vlen >= 4:
            cid = struct.unpack_from("!I", msg, voff)[0]
        elif atype == CTA_TIMESTAMP:
            a = nested(msg, voff, vlen, CTA_TIMESTAMP_STOP)
            if a and a[1] >= 8:
                stop = struct.unpack_from("!Q", msg, a[0])[0] / 1e9
        elif atype == CTA_PROTOINFO:
            tcp = nested(msg, voff, vlen, CTA_PROTOINFO_TCP)
            a = tcp and nested(msg, tcp[0], tcp[1], CTA_PROTOINFO_TCP_STATE)
            if a and a[1] >= 1:
                state = msg[a[0]]
    return cid, stop, state


def handle(buf, now, gone):
    """Every destroy message in one datagram."""
    off = 0
    while off + NLMSG_HDR.size <= len(buf):
        mlen, mtype, _flags, _seq, _pid = NLMSG_HDR.unpack_from(buf, off)
        if mlen < NLMSG_HDR.size or off + mlen > len(buf):
            return
        if mtype == NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE:
            cid, stop, state = ct_fields(buf, off + NLMSG_HDR.size, off + mlen)
            if cid is not None:
                gone.append((cid, now, stop, state))
        off += (mlen + 3) & ~3


def listen(bufsize):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, bufsize)
    s.bind((0, 0))
    s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NFNLGRP_CONNTRACK_DESTROY)
    return s


def main():
    out = sys.argv[1]
    bufsize = int(os.environ.get("BUF", str(256 << 20)))
    gone, lost = [], 0

    def stop(*_):
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    s = listen(bufsize)
    ready = os.environ.get("READY")
    if ready:
        open(ready, "w").close()
    try:
        while True:
            try:
                buf = s.recv(1 << 16)
            except OSError as e:
                if e.errno == 105:      # ENOBUFS: the kernel dropped events
                    lost += 1
                    continue
                raise
            handle(buf, time.time(), gone)
    except Stop:
        pass
    with open(out, "w") as f:
        f.write("lost %d\n" % lost)
        fmt = lambda v, pattern: pattern % v if v is not None else "-"
        for cid, removed, stop, state in gone:
            f.write("%d %.6f %s %s\n" % (cid, removed, fmt(stop, "%.6f"), fmt(state, "%d")))


if __name__ == "__main__":
    main()
