#!/usr/bin/env python3
"""kernel-trace.py -- ask the kernel which rules one packet meets (the oracle for `ipt explain`).

Do not run this directly: run scripts/kernel-trace.sh, which puts it in a private network and
mount namespace first (this file refuses to run in the host's network namespace).

Topology (all namespaces are private, made here, removed at exit):

    client --- [client-if] fwhost [server-if] --- server
    192.0.2.2   192.0.2.1           198.51.100.1   198.51.100.2
    2001:db8:1::2  2001:db8:1::1    2001:db8:2::1  2001:db8:2::2

fwhost forwards; its default routes point at server (so 203.0.113.0/24 and 2001:db8:3::/48,
"the internet", are reached through server-if); client and server route everything via fwhost.
The ruleset is loaded in fwhost only. Python 3 standard library only. See docs/dev/kernel-trace.md.
"""
import argparse
import ipaddress
import json
import os
import re
import select
import shlex
import signal
import socket
import struct
import subprocess
import sys
import time

HARNESS = "ipt_harness"          # our own nft table in fwhost (inet family); never traced/reported
SENTINEL_DST = "127.0.0.254"     # sentinel packets: fwhost -> 127.0.0.254 udp dport 9, dropped in HARNESS
SENTINEL_DPORT = 9
TAG = 0x1e57
TOPO = {
    4: {"client": "192.0.2.2", "fw_client": "192.0.2.1", "server": "198.51.100.2", "fw_server": "198.51.100.1",
        "plen": 24},
    6: {"client": "2001:db8:1::2", "fw_client": "2001:db8:1::1", "server": "2001:db8:2::2",
        "fw_server": "2001:db8:2::1", "plen": 64},
}
ALLOWED_NETS = [ipaddress.ip_network(n) for n in
                ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "127.0.0.0/8", "::1/128")]


class Fail(Exception):
    pass


def log(*a):
    print("kernel-trace:", *a, file=sys.stderr)


