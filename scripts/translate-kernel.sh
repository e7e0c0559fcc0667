#!/bin/bash
# translate-kernel.sh JOB.json -- load each case of JOB with several loaders (iptables-legacy-restore,
# nft -f of ipt translate's output, ...) into alike private topologies, send the same packets into
# each, and print what became of them (one JSON line per case). As root.
#
# SAFETY: everything runs inside `unshare -n -m --propagation private` with a fresh tmpfs on /run
# (so `ip netns add` and the xtables lock are private too). The namespaces are made inside that
# private one; the host's network namespace, interfaces and ruleset are never touched, and no packet
# leaves them. The whole run is bounded by `timeout` (TRANSLATE_KERNEL_TIMEOUT seconds, default
# 600). See docs/dev/translate-kernel.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then echo "translate-kernel.sh: must run as root (inside private namespaces)" >&2; exit 2; fi
[ $# -eq 1 ] || { echo "usage: $0 JOB.json" >&2; exit 2; }
IPT_TRANSLATE_KERNEL_OUTER_NETNS=$(readlink /proc/self/ns/net); export IPT_TRANSLATE_KERNEL_OUTER_NETNS
exec timeout -k 5 "${TRANSLATE_KERNEL_TIMEOUT:-600}" \
  unshare -n -m --propagation private -- \
  sh -c 'mount -t tmpfs none /run && mkdir -p /run/netns && exec python3 "$0" "$@"' "$here/translate-kernel.py" "$@"
