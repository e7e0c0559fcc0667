#!/bin/bash
# probe-validity.sh -- reproduces every fact in kernel-validity.md
#
# SAFETY: every load happens inside `unshare -n` (a private, throw-away network namespace).
# The host ruleset is never touched, no packet is sent.  dmesg is only read, never cleared.
#
# usage: probe-validity.sh [section ...]      (default: all sections)
#   sections: targets topts matches mopts base userchains structure limits extra addendum
# Output: one line per probe on stdout:
#   ID <TAB> fam <TAB> rc=N <TAB> stderr (joined with " / ") <TAB> dmesg lines that appeared (joined with " / ")
# A failing probe that left no dmesg line is retried once after 5.5 s, because the kernel's
# pr_info_ratelimited() drops messages after a burst of 10 per call site per 5 s.
# dmesg is shared by the whole machine: a line logged by someone else at the same moment can show
# up next to a probe (lines naming the other family's x_tables are filtered out).
set -u
R4=${R4:-iptables-legacy-restore}
R6=${R6:-ip6tables-legacy-restore}
T=$(mktemp -d /tmp/probe-validity.XXXXXX)
trap 'rm -rf "$T"' EXIT
PRE=""        # shell commands run inside the namespace before the restore (ipset create, ...)
RARGS=""      # extra arguments for *-restore
POST=""       # shell commands run inside the namespace after the restore (e.g. a save, to see what was stored)
# saved rules, with every run of 10+ equal characters shown as <c*N> so that truncation is visible
SAVE4='iptables-legacy-save | grep "^-A" | perl -pe "s/((.)\\2{9,})/\"<\$2*\".length(\$1).\">\"/ge; s/^/SAVED: /"'
SAVE6='ip6tables-legacy-save | grep "^-A" | perl -pe "s/((.)\\2{9,})/\"<\$2*\".length(\$1).\">\"/ge; s/^/SAVED: /"'
save_for() { [ "$1" = 6 ] && echo "$SAVE6" || echo "$SAVE4"; }

_run() { # fam file
  local cmd=$R4; [ "$1" = 6 ] && cmd=$R6
  local last; last=$(dmesg | tail -n 1)   # the ring buffer wraps: mark by content, not by count
  OUT=$(unshare -n sh -c "$PRE
$cmd $RARGS < $2; rc=\$?
$POST
exit \$rc" 2>&1); RC=$?
  # other users of the machine may log at the same time: drop the other family's x_tables lines
  local other=ip6_tables; [ "$1" = 6 ] && other=ip_tables
  DM=$(dmesg | awk -v m="$last" 'f{print} $0==m{f=1}' | sed -e 's/^\[[^]]*\] //' | grep -v -e 'callbacks suppressed' -e "x_tables: $other:" | paste -sd'|' | sed 's/|/ \/ /g')
}

# probe ID FAM  (rules on stdin, a complete restore file)
probe() {
  local id=$1 fam=$2 f=$T/in
  cat > "$f"
  _run "$fam" "$f"
  if [ $RC -ne 0 ] && [ -z "$DM" ] && [ "${NORETRY:-}" = "" ]; then
    case "$OUT" in
      *"not supported, missing kernel module"*|*"No chain/target/match"*) ;;
      *"line "*" failed"*|*"COMMIT"*) sleep 5.5; _run "$fam" "$f";;
    esac
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$fam" "rc=$RC" "$(printf '%s' "$OUT" | grep -v '^Try `' | grep -v '^$' | paste -sd'|' | sed 's/|/ \/ /g')" "$DM"
}

# one rule in one table/chain: pr ID FAM TABLE CHAIN "rule after -A CHAIN"
pr() { printf '*%s\n-A %s %s\nCOMMIT\n' "$3" "$4" "$5" | probe "$1" "$2"; }

CHAINS="raw:PREROUTING raw:OUTPUT mangle:PREROUTING mangle:INPUT mangle:FORWARD mangle:OUTPUT mangle:POSTROUTING nat:PREROUTING nat:INPUT nat:OUTPUT nat:POSTROUTING filter:INPUT filter:FORWARD filter:OUTPUT security:INPUT security:FORWARD security:OUTPUT"

# run the rule in every built-in chain of every table
matrix() { # ID FAM "rule"
  local tc
  for tc in $CHAINS; do pr "$1@${tc}" "$2" "${tc%%:*}" "${tc#*:}" "${3//@C@/${tc#*:}}"; done
}

SETUP_SETS='ipset create s4 hash:ip; ipset create s6 hash:ip family inet6'

A4=192.0.2.1; A6=2001:db8::1
addr() { [ "$1" = 6 ] && echo $A6 || echo $A4; }

# ---------------------------------------------------------------- targets: table x hook matrix
sec_targets() {
  local fam
  for fam in 4 6; do
    local a; a=$(addr $fam)
    local nm="10.0.0.0/8"; [ $fam = 6 ] && nm="2001:db8::/64"
    local set=s4; [ $fam = 6 ] && set=s6
    PRE=$SETUP_SETS
    while IFS='|' read -r name fams rule; do
      [ -z "$name" ] && continue
      case $fams in *$fam*) ;; *) continue;; esac
      rule=${rule//@A@/$a}; rule=${rule//@NM@/$nm}; rule=${rule//@SET@/$set}
      matrix "T:$name" $fam "$rule"
    done <<'EOF'
ACCEPT|46|-j ACCEPT
DROP|46|-j DROP
RETURN|46|-j RETURN
QUEUE|46|-j QUEUE
REJECT|46|-j REJECT
LOG|46|-j LOG
NFLOG|46|-j NFLOG
ULOG|4|-j ULOG
MARK|46|-j MARK --set-mark 1
CONNMARK|46|-j CONNMARK --set-mark 1
DNAT|46|-j DNAT --to-destination @A@
SNAT|46|-j SNAT --to-source @A@
MASQUERADE|46|-j MASQUERADE
REDIRECT|46|-j REDIRECT
NETMAP|46|-j NETMAP --to @NM@
NOTRACK|46|-j NOTRACK
CT|46|-j CT --notrack
TCPMSS|46|-p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400
TCPMSS-pmtu|46|-p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
TPROXY|46|-p tcp -j TPROXY --on-port 1234
TRACE|46|-j TRACE
CHECKSUM|46|-j CHECKSUM --checksum-fill
TOS|46|-j TOS --set-tos 0x10
DSCP|46|-j DSCP --set-dscp 1
TTL|4|-j TTL --ttl-set 64
HL|6|-j HL --hl-set 64
CLASSIFY|46|-j CLASSIFY --set-class 1:1
NFQUEUE|46|-j NFQUEUE --queue-num 1
SET|46|-j SET --add-set @SET@ src
SECMARK|46|-j SECMARK --selctx system_u:object_r:ssh_packet_t:s0
CONNSECMARK|46|-j CONNSECMARK --save
AUDIT|46|-j AUDIT --type accept
TEE|46|-j TEE --gateway @A@
SYNPROXY|46|-p tcp -j SYNPROXY --mss 1460
TCPOPTSTRIP|46|-p tcp -j TCPOPTSTRIP --strip-options mss
IDLETIMER|46|-j IDLETIMER --timeout 10 --label foo
HMARK|46|-j HMARK --hmark-tuple src --hmark-mod 2 --hmark-rnd 0x1
RATEEST|46|-j RATEEST --rateest-name foo --rateest-interval 250ms --rateest-ewmalog 0.5s
LED|46|-j LED --led-trigger-id foo
CLUSTERIP|4|-d @A@ -j CLUSTERIP --new --hashmode sourceip --clustermac 01:00:5e:00:00:01 --total-nodes 2 --local-node 1
ECN|4|-p tcp -j ECN --ecn-tcp-remove
DNPT|6|-j DNPT --src-pfx 2001:db8:1::/64 --dst-pfx 2001:db8:2::/64
SNPT|6|-j SNPT --src-pfx 2001:db8:1::/64 --dst-pfx 2001:db8:2::/64
EOF
  done
  PRE=""
}