def run(cmd, ns=None, inp=None, timeout=20, check=True):
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    try:
        p = subprocess.run(cmd, input=inp, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail("timed out: " + " ".join(cmd))
    if check and p.returncode != 0:
        raise Fail("failed (rc=%d): %s\n%s%s" % (p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return p


# ---------------------------------------------------------------- packet description

def parse_args(argv):
    ap = argparse.ArgumentParser(prog="kernel-trace.sh", description=__doc__.split("\n")[0])
    ap.add_argument("rules", help="iptables-save file (v4 or v6); its '# packet: ...' comment line "
                                  "describes the packet when no packet option is given here")
    ap.add_argument("--from", dest="origin", choices=["client", "server", "fwhost"],
                    help="where the packet starts (default client)")
    ap.add_argument("--proto", choices=["tcp", "udp", "icmp"], help="default tcp")
    ap.add_argument("--src", help="source address (default: the sender's own address)")
    ap.add_argument("--dst", help="destination address (default: fwhost's address facing the sender; from fwhost: server)")
    ap.add_argument("--sport", type=int, help="default 40000 (ICMP: echo id)")
    ap.add_argument("--dport", type=int, help="default 80 (tcp), 53 (udp)")
    ap.add_argument("--flags", help="TCP flags, letters of FSRPAUEC or 'none' (default S)")
    ap.add_argument("--icmp-type", type=int, help="default echo request (8 / 128)")
    ap.add_argument("--icmp-code", type=int)
    ap.add_argument("--mark", help="(fwhost only) SO_MARK of the sending socket, e.g. 0x1")
    ap.add_argument("-4", dest="family", action="store_const", const=4)
    ap.add_argument("-6", dest="family", action="store_const", const=6)
    ap.add_argument("--client-if", help="fwhost's interface to client (default eth0)")
    ap.add_argument("--server-if", help="fwhost's interface to server (default eth1)")
    ap.add_argument("--settle", type=float, default=0.5, help="seconds to wait after the packet (0.5)")
    ap.add_argument("--keep-harness", action="store_true", help="also print events of our own table")
    ap.add_argument("--raw", action="store_true", help="print the raw `nft monitor trace` lines on stderr")
    ap.add_argument("--diag", action="store_true", help="print neighbours, routes and counters on stderr")
    ap.add_argument("--no-conntrack", action="store_true",
                    help="do not switch conntrack on (to see what an empty namespace does)")
    ap.add_argument("--nft", action="store_true",
                    help="RULES is an nft script: load it with `nft -f` instead of iptables-nft-restore "
                         "(events keep nft's text; 'line' is null)")
    ap.add_argument("--show-ruleset", action="store_true", help="print `nft -a list ruleset` on stderr")
    args = ap.parse_args(argv)
    # the file's "# packet:" line describes the packet only when the command line gives no packet
    # option at all (mixing the two silently made packets nobody asked for)
    pkt_opts = ("origin", "proto", "src", "dst", "sport", "dport", "flags", "icmp_type", "icmp_code", "mark",
                "family", "client_if", "server_if")
    spec = packet_line(args.rules)
    if spec and all(getattr(args, k) is None for k in pkt_opts):
        fargs = ap.parse_args([args.rules] + shlex.split(spec))
        for k in pkt_opts:
            setattr(args, k, getattr(fargs, k))
    elif spec:
        spec = None
    args.packet_line = spec
    args.origin = args.origin or "client"
    args.proto = args.proto or "tcp"
    args.client_if = args.client_if or "eth0"
    args.server_if = args.server_if or "eth1"
    for a in (args.src, args.dst):
        if a and args.family is None:
            args.family = 6 if ":" in a else 4
    args.family = args.family or 4
    t = TOPO[args.family]
    own = {"client": t["client"], "server": t["server"], "fwhost": None}[args.origin]
    if args.dst is None:
        args.dst = {"client": t["fw_client"], "server": t["fw_server"], "fwhost": t["server"]}[args.origin]
    if args.src is None:
        args.src = own  # fwhost: filled from the route later
    for a in (args.src, args.dst):
        if a is None:
            continue
        ip = ipaddress.ip_address(a)
        if ip.version != args.family:
            raise Fail("address %s is not IPv%d" % (a, args.family))
        if not any(ip in n for n in ALLOWED_NETS if n.version == ip.version):
            raise Fail("address %s is outside the documentation ranges this harness may use" % a)
    if args.sport is None:
        args.sport = 40000
    if args.dport is None:
        args.dport = {"tcp": 80, "udp": 53}.get(args.proto, 0)
    if args.flags is None:
        args.flags = "S"
    if args.icmp_type is None:
        args.icmp_type = 8 if args.family == 4 else 128
    if args.icmp_code is None:
        args.icmp_code = 0
    if args.mark is not None and args.origin != "fwhost":
        raise Fail("--mark needs --from fwhost")
    return args


def packet_line(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*#\s*packet:\s*(.*)$", line)
            if m:
                return m.group(1).strip()
    return None


# ---------------------------------------------------------------- building packets

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


TCP_FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}


def l4_segment(a, src, dst):
    """The L4 header (+ a little payload for udp/icmp) with its checksum."""
    fam = a.family
    proto = {"tcp": 6, "udp": 17, "icmp": 1 if fam == 4 else 58}[a.proto]
    s, d = socket.inet_pton(socket.AF_INET if fam == 4 else socket.AF_INET6, src), \
        socket.inet_pton(socket.AF_INET if fam == 4 else socket.AF_INET6, dst)
    if a.proto == "tcp":
        fl = 0
        if a.flags.lower() != "none":
            for c in a.flags.upper():
                if c not in TCP_FLAG_BITS:
                    raise Fail("unknown TCP flag letter %r" % c)
                fl |= TCP_FLAG_BITS[c]
        ack = 1 if fl & 0x10 else 0
        seg = struct.pack("!HHIIBBHHH", a.sport, a.dport, 0x1000, ack, 5 << 4, fl, 64240, 0, 0)
    elif a.proto == "udp":
        payload = b"ipt-kernel-trace"
        seg = struct.pack("!HHHH", a.sport, a.dport, 8 + len(payload), 0) + payload
    else:
        payload = b"ipt-kernel-trace"
        seg = struct.pack("!BBHHH", a.icmp_type, a.icmp_code, 0, a.sport, 1) + payload
    if fam == 4:
        pseudo = s + d + struct.pack("!BBH", 0, proto, len(seg))
    else:
        pseudo = s + d + struct.pack("!IxxxB", len(seg), proto)
    if fam == 4 and a.proto == "icmp":
        c = csum(seg)
    else:
        c = csum(pseudo + seg)
        if a.proto == "udp" and c == 0:
            c = 0xffff
    off = {"tcp": 16, "udp": 6, "icmp": 2}[a.proto]
    seg = seg[:off] + struct.pack("!H", c) + seg[off + 2:]
    return proto, seg


def ip_packet(a, src, dst, tag):
    """A whole IP packet. tag: the IPv4 id or the IPv6 flow label that marks it as ours."""
    proto, seg = l4_segment(a, src, dst)
    if a.family == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), tag, 0x4000, 64, proto, 0,
                        socket.inet_aton(src), socket.inet_aton(dst))
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        return h + seg
    h = struct.pack("!IHBB16s16s", (6 << 28) | tag, len(seg), proto, 64,
                    socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return h + seg


# ---------------------------------------------------------------- the ruleset file

def file_rule_lines(path):
    """{(table, chain): [line numbers in kernel order]}, and the text of every line.
    Knows -A and -I (iptables-save writes only -A); any other command makes the table's mapping
    unreliable (reported, lines left null)."""
    chains, text, unreliable = {}, {}, set()
    table = None
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            text[n] = line
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            if s.startswith("*"):
                table = s[1:].strip()
                continue
            if s == "COMMIT":
                table = None
                continue
            if s.startswith(":"):
                chains.setdefault((table, s[1:].split()[0]), [])
                continue
            try:
                tok = shlex.split(s)
            except ValueError:
                tok = s.split()
            if len(tok) >= 2 and tok[0] in ("-A", "--append"):
                chains.setdefault((table, tok[1]), []).append(n)
            elif len(tok) >= 2 and tok[0] in ("-I", "--insert"):
                lst = chains.setdefault((table, tok[1]), [])
                pos = int(tok[2]) if len(tok) > 2 and tok[2].isdigit() else 1
                lst.insert(pos - 1, n)
            elif tok and tok[0] in ("-N", "--new-chain"):
                chains.setdefault((table, tok[1]), [])
            else:
                unreliable.add(table)
    return chains, text, unreliable


def kernel_rule_handles(fam):
    """{(family, table, chain): [handles in order]} from nft's JSON listing of fwhost."""
    out = run(["nft", "-j", "-a", "list", "ruleset"], ns="fwhost").stdout
    res = {}
    for obj in json.loads(out)["nftables"]:
        if "chain" in obj:
            c = obj["chain"]
            res.setdefault((c["family"], c["table"], c["name"]), [])
        elif "rule" in obj:
            r = obj["rule"]
            res.setdefault((r["family"], r["table"], r["chain"]), []).append(r["handle"])
    return res


# ---------------------------------------------------------------- namespaces

def sh(ns, *cmds):
    for c in cmds:
        run(c.split(), ns=ns)


def sysctl(ns, key, val):
    run(["sysctl", "-q", "-w", "%s=%s" % (key, val)], ns=ns)


def setup(a):
    ci, si = a.client_if, a.server_if
    for bad in (ci, si):
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", bad) or bad in ("lo",):
            raise Fail("bad interface name %r" % bad)
    if ci == si:
        raise Fail("--client-if and --server-if must differ")
    for ns in ("fwhost", "client", "server"):
        run(["ip", "netns", "add", ns])
    # sysctls before any interface exists: no duplicate address detection (a tentative link-local
    # address would keep fwhost from sending neighbour solicitations), no router solicitations
    for ns in ("fwhost", "client", "server"):
        sysctl(ns, "net.ipv6.conf.all.accept_dad", 0)
        sysctl(ns, "net.ipv6.conf.default.accept_dad", 0)
        sysctl(ns, "net.ipv6.conf.default.router_solicitations", 0)
        sysctl(ns, "net.ipv4.conf.all.rp_filter", 0)
        sysctl(ns, "net.ipv4.conf.default.rp_filter", 0)
        run(["ip", "link", "set", "lo", "up"], ns=ns)
    # veth pairs are created inside fwhost, so that even the transient names never exist anywhere else
    run(["ip", "link", "add", ci, "type", "veth", "peer", "name", "vclient"], ns="fwhost")
    run(["ip", "link", "add", si, "type", "veth", "peer", "name", "vserver"], ns="fwhost")
    run(["ip", "link", "set", "vclient", "netns", "client"], ns="fwhost")
    run(["ip", "link", "set", "vserver", "netns", "server"], ns="fwhost")
    for ns, i in (("fwhost", ci), ("fwhost", si), ("client", "vclient"), ("server", "vserver")):
        sysctl(ns, "net.ipv6.conf.%s.accept_dad" % i.replace(".", "/"), 0)
    sysctl("fwhost", "net.ipv4.ip_forward", 1)
    sysctl("fwhost", "net.ipv6.conf.all.forwarding", 1)
    for fam, t in TOPO.items():
        p = "/%d" % t["plen"]
        x = ["nodad"] if fam == 6 else []
        run(["ip", "addr", "add", t["fw_client"] + p, "dev", ci] + x, ns="fwhost")
        run(["ip", "addr", "add", t["fw_server"] + p, "dev", si] + x, ns="fwhost")
        run(["ip", "addr", "add", t["client"] + p, "dev", "vclient"] + x, ns="client")
        run(["ip", "addr", "add", t["server"] + p, "dev", "vserver"] + x, ns="server")
    # fixed MAC addresses (locally administered), so that traces are the same from run to run
    for ns, i, mac in (("fwhost", ci, "02:00:00:00:01:01"), ("client", "vclient", "02:00:00:00:01:02"),
                       ("fwhost", si, "02:00:00:00:02:01"), ("server", "vserver", "02:00:00:00:02:02")):
        run(["ip", "link", "set", i, "address", mac], ns=ns)
        run(["ip", "link", "set", i, "up"], ns=ns)
    # permanent neighbour entries: no ARP or neighbour discovery is ever needed, so a ruleset that
    # drops them (an INPUT DROP policy drops neighbour advertisements) cannot stop delivery to server
    macs = {"fw_client": "02:00:00:00:01:01", "client": "02:00:00:00:01:02",
            "fw_server": "02:00:00:00:02:01", "server": "02:00:00:00:02:02"}
    for fam, t in TOPO.items():
        for ns, dev, peer in (("fwhost", ci, "client"), ("fwhost", si, "server"),
                              ("client", "vclient", "fw_client"), ("server", "vserver", "fw_server")):
            run(["ip", "neigh", "replace", t[peer], "lladdr", macs[peer], "dev", dev, "nud", "permanent"], ns=ns)
    for fam, t in TOPO.items():
        f = "-%d" % fam
        run(["ip", f, "route", "add", "default", "via", t["server"], "dev", si], ns="fwhost")
        run(["ip", f, "route", "add", "default", "via", t["fw_client"], "dev", "vclient"], ns="client")
        run(["ip", f, "route", "add", "default", "via", t["fw_server"], "dev", "vserver"], ns="server")
    # a spoofed source sent from client or server: let that namespace own it, so that its kernel
    # (which only passes the frame on here) has nothing to say; fwhost is never given extra addresses
    if a.origin in ("client", "server") and a.src not in (TOPO[a.family]["client"], TOPO[a.family]["server"]):
        dev = "vclient" if a.origin == "client" else "vserver"
        plen = 32 if a.family == 4 else 128
        run(["ip", "addr", "add", "%s/%d" % (a.src, plen), "dev", dev] + (["nodad"] if a.family == 6 else []),
            ns=a.origin)


def link_mac(ns, dev):
    return json.loads(run(["ip", "-j", "link", "show", "dev", dev], ns=ns).stdout)[0]["address"]


def harness_table(a, tag):
    """Our own table: switches conntrack on (a hookless chain with a ct expression) and sets nftrace on
    the test packet before any iptables table sees it (priority -350 < raw's -300)."""
    if a.family == 4:
        m = "meta nfproto ipv4 ip saddr %s ip daddr %s ip id %d meta l4proto %s" % (
            a.src, a.dst, tag, {"icmp": "icmp"}.get(a.proto, a.proto))
    else:
        m = "meta nfproto ipv6 ip6 saddr %s ip6 daddr %s ip6 flowlabel %d meta l4proto %s" % (
            a.src, a.dst, tag, {"icmp": "ipv6-icmp"}.get(a.proto, a.proto))
    sentinel = "ip daddr %s udp dport %d meta nftrace set 1 drop" % (SENTINEL_DST, SENTINEL_DPORT)
    ct = "" if a.no_conntrack else "  chain conntrack_on {\n    ct state new counter\n  }\n"
    return """table inet %(t)s {
%(ct)s  chain pre { type filter hook prerouting priority -350; policy accept;
    %(m)s meta nftrace set 1
  }
  chain out { type filter hook output priority -350; policy accept;
    %(m)s meta nftrace set 1
    %(s)s
  }
}
""" % {"t": HARNESS, "m": m, "s": sentinel, "ct": ct}


def server_counter(a, tag):
    """In server: count our packet arriving (after any NAT in fwhost; the id/flow label survive)."""
    m = "ip id %d" % tag if a.family == 4 else "ip6 flowlabel %d" % tag
    return "table inet ipt_seen { chain pre { type filter hook prerouting priority -500; policy accept; %s counter; }; }\n" % m


# ---------------------------------------------------------------- sending (runs in a namespace)

def send_main(argv):
    """`kernel-trace.py --send KIND ...`: called via `ip netns exec NS`, sends one packet."""
    kind = argv[0]
    if kind == "eth":          # eth IFACE DSTMAC HEXPACKET FAMILY
        dev, dmac, pkt, fam = argv[1], argv[2], bytes.fromhex(argv[3]), int(argv[4])
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((dev, 0))
        smac = bytes.fromhex(open("/sys/class/net/%s/address" % dev).read().strip().replace(":", ""))
        et = 0x0800 if fam == 4 else 0x86dd
        s.send(bytes.fromhex(dmac.replace(":", "")) + smac + struct.pack("!H", et) + pkt)
    elif kind == "raw":        # raw FAMILY DST HEXPACKET MARK
        fam, dst, pkt, mark = int(argv[1]), argv[2], bytes.fromhex(argv[3]), argv[4]
        s = socket.socket(socket.AF_INET if fam == 4 else socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
        if mark != "-":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, int(mark, 0))
        try:
            s.sendto(pkt, (dst, 0))
        except PermissionError:
            print("EPERM", file=sys.stderr)   # dropped in OUTPUT: the trace says so
    elif kind == "sentinel":   # sentinel SPORT
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", int(argv[1])))
        try:
            s.sendto(b"sentinel", (SENTINEL_DST, SENTINEL_DPORT))
        except OSError:
            pass               # dropped by our own table, as intended
    return 0


# ---------------------------------------------------------------- the trace

TRACE_RE = re.compile(r"^trace id (\S+) (\S+) (\S+) (\S+) (packet: |rule |verdict |policy |unknown )(.*)$")


def parse_event(line):
    m = TRACE_RE.match(line.rstrip())
    if not m:
        return None
    tid, fam, table, chain, kind, rest = m.groups()
    ev = {"id": tid, "family": fam, "table": table, "chain": chain, "type": kind.strip().rstrip(":")}
    rest = rest.strip()
    if ev["type"] == "rule":
        mm = re.match(r"^(.*?)(?: # handle (\d+))? \(verdict ([^)]*)\)(.*)$", rest)
        if mm:
            ev["nft"] = re.sub(r"counter packets \d+ bytes \d+ ?", "counter ", mm.group(1)).strip()
            ev["handle"] = int(mm.group(2)) if mm.group(2) else None
            ev["verdict"] = mm.group(3)
            tail = mm.group(4)
            mk = re.search(r"\bmeta mark (\S+)", tail)
            if mk:
                ev["mark"] = mk.group(1)
        else:
            ev["nft"] = rest
    elif ev["type"] in ("verdict", "policy"):
        # "policy accept meta mark 0x00000007": nft adds the packet's mark when it is not 0
        ev[ev["type"]] = rest.split()[0] if rest else rest
        mk = re.search(r"\bmeta mark (\S+)", rest)
        if mk:
            ev["mark"] = mk.group(1)
    elif ev["type"] == "packet":
        ev["packet"] = rest
        for k, rx in (("iif", r'\biif "([^"]+)"'), ("oif", r'\boif "([^"]+)"'),
                      ("saddr", r"\bip6? saddr (\S+)"), ("daddr", r"\bip6? daddr (\S+)"),
                      ("sport", r"\b(?:tcp|udp) sport (\d+)"), ("dport", r"\b(?:tcp|udp) dport (\d+)"),
                      ("mark", r"\bmeta mark (\S+)")):
            mm = re.search(rx, rest)
            if mm:
                ev[k] = int(mm.group(1)) if k in ("sport", "dport") else mm.group(1)
    return ev


class Monitor:
    def __init__(self):
        self.p = subprocess.Popen(["ip", "netns", "exec", "fwhost", "nft", "-a", "monitor", "trace"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        self.buf = b""
        self.lines = []

    def read_until(self, pred, timeout):
        """Read lines until pred(line) is true for a new line; False on timeout."""
        end = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                l, self.buf = self.buf.split(b"\n", 1)
                l = l.decode(errors="replace")
                self.lines.append(l)
                if pred(l):
                    return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    return False
                self.buf += chunk

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(3)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(3)


def sentinel_seen(sport):
    pat = "udp sport %d " % sport
    return lambda l: (" %s out packet: " % HARNESS) in l and SENTINEL_DST in l and pat in l


def send_sentinel(sport):
    run([sys.executable, os.path.abspath(__file__), "--send", "sentinel", str(sport)], ns="fwhost")


def main(argv):
    a = parse_args(argv)
    rules_path = os.path.abspath(a.rules)
    setup(a)
    t = TOPO[a.family]
    if a.origin == "fwhost" and a.src is None:
        r = json.loads(run(["ip", "-j", "-%d" % a.family, "route", "get", a.dst], ns="fwhost").stdout)[0]
        a.src = r.get("prefsrc") or ("127.0.0.1" if a.family == 4 else "::1")
    # the IPv4 id / IPv6 flow label that marks the test packet; fixed (the namespaces are private, nothing
    # else sends with it), so that traces are the same from run to run
    tag = TAG

    # load: the ruleset first (exactly as given), then our table
    restore = "iptables-nft-restore" if a.family == 4 else "ip6tables-nft-restore"
    if a.nft:
        restore = "nft -f"
    with open(rules_path) as f:
        p = run(["nft", "-f", "-"] if a.nft else [restore], ns="fwhost", inp=f.read(), check=False)
    if p.returncode != 0:
        raise Fail("%s refused the ruleset (rc=%d):\n%s" % (restore, p.returncode, p.stderr))
    run(["nft", "-f", "-"], ns="fwhost", inp=harness_table(a, tag))
    run(["nft", "-f", "-"], ns="server", inp=server_counter(a, tag))
    if a.show_ruleset:
        log("fwhost ruleset:\n" + run(["nft", "-a", "list", "ruleset"], ns="fwhost").stdout)

    # handle -> (line, text)
    if a.nft:
        fchains, ftext, unreliable = {}, {}, set()
    else:
        fchains, ftext, unreliable = file_rule_lines(rules_path)
    kfam = "ip" if a.family == 4 else "ip6"
    warnings = []
    handle_line = {}
    for (fam, table, chain), handles in kernel_rule_handles(a.family).items():
        if fam != kfam or table == HARNESS:
            continue
        lines = fchains.get((table, chain))
        if table in unreliable:
            continue
        if a.nft:
            continue
        if lines is None or len(lines) != len(handles):
            warnings.append("chain %s %s: %d rules in the kernel, %s in the file; lines not mapped"
                            % (table, chain, len(handles), "none" if lines is None else len(lines)))
            continue
        for h, n in zip(handles, lines):
            handle_line[(table, h)] = n
    for tb in sorted(x for x in unreliable if x):
        warnings.append("table %s uses commands other than -A/-I/-N; lines not mapped" % tb)

    pkt = ip_packet(a, a.src, a.dst, tag)
    mon = Monitor()
    try:
        # wait until the monitor is listening: a sentinel packet must come back through it
        ok = False
        for i in range(25):
            send_sentinel(9000)
            if mon.read_until(sentinel_seen(9000), 0.2):
                ok = True
                break
        if not ok:
            raise Fail("nft monitor trace never reported the start sentinel: %s" % mon.p.stderr.read1(4096))
        start = len(mon.lines)
        if a.origin == "fwhost":
            args = ["raw", str(a.family), a.dst, pkt.hex(), a.mark or "-"]
            sender = "fwhost"
        else:
            dev = a.client_if if a.origin == "client" else a.server_if
            args = ["eth", "vclient" if a.origin == "client" else "vserver", link_mac("fwhost", dev), pkt.hex(),
                    str(a.family)]
            sender = a.origin
        sent_at = time.time()
        sp = run([sys.executable, os.path.abspath(__file__), "--send"] + args, ns=sender)
        if "EPERM" in sp.stderr:
            warnings.append("sendto: EPERM (the packet was dropped on the way out)")
        time.sleep(a.settle)
        send_sentinel(9001)
        if not mon.read_until(sentinel_seen(9001), 5):
            raise Fail("nft monitor trace never reported the end sentinel")
        lines = mon.lines[start:]
    finally:
        mon.stop()

    if a.raw:
        log("raw trace lines:\n" + "\n".join(lines))
    # events; drop the sentinels' and (unless asked) our own table's
    events, sentinel_ids = [], set()
    for l in lines:
        ev = parse_event(l)
        if ev is None:
            continue
        if ev["table"] == HARNESS and SENTINEL_DST in l:
            sentinel_ids.add(ev["id"])
        events.append(ev)
    events = [e for e in events if e["id"] not in sentinel_ids]
    ids = []
    for e in events:
        if e["id"] not in ids:
            ids.append(e["id"])
    out = []
    hook = {}
    for e in events:
        if e["table"] == HARNESS and not a.keep_harness:
            continue
        rec = {"trace": ids.index(e["id"]) + 1, "family": e["family"], "table": e["table"], "chain": e["chain"],
               "type": e["type"]}
        if e["type"] == "packet":
            hook[e["id"]] = e["chain"]
        rec["hook"] = hook.get(e["id"])
        if e["type"] == "packet":
            for k in ("iif", "oif", "saddr", "daddr", "sport", "dport", "mark"):
                if k in e:
                    rec[k] = e[k]
        if e["type"] == "rule":
            n = handle_line.get((e["table"], e.get("handle")))
            rec["handle"] = e.get("handle")
            rec["line"] = n
            rec["rule"] = ftext[n].strip() if n else None
            rec["nft"] = e.get("nft")
            rec["verdict"] = e.get("verdict")
        if e["type"] == "verdict":
            rec["verdict"] = e["verdict"]
        if e["type"] == "policy":
            rec["policy"] = e["policy"]
        if e["type"] != "packet" and "mark" in e:
            rec["mark"] = e["mark"]
        if e["type"] == "packet":
            rec["packet"] = e["packet"]
        out.append(rec)
    for rec in out:
        print(json.dumps(rec))

    if a.diag:
        for ns in ("fwhost", "server", "client"):
            for c in (["ip", "neigh"], ["ip", "-6", "neigh"], ["ip", "-br", "addr"], ["ip", "-6", "route"],
                      ["nft", "list", "table", "inet", "ipt_seen"] if ns == "server" else ["true"],
                      ["nstat", "-asz"]):
                r = run(c, ns=ns, check=False)
                log("[%s] %s\n%s%s" % (ns, " ".join(c), r.stdout if c[0] != "nstat" else
                                        "".join(x + "\n" for x in r.stdout.splitlines() if "Ip6" in x or "Ip" in x and " 0 " not in x), r.stderr))
    seen = json.loads(run(["nft", "-j", "list", "table", "inet", "ipt_seen"], ns="server").stdout)
    server_pk = [o["rule"]["expr"][-1]["counter"]["packets"] for o in seen["nftables"] if "rule" in o][0]
    # the packet's fate over all its traces: the first drop (or queue), else "passed"; last_hook: the
    # base chain of the last "packet" event (INPUT: delivered here; POSTROUTING/FORWARD: sent on)
    fate, where = "passed", None
    path = []
    last_hook = None
    for rec in out:
        if rec["table"] == HARNESS:
            continue
        if rec["type"] == "packet":
            last_hook = rec["chain"]
            path.append("%s %s" % (rec["table"], rec["chain"]))
        v = rec.get("verdict") or rec.get("policy")
        if fate == "passed" and (v == "drop" or (v and v.startswith("queue"))):
            fate, where = v, {k: rec.get(k) for k in ("table", "chain", "line", "rule") if rec.get(k) or k in ("table", "chain")}
            if rec["type"] == "policy":
                where["policy"] = True
    summary = {
        "summary": True,
        "rules_file": a.rules,
        "packet_line": a.packet_line,
        "family": a.family,
        "packet": {"from": a.origin, "proto": a.proto, "src": a.src, "dst": a.dst,
                   **({"sport": a.sport, "dport": a.dport, "flags": a.flags} if a.proto == "tcp" else {}),
                   **({"sport": a.sport, "dport": a.dport} if a.proto == "udp" else {}),
                   **({"icmp_type": a.icmp_type, "icmp_code": a.icmp_code, "id": a.sport} if a.proto == "icmp" else {}),
                   **({"mark": a.mark} if a.mark else {}),
                   "interfaces": {"client_if": a.client_if, "server_if": a.server_if}},
        "traces": len(ids),
        "chains_entered": path,
        "conntrack": not a.no_conntrack,
        "fate": fate,
        "last_hook": last_hook,
        "dropped_at": where,
        "server_received": server_pk,
        "warnings": warnings,
        "kernel": os.uname().release,
    }
    print(json.dumps(summary))
    return 0


def cleanup():
    for ns in ("client", "server", "fwhost"):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--send":
        sys.exit(send_main(sys.argv[2:]))
    if "-h" in sys.argv[1:] or "--help" in sys.argv[1:]:
        parse_args(["-h"])
    # the wrapper records its own (the caller's) network namespace before unshare: we must be elsewhere
    if os.environ.get("IPT_KERNEL_TRACE_OUTER_NETNS", "") in ("", os.readlink("/proc/self/ns/net")):
        print("kernel-trace.py: run me through scripts/kernel-trace.sh (private namespaces only)", file=sys.stderr)
        sys.exit(2)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    rc = 1
    try:
        rc = main(sys.argv[1:])
    except Fail as e:
        print("kernel-trace: " + str(e), file=sys.stderr)
        rc = 1
    finally:
        cleanup()
    sys.exit(rc)
