#!/usr/bin/env bash
# Times `ipt apply` (cargo feature netlink) of the optimised translation of a kube-proxy-shaped
# dump against `nft -f` of the same translation and `iptables-nft-restore` of the original dump,
# each into a fresh network namespace (`unshare -n`: the host's firewall is never touched).
# The figures go into docs/benchmarks.md.
#
#   scripts/bench-apply.sh [SERVICES...]      (default: 10000)
#
# Needs root, libnftnl-dev, libmnl-dev, pkg-config, iptables-nft-restore, nft and hyperfine.
# Environment: BENCH_DIR (default target/bench), RUNS (default 10), WARMUP (default 2).
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-target/bench}
WARMUP=${WARMUP:-2}
RUNS=${RUNS:-10}
SIZES=("$@")
if [ ${#SIZES[@]} -eq 0 ]; then SIZES=(10000); fi

die() { echo "bench-apply.sh: $*" >&2; exit 2; }
for tool in iptables-nft-restore nft hyperfine unshare; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
[ "$(id -u)" = 0 ] || die "run as root: unshare -n needs it"

cargo build --release --quiet --features netlink --bin ipt --example gen-kube
IPT=$(pwd)/target/release/ipt
GEN=target/release/examples/gen-kube
mkdir -p "$BENCH_DIR"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
echo "$(nft --version), $(iptables-nft-restore --version 2>&1 | head -1)"
for n in "${SIZES[@]}"; do
    dump="$BENCH_DIR/kube-$n.rules"
    [ -f "$dump" ] || "$GEN" "$n" > "$dump"
    "$IPT" translate "$dump" > "$BENCH_DIR/kube-$n.nft"
    "$IPT" apply --dry-run "$dump"
    # a private xtables lock: the host's iptables is never waited for
    hyperfine --warmup "$WARMUP" --runs "$RUNS" -N \
        -n "ipt apply ($n services, translate included)" "unshare -n $IPT apply $dump" \
        -n "nft -f of ipt translate's script" "unshare -n nft -f $BENCH_DIR/kube-$n.nft" \
        -n "iptables-nft-restore of the dump" "unshare -n env XTABLES_LOCKFILE=$BENCH_DIR/xtables.lock iptables-nft-restore $dump"
done
