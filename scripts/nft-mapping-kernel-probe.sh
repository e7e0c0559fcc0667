#!/bin/bash
# nft-mapping-kernel-probe.sh -- statistic nth vs numgen inc, quota vs nft quota, on the kernel.
# Runs itself in a private network namespace (unshare -n); loopback only; as root.
# Sends UDP packets to 127.0.0.1 and reads which rules counted each one (iptables-legacy and nft
# rules side by side in OUTPUT). Result recorded in docs/dev/nft-mapping.md.
[ "${IN_NS:-}" = 1 ] || exec env IN_NS=1 timeout 30 unshare -n -- "$0" "$@"
set -e
ip link set lo up
nft -f - <<'N'
table ip t {
 chain o {
  type filter hook output priority 0;
  udp dport 9 numgen inc mod 3 2 counter
  udp dport 9 numgen inc mod 3 0 counter
  udp dport 10 quota until 101 bytes counter
  udp dport 10 quota until 100 bytes counter
 }
}
N
iptables-legacy -A OUTPUT -p udp --dport 9 -m statistic --mode nth --every 3 --packet 1
iptables-legacy -A OUTPUT -p udp --dport 9 -m statistic --mode nth --every 3 --packet 0
iptables-legacy -A OUTPUT -p udp --dport 10 -m quota --quota 100
python3 - <<'P'
import socket, subprocess, re
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def counts():
    n=subprocess.run(['nft','list','ruleset'],capture_output=True,text=True).stdout
    i=subprocess.run(['iptables-legacy','-L','OUTPUT','-v','-x','-n'],capture_output=True,text=True).stdout
    nc=[int(x) for x in re.findall(r'counter packets (\d+)',n)]
    ic=[int(l.split()[0]) for l in i.splitlines()[2:]]
    return nc, ic
prev=counts(); rows=[]
for k in range(1,8):
    s.sendto(b'x', ('127.0.0.1', 9)); c=counts()
    rows.append((k, c[0][0]-prev[0][0], c[1][0]-prev[1][0], c[0][1]-prev[0][1], c[1][1]-prev[1][1])); prev=c
print("nth: packet k, nft 'numgen inc mod 3 2' matched, iptables '--every 3 --packet 1', nft 'numgen inc mod 3 0', iptables '--every 3 --packet 0'"); print(rows)
# quota: UDP to port 10, IP total length = 20+8+payload; 3 packets of 50 bytes total length: 22 payload
rows=[]
for k,pl in enumerate([22,22,2,1,1],1):
    s.sendto(b'x'*pl, ('127.0.0.1', 10)); c=counts()
    rows.append((k, 28+pl, c[0][2]-prev[0][2], c[0][3]-prev[0][3], c[1][2]-prev[1][2])); prev=c
print("quota 100: packet k, length, nft 'quota until 101 bytes', nft 'quota until 100 bytes', iptables '--quota 100' matched"); print(rows)
P
