#!/bin/bash
# addrtype6-probe.sh -- ip6tables `-m addrtype` vs nft `fib ... type` on the running kernel.
#
# Runs ONLY inside private namespaces it makes: the script re-executes itself under
# `unshare -n -m` (a fresh network namespace, the "firewall" host, and a private mount namespace
# with its own /run, so `ip netns` names never reach the host), bounded by `timeout`. Two more
# namespaces (client A on link a, router B on link b) are made with `ip netns add` and removed by
# a trap. Addresses: 2001:db8::/32 and fe80::. Needs root, iproute2, ip6tables-legacy, nft, python3.
#
# In the firewall namespace, ip6tables-legacy rules (mangle table) and nft rules (table ip6
# at6probe, same five hooks) sit side by side, each `udp dport 33333` plus one addrtype / fib test,
# with a counter and a comment naming it. Each case sends one UDP packet (raw Ethernet frames from
# A for arriving/forwarded packets, a UDP socket in the firewall for local ones) and the per-rule
# counter deltas are compared: for each hook the packet met, which xt types and which nft type
# matched, and every rule pair whose counters disagree.
#
# Result recorded in docs/dev/addrtype6.md.
set -u
if [ "${AT6_IN:-}" != 1 ]; then
    exec env AT6_IN=1 timeout 300 unshare -n -m --propagation private -- "$0" "$@"
