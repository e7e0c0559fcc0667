#!/bin/bash
# kernel-trace.sh -- which iptables rules does one packet meet in the real kernel?
#
# usage: scripts/kernel-trace.sh RULES [packet options]     (as root; --help for the options)
#   RULES: an iptables-save file (v4 or v6). Its "# packet: ..." comment line, if any, gives default
#   packet options; options on the command line win.
# Output (stdout): JSON lines, one per nft trace event, then one {"summary": true, ...} object.
# Exit: 0 traced, 1 failed (ruleset refused, timeout, ...), 2 bad usage / not root.
#
# SAFETY: everything runs inside `unshare -n -m --propagation private` with a fresh tmpfs on /run
# (so `ip netns add` and the xtables lock are private too). Three namespaces are made inside that
# private one (fwhost, client, server); the host's network namespace, interfaces and ruleset are
# never touched, and no packet leaves the namespaces made here. The whole run is bounded by
# `timeout` (KERNEL_TRACE_TIMEOUT seconds, default 60); every wait inside has its own limit.
# See docs/dev/kernel-trace.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for a in "$@"; do
  case $a in -h|--help) exec python3 "$here/kernel-trace.py" --help ;; esac
done
if [ "$(id -u)" != 0 ]; then echo "kernel-trace.sh: must run as root (inside private namespaces)" >&2; exit 2; fi
[ $# -ge 1 ] || { echo "usage: $0 RULES [--from client|server|fwhost] [--proto tcp|udp|icmp] [--src A] [--dst A] [--sport N] [--dport N] [--flags S] ..." >&2; exit 2; }
IPT_KERNEL_TRACE_OUTER_NETNS=$(readlink /proc/self/ns/net); export IPT_KERNEL_TRACE_OUTER_NETNS
exec timeout -k 5 "${KERNEL_TRACE_TIMEOUT:-60}" \
  unshare -n -m --propagation private -- \
  sh -c 'mount -t tmpfs none /run && mkdir -p /run/netns && exec python3 "$0" "$@"' "$here/kernel-trace.py" "$@"