# ---------------------------------------------------------------- target option/protocol checks
sec_topts() {
  PRE=$SETUP_SETS
  for fam in 4 6; do
    local a; a=$(addr $fam); local set=s4; [ $fam = 6 ] && set=s6
    local ab=$a; [ $fam = 6 ] && ab="[$a]"
    pr TO:REJECT-tcp-reset-noproto $fam filter INPUT "-j REJECT --reject-with tcp-reset"
    pr TO:REJECT-tcp-reset-udp $fam filter INPUT "-p udp -j REJECT --reject-with tcp-reset"
    pr TO:REJECT-tcp-reset-nottcp $fam filter INPUT "! -p tcp -j REJECT --reject-with tcp-reset"
    pr TO:REJECT-tcp-reset-tcp $fam filter INPUT "-p tcp -j REJECT --reject-with tcp-reset"
    pr TO:REJECT-tcp-reset-6 $fam filter INPUT "-p 6 -j REJECT --reject-with tcp-reset"
    if [ $fam = 4 ]; then
      for w in icmp-net-unreachable icmp-host-unreachable icmp-port-unreachable icmp-proto-unreachable icmp-net-prohibited icmp-host-prohibited icmp-admin-prohibited; do
        pr TO:REJECT-$w $fam filter INPUT "-j REJECT --reject-with $w"; done
      pr TO:REJECT-echo-reply $fam filter INPUT "-j REJECT --reject-with echo-reply"
    else
      for w in icmp6-no-route icmp6-adm-prohibited icmp6-addr-unreachable icmp6-port-unreachable icmp6-policy-fail icmp6-reject-route; do
        pr TO:REJECT-$w $fam filter INPUT "-j REJECT --reject-with $w"; done
    fi
    # REJECT in a user chain of filter reached from INPUT: fine; of mangle: refused (table)
    # DNAT / SNAT / REDIRECT / MASQUERADE with ports
    pr TO:DNAT-port-noproto $fam nat PREROUTING "-j DNAT --to-destination $ab:80"
    for p in tcp udp udplite sctp dccp icmp; do
      pr TO:DNAT-port-$p $fam nat PREROUTING "-p $p -j DNAT --to-destination $ab:80"
    done
    pr TO:DNAT-port-nottcp $fam nat PREROUTING "! -p tcp -j DNAT --to-destination $ab:80"
    pr TO:DNAT-port-num6 $fam nat PREROUTING "-p 6 -j DNAT --to-destination $ab:80"
    pr TO:DNAT-noaddr-port-tcp $fam nat PREROUTING "-p tcp -j DNAT --to-destination :80"
    pr TO:DNAT-noopt $fam nat PREROUTING "-j DNAT"
    pr TO:SNAT-port-noproto $fam nat POSTROUTING "-j SNAT --to-source $ab:1024-2000"
    pr TO:SNAT-port-tcp $fam nat POSTROUTING "-p tcp -j SNAT --to-source $ab:1024-2000"
    pr TO:SNAT-noopt $fam nat POSTROUTING "-j SNAT"
    pr TO:MASQ-ports-noproto $fam nat POSTROUTING "-j MASQUERADE --to-ports 1024-2000"
    pr TO:MASQ-ports-tcp $fam nat POSTROUTING "-p tcp -j MASQUERADE --to-ports 1024-2000"
    pr TO:REDIRECT-ports-noproto $fam nat PREROUTING "-j REDIRECT --to-ports 8080"
    pr TO:REDIRECT-ports-tcp $fam nat PREROUTING "-p tcp -j REDIRECT --to-ports 8080"
    pr TO:REDIRECT-ports-nottcp $fam nat PREROUTING "! -p tcp -j REDIRECT --to-ports 8080"
    # TCPMSS
    pr TO:TCPMSS-noproto $fam mangle FORWARD "-j TCPMSS --set-mss 1400"
    pr TO:TCPMSS-tcp-nosyn $fam mangle FORWARD "-p tcp -j TCPMSS --set-mss 1400"
    pr TO:TCPMSS-tcp-syn $fam mangle FORWARD "-p tcp --syn -j TCPMSS --set-mss 1400"
    pr TO:TCPMSS-tcp-flagsSYN-SYN $fam mangle FORWARD "-p tcp --tcp-flags SYN SYN -j TCPMSS --set-mss 1400"
    pr TO:TCPMSS-tcp-flagsALL-SYN $fam mangle FORWARD "-p tcp --tcp-flags ALL SYN -j TCPMSS --set-mss 1400"
    pr TO:TCPMSS-tcp-flagsSYNACK-SYN $fam mangle FORWARD "-p tcp --tcp-flags SYN,ACK SYN -j TCPMSS --set-mss 1400"
    pr TO:TCPMSS-tcp-notsyn $fam mangle FORWARD "-p tcp ! --syn -j TCPMSS --set-mss 1400"
    pr TO:TCPMSS-tcp-flagsSYNRST-SYNRST $fam mangle FORWARD "-p tcp --tcp-flags SYN,RST SYN,RST -j TCPMSS --set-mss 1400"
    pr TO:TCPMSS-tcp-flagsSYN-NONE $fam mangle FORWARD "-p tcp --tcp-flags SYN NONE -j TCPMSS --set-mss 1400"
    pr TO:TCPMSS-nottcp-syn $fam mangle FORWARD "! -p tcp -m tcp --syn -j TCPMSS --set-mss 1400"
    pr TO:TCPMSS-pmtu-tcp-nosyn $fam mangle FORWARD "-p tcp -j TCPMSS --clamp-mss-to-pmtu"
    pr TO:TCPMSS-pmtu-syn-filter-FORWARD $fam filter FORWARD "-p tcp --syn -j TCPMSS --clamp-mss-to-pmtu"
    pr TO:TCPMSS-pmtu-syn-filter-INPUT $fam filter INPUT "-p tcp --syn -j TCPMSS --clamp-mss-to-pmtu"
    # TPROXY
    pr TO:TPROXY-noproto $fam mangle PREROUTING "-j TPROXY --on-port 1234"
    pr TO:TPROXY-udp $fam mangle PREROUTING "-p udp -j TPROXY --on-port 1234"
    pr TO:TPROXY-sctp $fam mangle PREROUTING "-p sctp -j TPROXY --on-port 1234"
    pr TO:TPROXY-nottcp $fam mangle PREROUTING "! -p tcp -j TPROXY --on-port 1234"
    pr TO:TPROXY-tcp-mark $fam mangle PREROUTING "-p tcp -j TPROXY --on-port 1234 --tproxy-mark 0x1/0x1"
    pr TO:TPROXY-tcp-onip $fam mangle PREROUTING "-p tcp -j TPROXY --on-port 1234 --on-ip $a"
    pr TO:TPROXY-tcp-port0 $fam mangle PREROUTING "-p tcp -j TPROXY --on-port 0"
    # SYNPROXY
    pr TO:SYNPROXY-noproto $fam filter INPUT "-j SYNPROXY --mss 1460"
    pr TO:SYNPROXY-nottcp $fam filter INPUT "! -p tcp -j SYNPROXY --mss 1460"
    pr TO:SYNPROXY-udp $fam filter INPUT "-p udp -j SYNPROXY --mss 1460"
    pr TO:SYNPROXY-tcp-full $fam filter INPUT "-p tcp -m tcp --syn -m conntrack --ctstate INVALID,UNTRACKED -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460"
    # TCPOPTSTRIP
    pr TO:TCPOPTSTRIP-noproto $fam mangle FORWARD "-j TCPOPTSTRIP --strip-options mss"
    pr TO:TCPOPTSTRIP-nottcp $fam mangle FORWARD "! -p tcp -j TCPOPTSTRIP --strip-options mss"
    # ECN (IPv4 only)
    if [ $fam = 4 ]; then
      pr TO:ECN-tcpremove-noproto $fam mangle FORWARD "-j ECN --ecn-tcp-remove"
      pr TO:ECN-tcpremove-nottcp $fam mangle FORWARD "! -p tcp -j ECN --ecn-tcp-remove"
      pr TO:ECN-ip-ect-noproto $fam mangle FORWARD "-j ECN --ecn-ip-ect 1"
      pr TO:ECN-ip-ect-noproto-filter $fam filter FORWARD "-j ECN --ecn-ip-ect 1"
      pr TO:TTL-inc0 $fam mangle FORWARD "-j TTL --ttl-inc 0"
      pr TO:TTL-dec1 $fam mangle FORWARD "-j TTL --ttl-dec 1"
    else
      pr TO:HL-inc0 $fam mangle FORWARD "-j HL --hl-inc 0"
      pr TO:HL-dec1 $fam mangle FORWARD "-j HL --hl-dec 1"
    fi
    # CT
    pr TO:CT-zone $fam raw PREROUTING "-j CT --zone 1"
    pr TO:CT-helper-ftp-noproto $fam raw PREROUTING "-j CT --helper ftp"
    pr TO:CT-helper-ftp-tcp $fam raw PREROUTING "-p tcp -j CT --helper ftp"
    pr TO:CT-helper-ftp-udp $fam raw PREROUTING "-p udp -j CT --helper ftp"
    pr TO:CT-helper-tftp-udp $fam raw PREROUTING "-p udp -j CT --helper tftp"
    pr TO:CT-helper-bogus-tcp $fam raw PREROUTING "-p tcp -j CT --helper bogus"
    pr TO:CT-timeout-bogus $fam raw PREROUTING "-p tcp -j CT --timeout bogus"
    pr TO:CT-ctevents $fam raw PREROUTING "-j CT --ctevents new,related"
    pr TO:CT-zone-orig $fam raw PREROUTING "-j CT --zone-orig 1"
    pr TO:CT-zone-mark $fam raw PREROUTING "-j CT --zone mark"
    # NFQUEUE
    pr TO:NFQUEUE-balance $fam filter INPUT "-j NFQUEUE --queue-balance 0:3"
    pr TO:NFQUEUE-balance-rev $fam filter INPUT "-j NFQUEUE --queue-balance 3:0"
    pr TO:NFQUEUE-bypass $fam filter INPUT "-j NFQUEUE --queue-num 1 --queue-bypass"
    pr TO:NFQUEUE-cpu-fanout $fam filter INPUT "-j NFQUEUE --queue-balance 0:3 --queue-cpu-fanout"
    pr TO:NFQUEUE-num65535 $fam filter INPUT "-j NFQUEUE --queue-num 65535"
    # SET target
    pr TO:SET-missing $fam filter INPUT "-j SET --add-set nosuch src"
    pr TO:SET-del $fam filter INPUT "-j SET --del-set $set src"
    pr TO:SET-dim3 $fam filter INPUT "-j SET --add-set $set src,dst,dst"
    pr TO:SET-wrongfam $fam filter INPUT "-j SET --add-set $( [ $fam = 4 ] && echo s6 || echo s4 ) src"
    pr TO:SET-timeout-nottimeoutset $fam filter INPUT "-j SET --add-set $set src --timeout 10"
    pr TO:SET-exist $fam filter INPUT "-j SET --add-set $set src --exist"
    pr TO:SET-map-set $fam filter INPUT "-j SET --map-set $set src --map-mark"
    # LOG / NFLOG
    pr TO:LOG-level7 $fam filter INPUT "-j LOG --log-level 7"
    pr TO:LOG-level8 $fam filter INPUT "-j LOG --log-level 8"
    pr TO:LOG-level-debug $fam filter INPUT "-j LOG --log-level debug"
    pr TO:NFLOG-group-65535 $fam filter INPUT "-j NFLOG --nflog-group 65535"
    pr TO:NFLOG-range $fam filter INPUT "-j NFLOG --nflog-range 100"
    pr TO:NFLOG-size $fam filter INPUT "-j NFLOG --nflog-size 100"
    pr TO:NFLOG-threshold $fam filter INPUT "-j NFLOG --nflog-threshold 5"
    # CONNMARK / MARK variants
    pr TO:CONNMARK-save $fam filter INPUT "-j CONNMARK --save-mark"
    pr TO:CONNMARK-restore $fam filter INPUT "-j CONNMARK --restore-mark"
    pr TO:MARK-xor $fam filter INPUT "-j MARK --xor-mark 1"
    pr TO:MARK-big $fam filter INPUT "-j MARK --set-xmark 0xffffffff/0xffffffff"
    # CLASSIFY in filter
    pr TO:CLASSIFY-filter-OUTPUT $fam filter OUTPUT "-j CLASSIFY --set-class 1:1"
    # AUDIT types
    for ty in accept drop reject; do pr TO:AUDIT-$ty $fam filter INPUT "-j AUDIT --type $ty"; done
    # IDLETIMER
    pr TO:IDLETIMER-alarm $fam filter INPUT "-j IDLETIMER --timeout 10 --label foo --alarm"
    pr TO:IDLETIMER-timeout0 $fam filter INPUT "-j IDLETIMER --timeout 0 --label foo"
    pr TO:IDLETIMER-label-27 $fam filter INPUT "-j IDLETIMER --timeout 10 --label $(printf 'a%.0s' $(seq 27))"
    pr TO:IDLETIMER-label-28 $fam filter INPUT "-j IDLETIMER --timeout 10 --label $(printf 'a%.0s' $(seq 28))"
    # HMARK
    pr TO:HMARK-mod0 $fam filter INPUT "-j HMARK --hmark-rnd 0x1 --hmark-tuple src --hmark-mod 0"
    pr TO:HMARK-nomod $fam filter INPUT "-j HMARK --hmark-rnd 0x1 --hmark-tuple src"
    pr TO:HMARK-ct $fam filter INPUT "-j HMARK --hmark-tuple src,dst,sport,dport --hmark-mod 10 --hmark-offset 100 --hmark-rnd 0xfeedcafe --hmark-ct"
    pr TO:HMARK-spi-port $fam filter INPUT "-j HMARK --hmark-rnd 0x1 --hmark-mod 2 --hmark-spi-mask 1 --hmark-sport-mask 1"
    # RATEEST
    pr TO:RATEEST-bad-interval $fam filter INPUT "-j RATEEST --rateest-name foo --rateest-interval 3s --rateest-ewmalog 1s"
    pr TO:RATEEST-name15 $fam filter INPUT "-j RATEEST --rateest-name $(printf 'a%.0s' $(seq 15)) --rateest-interval 250ms --rateest-ewmalog 0.5s"
    pr TO:RATEEST-name16 $fam filter INPUT "-j RATEEST --rateest-name $(printf 'a%.0s' $(seq 16)) --rateest-interval 250ms --rateest-ewmalog 0.5s"
    # TEE
    pr TO:TEE-oif $fam mangle PREROUTING "-j TEE --gateway $a --oif lo"
    # DSCP / TOS range
    pr TO:DSCP-63 $fam mangle FORWARD "-j DSCP --set-dscp 63"
    pr TO:DSCP-64 $fam mangle FORWARD "-j DSCP --set-dscp 64"
    pr TO:DSCP-class $fam mangle FORWARD "-j DSCP --set-dscp-class EF"
    pr TO:TOS-and $fam mangle FORWARD "-j TOS --and-tos 0x0f"
    # CHECKSUM with udp/OUTPUT (the kernel only warns when not -p udp in OUTPUT)
    pr TO:CHECKSUM-udp-OUTPUT $fam mangle OUTPUT "-p udp -j CHECKSUM --checksum-fill"
    pr TO:CHECKSUM-POSTROUTING $fam mangle POSTROUTING "-j CHECKSUM --checksum-fill"
    # SECMARK / CONNSECMARK
    pr TO:CONNSECMARK-restore-security $fam security INPUT "-j CONNSECMARK --restore"
    pr TO:SECMARK-security $fam security INPUT "-j SECMARK --selctx system_u:object_r:ssh_packet_t:s0"
    # NETMAP variants
    pr TO:NETMAP-INPUT $fam nat INPUT "-j NETMAP --to $( [ $fam = 4 ] && echo 10.0.0.0/8 || echo 2001:db8::/64 )"
    # ULOG / CLUSTERIP / LED existence check
  done
  PRE=""
}

