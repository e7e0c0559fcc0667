#!/usr/bin/env python3
"""translate-kernel.py -- the same packets through several loaded rulesets; what became of each.

Do not run this directly: run scripts/translate-kernel.sh, which puts it in a private network and
mount namespace first (this file refuses to run in the host's network namespace).

One topology per loader, all alike (the one of scripts/kernel-trace.py):

    c<i> --- [eth0] f<i> [eth1] --- s<i>
    192.0.2.2    192.0.2.1   198.51.100.1    198.51.100.2
    2001:db8:1::2  2001:db8:1::1  2001:db8:2::1  2001:db8:2::2

Loader i loads each case's file into f<i> with its own command (iptables-legacy-restore, nft -f,
...). Then every packet of the case is sent into every topology at once, and this script records
what was seen: frames arriving at c<i> and s<i> (AF_PACKET, after any NAT in f<i>), packets f<i>
delivered to itself after INPUT (raw sockets), and the errno of a send from f<i>. Conntrack is
flushed in every f<i> before each packet. Python 3 standard library only.

Input: a JSON job file (see docs/dev/translate-kernel.md). Output: one JSON line per case on stdout.
"""
import ctypes
import importlib.util
import ipaddress
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("kernel_trace", os.path.join(HERE, "kernel-trace.py"))
kt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kt)

TOPO = kt.TOPO
ALLOWED_NETS = kt.ALLOWED_NETS
HARNESS = "ipt_tk_harness"
# switches conntrack on (a ct expression in a chain with no hook: no packet ever runs it)
HARNESS_TABLE = "table inet %s {\n  chain conntrack_on {\n    ct state new counter\n  }\n}\n" % HARNESS
MACS = {"fw_client": "02:00:00:00:01:01", "client": "02:00:00:00:01:02",
        "fw_server": "02:00:00:00:02:01", "server": "02:00:00:00:02:02"}
# addresses on each link that someone may send to (the generator's pool): permanent neighbours, so
# no neighbour discovery ever delays or changes a packet. Client's side / server's side, by family;
# the SNAT targets (x.9) live at fwhost, so that replies to them come back through it.
ON_LINK = {
    4: {"client": ["192.0.2.2", "192.0.2.66"], "server": ["198.51.100.2", "198.51.100.77", "198.51.100.78"],
        "fw_alias_client": ["192.0.2.9", "192.0.2.10"], "fw_alias_server": ["198.51.100.9", "198.51.100.10"]},
    6: {"client": ["2001:db8:1::2", "2001:db8:1::66"], "server": ["2001:db8:2::2", "2001:db8:2::77", "2001:db8:2::78"],
        "fw_alias_client": ["2001:db8:1::9", "2001:db8:1::10"],
        "fw_alias_server": ["2001:db8:2::9", "2001:db8:2::10"]},
}
EMPTY_TABLES = {
    "raw": ["PREROUTING", "OUTPUT"],
    "mangle": ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
    "nat": ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
    "filter": ["INPUT", "FORWARD", "OUTPUT"],
    "security": ["INPUT", "FORWARD", "OUTPUT"],
}
CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
NETLINK_NETFILTER = 12
IPV6_RECVPKTINFO, IPV6_PKTINFO, IPV6_FLOWINFO = 49, 50, 11
libc = ctypes.CDLL(None, use_errno=True)


Fail = kt.Fail


def log(*a):
    print("translate-kernel:", *a, file=sys.stderr)


def run(cmd, ns=None, inp=None, timeout=30, check=True):
    """kernel-trace.py's `run`, with more time: loading a big translation takes a while."""
    return kt.run(cmd, ns=ns, inp=inp, timeout=timeout, check=check)


