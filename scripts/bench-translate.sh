#!/usr/bin/env bash
# Times `ipt translate` side by side with `iptables-restore-translate -f` (what a user runs today)
# on kube-proxy-shaped dumps, and the load of the result: `nft -f` of ipt's optimised script
# against `iptables-nft-restore` of the original dump, each into a fresh network namespace.
# Reports the worst-case packet's rules (`ipt translate --stats`). The figures go into
# docs/benchmarks.md.
#
#   scripts/bench-translate.sh [SERVICES...]      (default: 1000 10000)
#
# Needs root (`unshare -n` gives each load an empty network namespace of its own: the host's
# firewall is never read or touched), iptables-restore-translate, iptables-nft-restore, nft and
# hyperfine. Dumps are written once to $BENCH_DIR (default target/bench) by the project's
# generator (examples/gen-kube.rs) and reused.
#
# Environment: BENCH_DIR, RUNS (timed runs per command, default 10), WARMUP (default 2).
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-target/bench}
WARMUP=${WARMUP:-2}
RUNS=${RUNS:-10}
SIZES=("$@")
if [ ${#SIZES[@]} -eq 0 ]; then SIZES=(1000 10000); fi

die() { echo "bench-translate.sh: $*" >&2; exit 2; }
for tool in iptables-restore-translate iptables-nft-restore nft hyperfine unshare; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
[ "$(id -u)" = 0 ] || die "run as root: unshare -n needs it"

cargo build --release --quiet --bin ipt --example gen-kube
IPT=target/release/ipt
GEN=target/release/examples/gen-kube
mkdir -p "$BENCH_DIR"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
echo "$(nft --version), $(iptables-nft-restore --version 2>&1 | head -1)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
for n in "${SIZES[@]}"; do
    file="$BENCH_DIR/kube$n.rules"
    if [ ! -s "$file" ]; then
        "$GEN" "$n" >"$file.tmp" && mv "$file.tmp" "$file"
    fi
    opt="$BENCH_DIR/kube$n.nft"
    noopt="$BENCH_DIR/kube$n.noopt.nft"
    stats=$("$IPT" translate --stats "$file" 2>&1 >"$opt") || die "ipt translate refuses $file"
    "$IPT" translate --no-optimize "$file" >"$noopt"
    worst_before=$(sed -n 's/.*tested against \([0-9]*\) rules in iptables.*/\1/p' <<<"$stats")
    worst_after=$(sed -n 's/.*rules in iptables, \([0-9]*\) in nft.*/\1/p' <<<"$stats")
    unshare -n nft -f "$opt" || die "nft -f refuses $opt"
    unshare -n iptables-nft-restore <"$file" || die "iptables-nft-restore refuses $file"
    echo
    echo "== $file: $(($(stat -c %s "$file") / 1000)) kB, $(wc -l <"$file") lines"
    csv=$(mktemp)
    hyperfine --style basic -N -w "$WARMUP" -r "$RUNS" --export-csv "$csv" \
        -n iptables-restore-translate "iptables-restore-translate -f $file" \
        -n ipt-translate "$IPT translate $file" >&2
    t_tr=$(awk -F, '$1 == "iptables-restore-translate" { print $4 }' "$csv")
    t_ipt=$(awk -F, '$1 == "ipt-translate" { print $4 }' "$csv")
    # loads through a shell for the redirection; each into a namespace of its own
    hyperfine --style basic -w 1 -r "$RUNS" --export-csv "$csv" \
        -n iptables-nft-restore "unshare -n iptables-nft-restore < $file" \
        -n nft-opt "unshare -n nft -f $opt" \
        -n nft-noopt "unshare -n nft -f $noopt" >&2
    t_restore=$(awk -F, '$1 == "iptables-nft-restore" { print $4 }' "$csv")
    t_opt=$(awk -F, '$1 == "nft-opt" { print $4 }' "$csv")
    t_noopt=$(awk -F, '$1 == "nft-noopt" { print $4 }' "$csv")
    rm -f "$csv"
    rows+=("$(awk -v n="$n" -v ti="$t_ipt" -v tt="$t_tr" -v tr="$t_restore" -v to="$t_opt" -v tn="$t_noopt" \
        -v wb="$worst_before" -v wa="$worst_after" 'BEGIN {
        printf "| %d | %.3f s | %.3f s | %.3f | %.3f s | %.3f s | %.1f x | %.3f s | %s | %s |", n, ti, tt, ti / tt, tr, to, tr / to, tn, wb, wa
    }')")
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median wall times. Targets: ipt translate <= 0.2 x iptables-restore-translate; nft -f of the optimised script >= 5 x faster than iptables-nft-restore; worst-case packet <= 10 rules"
echo "| services | ipt translate | iptables-restore-translate -f | ratio | iptables-nft-restore (load) | nft -f optimised (load) | speed-up | nft -f --no-optimize (load) | worst-case rules, iptables | worst-case rules, nft |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
