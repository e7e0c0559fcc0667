#!/bin/bash
# nft-mapping-check.sh [--update] -- the tested examples of docs/dev/nft-mapping.md
#
# fixtures/nft-mapping/NAME.rules   an iptables-save input (hand-written; "-v6" in NAME: ip6tables)
# fixtures/nft-mapping/NAME.nft     the nft script claimed equivalent (creates its own table)
#
# Default: every NAME.nft must pass scripts/nft-check.sh (nft -c -f, then a real load, each in a
# fresh private network namespace). Exit 1 on any failure.
# --update: also regenerate, for every NAME.rules, in fresh private namespaces:
#   NAME.iptables-nft.txt        `nft list ruleset` after `iptables-nft-restore NAME.rules`
#                                (iptables-nft's own translation; "# REFUSED" + error if refused)
#   NAME.iptables-translate.txt  `iptables-restore-translate -f NAME.rules`, headed by whether
#                                that output loads (`nft -f` in a fresh namespace)
# The host's ruleset is never touched.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir="$here/../fixtures/nft-mapping"
if [ "$(id -u)" != 0 ]; then echo "nft-mapping-check.sh: must run as root (inside private netns)" >&2; exit 2; fi
update=0
[ "${1:-}" = --update ] && update=1
rc=0
"$here/nft-check.sh" "$dir"/*.nft || rc=1
if [ $update = 1 ]; then
  for r in "$dir"/*.rules; do
    base=${r%.rules}
    case $base in *-v6*) v=6 ;; *) v= ;; esac
    restore=ip${v}tables-nft-restore
    translate=ip${v}tables-restore-translate
    # iptables-nft: load, then list what the kernel holds
    if out=$(timeout 20 unshare -n -- sh -c "$restore < \"\$0\" && nft list ruleset && echo '# ---- xt compat expressions in the kernel (nft --debug=netlink; none = all native):' && nft --debug=netlink list ruleset | grep -E '\\[ (match|target) name' | sort | uniq -c | sed 's/^/# /'" "$r" 2>&1); then
      printf '%s\n' "$out" > "$base.iptables-nft.txt"
    else
      { echo "# REFUSED by $restore:"; printf '%s\n' "$out" | sed 's/^/# /'; } > "$base.iptables-nft.txt"
    fi
    # iptables-restore-translate, and whether its output loads
    errf=$(mktemp)
    tr=$(timeout 20 unshare -n -- $translate -f "$r" 2>"$errf"); trc=$?
    err=$(sed 's/^/# stderr: /' "$errf"); rm -f "$errf"
    tmp=$(mktemp --suffix=.nft); printf '%s\n' "$tr" > "$tmp"
    if [ $trc != 0 ]; then
      head="# $translate FAILED (rc=$trc)"
    elif lo=$(timeout 20 unshare -n -- nft -f "$tmp" 2>&1); then
      head="# $translate output below: loads with nft -f"
    else
      head="# $translate output below: DOES NOT LOAD with nft -f:"$'\n'$(printf '%s\n' "$lo" | grep Error | sed 's/^/#   /')
    fi
    rm -f "$tmp"
    { printf '%s\n' "$head"; [ -n "$err" ] && printf '%s\n' "$err"; printf '%s\n' "$tr"; } > "$base.iptables-translate.txt"
    echo "updated $(basename "$base").{iptables-nft,iptables-translate}.txt"
  done
fi
exit $rc