class InNs:
    """`with InNs(name):` the calling thread is in network namespace `name` (sockets made inside
    stay there)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise Fail("setns %s: %s" % (self.name, os.strerror(ctypes.get_errno())))
        finally:
            os.close(fd)

    def __exit__(self, *exc):
        if libc.setns(self.home, CLONE_NEWNET) != 0:
            raise Fail("setns back: %s" % os.strerror(ctypes.get_errno()))
        os.close(self.home)


def sysctls(ns, values):
    with InNs(ns):
        for key, val in values:
            with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                f.write(str(val))


# ---------------------------------------------------------------- topology

class Topo:
    def __init__(self, i):
        self.i = i
        self.client, self.fw, self.server = "c%d" % i, "f%d" % i, "s%d" % i

    def setup(self):
        for ns in (self.client, self.fw, self.server):
            run(["ip", "netns", "add", ns])
        quiet = [("net.ipv6.conf.all.accept_dad", 0), ("net.ipv6.conf.default.accept_dad", 0),
                 ("net.ipv6.conf.default.router_solicitations", 0), ("net.ipv6.conf.all.router_solicitations", 0),
                 ("net.ipv4.conf.all.rp_filter", 0), ("net.ipv4.conf.default.rp_filter", 0),
                 ("net.ipv4.conf.all.send_redirects", 0), ("net.ipv4.conf.default.send_redirects", 0),
                 # no ICMP rate limits: every loader's namespace must answer every packet alike
                 ("net.ipv4.icmp_ratelimit", 0), ("net.ipv4.icmp_ratemask", 0),
                 ("net.ipv6.icmp.ratelimit", 0), ("net.ipv4.icmp_msgs_per_sec", 1000000),
                 ("net.ipv4.icmp_msgs_burst", 1000000)]
        for ns in (self.client, self.fw, self.server):
            sysctls(ns, quiet)
        sysctls(self.fw, [("net.ipv4.ip_forward", 1), ("net.ipv6.conf.all.forwarding", 1)])
        fw, c, s = self.fw, self.client, self.server
        run(["ip", "-n", fw, "link", "add", "eth0", "type", "veth", "peer", "name", "vclient"])
        run(["ip", "-n", fw, "link", "add", "eth1", "type", "veth", "peer", "name", "vserver"])
        run(["ip", "-n", fw, "link", "set", "vclient", "netns", c])
        run(["ip", "-n", fw, "link", "set", "vserver", "netns", s])
        batch = {fw: ["link set lo up"], c: ["link set lo up"], s: ["link set lo up"]}
        for ns, dev, mac in ((fw, "eth0", MACS["fw_client"]), (c, "vclient", MACS["client"]),
                             (fw, "eth1", MACS["fw_server"]), (s, "vserver", MACS["server"])):
            batch[ns] += ["link set %s address %s" % (dev, mac), "link set %s up" % dev]
        for fam, t in TOPO.items():
            p, x = "/%d" % t["plen"], (" nodad" if fam == 6 else "")
            batch[fw] += ["addr add %s%s dev eth0%s" % (t["fw_client"], p, x),
                          "addr add %s%s dev eth1%s" % (t["fw_server"], p, x)]
            batch[c].append("addr add %s%s dev vclient%s" % (t["client"], p, x))
            batch[s].append("addr add %s%s dev vserver%s" % (t["server"], p, x))
            on = ON_LINK[fam]
            for a in on["client"]:
                batch[fw].append("neigh replace %s lladdr %s dev eth0 nud permanent" % (a, MACS["client"]))
            for a in on["server"]:
                batch[fw].append("neigh replace %s lladdr %s dev eth1 nud permanent" % (a, MACS["server"]))
            for a in [t["fw_client"]] + on["fw_alias_client"]:
                batch[c].append("neigh replace %s lladdr %s dev vclient nud permanent" % (a, MACS["fw_client"]))
            for a in [t["fw_server"]] + on["fw_alias_server"]:
                batch[s].append("neigh replace %s lladdr %s dev vserver nud permanent" % (a, MACS["fw_server"]))
            d = "0.0.0.0/0" if fam == 4 else "::/0"
            batch[fw].append("route add %s via %s dev eth1" % (d, t["server"]))
            batch[c].append("route add %s via %s dev vclient" % (d, t["fw_client"]))
            batch[s].append("route add %s via %s dev vserver" % (d, t["fw_server"]))
        for ns, cmds in batch.items():
            run(["ip", "-n", ns, "-batch", "-"], inp="\n".join(cmds) + "\n")
        run(["nft", "-f", "-"], ns=fw, inp=HARNESS_TABLE)
        # a fragment that is never completed must not time out during the run: the ICMP "reassembly
        # time exceeded" would come back during some later packet's window (conntrack's IPv6
        # queue has its own timeout, there once the table above loaded nf_defrag_ipv6)
        frag_time = [("net.ipv4.ipfrag_time", 3600), ("net.ipv6.ip6frag_time", 3600)]
        for ns in (c, fw, s):
            sysctls(ns, frag_time)
        with InNs(fw):
            frag6 = os.path.exists("/proc/sys/net/netfilter/nf_conntrack_frag6_timeout")
        if frag6:
            sysctls(fw, [("net.netfilter.nf_conntrack_frag6_timeout", 3600)])
        with InNs(c):
            self.c_sock = packet_socket("vclient")
        with InNs(s):
            self.s_sock = packet_socket("vserver")
        with InNs(fw):
            self.raw4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            self.raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
            self.local = []
            for proto in (6, 17, 1):
                r = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
                r.setblocking(False)
                self.local.append((4, proto, r))
            for proto in (6, 17, 58):
                r = socket.socket(socket.AF_INET6, socket.SOCK_RAW, proto)
                r.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
                r.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWINFO, 1)
                r.setblocking(False)
                self.local.append((6, proto, r))
            self.ct = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
            self.ct.settimeout(5)

    def sockets(self):
        return [self.c_sock, self.s_sock] + [r for _, _, r in self.local]

    def flush_conntrack(self):
        """IPCTNL_MSG_CT_DELETE without a tuple: every entry, both families."""
        msg = struct.pack("=IHHII", 20, (1 << 8) | 2, 0x1 | 0x4, 1, 0) + struct.pack("!BBH", 0, 0, 0)
        self.ct.send(msg)
        data = self.ct.recv(65536)
        _, kind, _, _, _ = struct.unpack("=IHHII", data[:16])
        err = struct.unpack("=i", data[16:20])[0] if kind == 2 else 0
        if err not in (0, -2):   # ENOENT: nothing to flush
            raise Fail("conntrack flush in %s: %s" % (self.fw, os.strerror(-err)))


def packet_socket(dev):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((dev, ETH_P_ALL))
    s.setblocking(False)
    return s


def cleanup():
    for name in os.listdir("/run/netns") if os.path.isdir("/run/netns") else []:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


# ---------------------------------------------------------------- what arrived

def addr_text(fam, raw):
    return socket.inet_ntop(socket.AF_INET if fam == 4 else socket.AF_INET6, raw)


def describe(pkt, tag, depth=0):
    """One IP packet (from its IP header) as text, or None for neighbour discovery, MLD,
    redirects and anything else from a link-local address or to a multicast one (the kernel's own
    housekeeping, never an answer to a test packet)."""
    if len(pkt) < 20:
        return "short packet"
    ver = pkt[0] >> 4
    offset, more = 0, False
    if ver == 4:
        ihl = (pkt[0] & 0xf) * 4
        ident, proto = struct.unpack("!H", pkt[4:6])[0], pkt[9]
        fo = struct.unpack("!H", pkt[6:8])[0]
        offset, more = (fo & 0x1fff) * 8, bool(fo & 0x2000)
        src, dst = addr_text(4, pkt[12:16]), addr_text(4, pkt[16:20])
        ours = ident == tag
        l4 = pkt[ihl:]
        icmp = 1
    elif ver == 6 and len(pkt) >= 40:
        flow = struct.unpack("!I", pkt[0:4])[0] & 0xfffff
        proto = pkt[6]
        src, dst = addr_text(6, pkt[8:24]), addr_text(6, pkt[24:40])
        ours = flow == tag
        if pkt[8] == 0xfe and pkt[9] & 0xc0 == 0x80 or pkt[24] == 0xff:
            return None             # link-local source or multicast: MLD reports and the like
        l4 = pkt[40:]
        icmp = 58
        if proto == 44 and len(l4) >= 8:    # a fragment header (the only one the harness sends)
            proto, fo = l4[0], struct.unpack("!H", l4[2:4])[0]
            offset, more = fo & 0xfff8, bool(fo & 1)
            l4 = l4[8:]
    else:
        return "not IP (version %d)" % ver
    mark = " ours" if ours else ""
    if offset:
        # a later fragment: its payload is no header (it may look like one: the harness sends a copy)
        name = {6: "tcp", 17: "udp", icmp: "icmp" if ver == 4 else "icmpv6"}.get(proto, "proto %d" % proto)
        return "%s fragment %s > %s at %d%s%s" % (name, src, dst, offset, " more" if more else "", mark)
    if more:
        mark = " first fragment" + mark
    if proto in (6, 17) and len(l4) >= 4:
        sport, dport = struct.unpack("!HH", l4[:4])
        if proto == 6 and len(l4) >= 14:
            fl = l4[13]
            letters = "".join(c for c, b in kt.TCP_FLAG_BITS.items() if fl & b) or "none"
            return "tcp %s.%d > %s.%d %s%s" % (src, sport, dst, dport, letters, mark)
        return "%s %s.%d > %s.%d%s" % ("tcp" if proto == 6 else "udp", src, sport, dst, dport, mark)
    if proto == icmp and len(l4) >= 8:
        ty, code = l4[0], l4[1]
        if ver == 4 and ty == 5 or ver == 6 and 130 <= ty <= 137 or ver == 6 and ty == 143:
            return None
        name = "icmp" if ver == 4 else "icmpv6"
        if (ver == 4 and ty in (0, 8)) or (ver == 6 and ty in (128, 129)):
            ident = struct.unpack("!H", l4[4:6])[0]
            return "%s %s > %s type %d/%d id %d%s" % (name, src, dst, ty, code, ident, mark)
        inner = describe(l4[8:], tag, depth + 1) if depth == 0 else None
        return "%s %s > %s type %d/%d [%s]%s" % (name, src, dst, ty, code, inner, mark)
    return "proto %d %s > %s%s" % (proto, src, dst, mark)


def read_frames(topo, tag, into):
    """Everything waiting on this topology's sockets, as text, into `into` (a list)."""
    for where, sock in (("client", topo.c_sock), ("server", topo.s_sock)):
        while True:
            try:
                data, addr = sock.recvfrom(65536)
            except BlockingIOError:
                break
            if addr[2] == PACKET_OUTGOING or len(data) < 14:
                continue
            ethertype = struct.unpack("!H", data[12:14])[0]
            if ethertype not in (0x0800, 0x86dd):
                continue
            d = describe(data[14:], tag)
            if d is not None:
                into.append("%s got %s" % (where, d))
    for fam, proto, sock in topo.local:
        while True:
            try:
                if fam == 4:
                    data = sock.recv(65536)
                else:
                    data, anc, _, addr = sock.recvmsg(65536, 256)
            except BlockingIOError:
                break
            if fam == 6:
                dst, flow = b"\0" * 16, 0
                for level, kind, value in anc:
                    if level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO:
                        dst = value[:16]
                    elif level == socket.IPPROTO_IPV6 and kind == IPV6_FLOWINFO:
                        flow = struct.unpack("!I", value[:4])[0] & 0xfffff
                src = socket.inet_pton(socket.AF_INET6, addr[0].split("%")[0])
                data = struct.pack("!IHBB16s16s", (6 << 28) | flow, len(data), proto, 64, src, dst) + data
            d = describe(data, tag)
            if d is not None:
                into.append("fwhost got %s" % d)