fi
set -e
mount -t tmpfs none /run
mkdir -p /run/netns
NA="at6a-$$"
NB="at6b-$$"
cleanup() { ip netns del "$NA" 2>/dev/null || true; ip netns del "$NB" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

echo "kernel $(uname -r); $(ip6tables-legacy --version); $(nft --version)"

# ---- which IPv6 addrtype forms the kernel loads (xt_addrtype.c: addrtype_mt_checkentry_v1)
echo
echo "## load check: ip6tables-legacy -t mangle -A <chain> -m addrtype ..."
for spec in "PREROUTING --dst-type BLACKHOLE" "PREROUTING --dst-type PROHIBIT" "PREROUTING --dst-type THROW" \
    "PREROUTING --dst-type NAT" "PREROUTING --dst-type XRESOLVE" "PREROUTING --dst-type BROADCAST" \
    "PREROUTING --dst-type LOCAL --limit-iface-out" "OUTPUT --dst-type LOCAL --limit-iface-in" \
    "FORWARD --dst-type LOCAL --limit-iface-in" "FORWARD --dst-type LOCAL --limit-iface-out" \
    "PREROUTING --dst-type UNSPEC,UNICAST,LOCAL,ANYCAST,MULTICAST,UNREACHABLE"; do
    set -- $spec
    chain=$1; shift
    if ip6tables-legacy -t mangle -A "$chain" -m addrtype "$@" 2>/dev/null; then
        echo "  loads:   $chain $*"
        ip6tables-legacy -t mangle -D "$chain" -m addrtype "$@"
    else
        echo "  refused: $chain $*"
    fi
done
echo "## load check: nft fib daddr . iif / . oif type per hook"
for h in prerouting input forward output postrouting; do
    for f in "daddr . iif" "daddr . oif"; do
        if nft -f - 2>/dev/null <<N
table ip6 at6chk {
  chain c {
    type filter hook $h priority 0
    fib $f type local counter
  }
}
N
        then echo "  loads:   $h fib $f type local"; else echo "  refused: $h fib $f type local"; fi
        nft delete table ip6 at6chk 2>/dev/null || true
    done
done

# ---- topology: this namespace is the firewall "fw"; A on link a (fwa<->cla), B on link b (fwb<->clb)
ip netns add "$NA"
ip netns add "$NB"
ip link set lo up
sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
sysctl -qw net.ipv6.conf.all.forwarding=1
ip link add fwa type veth peer name cla netns "$NA"
ip link add fwb type veth peer name clb netns "$NB"
for d in fwa fwb; do ip link set "$d" addrgenmode none; done
ip netns exec "$NA" sh -c 'ip link set lo up; ip link set cla addrgenmode none; sysctl -qw net.ipv6.conf.all.accept_dad=0'
ip netns exec "$NB" sh -c 'ip link set lo up; ip link set clb addrgenmode none; sysctl -qw net.ipv6.conf.all.accept_dad=0'
ip link set fwa up; ip link set fwb up
ip netns exec "$NA" ip link set cla up
ip netns exec "$NB" ip link set clb up
ip -6 addr add 2001:db8:a::1/64 dev fwa nodad
ip -6 addr add fe80::a/64 dev fwa nodad
ip -6 addr add 2001:db8:b::1/64 dev fwb nodad
ip -6 addr add fe80::b/64 dev fwb nodad
# a unicast address that is also its prefix's subnet-router anycast address
ip -6 addr add 2001:db8:d::/64 dev fwa nodad
ip netns exec "$NA" ip -6 addr add 2001:db8:a::2/64 dev cla nodad
ip netns exec "$NA" ip -6 addr add fe80::2/64 dev cla nodad
ip netns exec "$NB" ip -6 addr add 2001:db8:b::2/64 dev clb nodad
ip netns exec "$NB" ip -6 addr add fe80::3/64 dev clb nodad
CLB_MAC=$(ip netns exec "$NB" cat /sys/class/net/clb/address)
ip -6 neigh replace 2001:db8:b::2 lladdr "$CLB_MAC" dev fwb nud permanent
ip -6 neigh replace fe80::3 lladdr "$CLB_MAC" dev fwb nud permanent
# routes of every kind
ip -6 route add unreachable 2001:db8:dead::/48
ip -6 route add prohibit 2001:db8:beef::/48
ip -6 route add blackhole 2001:db8:bad::/48
ip -6 route add throw 2001:db8:7::/48
ip -6 route add 2001:db8:c::/64 via 2001:db8:b::2 dev fwb
ip -6 route add 2001:db8:e::/64 via 2001:db8:b::2 dev fwb
ip -6 route add local 2001:db8:9::/64 dev lo
# source-specific route (CONFIG_IPV6_SUBTREES): only for sources in 2001:db8:a:77::/64
ip -6 route add 2001:db8:f::/64 from 2001:db8:a:77::/64 via 2001:db8:b::2 dev fwb
# policy routing: by source, and by ipproto
ip -6 rule add pref 100 from 2001:db8:a:99::/64 lookup 100
ip -6 route add unreachable default table 100
ip -6 rule add pref 101 ipproto udp to 2001:db8:e::/64 lookup 101
ip -6 route add prohibit default table 101
sleep 1

echo
echo "## routing state of the firewall namespace"
ip -6 addr show | sed -n 's/^ *inet6 \([^ ]*\).*/  addr \1/p'
ip -6 route show table all | grep -v '^ff00::/8\|^multicast\|fe80::/64 dev lo' | sed 's/^/  /'
ip -6 rule show | sed 's/^/  rule /'

# ---- the rules, xt and nft side by side, and the cases: all in python
export NA NB
python3 - <<'PY'
import os, re, socket, struct, subprocess, time

NA, NB = os.environ["NA"], os.environ["NB"]
PORT = 33333
HOOKS = {"P": ("PREROUTING", "c_pre", "prerouting"), "I": ("INPUT", "c_in", "input"),
         "F": ("FORWARD", "c_fwd", "forward"), "O": ("OUTPUT", "c_out", "output"),
         "T": ("POSTROUTING", "c_post", "postrouting")}
ORDER = "OTPIF"  # print order: a local packet meets OUTPUT, POSTROUTING, then PREROUTING, INPUT on lo
ALL = "PIFOT"

def nl(names):
    v = [n.lower() for n in names.split(",")]
    return v[0] if len(v) == 1 else "{ " + ", ".join(v) + " }"

# (id, hooks, xt match or None, nft expression or None)
RULES = [("seen", ALL, "", "")]
TYPES = ["LOCAL", "UNICAST", "MULTICAST", "ANYCAST", "UNREACHABLE", "UNSPEC"]
for t in TYPES:
    RULES.append((f"d:{t}", ALL, f"-m addrtype --dst-type {t}", f"fib daddr type {t.lower()}"))
for t in ["blackhole", "prohibit", "9", "broadcast"]:  # 9 = RTN_THROW (nft 1.0.6 has no name for it)
    RULES.append((f"d:{t}", ALL, None, f"fib daddr type {t}"))
for s in ["LOCAL,UNICAST", "UNICAST,MULTICAST", "LOCAL,ANYCAST", "LOCAL,UNREACHABLE", "MULTICAST,LOCAL",
          "UNSPEC,UNREACHABLE"]:
    RULES.append((f"d:{s}", ALL, f"-m addrtype --dst-type {s}", f"fib daddr type {nl(s)}"))
# candidate exact forms
RULES += [
    ("d:UNREACHABLE~4", ALL, "-m addrtype --dst-type UNREACHABLE",
     "fib daddr type { unreachable, blackhole, prohibit, 9 }"),
    ("d:UNICAST~addr", ALL, "-m addrtype --dst-type UNICAST", "ip6 daddr != { ::, ::ffff:0:0/96, ff00::/8 }"),
    ("d:MULTICAST~addr", ALL, "-m addrtype --dst-type MULTICAST", "ip6 daddr ff00::/8"),
    ("d:UNSPEC~addr", ALL, "-m addrtype --dst-type UNSPEC", "ip6 daddr ::"),
    ("d:!LOCAL", ALL, "-m addrtype ! --dst-type LOCAL", "fib daddr type != local"),
]
for t in ["LOCAL", "UNREACHABLE", "ANYCAST", "UNICAST"]:
    RULES.append((f"di:{t}", "PIF", f"-m addrtype --dst-type {t} --limit-iface-in", f"fib daddr . iif type {t.lower()}"))
    RULES.append((f"do:{t}", "OTF", f"-m addrtype --dst-type {t} --limit-iface-out", f"fib daddr . oif type {t.lower()}"))
for t in ["LOCAL", "UNICAST", "MULTICAST", "UNSPEC", "UNREACHABLE"]:
    RULES.append((f"s:{t}", ALL, f"-m addrtype --src-type {t}", f"fib saddr type {t.lower()}"))
RULES += [
    ("s:UNICAST~addr", ALL, "-m addrtype --src-type UNICAST", "ip6 saddr != { ::, ::ffff:0:0/96, ff00::/8 }"),
    ("s:MULTICAST~addr", ALL, "-m addrtype --src-type MULTICAST", "ip6 saddr ff00::/8"),
    ("s:UNSPEC~addr", ALL, "-m addrtype --src-type UNSPEC", "ip6 saddr ::"),
    ("di:UNICAST~addr", "PIF", "-m addrtype --dst-type UNICAST --limit-iface-in",
     "ip6 daddr != { ::, ::ffff:0:0/96, ff00::/8 }"),
    ("di:LOCAL,UNICAST~", "PIF", "-m addrtype --dst-type LOCAL,UNICAST --limit-iface-in",
     "ip6 daddr != { ::, ::ffff:0:0/96, ff00::/8 } fib daddr . iif type local"),
    ("di:!LOCAL", "PIF", "-m addrtype ! --dst-type LOCAL --limit-iface-in", "fib daddr . iif type != local"),
    ("do:!LOCAL", "OTF", "-m addrtype ! --dst-type LOCAL --limit-iface-out", "fib daddr . oif type != local"),
    ("d:UNSPEC,MULTICAST~", ALL, "-m addrtype --dst-type UNSPEC,MULTICAST", "ip6 daddr :: ip6 daddr ff00::/8"),
]
RULES.append(("si:LOCAL", "PIF", "-m addrtype --src-type LOCAL --limit-iface-in", "fib saddr . iif type local"))
RULES.append(("so:LOCAL", "OTF", "-m addrtype --src-type LOCAL --limit-iface-out", "fib saddr . oif type local"))

def run(*a, **k):
    return subprocess.run(a, check=True, capture_output=True, text=True, **k).stdout

# load
xt = ["*mangle", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]",
      ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
nft = ["table ip6 at6probe {"]
chains = {h: [] for h in HOOKS}
for rid, hooks, xm, ne in RULES:
    for h in hooks:
        tag = f"{h}|{rid}"
        if xm is not None:
            xt.append(f"-A {HOOKS[h][0]} -p udp --dport {PORT} {xm} -m comment --comment \"{tag}\"")
        if ne is not None:
            chains[h].append(f"  meta l4proto udp udp dport {PORT} {ne} counter comment \"{tag}\"")
xt.append("COMMIT")
for h, (_, name, hook) in HOOKS.items():
    nft.append(f" chain {name} {{")
    nft.append(f"  type filter hook {hook} priority -150")
    nft += chains[h]
    nft.append(" }")
nft.append("}")
subprocess.run(["ip6tables-legacy-restore"], input="\n".join(xt) + "\n", check=True, text=True)
subprocess.run(["nft", "-f", "-"], input="\n".join(nft) + "\n", check=True, text=True)

def counters():
    x, n = {}, {}
    for line in run("ip6tables-legacy-save", "-c", "-t", "mangle").splitlines():
        m = re.match(r'\[(\d+):\d+\] -A \S+ .*--comment "?([^" ]+)"?', line)
        if m:
            x[m.group(2)] = int(m.group(1))
    for m in re.finditer(r'counter packets (\d+) bytes \d+ comment "([^"]+)"', run("nft", "list", "table", "ip6", "at6probe")):
        n[m.group(2)] = int(m.group(1))
    return x, n

# ---- senders
FW_MAC = re.search(r"link/ether (\S+)", run("ip", "-o", "link", "show", "fwa")).group(1)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def frame(src, dst, flowlabel=0):
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    payload = b"addrtype6"
    udp = struct.pack("!HHHH", 40000, PORT, 8 + len(payload), 0) + payload
    c = csum(s + d + struct.pack("!I", len(udp)) + b"\0\0\0\x11" + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip6 = struct.pack("!IHBB", (6 << 28) | flowlabel, len(udp), 17, 64) + s + d
    if dst.startswith("ff"):
        mac = bytes([0x33, 0x33]) + d[12:]
    else:
        mac = bytes.fromhex(FW_MAC.replace(":", ""))
    return mac + b"\x02\0\0\0\0\x01" + b"\x86\xdd" + ip6 + udp

def send_from_a(src, dst):
    f = frame(src, dst).hex()
    code = ("import socket,sys;s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW);"
            "s.bind(('cla',0));s.send(bytes.fromhex(sys.argv[1]))")
    subprocess.run(["ip", "netns", "exec", NA, "python3", "-c", code, f], check=True)

def send_local(dst, ifname=None, src=None):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    scope = socket.if_nametoindex(ifname) if ifname else 0
    if ifname and dst.startswith("ff"):
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, scope)
    if src:
        s.bind((src, 0))
    try:
        s.sendto(b"addrtype6", (dst, PORT, 0, scope))
    except OSError as e:
        return f"sendto: {e.strerror}"
    finally:
        s.close()

def sysctl(k, v):
    run("sysctl", "-qw", f"{k}={v}")

# (name, function)
CASES = [
    ("A->own global of in-if 2001:db8:a::1", lambda: send_from_a("2001:db8:a::2", "2001:db8:a::1")),
    ("A->own global of other if 2001:db8:b::1", lambda: send_from_a("2001:db8:a::2", "2001:db8:b::1")),
    ("A->own LL of in-if fe80::a", lambda: send_from_a("fe80::2", "fe80::a")),
    ("A->own LL of other if fe80::b", lambda: send_from_a("fe80::2", "fe80::b")),
    ("A->LL not ours fe80::99", lambda: send_from_a("fe80::2", "fe80::99")),
    ("A->::1 (dropped by ip6_rcv_core)", lambda: send_from_a("2001:db8:a::2", "::1")),
    ("A->ff02::1", lambda: send_from_a("fe80::2", "ff02::1")),
    ("A->ff0e::1234 (not joined)", lambda: send_from_a("2001:db8:a::2", "ff0e::1234")),
    ("A->subnet anycast of in-if 2001:db8:a:: (fwd on)", lambda: send_from_a("2001:db8:a::2", "2001:db8:a::")),
    ("A->subnet anycast of other if 2001:db8:b:: (fwd on)", lambda: send_from_a("2001:db8:a::2", "2001:db8:b::")),
    ("A->local-prefix route 2001:db8:9::5", lambda: send_from_a("2001:db8:a::2", "2001:db8:9::5")),
    ("A->local-prefix route's prefix 2001:db8:9::", lambda: send_from_a("2001:db8:a::2", "2001:db8:9::")),
    ("A->unreachable route 2001:db8:dead::1", lambda: send_from_a("2001:db8:a::2", "2001:db8:dead::1")),
    ("A->prohibit route 2001:db8:beef::1", lambda: send_from_a("2001:db8:a::2", "2001:db8:beef::1")),
    ("A->blackhole route 2001:db8:bad::1", lambda: send_from_a("2001:db8:a::2", "2001:db8:bad::1")),
    ("A->throw route 2001:db8:7::1", lambda: send_from_a("2001:db8:a::2", "2001:db8:7::1")),
    ("A->no route 2001:db8:ffff::1", lambda: send_from_a("2001:db8:a::2", "2001:db8:ffff::1")),
    ("A->routed via b 2001:db8:c::1 (forward)", lambda: send_from_a("2001:db8:a::2", "2001:db8:c::1")),
    ("A->neighbour on b 2001:db8:b::2 (forward)", lambda: send_from_a("2001:db8:a::2", "2001:db8:b::2")),
    ("A->2001:db8:e::1, rule ipproto udp -> prohibit", lambda: send_from_a("2001:db8:a::2", "2001:db8:e::1")),
    ("A(2001:db8:a:99::1, rule from -> unreachable)->2001:db8:c::1", lambda: send_from_a("2001:db8:a:99::1", "2001:db8:c::1")),
    ("A(2001:db8:a:77::1)->2001:db8:f::1, src-specific route", lambda: send_from_a("2001:db8:a:77::1", "2001:db8:f::1")),
    ("A->v4-mapped ::ffff:192.0.2.1", lambda: send_from_a("2001:db8:a::2", "::ffff:192.0.2.1")),
    ("A->:: (unspecified dst)", lambda: send_from_a("2001:db8:a::2", "::")),
    ("A(src ::)->ff02::1", lambda: send_from_a("::", "ff02::1")),
    ("A(src own global of other if 2001:db8:b::1)->2001:db8:a::1", lambda: send_from_a("2001:db8:b::1", "2001:db8:a::1")),
    ("A(src own LL of other if fe80::b)->fe80::a", lambda: send_from_a("fe80::b", "fe80::a")),
    ("A(src own LL of in-if fe80::a)->fe80::a", lambda: send_from_a("fe80::a", "fe80::a")),
    ("fw->::1", lambda: send_local("::1")),
    ("fw->own global 2001:db8:a::1", lambda: send_local("2001:db8:a::1")),
    ("fw->own LL fe80::a%fwa", lambda: send_local("fe80::a", "fwa")),
    ("fw->own LL fe80::b%fwb", lambda: send_local("fe80::b", "fwb")),
    ("fw->fe80::b%fwa (other if's LL, out fwa)", lambda: send_local("fe80::b", "fwa")),
    ("fw->LL neighbour fe80::3%fwb", lambda: send_local("fe80::3", "fwb")),
    ("fw->ff02::1%fwa", lambda: send_local("ff02::1", "fwa")),
    ("fw->subnet anycast 2001:db8:a:: (fwd on)", lambda: send_local("2001:db8:a::")),
    ("fw->local-prefix route's prefix 2001:db8:9::", lambda: send_local("2001:db8:9::")),
    ("fw->routed via b 2001:db8:c::1", lambda: send_local("2001:db8:c::1")),
]

def fwd_off(fn):
    def f():
        sysctl("net.ipv6.conf.all.forwarding", 0)
        time.sleep(0.3)
        try:
            return fn()
        finally:
            time.sleep(0.3)
            sysctl("net.ipv6.conf.all.forwarding", 1)
            time.sleep(0.3)
    return f
CASES += [
    ("fw->LL subnet anycast fe80::%fwa", lambda: send_local("fe80::", "fwa")),
    ("A->fe80:: (LL subnet anycast)", lambda: send_from_a("fe80::2", "fe80::")),
    ("A->2001:db8:d:: (configured on fwa, also subnet anycast)", lambda: send_from_a("2001:db8:a::2", "2001:db8:d::")),
]

def local_rule_moved(fn):
    """A policy rule ahead of the local table: ipproto udp to 2001:db8:a::1 -> prohibit."""
    def f():
        for c in ("ip -6 rule add pref 1000 lookup local", "ip -6 rule del pref 0",
                  "ip -6 rule add pref 500 to 2001:db8:a::1/128 ipproto udp prohibit"):
            run(*c.split())
        time.sleep(0.2)
        try:
            return fn()
        finally:
            time.sleep(0.3)
            for c in ("ip -6 rule del pref 500", "ip -6 rule add pref 0 lookup local", "ip -6 rule del pref 1000"):
                run(*c.split())
    return f
CASES.append(("A->own 2001:db8:a::1, rule 'to it ipproto udp prohibit' before local table",
              local_rule_moved(lambda: send_from_a("2001:db8:a::2", "2001:db8:a::1"))))
CASES.append(("A->subnet anycast 2001:db8:a:: (fwd OFF)", fwd_off(lambda: send_from_a("2001:db8:a::2", "2001:db8:a::"))))
CASES.append(("fw->subnet anycast 2001:db8:a:: (fwd OFF)", fwd_off(lambda: send_local("2001:db8:a::"))))

XT_IDS = [r[0] for r in RULES if r[2] is not None and r[3] is not None and r[0] != "seen"]
NFT_TYPES = ["local", "unicast", "multicast", "anycast", "unreachable", "unspec", "blackhole", "prohibit",
             "9", "broadcast"]

mismatch_by_rule = {}
print()
print("## cases: per hook met, the xt types that matched (--dst-type X alone), nft's one type")
print("## (fib daddr type), and every xt/nft rule pair whose counters differ (xt/nft)")
for name, fn in CASES:
    before = counters()
    err = fn()
    time.sleep(0.4)
    after = counters()
    dx = {k: after[0].get(k, 0) - before[0].get(k, 0) for k in after[0]}
    dn = {k: after[1].get(k, 0) - before[1].get(k, 0) for k in after[1]}
    print(f"\n* {name}" + (f"  [{err}]" if err else ""))
    met = False
    for h in ORDER:
        if dx.get(f"{h}|seen", 0) == 0 and dn.get(f"{h}|seen", 0) == 0:
            continue
        met = True
        xts = [t for t in TYPES if dx.get(f"{h}|d:{t}", 0)]
        nts = [t for t in NFT_TYPES if dn.get(f"{h}|d:{t.upper() if t.upper() in TYPES else t}", 0)]
        diffs = []
        for rid in XT_IDS:
            tag = f"{h}|{rid}"
            if tag in dx and tag in dn and dx[tag] != dn[tag]:
                diffs.append(f"{rid}({dx[tag]}/{dn[tag]})")
                mismatch_by_rule.setdefault(rid, []).append(f"{HOOKS[h][0]}: {name}")
        print(f"    {HOOKS[h][0]:<11} seen xt={dx.get(h+'|seen',0)} nft={dn.get(h+'|seen',0)}"
              f"  xt: {','.join(xts) or '-'}  nft: {','.join(nts) or '-'}"
              f"  {'DIFF ' + ' '.join(diffs) if diffs else 'same'}")
    if not met:
        print("    (met no hook)")

print("\n## summary: rule pairs that disagreed somewhere (xt form ~ nft form)")
for rid, hooks, xm, ne in RULES:
    if rid == "seen" or xm is None or ne is None:
        continue
    where = mismatch_by_rule.get(rid, [])
    print(f"  {'DIFF' if where else 'same'}  {xm:<55} ~ {ne}" + (f"   [{len(where)}]" if where else ""))
    for w in where:
        print(f"          {w}")
PY