# ---------------------------------------------------------------- matches: table x hook matrix
sec_matches() {
  local fam
  for fam in 4 6; do
    local a; a=$(addr $fam); local set=s4; [ $fam = 6 ] && set=s6
    PRE=$SETUP_SETS
    while IFS='|' read -r name fams rule; do
      [ -z "$name" ] && continue
      case $fams in *$fam*) ;; *) continue;; esac
      rule=${rule//@A@/$a}; rule=${rule//@SET@/$set}; rule=${rule//@NL@/$'\n'}
      matrix "M:$name" $fam "$rule -j ACCEPT"
    done <<'EOF'
tcp|46|-p tcp -m tcp --dport 80
udp|46|-p udp -m udp --dport 53
sctp|46|-p sctp -m sctp --dport 80
dccp|46|-p dccp -m dccp --dport 80
icmp|4|-p icmp -m icmp --icmp-type echo-request
icmp6|6|-p ipv6-icmp -m icmp6 --icmpv6-type echo-request
multiport|46|-p tcp -m multiport --dports 80,443
mac|46|-m mac --mac-source 00:11:22:33:44:55
owner-uid|46|-m owner --uid-owner 0
owner-sock|46|-m owner --socket-exists
physdev-in|46|-m physdev --physdev-in eth0
physdev-out|46|-m physdev --physdev-out eth0
physdev-out-bridged|46|-m physdev --physdev-is-bridged --physdev-out eth0
physdev-isbridged|46|-m physdev --physdev-is-bridged
physdev-isout|46|-m physdev --physdev-is-out
policy-in|46|-m policy --dir in --pol ipsec
policy-out|46|-m policy --dir out --pol ipsec
addrtype|46|-m addrtype --dst-type LOCAL
addrtype-in|46|-m addrtype --dst-type LOCAL --limit-iface-in
addrtype-out|46|-m addrtype --dst-type LOCAL --limit-iface-out
rpfilter|46|-m rpfilter
socket|46|-m socket
socket-transparent|46|-m socket --transparent
set|46|-m set --match-set @SET@ src
conntrack|46|-m conntrack --ctstate NEW
state|46|-m state --state NEW
cgroup2-path|46|-m cgroup --path /
cgroup-classid|46|-m cgroup --cgroup 1
tcpmss|46|-p tcp -m tcpmss --mss 1000:1500
ecn-ip|46|-m ecn --ecn-ip-ect 1
ecn-tcp|46|-p tcp -m ecn --ecn-tcp-cwr
ah|46|-p ah -m ah --ahspi 1
esp|46|-p esp -m esp --espspi 1
rt|6|-m rt --rt-type 0
frag|6|-m frag --fragid 1
hbh|6|-m hbh --hbh-len 8
dst|6|-m dst --dst-len 8
mh|6|-p mh -m mh --mh-type 1
ipv6header|6|-m ipv6header --header frag
srh|6|-m srh --srh-next-hdr 17
eui64|6|-m eui64
devgroup-src|46|-m devgroup --src-group 1
devgroup-dst|46|-m devgroup --dst-group 1
realm|4|-m realm --realm 1
connlimit|46|-p tcp -m connlimit --connlimit-above 10
cluster|46|-m cluster --cluster-total-nodes 2 --cluster-local-node 1 --cluster-hash-seed 0xdeadbeef
ipvs|46|-m ipvs --ipvs
osf|46|-p tcp -m osf --genre Linux
bpf|46|-m bpf --bytecode "1,6 0 0 0"
u32|46|-m u32 --u32 "0>>22&0x3C@0>>16=80"
string|46|-m string --algo bm --string foo
length|46|-m length --length 100
ttl|4|-m ttl --ttl-eq 1
hl|6|-m hl --hl-eq 1
tos|46|-m tos --tos 0x10
dscp|46|-m dscp --dscp 1
pkttype|46|-m pkttype --pkt-type unicast
limit|46|-m limit --limit 1/s
hashlimit|46|-m hashlimit --hashlimit-upto 1/s --hashlimit-name hl1
recent|46|-m recent --name r1 --set
statistic|46|-m statistic --mode random --probability 0.5
time|46|-m time --timestart 08:00
quota|46|-m quota --quota 1000
iprange|46|-m iprange --src-range @A@-@A@
helper|46|-m helper --helper ftp
connbytes|46|-m connbytes --connbytes 10 --connbytes-dir both --connbytes-mode bytes
connlabel|46|-m connlabel --label 1
nfacct|46|-m nfacct --nfacct-name acct1
cpu|46|-m cpu --cpu 0
comment|46|-m comment --comment x
mark|46|-m mark --mark 1
connmark|46|-m connmark --mark 1
rateest-alone|46|-m rateest --rateest foo --rateest-bps 1
rateest|46|-j RATEEST --rateest-name foo --rateest-interval 250ms --rateest-ewmalog 0.5s@NL@-A @C@ -m rateest --rateest foo --rateest-bps 1
ipcomp|46|-p 108 -m ipcomp --ipcompspi 1
l2tp|46|-p udp -m l2tp --type control
udplite|46|-p udplite -m udplite --dport 1
EOF
  done
  PRE=""
}