# ---------------------------------------------------------------- sending

class Pkt:
    """A packet description in kernel-trace.py's terms (its ip_packet reads these fields)."""

    def __init__(self, spec):
        self.origin = spec["origin"]
        self.family = spec["family"]
        self.proto = spec["proto"]
        self.src, self.dst = spec["src"], spec["dst"]
        self.sport, self.dport = spec["sport"], spec["dport"]
        self.flags = spec.get("flags", "S")
        self.icmp_type, self.icmp_code = spec.get("icmp_type", 8), spec.get("icmp_code", 0)
        self.mark = spec.get("mark")
        # None: one whole packet; "first", "later": that fragment alone; "both": first, then later
        self.frag = spec.get("frag")
        if self.frag not in (None, "first", "later", "both"):
            raise Fail("fragment %r: first, later or both" % self.frag)
        for a in (self.src, self.dst):
            ip = ipaddress.ip_address(a)
            if ip.version != self.family or not any(ip in n for n in ALLOWED_NETS if n.version == ip.version):
                raise Fail("address %s is not IPv%d or outside the ranges this harness may use" % (a, self.family))


# The first fragment carries this many bytes of the transport datagram (its whole header and a
# little payload); the later fragment carries as many again, at this offset.
FIRST_BYTES = 24


def l4_datagram(p):
    """The transport datagram of a fragmented packet: the header and payload of the whole packet
    (kt.l4_segment), padded to FIRST_BYTES, then a copy of that much again, so that a later
    fragment's payload looks like the header (the same ports, flags, ICMP type), with the checksum
    and UDP length of the whole."""
    proto, seg = kt.l4_segment(p, p.src, p.dst)
    head = (seg + b"\0" * FIRST_BYTES)[:FIRST_BYTES]
    data = bytearray(head + head)
    off = {"tcp": 16, "udp": 6, "icmp": 2}[p.proto]
    data[off:off + 2] = b"\0\0"
    if p.proto == "udp":
        data[4:6] = struct.pack("!H", len(data))
    af = socket.AF_INET if p.family == 4 else socket.AF_INET6
    s, d = socket.inet_pton(af, p.src), socket.inet_pton(af, p.dst)
    if p.family == 4 and p.proto == "icmp":
        c = kt.csum(bytes(data))
    else:
        pseudo = s + d + (struct.pack("!BBH", 0, proto, len(data)) if p.family == 4
                          else struct.pack("!IxxxB", len(data), proto))
        c = kt.csum(pseudo + bytes(data)) or (0xffff if p.proto == "udp" else 0)
    data[off:off + 2] = struct.pack("!H", c)
    return proto, s, d, bytes(data)


