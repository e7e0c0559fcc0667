#!/bin/bash
# nft-check.sh FILE.nft... -- does nft (and the kernel) accept these scripts?
#
# Each file is checked in its own fresh private network namespace (`unshare -n`), so the host's
# ruleset is never touched. Two steps, both must pass:
#   1. `nft -c -f FILE`  (check mode: parsed, evaluated, sent to the kernel, then aborted);
#   2. `nft -f FILE`     (a real load, into the throwaway namespace only).
# Step 2 is needed because check mode misses errors the kernel only reports at commit time:
# with nft 1.0.6 on Linux 6.x, `tcp dport 80 dnat to 192.0.2.1` in a *filter* chain passes
# `nft -c` and is refused by `nft -f` ("Operation not supported").
# Prints "ok FILE" or nft's error; exits 1 if any file fails, 2 on bad usage / not root.
# NFT_CHECK_ONLY=1 skips step 2.
set -u
if [ $# -lt 1 ]; then echo "usage: $0 FILE.nft..." >&2; exit 2; fi
if [ "$(id -u)" != 0 ]; then echo "nft-check.sh: must run as root (inside a private netns)" >&2; exit 2; fi
rc=0
for f in "$@"; do
  if [ "${NFT_CHECK_ONLY:-0}" = 1 ]; then
    cmd='nft -c -f "$0"'
  else
    cmd='nft -c -f "$0" && nft -f "$0"'
  fi
  if out=$(timeout 20 unshare -n -- sh -c "$cmd" "$f" 2>&1); then
    echo "ok   $f"
  else
    echo "FAIL $f"; printf '%s\n' "$out" | sed 's/^/     /'; rc=1
  fi
done
exit $rc