# ---------------------------------------------------------------- match protocol / option checks
sec_mopts() {
  PRE=$SETUP_SETS
  for fam in 4 6; do
    local a; a=$(addr $fam); local set=s4; [ $fam = 6 ] && set=s6
    local icmp=icmp; [ $fam = 6 ] && icmp=icmp6
    for m in tcp udp sctp dccp; do
      pr MO:$m-noproto $fam filter INPUT "-m $m --dport 80 -j ACCEPT"
      pr MO:$m-nonproto $fam filter INPUT "! -p $m -m $m --dport 80 -j ACCEPT"
      pr MO:$m-otherproto $fam filter INPUT "-p $( [ $m = tcp ] && echo udp || echo tcp ) -m $m --dport 80 -j ACCEPT"
    done
    pr MO:tcp-numproto6 $fam filter INPUT "-p 6 -m tcp --dport 80 -j ACCEPT"
    pr MO:tcp-TCPuppercase $fam filter INPUT "-p TCP --dport 80 -j ACCEPT"
    pr MO:tcp-dport-without-m $fam filter INPUT "-p tcp --dport 80 -j ACCEPT"
    pr MO:udp-dport-without-m-tcpproto $fam filter INPUT "-p udp --syn -j ACCEPT"
    pr MO:all-dport $fam filter INPUT "-p all --dport 80 -j ACCEPT"
    if [ $fam = 4 ]; then
      pr MO:icmp-noproto $fam filter INPUT "-m icmp --icmp-type 8 -j ACCEPT"
      pr MO:icmp-ipv6-icmp $fam filter INPUT "-p ipv6-icmp -m icmp --icmp-type 8 -j ACCEPT"
      pr MO:ah-noproto $fam filter INPUT "-m ah --ahspi 1 -j ACCEPT"
      pr MO:ttl-in6 6 filter INPUT "-m ttl --ttl-eq 1 -j ACCEPT"
    else
      pr MO:icmp6-noproto $fam filter INPUT "-m icmp6 --icmpv6-type 128 -j ACCEPT"
      pr MO:icmp6-p-icmp $fam filter INPUT "-p icmp -m icmp6 --icmpv6-type 128 -j ACCEPT"
      pr MO:icmp6-p-icmpv6 $fam filter INPUT "-p icmpv6 -m icmp6 --icmpv6-type 128 -j ACCEPT"
      pr MO:icmp6-p-58 $fam filter INPUT "-p 58 -m icmp6 --icmpv6-type 128 -j ACCEPT"
      pr MO:ah-noproto $fam filter INPUT "-m ah --ahspi 1 -j ACCEPT"
      pr MO:mh-noproto $fam filter INPUT "-m mh --mh-type 1 -j ACCEPT"
      pr MO:mh-p-135 $fam filter INPUT "-p 135 -m mh --mh-type 1 -j ACCEPT"
      pr MO:frag-f $fam filter INPUT "-f -j ACCEPT"
      pr MO:hl-in4 4 filter INPUT "-m hl --hl-eq 1 -j ACCEPT"
      pr MO:icmp-in6 $fam filter INPUT "-p icmp -m icmp --icmp-type 8 -j ACCEPT"
      pr MO:addrtype-broadcast6 $fam filter INPUT "-m addrtype --dst-type BROADCAST -j ACCEPT"
      pr MO:addrtype-blackhole6 $fam filter INPUT "-m addrtype --dst-type BLACKHOLE -j ACCEPT"
      pr MO:addrtype-prohibit6 $fam filter INPUT "-m addrtype --dst-type PROHIBIT -j ACCEPT"
      pr MO:addrtype-unicast6 $fam filter INPUT "-m addrtype --dst-type UNICAST -j ACCEPT"
    fi
    pr MO:esp-noproto $fam filter INPUT "-m esp --espspi 1 -j ACCEPT"
    pr MO:tcpmss-noproto $fam filter INPUT "-m tcpmss --mss 1000 -j ACCEPT"
    pr MO:tcpmss-udp $fam filter INPUT "-p udp -m tcpmss --mss 1000 -j ACCEPT"
    pr MO:osf-noproto $fam filter INPUT "-m osf --genre Linux -j ACCEPT"
    for p in tcp udp udplite sctp dccp icmp all; do
      pr MO:multiport-$p $fam filter INPUT "-p $p -m multiport --dports 80 -j ACCEPT"
    done
    pr MO:multiport-noproto $fam filter INPUT "-m multiport --dports 80 -j ACCEPT"
    pr MO:multiport-nottcp $fam filter INPUT "! -p tcp -m multiport --dports 80 -j ACCEPT"
    pr MO:multiport-15 $fam filter INPUT "-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 -j ACCEPT"
    pr MO:multiport-16 $fam filter INPUT "-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 -j ACCEPT"
    pr MO:multiport-7ranges+1 $fam filter INPUT "-p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15 -j ACCEPT"
    pr MO:multiport-8ranges $fam filter INPUT "-p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16 -j ACCEPT"
    pr MO:multiport-sports-dports $fam filter INPUT "-p tcp -m multiport --sports 1 --dports 2 -j ACCEPT"
    pr MO:multiport-ports $fam filter INPUT "-p tcp -m multiport --ports 1,2 -j ACCEPT"
    pr MO:ecn-tcp-noproto $fam filter INPUT "-m ecn --ecn-tcp-cwr -j ACCEPT"
    pr MO:ecn-tcp-nottcp $fam filter INPUT "! -p tcp -m ecn --ecn-tcp-ece -j ACCEPT"
    pr MO:ecn-ip-noproto $fam filter INPUT "-m ecn --ecn-ip-ect 1 -j ACCEPT"
    pr MO:set-missing $fam filter INPUT "-m set --match-set nosuch src -j ACCEPT"
    pr MO:set-wrongfam $fam filter INPUT "-m set --match-set $( [ $fam = 4 ] && echo s6 || echo s4 ) src -j ACCEPT"
    pr MO:set-dim2-on-hash-ip $fam filter INPUT "-m set --match-set $set src,dst -j ACCEPT"
    pr MO:set-dim7 $fam filter INPUT "-m set --match-set $set src,dst,src,dst,src,dst,src -j ACCEPT"
    pr MO:nfacct-missing $fam filter INPUT "-m nfacct --nfacct-name nosuch -j ACCEPT"
    pr MO:helper-bogus $fam filter INPUT "-m helper --helper bogus -j ACCEPT"
    pr MO:string-kmp $fam filter INPUT "-m string --algo kmp --string foo -j ACCEPT"
    pr MO:string-to-lt-from $fam filter INPUT "-m string --algo bm --string foo --from 100 --to 10 -j ACCEPT"
    pr MO:string-hex $fam filter INPUT "-m string --algo bm --hex-string |41| -j ACCEPT"
    pr MO:recent-hitcount-255 $fam filter INPUT "-m recent --name r1 --rcheck --hitcount 255 -j ACCEPT"
    pr MO:recent-hitcount-20 $fam filter INPUT "-m recent --name r1 --rcheck --hitcount 20 -j ACCEPT"
    pr MO:recent-hitcount-21 $fam filter INPUT "-m recent --name r1 --rcheck --hitcount 21 -j ACCEPT"
    pr MO:recent-set-rcheck $fam filter INPUT "-m recent --name r1 --set -m recent --name r1 --rcheck --seconds 60 -j ACCEPT"
    pr MO:recent-reap-noseconds $fam filter INPUT "-m recent --name r1 --rcheck --reap -j ACCEPT"
    pr MO:recent-two-masks $fam filter INPUT "-m recent --name r1 --set --mask 255.255.255.0 -m recent --name r1 --rcheck --mask 255.255.0.0 -j ACCEPT"
    pr MO:hashlimit-nomode $fam filter INPUT "-m hashlimit --hashlimit-upto 1/s --hashlimit-name h1 -j ACCEPT"
    pr MO:hashlimit-srcip $fam filter INPUT "-m hashlimit --hashlimit-upto 1/s --hashlimit-mode srcip --hashlimit-name h1 -j ACCEPT"
    pr MO:hashlimit-dstport-noproto $fam filter INPUT "-m hashlimit --hashlimit-upto 1/s --hashlimit-mode dstport --hashlimit-name h1 -j ACCEPT"
    pr MO:hashlimit-same-name-diff-params $fam filter INPUT "-m hashlimit --hashlimit-upto 1/s --hashlimit-name h1 -j ACCEPT
-A INPUT -m hashlimit --hashlimit-upto 5/s --hashlimit-name h1 -j ACCEPT"
    pr MO:hashlimit-rate-huge $fam filter INPUT "-m hashlimit --hashlimit-upto 1000000/s --hashlimit-name h1 -j ACCEPT"
    pr MO:limit-huge $fam filter INPUT "-m limit --limit 1000000/s -j ACCEPT"
    pr MO:limit-10000 $fam filter INPUT "-m limit --limit 10000/s -j ACCEPT"
    pr MO:limit-burst0 $fam filter INPUT "-m limit --limit 1/s --limit-burst 0 -j ACCEPT"
    pr MO:limit-burst10000 $fam filter INPUT "-m limit --limit 1/s --limit-burst 10000 -j ACCEPT"
    pr MO:connlimit-noproto $fam filter INPUT "-m connlimit --connlimit-above 10 -j ACCEPT"
    pr MO:connlimit-udp $fam filter INPUT "-p udp -m connlimit --connlimit-above 10 -j ACCEPT"
    pr MO:cluster-local-gt-total $fam filter INPUT "-m cluster --cluster-total-nodes 2 --cluster-local-node 3 -j ACCEPT"
    pr MO:cluster-33nodes $fam filter INPUT "-m cluster --cluster-total-nodes 33 --cluster-local-node 1 -j ACCEPT"
    pr MO:cgroup-path-missing $fam filter OUTPUT "-m cgroup --path /nosuch -j ACCEPT"
    pr MO:connlabel-127 $fam filter INPUT "-m connlabel --label 127 -j ACCEPT"
    pr MO:connlabel-128 $fam filter INPUT "-m connlabel --label 128 -j ACCEPT"
    pr MO:connlabel-set $fam filter INPUT "-m connlabel --label 1 --set -j ACCEPT"
    pr MO:connbytes-avgpkt $fam filter INPUT "-m connbytes --connbytes 10:20 --connbytes-dir original --connbytes-mode avgpkt -j ACCEPT"
    pr MO:statistic-nth $fam filter INPUT "-m statistic --mode nth --every 3 --packet 0 -j ACCEPT"
    pr MO:statistic-nth-packet-ge-every $fam filter INPUT "-m statistic --mode nth --every 3 --packet 3 -j ACCEPT"
    pr MO:time-kerneltz $fam filter INPUT "-m time --kerneltz --weekdays Mon -j ACCEPT"
    pr MO:time-contiguous $fam filter INPUT "-m time --timestart 22:00 --timestop 02:00 --contiguous -j ACCEPT"
    pr MO:socket-restore-skmark $fam mangle PREROUTING "-m socket --restore-skmark -j ACCEPT"
    pr MO:socket-nowildcard $fam mangle PREROUTING "-m socket --nowildcard -j ACCEPT"
    pr MO:rpfilter-mangle-OUTPUT $fam mangle OUTPUT "-m rpfilter -j ACCEPT"
    pr MO:rpfilter-opts $fam raw PREROUTING "-m rpfilter --loose --validmark --accept-local --invert -j ACCEPT"
    pr MO:length-range $fam filter INPUT "-m length --length 100:50 -j ACCEPT"
    pr MO:u32-bad $fam filter INPUT "-m u32 --u32 0=1:0 -j ACCEPT"
    pr MO:iprange-reverse $fam filter INPUT "-m iprange --src-range $( [ $fam = 4 ] && echo 192.0.2.9-192.0.2.1 || echo 2001:db8::9-2001:db8::1 ) -j ACCEPT"
    pr MO:bpf-bad $fam filter INPUT "-m bpf --bytecode \"1,0 0 0 0\" -j ACCEPT"
    pr MO:owner-pid $fam filter OUTPUT "-m owner --pid-owner 1 -j ACCEPT"
    pr MO:owner-uid-range $fam filter OUTPUT "-m owner --uid-owner 0-4294967294 -j ACCEPT"
    pr MO:owner-suppl $fam filter OUTPUT "-m owner --gid-owner 0 --suppl-groups -j ACCEPT"
    pr MO:devgroup-both-FORWARD $fam filter FORWARD "-m devgroup --src-group 1 --dst-group 2 -j ACCEPT"
    pr MO:quota-0 $fam filter INPUT "-m quota --quota 0 -j ACCEPT"
    pr MO:dscp-63 $fam filter INPUT "-m dscp --dscp 63 -j ACCEPT"
    pr MO:dscp-64 $fam filter INPUT "-m dscp --dscp 64 -j ACCEPT"
    pr MO:policy-both-dirs $fam filter FORWARD "-m policy --dir in --pol ipsec -m policy --dir out --pol ipsec -j ACCEPT"
    pr MO:policy-5elems $fam filter INPUT "-m policy --dir in --pol ipsec --proto esp --next --proto esp --next --proto esp --next --proto esp -j ACCEPT"
    pr MO:policy-5elems-b $fam filter INPUT "-m policy --dir in --pol ipsec --proto esp --next --proto esp --next --proto esp --next --proto esp --next --proto esp -j ACCEPT"
    pr MO:conntrack-ctproto-no-p $fam filter INPUT "-m conntrack --ctproto tcp --ctorigdstport 80 -j ACCEPT"
    pr MO:conntrack-ctstate-all $fam filter INPUT "-m conntrack --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT -j ACCEPT"
    pr MO:state-untracked $fam filter INPUT "-m state --state UNTRACKED -j ACCEPT"
    pr MO:physdev-out-isbridged-OUTPUT $fam filter OUTPUT "-m physdev --physdev-is-bridged --physdev-out eth0 -j ACCEPT"
    pr MO:physdev-out-notbridged-FORWARD $fam filter FORWARD "-m physdev ! --physdev-is-bridged --physdev-out eth0 -j ACCEPT"
    printf '*filter\n:U - [0:0]\n-A OUTPUT -j U\n-A U -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT\nCOMMIT\n' | probe MO:mac-user-chain-from-OUTPUT $fam
  done
  PRE=""
}