def fragments(p, tag):
    """The IP packets of a fragmented packet p, in the order they are sent: p.frag says which."""
    proto, s, d, data = l4_datagram(p)
    parts = {"first": [(0, True)], "later": [(FIRST_BYTES, False)],
             "both": [(0, True), (FIRST_BYTES, False)]}[p.frag]
    out = []
    for offset, more in parts:
        payload = data[offset:offset + FIRST_BYTES]
        if p.family == 4:
            h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), tag, (offset // 8) | (0x2000 if more else 0),
                            64, proto, 0, s, d)
            out.append(h[:10] + struct.pack("!H", kt.csum(h)) + h[12:] + payload)
        else:
            fh = struct.pack("!BBHI", proto, 0, offset | (1 if more else 0), tag)
            out.append(struct.pack("!IHBB16s16s", (6 << 28) | tag, 8 + len(payload), 44, 64, s, d) + fh + payload)
    return out


def send(topo, p, tag):
    """Sends one packet (or its fragments, one after the other) into a topology; the errno name
    of each send from fwhost that failed."""
    pkts = fragments(p, tag) if p.frag else [kt.ip_packet(p, p.src, p.dst, tag)]
    failed = []
    if p.origin == "fwhost":
        s = topo.raw4 if p.family == 4 else topo.raw6
        s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, int(p.mark, 0) if p.mark else 0)
        for pkt in pkts:
            try:
                s.sendto(pkt, (p.dst, 0))
            except OSError as e:
                failed.append("send failed: %s" % (os.strerror(e.errno) if e.errno else e))
        return failed
    sock, dmac, smac = ((topo.c_sock, MACS["fw_client"], MACS["client"]) if p.origin == "client"
                        else (topo.s_sock, MACS["fw_server"], MACS["server"]))
    et = 0x0800 if p.family == 4 else 0x86dd
    for pkt in pkts:
        sock.send(bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + struct.pack("!H", et)
                  + pkt)
    return failed


