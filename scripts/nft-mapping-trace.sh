#!/bin/bash
# nft-mapping-trace.sh [NAME...] -- same fate in the kernel for an iptables ruleset and its nft form
#
# For each fixtures/nft-mapping/trace/NAME.rules with NAME.nft and NAME.packets (one line of
# kernel-trace.sh packet options per packet): traces every packet twice with scripts/kernel-trace.sh
# (private namespaces only), once loading NAME.rules with iptables-nft-restore, once loading NAME.nft
# with `nft -f` (--nft), and compares the summaries' fate, last_hook, dropped_at.policy and
# server_received. NAME.translate.nft, when present, is traced as well and reported (not required
# to agree: it holds iptables-translate's text, to show where that differs).
# Exit 1 if any NAME.nft disagrees with NAME.rules.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir="$here/../fixtures/nft-mapping/trace"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(cd "$dir" && ls *.packets | sed 's/\.packets$//'))
summ() { python3 -c '
import json,sys
s=[json.loads(l) for l in sys.stdin if l.strip()]
s=[x for x in s if x.get("summary")]
if not s: print("ERROR"); sys.exit()
s=s[0]; d=s.get("dropped_at") or {}
print("fate=%s last_hook=%s policy_drop=%s server_received=%s" % (s["fate"], s["last_hook"], bool(d.get("policy")), s["server_received"]))'; }
rc=0
for n in "${names[@]}"; do
  while IFS= read -r pkt; do
    [ -n "$pkt" ] || continue
    a=$("$here/kernel-trace.sh" "$dir/$n.rules" $pkt 2>/dev/null | summ)
    b=$("$here/kernel-trace.sh" "$dir/$n.nft" --nft $pkt 2>/dev/null | summ)
    if [ "$a" = "$b" ] && [ "$a" != ERROR ]; then v=SAME; else v=DIFFERENT; rc=1; fi
    echo "$v  $n  [$pkt]"
    echo "      iptables: $a"
    echo "      nft:      $b"
    if [ -f "$dir/$n.translate.nft" ]; then
      c=$("$here/kernel-trace.sh" "$dir/$n.translate.nft" --nft $pkt 2>/dev/null | summ)
      echo "      iptables-translate's text: $c"
    fi
  done < "$dir/$n.packets"
done
exit $rc