# ---------------------------------------------------------------- base options
sec_base() {
  for fam in 4 6; do
    pr B:i-OUTPUT $fam filter OUTPUT "-i lo -j ACCEPT"
    pr B:i-POSTROUTING $fam nat POSTROUTING "-i lo -j ACCEPT"
    pr B:i-mangle-POSTROUTING $fam mangle POSTROUTING "-i lo -j ACCEPT"
    pr B:i-raw-OUTPUT $fam raw OUTPUT "-i lo -j ACCEPT"
    pr B:o-PREROUTING $fam raw PREROUTING "-o lo -j ACCEPT"
    pr B:o-INPUT $fam filter INPUT "-o lo -j ACCEPT"
    pr B:o-nat-INPUT $fam nat INPUT "-o lo -j ACCEPT"
    pr B:i-FORWARD $fam filter FORWARD "-i lo -o lo -j ACCEPT"
    pr B:noti-OUTPUT $fam filter OUTPUT "! -i lo -j ACCEPT"
    printf '*filter\n:U - [0:0]\n-A OUTPUT -j U\n-A U -i lo -j ACCEPT\nCOMMIT\n' | probe B:i-userchain-from-OUTPUT $fam
    printf '*filter\n:U - [0:0]\n-A INPUT -j U\n-A U -o lo -j ACCEPT\nCOMMIT\n' | probe B:o-userchain-from-INPUT $fam
    printf '*filter\n:U - [0:0]\n-A U -i lo -o lo -j ACCEPT\nCOMMIT\n' | probe B:io-unreachable-userchain $fam
    pr B:iface-15 $fam filter INPUT "-i abcdefghijklmno -j ACCEPT"
    pr B:iface-16 $fam filter INPUT "-i abcdefghijklmnop -j ACCEPT"
    pr B:iface-plus $fam filter INPUT "-i eth+ -j ACCEPT"
    pr B:iface-plus-only $fam filter INPUT "-i + -j ACCEPT"
    pr B:iface-15-plus $fam filter INPUT "-i abcdefghijklmn+ -j ACCEPT"
    pr B:iface-slash $fam filter INPUT "-i a/b -j ACCEPT"
    pr B:iface-colon $fam filter INPUT "-i a:b -j ACCEPT"
    pr B:iface-dot $fam filter INPUT "-i . -j ACCEPT"
    pr B:iface-star $fam filter INPUT "-i eth* -j ACCEPT"
    pr B:p-unknown $fam filter INPUT "-p foo -j ACCEPT"
    pr B:p-255 $fam filter INPUT "-p 255 -j ACCEPT"
    pr B:p-256 $fam filter INPUT "-p 256 -j ACCEPT"
    pr B:p-0 $fam filter INPUT "-p 0 -j ACCEPT"
    pr B:not-p-0 $fam filter INPUT "! -p 0 -j ACCEPT"
    pr B:p-icmp $fam filter INPUT "-p icmp -j ACCEPT"
    pr B:p-ipv6-icmp $fam filter INPUT "-p ipv6-icmp -j ACCEPT"
    pr B:p-icmpv6 $fam filter INPUT "-p icmpv6 -j ACCEPT"
    pr B:f $fam filter INPUT "-f -j ACCEPT"
    pr B:notf $fam filter INPUT "! -f -j ACCEPT"
    pr B:s-multi $fam filter INPUT "-s $(addr $fam),$( [ $fam = 4 ] && echo 192.0.2.2 || echo 2001:db8::2 ) -j ACCEPT"
    pr B:s-hostname $fam filter INPUT "-s localhost -j ACCEPT"
    pr B:s-badmask $fam filter INPUT "-s $(addr $fam)/$( [ $fam = 4 ] && echo 33 || echo 129 ) -j ACCEPT"
    pr B:s-dotted-mask $fam filter INPUT "-s 10.0.0.0/255.0.255.0 -j ACCEPT"
    pr B:s-hostbits $fam filter INPUT "-s $( [ $fam = 4 ] && echo 10.1.2.3/8 || echo 2001:db8::1/32 ) -j ACCEPT"
    pr B:j-and-g $fam filter INPUT "-j ACCEPT -g ACCEPT"
    pr B:no-target $fam filter INPUT "-s $(addr $fam)"
    pr B:g-builtin-target $fam filter INPUT "-g ACCEPT"
    pr B:double-target $fam filter INPUT "-j ACCEPT -j DROP"
    pr B:double-s $fam filter INPUT "-s $(addr $fam) -s $(addr $fam) -j ACCEPT"
    pr B:same-match-twice $fam filter INPUT "-m comment --comment a -m comment --comment b -j ACCEPT"
    pr B:c-counters $fam filter INPUT "-c 5 10 -j ACCEPT"
    pr B:bracket-counters $fam filter INPUT "[5:10] -j ACCEPT"
    printf '*filter\n[5:10] -A INPUT -j ACCEPT\nCOMMIT\n' | probe B:bracket-counters-first $fam
    RARGS=-c; printf '*filter\n[5:10] -A INPUT -j ACCEPT\nCOMMIT\n' | probe B:bracket-counters-first-with-c $fam; RARGS=""
  done
}

# ---------------------------------------------------------------- user chains: reachability and loops
sec_userchains() {
  for fam in 4 6; do
    local a; a=$(addr $fam)
    # DNAT only in PREROUTING/OUTPUT
    printf '*nat\n:U - [0:0]\n-A U -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-unreachable $fam
    printf '*nat\n:U - [0:0]\n-A PREROUTING -j U\n-A U -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-from-PREROUTING $fam
    printf '*nat\n:U - [0:0]\n-A PREROUTING -j U\n-A OUTPUT -j U\n-A U -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-from-PREROUTING+OUTPUT $fam
    printf '*nat\n:U - [0:0]\n-A INPUT -j U\n-A U -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-from-INPUT $fam
    printf '*nat\n:U - [0:0]\n-A PREROUTING -j U\n-A POSTROUTING -j U\n-A U -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-from-PRE+POST $fam
    printf '*nat\n:A - [0:0]\n:B - [0:0]\n:C - [0:0]\n-A POSTROUTING -j A\n-A A -j B\n-A B -j C\n-A C -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-3jumps-from-POSTROUTING $fam
    printf '*nat\n:A - [0:0]\n:B - [0:0]\n-A POSTROUTING -g A\n-A A -g B\n-A B -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-goto-from-POSTROUTING $fam
    printf '*nat\n:A - [0:0]\n:B - [0:0]\n-A POSTROUTING -p tcp -j A\n-A A -j RETURN\n-A A -j B\n-A B -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-after-unconditional-RETURN $fam
    printf '*nat\n:A - [0:0]\n:B - [0:0]\n-A POSTROUTING -j ACCEPT\n-A POSTROUTING -j A\n-A A -j B\n-A B -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-after-unconditional-ACCEPT $fam
    printf '*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-chain-of-unreachable $fam
    # target-table restriction is independent of reachability
    printf '*filter\n:U - [0:0]\n-A U -j DNAT --to-destination %s\nCOMMIT\n' $a | probe U:dnat-unreachable-in-filter $fam
    printf '*mangle\n:U - [0:0]\n-A U -j REJECT\nCOMMIT\n' | probe U:reject-unreachable-in-mangle $fam
    printf '*filter\n:U - [0:0]\n-A U -p tcp -j REJECT --reject-with tcp-reset\nCOMMIT\n' | probe U:reject-tcpreset-unreachable-tcp $fam
    printf '*filter\n:U - [0:0]\n-A U -j REJECT --reject-with tcp-reset\nCOMMIT\n' | probe U:reject-tcpreset-unreachable-noproto $fam
    # TCPMSS clamp in user chain reached from PREROUTING vs unreachable
    printf '*mangle\n:U - [0:0]\n-A PREROUTING -j U\n-A U -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n' | probe U:tcpmss-pmtu-from-PREROUTING $fam
    printf '*mangle\n:U - [0:0]\n-A U -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n' | probe U:tcpmss-pmtu-unreachable $fam
    # matches with hook restriction in user chains
    printf '*filter\n:U - [0:0]\n-A U -m owner --uid-owner 0 -j ACCEPT\nCOMMIT\n' | probe U:owner-unreachable $fam
    printf '*filter\n:U - [0:0]\n-A INPUT -j U\n-A U -m owner --uid-owner 0 -j ACCEPT\nCOMMIT\n' | probe U:owner-from-INPUT $fam
    printf '*filter\n:U - [0:0]\n-A INPUT -j U\n-A OUTPUT -j U\n-A U -m owner --uid-owner 0 -j ACCEPT\nCOMMIT\n' | probe U:owner-from-INPUT+OUTPUT $fam
    # loops
    printf '*filter\n:A - [0:0]\n-A INPUT -j A\n-A A -j A\nCOMMIT\n' | probe U:loop-A-A-reachable $fam
    printf '*filter\n:A - [0:0]\n-A A -j A\nCOMMIT\n' | probe U:loop-A-A-unreachable $fam
    printf '*filter\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT\n' | probe U:loop-ABA-reachable $fam
    printf '*filter\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j A\nCOMMIT\n' | probe U:loop-ABA-unreachable $fam
    printf '*filter\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -g B\n-A B -g A\nCOMMIT\n' | probe U:loop-goto-ABA-reachable $fam
    printf '*filter\n:A - [0:0]\n-A INPUT -j A\n-A A -g A\nCOMMIT\n' | probe U:loop-goto-AA-reachable $fam
    printf '*filter\n:A - [0:0]\n:B - [0:0]\n-A INPUT -g A\n-A A -j B\n-A B -g A\nCOMMIT\n' | probe U:loop-mixed-reachable $fam
    printf '*filter\n:A - [0:0]\n:B - [0:0]\n-A A -g B\n-A B -g A\nCOMMIT\n' | probe U:loop-goto-ABA-unreachable $fam
    printf '*filter\n:A - [0:0]\n-A INPUT -j A\n-A A -p tcp -j A\nCOMMIT\n' | probe U:loop-conditional-AA-reachable $fam
    printf '*filter\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j RETURN\n-A A -j B\n-A B -j A\nCOMMIT\n' | probe U:loop-behind-unconditional-RETURN $fam
    printf '*filter\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A INPUT -j B\n-A A -j B\nCOMMIT\n' | probe U:diamond-no-loop $fam
    # deep nesting
    { printf '*filter\n'; for i in $(seq 1 60); do printf ':C%d - [0:0]\n' $i; done; printf -- '-A INPUT -j C1\n'; for i in $(seq 1 59); do printf -- '-A C%d -j C%d\n' $i $((i+1)); done; printf 'COMMIT\n'; } | probe U:chain-depth-60 $fam
    { printf '*filter\n'; for i in $(seq 1 1100); do printf ':C%d - [0:0]\n' $i; done; printf -- '-A INPUT -j C1\n'; for i in $(seq 1 1099); do printf -- '-A C%d -j C%d\n' $i $((i+1)); done; printf 'COMMIT\n'; } | probe U:chain-depth-1100 $fam
  done
}