class Tags:
    def __init__(self):
        self.n = 0x1000

    def next(self):
        self.n = 0x1000 if self.n >= 0xfff0 else self.n + 1
        return self.n


# a packet's window never lasts longer than this (a forwarding loop would keep it open)
LONGEST = 2.0


def counted(lines):
    """Sorted, each distinct line once, with how often it came when more than once (a loop
    makes "many": its exact count depends on timing)."""
    out = []
    for line in sorted(set(lines)):
        n = lines.count(line)
        out.append(line if n == 1 else "%s (x%s)" % (line, n if n <= 8 else "many"))
    return out


def observe(topos, p, tags, settle, quiet):
    """What became of packet p in every topology: a sorted list of lines per topology.
    Waits at least `settle` seconds, and then until nothing arrived for `quiet` seconds (at most
    LONGEST seconds in all: then a line says so)."""
    tag = tags.next()
    for t in topos:
        t.flush_conntrack()
        read_frames(t, -1, [])          # whatever is still on its way from before: not this packet's
    seen = [[] for _ in topos]
    for t, s in zip(topos, seen):
        s.extend(send(t, p, tag))
    start = last = time.monotonic()
    socks = [x for t in topos for x in t.sockets()]
    while True:
        now = time.monotonic()
        left = max(start + settle, last + quiet) - now
        if left <= 0:
            break
        if now - start > LONGEST:
            for s in seen:
                s.append("still arriving after %gs" % LONGEST)
            break
        r, _, _ = select.select(socks, [], [], left)
        if r:
            before = sum(len(s) for s in seen)
            for t, s in zip(topos, seen):
                read_frames(t, tag, s)
            if sum(len(s) for s in seen) != before:
                last = time.monotonic()
    return [counted(s) for s in seen]