# ---------------------------------------------------------------- structure of the restore file
sec_structure() {
  for fam in 4 6; do
    printf '*filter\n:FOO ACCEPT [0:0]\nCOMMIT\n' | probe S:userchain-policy-ACCEPT $fam
    printf '*filter\n:FOO DROP [0:0]\nCOMMIT\n' | probe S:userchain-policy-DROP $fam
    printf '*filter\n:FOO - [0:0]\nCOMMIT\n' | probe S:userchain-dash $fam
    printf '*filter\n:FOO\nCOMMIT\n' | probe S:userchain-no-policy-field $fam
    printf '*filter\n:FOO -\nCOMMIT\n' | probe S:userchain-no-counters $fam
    printf '*filter\n:INPUT ACCEPT\nCOMMIT\n' | probe S:builtin-no-counters $fam
    printf '*filter\n:INPUT -\nCOMMIT\n' | probe S:builtin-dash-policy $fam
    printf '*filter\n:INPUT ACCEPT [x:y]\nCOMMIT\n' | probe S:builtin-bad-counters $fam
    RARGS=-c; printf '*filter\n:INPUT ACCEPT [x:y]\nCOMMIT\n' | probe S:builtin-bad-counters-with-c $fam; RARGS=""
    RARGS=-c; printf '*filter\n:INPUT ACCEPT\nCOMMIT\n' | probe S:builtin-no-counters-with-c $fam; RARGS=""
    printf '*filter\n:INPUT ACCEPT [1:2]\nCOMMIT\n' | probe S:builtin-counters $fam
    printf '*filter\n:INPUT ACCEPT [1:2] extra\nCOMMIT\n' | probe S:builtin-extra-field $fam
    printf '*filter\n:INPUT accept [0:0]\nCOMMIT\n' | probe S:policy-lowercase $fam
    for p in QUEUE RETURN REJECT LOG FOO; do
      printf '*filter\n:INPUT %s [0:0]\nCOMMIT\n' $p | probe S:policy-$p $fam
    done
    for t in raw mangle nat security; do
      local c=PREROUTING; [ $t = security ] && c=INPUT
      printf '*%s\n:%s DROP [0:0]\nCOMMIT\n' $t $c | probe S:DROP-policy-$t-$c $fam
    done
    printf '*nat\n-A PREROUTING -j DROP\nCOMMIT\n' | probe S:DROP-rule-nat $fam
    printf '*nat\n:U - [0:0]\n-A U -j DROP\nCOMMIT\n' | probe S:DROP-rule-nat-userchain $fam
    printf '*raw\n-A PREROUTING -j DROP\nCOMMIT\n' | probe S:DROP-rule-raw $fam
    printf '*nat\n-A PREROUTING -j REJECT\nCOMMIT\n' | probe S:REJECT-rule-nat $fam
    printf '*filter\n:INPUT PREROUTING [0:0]\nCOMMIT\n' | probe S:policy-chainname $fam
    printf '*filter\n-P INPUT DROP\nCOMMIT\n' | probe S:P-line $fam
    printf '*filter\n-N FOO\n-A FOO -j ACCEPT\nCOMMIT\n' | probe S:N-line $fam
    printf '*filter\n:FOO - [0:0]\n-N FOO\nCOMMIT\n' | probe S:N-existing $fam
    printf '*filter\n-N FOO\n-N FOO\nCOMMIT\n' | probe S:N-twice $fam
    printf '*filter\n:FOO - [0:0]\n:FOO - [0:0]\nCOMMIT\n' | probe S:chain-declared-twice $fam
    POST="$(save_for $fam | sed 's/grep "^-A"/grep "^:"/')"; printf '*filter\n:INPUT ACCEPT [0:0]\n:INPUT DROP [0:0]\nCOMMIT\n' | probe S:builtin-declared-twice $fam; POST=""
    printf '*filter\n:FOO - [0:0]\n-A FOO -j ACCEPT\n:FOO - [0:0]\nCOMMIT\n' | probe S:chain-redeclared-after-rule $fam
    printf '*filter\n:FOO - [0:0]\n-A INPUT -j FOO\n-X FOO\nCOMMIT\n' | probe S:X-referenced $fam
    printf '*filter\n:FOO - [0:0]\n-A FOO -j ACCEPT\n-X FOO\nCOMMIT\n' | probe S:X-nonempty-unreferenced $fam
    printf '*filter\n:FOO - [0:0]\n-X FOO\nCOMMIT\n' | probe S:X-empty $fam
    printf '*filter\n-X FOO\nCOMMIT\n' | probe S:X-missing $fam
    printf '*filter\n-X INPUT\nCOMMIT\n' | probe S:X-builtin $fam
    printf '*filter\n-X\nCOMMIT\n' | probe S:X-all $fam
    printf '*filter\n:FOO - [0:0]\n-A FOO -j ACCEPT\n-F FOO\n-X FOO\nCOMMIT\n' | probe S:F-then-X $fam
    printf '*filter\n:FOO - [0:0]\n-E FOO BAR\n-A BAR -j ACCEPT\nCOMMIT\n' | probe S:E-rename $fam
    printf '*filter\n-A INPUT -j NOSUCH\nCOMMIT\n' | probe S:jump-undeclared $fam
    printf '*filter\n-A INPUT -g NOSUCH\nCOMMIT\n' | probe S:goto-undeclared $fam
    printf '*filter\n-A INPUT -j FOO\n:FOO - [0:0]\nCOMMIT\n' | probe S:jump-before-declaration $fam
    printf '*filter\n:FOO - [0:0]\n-A INPUT -j foo\nCOMMIT\n' | probe S:jump-wrong-case $fam
    printf '*filter\n:foo - [0:0]\n:FOO - [0:0]\n-A INPUT -j foo\n-A INPUT -j FOO\nCOMMIT\n' | probe S:chains-differ-by-case $fam
    printf '*filter\n-A INPUT -j accept\nCOMMIT\n' | probe S:target-lowercase-accept $fam
    printf '*filter\n-A INPUT -j log\nCOMMIT\n' | probe S:target-lowercase-log $fam
    printf '*filter\n-A INPUT -j INPUT\nCOMMIT\n' | probe S:jump-to-builtin $fam
    printf '*filter\n-A INPUT -j OUTPUT\nCOMMIT\n' | probe S:jump-to-other-builtin $fam
    printf '*filter\n-A INPUT -g INPUT\nCOMMIT\n' | probe S:goto-builtin $fam
    printf '*filter\n:FOO - [0:0]\n-A INPUT -g FOO\nCOMMIT\n' | probe S:goto-user-from-builtin $fam
    printf '*filter\n-A INPUT -j PREROUTING\nCOMMIT\n' | probe S:jump-to-other-table-builtin $fam
    # built-in names of another table used as user chain
    printf '*filter\n:PREROUTING - [0:0]\n-A PREROUTING -j ACCEPT\n-A INPUT -j PREROUTING\nCOMMIT\n' | probe S:PREROUTING-as-userchain-in-filter $fam
    printf '*filter\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n' | probe S:PREROUTING-with-policy-in-filter $fam
    printf '*filter\n-A PREROUTING -j ACCEPT\nCOMMIT\n' | probe S:A-PREROUTING-in-filter-undeclared $fam
    printf '*raw\n:INPUT - [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n' | probe S:INPUT-as-userchain-in-raw $fam
    printf '*nat\n:FORWARD - [0:0]\n-A PREROUTING -j FORWARD\nCOMMIT\n' | probe S:FORWARD-as-userchain-in-nat $fam
    # chains named like targets
    for n in LOG ACCEPT DROP RETURN QUEUE REJECT MARK DNAT ERROR; do
      printf '*filter\n:%s - [0:0]\nCOMMIT\n' $n | probe S:chain-named-$n $fam
    done
    printf '*filter\n:LOG - [0:0]\n-A LOG -j ACCEPT\n-A INPUT -j LOG\nCOMMIT\n' | probe S:chain-LOG-and-jLOG $fam
    printf '*filter\n:MARK - [0:0]\n-A MARK -j ACCEPT\n-A INPUT -j MARK --set-mark 1\nCOMMIT\n' | probe S:chain-MARK-and-jMARK-opts $fam
    printf '*filter\n:log - [0:0]\n-A INPUT -j log\nCOMMIT\n' | probe S:chain-named-log-lower $fam
    # which one does -j LOG mean when a chain LOG exists?  (-L shows "LOG flags 0 level 4" for the LOG target)
    local lst="iptables-legacy -n -L INPUT | sed 's/^/LISTED: /'"; [ $fam = 6 ] && lst="ip6tables-legacy -n -L INPUT | sed 's/^/LISTED: /'"
    POST=$lst; printf '*filter\n:LOG - [0:0]\n-A INPUT -j LOG\nCOMMIT\n' | probe S:chain-LOG-then-jLOG-listing $fam; POST=""
    POST=$lst; printf '*filter\n-A INPUT -j LOG\nCOMMIT\n' | probe S:no-chain-jLOG-listing $fam; POST=""
    # -N in a restore file applies the iptables command's own chain-name checks (":NAME" lines do not)
    for n in LOG MARK ACCEPT -foo '!foo' 'f:o' INPUT; do
      printf '*filter\n-N %s\nCOMMIT\n' "$n" | probe "S:N-[$n]" $fam
    done
    printf '*filter\n-N %s\nCOMMIT\n' "$(printf 'C%.0s' $(seq 29))" | probe "S:N-name-len-29" $fam
    printf '*filter\n-N %s\nCOMMIT\n' "$(printf 'C%.0s' $(seq 28))" | probe "S:N-name-len-28" $fam
    printf '*filter\n:%s - [0:0]\n-A INPUT -j %s\nCOMMIT\n' "$(printf 'C%.0s' $(seq 28))" "$(printf 'C%.0s' $(seq 28))" | probe "S:jump-to-28-char-chain" $fam
    printf '*filter\n:TCPMSS - [0:0]\n-A TCPMSS -j DROP\n-A INPUT -p tcp -j TCPMSS\nCOMMIT\n' | probe S:chain-TCPMSS-and-jTCPMSS $fam
    # chain name length
    for n in 28 29 30 31; do
      local nm; nm=$(printf 'C%.0s' $(seq $n))
      printf '*filter\n:%s - [0:0]\n-A INPUT -j %s\nCOMMIT\n' $nm $nm | probe S:chain-name-len-$n $fam
    done
    for nm in -foo '!foo' 'foo!' '+foo' 'a b' '1' '-' 'foo:bar' 'foo.bar' 'f"o'; do
      printf '*filter\n:%s - [0:0]\nCOMMIT\n' "$nm" | probe "S:chain-name-[$nm]" $fam
    done
    printf '*filter\n:-foo - [0:0]\n-A INPUT -j -foo\nCOMMIT\n' | probe "S:jump-to-[-foo]" $fam
    printf '*filter\n:!foo - [0:0]\n-A INPUT -j !foo\nCOMMIT\n' | probe "S:jump-to-[!foo]" $fam
    printf '*filter\n:!foo - [0:0]\n-A !foo -j ACCEPT\nCOMMIT\n' | probe "S:append-to-[!foo]" $fam
    printf '*filter\n:-foo - [0:0]\n-A -foo -j ACCEPT\nCOMMIT\n' | probe "S:append-to-[-foo]" $fam
    # tables
    printf '*foo\nCOMMIT\n' | probe S:table-foo $fam
    printf '*FILTER\nCOMMIT\n' | probe S:table-FILTER-uppercase $fam
    printf '*filter\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n' | probe S:table-twice $fam
    POST=$(save_for $fam); printf '*filter\n-A INPUT -j DROP\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n' | probe S:table-twice-second-wins $fam; POST=""
    POST=$(save_for $fam); printf '*filter\n-A INPUT -j DROP\nCOMMIT\n*filter\n-A INPUT -j BOGUS\nCOMMIT\n' | probe S:table-twice-second-fails $fam; POST=""
    printf '*filter\n-A INPUT -j ACCEPT\n' | probe S:COMMIT-missing $fam
    printf '*filter\n-A INPUT -j ACCEPT\n*nat\n-A PREROUTING -j ACCEPT\nCOMMIT\n' | probe S:COMMIT-missing-before-next-table $fam
    printf '*filter\n-A INPUT -j ACCEPT\nCOMMIT' | probe S:COMMIT-no-newline $fam
    printf '*filter\n-A INPUT -j ACCEPT\ncommit\n' | probe S:commit-lowercase $fam
    printf -- '-A INPUT -j ACCEPT\n*filter\nCOMMIT\n' | probe S:rule-before-table $fam
    printf ':FOO - [0:0]\n*filter\nCOMMIT\n' | probe S:chain-before-table $fam
    printf 'COMMIT\n' | probe S:COMMIT-without-table $fam
    printf '' | probe S:empty-file $fam
    printf '# only a comment\n\n' | probe S:comment-only $fam
    printf '*filter\n  # indented comment\n-A INPUT -j ACCEPT # trailing\nCOMMIT\n' | probe S:comments-inline $fam
    printf '*filter\n\n-A INPUT -j ACCEPT\n\nCOMMIT\n' | probe S:blank-lines $fam
    printf '*filter\n -A INPUT -j ACCEPT\nCOMMIT\n' | probe S:leading-space-rule $fam
    printf '*filter\r\n-A INPUT -j ACCEPT\r\nCOMMIT\r\n' | probe S:crlf $fam
    printf '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*security\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n-A FORWARD -j DROP\n-A OUTPUT -j RETURN\nCOMMIT\n' | probe S:security-table $fam
    printf '*security\n-A PREROUTING -j ACCEPT\nCOMMIT\n' | probe S:security-PREROUTING $fam
    printf '*raw\n-A INPUT -j ACCEPT\nCOMMIT\n' | probe S:raw-INPUT $fam
    printf '*nat\n-A FORWARD -j ACCEPT\nCOMMIT\n' | probe S:nat-FORWARD $fam
    printf '*filter\n-A PREROUTING -j ACCEPT\nCOMMIT\n' | probe S:filter-A-PREROUTING $fam
    printf '*filter\n-I INPUT -j ACCEPT\n-I INPUT 1 -j DROP\nCOMMIT\n' | probe S:I-insert $fam
    printf '*filter\n-I INPUT 5 -j DROP\nCOMMIT\n' | probe S:I-beyond-end $fam
    printf '*filter\n-A INPUT -j ACCEPT\n-D INPUT 1\nCOMMIT\n' | probe S:D-rulenum $fam
    printf '*filter\n-D INPUT -j ACCEPT\nCOMMIT\n' | probe S:D-missing-rule $fam
    printf '*filter\n-R INPUT 1 -j ACCEPT\nCOMMIT\n' | probe S:R-missing $fam
    printf '*filter\n-F\n-Z\nCOMMIT\n' | probe S:F-Z $fam
    printf '*filter\n-L\nCOMMIT\n' | probe S:L-in-restore $fam
    printf '*filter\n-t nat -A PREROUTING -j ACCEPT\nCOMMIT\n' | probe S:t-option-in-restore $fam
    printf '*filter\n-A INPUT -j ACCEPT --foo\nCOMMIT\n' | probe S:unknown-option $fam
    printf '*filter\n-A INPUT -j ACCEPT extra\nCOMMIT\n' | probe S:stray-argument $fam
    printf '*filter\n-A INPUT -m comment --comment "a b" -j ACCEPT\nCOMMIT\n' | probe S:quoted-arg $fam
    POST=$(save_for $fam); printf '*filter\n-A INPUT -m comment --comment "a b -j ACCEPT\nCOMMIT\n' | probe S:unterminated-quote $fam; POST=""
    printf '*filter\n-A INPUT -j ACCEPT # trailing\nCOMMIT\n' | probe S:trailing-comment $fam
    printf '*filter\n  # indented comment\nCOMMIT\n' | probe S:indented-comment $fam
    printf '*filter\n\t-A INPUT -j ACCEPT\nCOMMIT\n' | probe S:leading-tab-rule $fam
    printf '*filter \n-A INPUT -j ACCEPT\nCOMMIT\n' | probe S:table-line-trailing-space $fam
    printf '*filter\n-A INPUT -j ACCEPT\nCOMMIT \n' | probe S:COMMIT-trailing-space $fam
    printf "*filter\n-A INPUT -m comment --comment 'a b' -j ACCEPT\nCOMMIT\n" | probe S:single-quoted-arg $fam
    printf '*filter\n-A INPUT -m comment --comment "a\\"b" -j ACCEPT\nCOMMIT\n' | probe S:escaped-quote $fam
    printf '*filter\n-A INPUT -m comment --comment "" -j ACCEPT\nCOMMIT\n' | probe S:empty-quoted-arg $fam
    # line/argument limits
    local c1023 c1024 long
    c1023=$(head -c 1023 /dev/zero | tr '\0' a); c1024=$(head -c 1024 /dev/zero | tr '\0' a)
    printf '*filter\n-A INPUT -m comment --comment %s -j ACCEPT\nCOMMIT\n' "$c1023" | probe S:arg-1023 $fam
    printf '*filter\n-A INPUT -m comment --comment %s -j ACCEPT\nCOMMIT\n' "$c1024" | probe S:arg-1024 $fam
    long=$(for i in $(seq 1 1300); do printf -- '-s 10.0.0.1 '; done)
    printf '*filter\n-A INPUT %s-j ACCEPT\nCOMMIT\n' "$long" | probe S:line-over-10240-bytes $fam
    long=$(for i in 1 2 3 4 5 6 7 8 9 10 11; do printf -- '-m comment --comment %s ' "$(head -c 250 /dev/zero | tr '\0' c)"; done)
    printf '*filter\n-A INPUT %s-j ACCEPT\nCOMMIT\n' "$long" | probe S:line-2800-bytes-44-words $fam
    long=$(for i in $(seq 1 42); do printf -- '-m comment --comment %s ' "$(head -c 250 /dev/zero | tr '\0' c)"; done)
    printf '*filter\n-A INPUT %s-j ACCEPT\nCOMMIT\n' "$long" | probe S:line-10900-bytes-170-words $fam
    long=$(for i in $(seq 1 9000); do printf ' '; done)
    printf '*filter\n-A INPUT -j ACCEPT%s\nCOMMIT\n' "$long" | probe S:line-9000-trailing-spaces $fam
    long=$(for i in $(seq 1 11000); do printf ' '; done)
    printf '*filter\n-A INPUT -j ACCEPT%s\nCOMMIT\n' "$long" | probe S:line-11000-trailing-spaces $fam
    # words on a rule line (the parser adds argv0 "-t" TABLE; it refuses when argc+1 >= 255)
    long=$(for i in $(seq 1 60); do printf -- '-m comment --comment a '; done)
    printf '*filter\n-A INPUT -p all -m mark ! --mark 1 %s-j ACCEPT\nCOMMIT\n' "$long" | probe S:words-251 $fam
    long=$(for i in $(seq 1 62); do printf -- '-m comment --comment a '; done)
    printf '*filter\n-A INPUT %s-j ACCEPT\nCOMMIT\n' "$long" | probe S:words-252 $fam
  done
}

# ---------------------------------------------------------------- value limits
sec_limits() {
  for fam in 4 6; do
    POST=$(save_for $fam)
    local s
    for n in 255 256; do
      s=$(head -c $n /dev/zero | tr '\0' c)
      pr L:comment-$n $fam filter INPUT "-m comment --comment $s -j ACCEPT"
    done
    for n in 29 30; do
      s=$(head -c $n /dev/zero | tr '\0' p)
      pr L:log-prefix-$n $fam filter INPUT "-j LOG --log-prefix $s"
    done
    for n in 63 64 65 128; do
      s=$(head -c $n /dev/zero | tr '\0' p)
      pr L:nflog-prefix-$n $fam filter INPUT "-j NFLOG --nflog-prefix $s"
    done
    for n in 15 16 17 32 256; do
      s=$(head -c $n /dev/zero | tr '\0' h)
      pr L:hashlimit-name-$n $fam filter INPUT "-m hashlimit --hashlimit-upto 1/s --hashlimit-name $s -j ACCEPT"
    done
    for n in 199 200; do
      s=$(head -c $n /dev/zero | tr '\0' r)
      pr L:recent-name-$n $fam filter INPUT "-m recent --name $s --set -j ACCEPT"
    done
    for n in 31 32; do
      s=$(head -c $n /dev/zero | tr '\0' s)
      PRE="ipset create $s hash:ip $( [ $fam = 6 ] && echo family inet6 )"
      pr L:set-name-$n $fam filter INPUT "-m set --match-set $s src -j ACCEPT"
      PRE=""
    done
    for n in 31 32; do
      s=$(head -c $n /dev/zero | tr '\0' n)
      pr L:nfacct-name-$n $fam filter INPUT "-m nfacct --nfacct-name $s -j ACCEPT"
    done
    pr L:mark-32bit $fam filter INPUT "-m mark --mark 0xffffffff -j ACCEPT"
    pr L:mark-33bit $fam filter INPUT "-m mark --mark 0x100000000 -j ACCEPT"
    pr L:MARK-33bit $fam mangle INPUT "-j MARK --set-mark 0x100000000"
    pr L:mark-mask $fam filter INPUT "-m mark --mark 0x1/0xffffffff -j ACCEPT"
    pr L:mark-negative $fam filter INPUT "-m mark --mark -1 -j ACCEPT"
    pr L:connmark-32bit $fam filter INPUT "-m connmark --mark 0xffffffff -j ACCEPT"
    pr L:port-65535 $fam filter INPUT "-p tcp --dport 65535 -j ACCEPT"
    pr L:port-65536 $fam filter INPUT "-p tcp --dport 65536 -j ACCEPT"
    pr L:port-range-reversed $fam filter INPUT "-p tcp --dport 100:10 -j ACCEPT"
    pr L:port-service-name $fam filter INPUT "-p tcp --dport ssh -j ACCEPT"
    pr L:port-service-name-bogus $fam filter INPUT "-p tcp --dport nosuchsvc -j ACCEPT"
    pr L:limit-rate-max $fam filter INPUT "-m limit --limit 10000/sec -j ACCEPT"
    pr L:limit-rate-over $fam filter INPUT "-m limit --limit 10001/sec -j ACCEPT"
    pr L:string-128 $fam filter INPUT "-m string --algo bm --string $(head -c 128 /dev/zero | tr '\0' s) -j ACCEPT"
    pr L:string-129 $fam filter INPUT "-m string --algo bm --string $(head -c 129 /dev/zero | tr '\0' s) -j ACCEPT"
    pr L:ct-helper-15 $fam raw PREROUTING "-p tcp -j CT --helper $(head -c 15 /dev/zero | tr '\0' h)"
    pr L:ct-helper-16 $fam raw PREROUTING "-p tcp -j CT --helper $(head -c 16 /dev/zero | tr '\0' h)"
    if [ $fam = 4 ]; then
      pr L:ttl-255 4 mangle FORWARD "-j TTL --ttl-set 255"
      pr L:ttl-256 4 mangle FORWARD "-j TTL --ttl-set 256"
    fi
    pr L:queue-balance-65535 $fam filter INPUT "-j NFQUEUE --queue-balance 65534:65535"
    pr L:tcpmss-set-65535 $fam mangle FORWARD "-p tcp --syn -j TCPMSS --set-mss 65535"
    pr L:tcpmss-set-65536 $fam mangle FORWARD "-p tcp --syn -j TCPMSS --set-mss 65536"
    pr L:idletimer-label-28 $fam filter INPUT "-j IDLETIMER --timeout 10 --label $(head -c 28 /dev/zero | tr '\0' i)"
    pr L:idletimer-label-27 $fam filter INPUT "-j IDLETIMER --timeout 10 --label $(head -c 27 /dev/zero | tr '\0' i)"
    pr L:rateest-name-16 $fam filter INPUT "-j RATEEST --rateest-name $(head -c 16 /dev/zero | tr '\0' e) --rateest-interval 250ms --rateest-ewmalog 0.5s"
    pr L:rateest-name-15 $fam filter INPUT "-j RATEEST --rateest-name $(head -c 15 /dev/zero | tr '\0' e) --rateest-interval 250ms --rateest-ewmalog 0.5s"
    pr L:ct-zone-65535 $fam raw PREROUTING "-j CT --zone 65535"
    pr L:ct-zone-65536 $fam raw PREROUTING "-j CT --zone 65536"
    pr L:nfqueue-65536 $fam filter INPUT "-j NFQUEUE --queue-num 65536"
    pr L:connlimit-mask $fam filter INPUT "-p tcp -m connlimit --connlimit-above 1 --connlimit-mask $( [ $fam = 4 ] && echo 33 || echo 129 )"
    pr L:hashlimit-htable-size-0 $fam filter INPUT "-m hashlimit --hashlimit-upto 1/s --hashlimit-name hz --hashlimit-htable-size 0 -j ACCEPT"
    pr L:u32-11-tests $fam filter INPUT "-m u32 --u32 0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1 -j ACCEPT"
    pr L:u32-10-tests $fam filter INPUT "-m u32 --u32 0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1 -j ACCEPT"
    pr L:time-datestart $fam filter INPUT "-m time --datestart 2038-01-19T03:14:08 -j ACCEPT"
    POST=""
  done
}