# ---------------------------------------------------------------- loading

def empty_tables():
    out = ""
    for table, chains in EMPTY_TABLES.items():
        out += "*%s\n" % table + "".join(":%s ACCEPT [0:0]\n" % c for c in chains) + "COMMIT\n"
    return out


def load_all(topos, loaders, case, workdir):
    """Resets every fwhost and loads the case's file for each loader, all at once. A list of
    (ok, message) per loader."""
    procs = []
    for t, ld, f in zip(topos, loaders, case["files"]):
        # conntrack on (the harness's table) unless the case says it must stay off: a stateless
        # ruleset, where fragments reach the chains as they are (no reassembly)
        nft_reset = "printf 'flush ruleset\\n%%s' %s | nft -f -" % sh_quote(
            HARNESS_TABLE if case.get("conntrack", True) else "")
        if ld["reset"] == "legacy":
            empty = os.path.join(workdir, "empty.rules")
            reset = "iptables-legacy-restore < %s && ip6tables-legacy-restore < %s && %s" % (empty, empty, nft_reset)
        else:
            reset = nft_reset
        load = ld["load"].replace("{file}", sh_quote(f)).replace("{family}", str(case["family"]))
        script = "(%s) || { echo 'translate-kernel: the reset failed' >&2; exit 99; }\n%s\n" % (reset, load)
        procs.append(subprocess.Popen(["ip", "netns", "exec", t.fw, "sh", "-c", script],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    out = []
    for p in procs:
        try:
            so, se = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            so, se = p.communicate()
            raise Fail("a loader timed out")
        if p.returncode == 99:
            raise Fail(se.strip())
        out.append((p.returncode == 0, (so + se).strip()))
    return out


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main(job_path):
    with open(job_path) as f:
        job = json.load(f)
    loaders = job["loaders"]
    settle = job.get("settle_ms", 5) / 1000
    quiet = job.get("quiet_ms", 15) / 1000
    confirm = job.get("confirm_ms", 300) / 1000
    workdir = job["workdir"]
    with open(os.path.join(workdir, "empty.rules"), "w") as f:
        f.write(empty_tables())
    topos = [Topo(i) for i in range(len(loaders))]
    for t in topos:
        t.setup()
    tags = Tags()
    for case in job["cases"]:
        res = {"id": case["id"], "loads": [], "packets": []}
        loads = load_all(topos, loaders, case, workdir)
        res["loads"] = [{"loader": ld["name"], "ok": ok, "message": msg} for ld, (ok, msg) in zip(loaders, loads)]
        # the first loader is the reference: without it nothing can be compared; a loader that
        # failed keeps an empty ruleset, and the caller leaves its observations out
        if loads[0][0]:
            for spec in case["packets"]:
                p = Pkt(spec)
                seen = observe(topos, p, tags, settle, quiet)
                first, tries = seen, 1
                # a disagreement is checked again, slowly, before it counts: a busy machine can
                # deliver a frame after the quiet time
                loaded = [s for s, (ok, _) in zip(seen, loads) if ok]
                while any(s != loaded[0] for s in loaded) and tries < 3:
                    seen = observe(topos, p, tags, confirm, confirm)
                    loaded = [s for s, (ok, _) in zip(seen, loads) if ok]
                    tries += 1
                rec = {"seen": seen, "tries": tries}
                if tries > 1:
                    rec["first"] = first
                res["packets"].append(rec)
        print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    if os.environ.get("IPT_TRANSLATE_KERNEL_OUTER_NETNS", "") in ("", os.readlink("/proc/self/ns/net")):
        print("translate-kernel.py: run me through scripts/translate-kernel.sh (private namespaces only)",
              file=sys.stderr)
        sys.exit(2)
    rc = 1
    try:
        rc = main(sys.argv[1])
    except Fail as e:
        log(str(e))
        rc = 1
    finally:
        cleanup()
    sys.exit(rc)