# ---------------------------------------------------------------- extra checks
sec_extra() {
  PRE=$SETUP_SETS
  for fam in 4 6; do
    local set=s4; [ $fam = 6 ] && set=s6
    for c in PREROUTING INPUT FORWARD OUTPUT POSTROUTING; do
      pr X:SET-map-mark-mangle-$c $fam mangle $c "-j SET --map-set $set src --map-mark"
      pr X:SET-map-prio-mangle-$c $fam mangle $c "-j SET --map-set $set src --map-prio"
      pr X:SET-map-queue-mangle-$c $fam mangle $c "-j SET --map-set $set src --map-queue"
    done
    # is a jump into a user chain that holds a restricted target judged by the caller's hooks even with conditions?
    printf '*mangle\n:U - [0:0]\n-A INPUT -p tcp --dport 1 -j U\n-A U -j TPROXY -p tcp --on-port 1\nCOMMIT\n' | probe X:tproxy-userchain-from-INPUT $fam
    printf '*mangle\n:U - [0:0]\n-A PREROUTING -p tcp --dport 1 -j U\n-A U -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-userchain-from-PREROUTING $fam
    # protocol requirement of a target is judged on its own rule, not the caller's
    printf '*mangle\n:U - [0:0]\n-A FORWARD -p tcp --syn -j U\n-A U -j TCPMSS --set-mss 1400\nCOMMIT\n' | probe X:tcpmss-userchain-proto-from-caller $fam
    printf '*filter\n:U - [0:0]\n-A INPUT -p tcp -j U\n-A U -j REJECT --reject-with tcp-reset\nCOMMIT\n' | probe X:reject-tcpreset-userchain-proto-from-caller $fam
    # the same protocol may come from a match instead of -p ?
    pr X:tcpmss-proto-by-m-tcp-only $fam mangle FORWARD "-m tcp --syn -j TCPMSS --set-mss 1400"
    pr X:reject-tcpreset-proto-by-m-tcp-only $fam filter INPUT "-m tcp --dport 1 -j REJECT --reject-with tcp-reset"
    # the kernel's reachability walk stops at an UNCONDITIONAL standard verdict (ACCEPT/DROP/RETURN/QUEUE)
    printf '*mangle\n-A INPUT -j DROP\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-uncond-DROP $fam
    printf '*mangle\n-A INPUT -j ACCEPT\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-uncond-ACCEPT $fam
    printf '*mangle\n-A INPUT -j RETURN\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-uncond-RETURN $fam
    printf '*mangle\n-A INPUT -j QUEUE\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-uncond-QUEUE $fam
    printf '*mangle\n-A INPUT -p tcp -j DROP\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-cond-DROP $fam
    printf '*mangle\n-A INPUT -m comment --comment x -j DROP\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-DROP-with-comment $fam
    printf '*mangle\n-A INPUT ! -p 0 -j DROP\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-DROP-notp0 $fam
    printf '*mangle\n-A INPUT -s %s -j DROP\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' "$( [ $fam = 4 ] && echo 0.0.0.0/0 || echo ::/0 )" | probe X:tproxy-in-INPUT-after-DROP-s-any $fam
    printf '*mangle\n-A INPUT -j NFQUEUE --queue-num 1\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-uncond-NFQUEUE $fam
    printf '*mangle\n-A INPUT -j MARK --set-mark 1\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-uncond-MARK $fam
    printf '*mangle\n:U - [0:0]\n-A INPUT -j U\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-uncond-jump $fam
    printf '*mangle\n:U - [0:0]\n-A INPUT -g U\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-in-INPUT-after-uncond-goto $fam
    printf '*mangle\n:U - [0:0]\n-A INPUT -j DROP\n-A INPUT -j U\n-A U -p tcp -j TPROXY --on-port 1\nCOMMIT\n' | probe X:tproxy-userchain-jumped-after-uncond-DROP $fam
    printf '*filter\n:A - [0:0]\n-A INPUT -j ACCEPT\n-A INPUT -j A\n-A A -j A\nCOMMIT\n' | probe X:loop-after-uncond-ACCEPT $fam
    printf '*filter\n-A OUTPUT -j ACCEPT\n-A OUTPUT -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT\nCOMMIT\n' | probe X:mac-in-OUTPUT-after-uncond-ACCEPT $fam
    printf '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n' | probe X:policy-DROP-is-fine $fam
    # what errno does the kernel give for a loop?  (iptables-legacy shows the errno text; restore shows only "line N failed")
    local ipt=iptables-legacy; [ $fam = 6 ] && ipt=ip6tables-legacy
    local out
    cmdp() { # ID "shell commands using $ipt" : errno texts that iptables-restore does not print
      out=$(unshare -n sh -c "$2; echo rc=\$?" 2>&1 | grep -v '^Try `' | paste -sd'|')
      printf '%s\t%s\t%s\t%s\t\n' "$1" $fam "${out##*|}" "${out%|*}"
    }
    cmdp X:cmd-N-existing "$ipt -N A; $ipt -N A"
    cmdp X:cmd-X-nonempty "$ipt -N A; $ipt -A A -j ACCEPT; $ipt -X A"
    cmdp X:cmd-X-missing "$ipt -X NOSUCH"
    cmdp X:cmd-X-builtin "$ipt -X INPUT"
    cmdp X:cmd-jump-to-builtin "$ipt -A INPUT -j INPUT"
    cmdp X:cmd-A-PREROUTING-in-filter "$ipt -A PREROUTING -j ACCEPT"
    cmdp X:cmd-A-INPUT-in-raw "$ipt -t raw -A INPUT -j ACCEPT"
    cmdp X:cmd-I-beyond-end "$ipt -I INPUT 5 -j DROP"
    cmdp X:cmd-D-missing "$ipt -D INPUT -j ACCEPT"
    cmdp X:cmd-P-userchain "$ipt -N A; $ipt -P A DROP"
    cmdp X:cmd-tcp-without-p "$ipt -A INPUT -m tcp --dport 1 -j ACCEPT"
    out=$(unshare -n sh -c "$ipt -N A && $ipt -A INPUT -j A && $ipt -A A -j A; echo rc=\$?" 2>&1 | paste -sd'|')
    printf 'X:loop-errno-via-%s\t%s\t%s\t%s\t\n' $ipt $fam "${out##*|}" "${out%|*}"
    out=$(unshare -n sh -c "$ipt -t nat -A INPUT -j DNAT --to-destination $( [ $fam = 4 ] && echo 192.0.2.1 || echo 2001:db8::1 ); echo rc=\$?" 2>&1 | paste -sd'|')
    printf 'X:hook-errno-via-%s\t%s\t%s\t%s\t\n' $ipt $fam "${out##*|}" "${out%|*}"
    out=$(unshare -n sh -c "$ipt -N A && $ipt -A INPUT -j A && $ipt -X A; echo rc=\$?" 2>&1 | paste -sd'|')
    printf 'X:X-referenced-via-%s\t%s\t%s\t%s\t\n' $ipt $fam "${out##*|}" "${out%|*}"
  done
  PRE=""
}

# ---------------------------------------------------------------- addendum (second batch of checks)
sec_addendum() {
  for fam in 4 6; do
    POST=$(save_for $fam)
    # an unterminated quote swallows the rest of the line *including the newline*; the saved dump no longer reloads
    local r=iptables-legacy-restore sv=iptables-legacy-save; [ $fam = 6 ] && r=ip6tables-legacy-restore sv=ip6tables-legacy-save
    POST="$sv | tail -n +2 | grep -v '^#' > /tmp/pv-resave.\$\$; echo 'RE-RESTORE OF THE SAVED DUMP:'; $r < /tmp/pv-resave.\$\$; echo re-rc=\$?; rm -f /tmp/pv-resave.\$\$"
    printf '*filter\n-A INPUT -m comment --comment "a b -j ACCEPT\nCOMMIT\n' | probe A:unterminated-quote-roundtrip $fam
    POST=$(save_for $fam)
    pr A:recent-hitcount-65535 $fam filter INPUT "-m recent --name r1 --rcheck --hitcount 65535 -j ACCEPT"
    pr A:recent-hitcount-65536 $fam filter INPUT "-m recent --name r1 --rcheck --hitcount 65536 -j ACCEPT"
    pr A:s-list-expands $fam filter INPUT "-s $( [ $fam = 4 ] && echo 192.0.2.1,192.0.2.2 || echo 2001:db8::1,2001:db8::2 ) -j ACCEPT"
    pr A:physdev-notbridged-out-OUTPUT $fam filter OUTPUT "-m physdev ! --physdev-is-bridged --physdev-out eth0 -j ACCEPT"
    pr A:ah-noproto-save $fam filter INPUT "-m ah --ahspi 1 -j ACCEPT"
    POST=""
    # rateest match: needs --rateest-gt/-lt/-eq (silent refusal otherwise) and an existing estimator
    matrix "M2:rateest" $fam "-j RATEEST --rateest-name foo --rateest-interval 250ms --rateest-ewmalog 0.5s
-A @C@ -m rateest --rateest foo --rateest-gt --rateest-bps 1 -j ACCEPT"
    pr A:rateest-match-before-target $fam filter INPUT "-m rateest --rateest foo --rateest-gt --rateest-bps 1 -j ACCEPT
-A INPUT -j RATEEST --rateest-name foo --rateest-interval 250ms --rateest-ewmalog 0.5s"
    pr A:rateest-match-unreachable-chain-first $fam filter INPUT "-j RATEEST --rateest-name foo --rateest-interval 250ms --rateest-ewmalog 0.5s
-N AAA
-A AAA -m rateest --rateest foo --rateest-gt --rateest-bps 1 -j ACCEPT"
    printf '*mangle\n-A INPUT -j RATEEST --rateest-name foo --rateest-interval 250ms --rateest-ewmalog 0.5s\nCOMMIT\n*filter\n-A INPUT -m rateest --rateest foo --rateest-gt --rateest-bps 1 -j ACCEPT\nCOMMIT\n' | probe A:rateest-estimator-in-earlier-table $fam
    printf '*filter\n-A INPUT -m rateest --rateest foo --rateest-gt --rateest-bps 1 -j ACCEPT\nCOMMIT\n*mangle\n-A INPUT -j RATEEST --rateest-name foo --rateest-interval 250ms --rateest-ewmalog 0.5s\nCOMMIT\n' | probe A:rateest-estimator-in-later-table $fam
  done
}

SECTIONS=${*:-targets topts matches mopts base userchains structure limits extra addendum}
for s in $SECTIONS; do echo "### section $s"; sec_$s; done
