#!/usr/bin/env bash
# Times `ipt check` and `ipt lint` side by side with `iptables-legacy-restore --test` (what a user would run
# instead) on kube-proxy-shaped dumps of 1k, 10k and 100k services, and reports the wall times,
# their ratio and ipt's peak RSS against the file size. The figures go into docs/benchmarks.md.
#
#   scripts/bench.sh [SERVICES...]      (default: 1000 10000 100000)
#
# Needs root (iptables-restore --test asks the kernel for its tables; `unshare -n` gives it an
# empty network namespace of its own, so the host's firewall is never read or touched),
# iptables-legacy-restore, bash 5 and GNU time (/usr/bin/time, for the peak RSS). The commands
# run in turn, round after round (interleaved), and each one's median wall time is taken. Dumps
# are written once to $BENCH_DIR (default target/bench) by the project's generator
# (examples/gen-kube.rs) and reused.
#
# Environment: BENCH_DIR, RUNS (timed rounds, default 10; 3 for 100k), WARMUP (untimed rounds, 2).
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-target/bench}
WARMUP=${WARMUP:-2}
SIZES=("$@")
if [ ${#SIZES[@]} -eq 0 ]; then SIZES=(1000 10000 100000); fi

die() { echo "bench.sh: $*" >&2; exit 2; }

# the packet `ipt explain` follows: a new connection from outside to the first service's address
EXPLAIN=${EXPLAIN:-"--src 203.0.113.5 --dst 172.30.0.1 --dport 80 --in-iface eth0 --local 192.0.2.1 --out-iface eth1"}
command -v iptables-legacy-restore >/dev/null || die "iptables-legacy-restore is missing (apt-get install iptables)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v unshare >/dev/null || die "unshare is missing (util-linux)"
[ "$(id -u)" = 0 ] || die "run as root: iptables-restore --test and unshare -n need it"

cargo build --release --quiet --bin ipt --example gen-kube
IPT=target/release/ipt
GEN=target/release/examples/gen-kube
mkdir -p "$BENCH_DIR"

# Times commands in turn within each round (so that the machine's slow spells weigh on each
# command alike: the ratios are taken between commands run side by side), $WARMUP rounds
# untimed, then $1 timed; prints each command's median wall time in seconds, one per line, in
# order. After $1 come pairs: a file for the command's standard input, and the command, whose
# words are split on blanks.
interleaved_medians() {
    local runs=$1; shift
    local round c t0 t1 n=$(($# / 2))
    local -a inputs=() commands=() times=()
    while (($#)); do inputs+=("$1"); commands+=("$2"); shift 2; done
    for ((round = 0; round < WARMUP + runs; round++)); do
        for ((c = 0; c < n; c++)); do
            t0=$EPOCHREALTIME
            # shellcheck disable=SC2086
            ${commands[c]} <"${inputs[c]}" >/dev/null 2>&1 || true
            t1=$EPOCHREALTIME
            if ((round >= WARMUP)); then times[c]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }') "; fi
        done
    done
    for ((c = 0; c < n; c++)); do
        # shellcheck disable=SC2086
        printf '%s\n' ${times[c]} | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
    done
}

# the largest peak RSS of `ipt check FILE` over 3 runs, in KB
peak_rss() {
    local file=$1 i max=0 kb out
    out=$(mktemp)
    for ((i = 0; i < 3; i++)); do
        /usr/bin/time -f '%M' -o "$out" "$IPT" check "$file" >/dev/null 2>&1 || true
        kb=$(tail -1 "$out")
        if [ "$kb" -gt "$max" ]; then max=$kb; fi
    done
    rm -f "$out"
    echo "$max"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
for n in "${SIZES[@]}"; do
    file="$BENCH_DIR/kube$n.rules"
    if [ ! -s "$file" ]; then
        "$GEN" "$n" >"$file.tmp" && mv "$file.tmp" "$file"
    fi
    size=$(stat -c %s "$file")
    runs=${RUNS:-$([ "$n" -ge 100000 ] && echo 3 || echo 10)}
    "$IPT" check "$file" >/dev/null 2>&1 || die "ipt check finds $file does not load"
    unshare -n iptables-legacy-restore --test <"$file" || die "iptables-legacy-restore --test refuses $file"
    echo
    echo "== $file: $((size / 1000)) kB, $(wc -l <"$file") lines"
    mapfile -t t < <(interleaved_medians "$runs" \
        "$file" "unshare -n iptables-legacy-restore --test" \
        /dev/null "$IPT check $file" \
        /dev/null "$IPT lint --warn style --fail-on error $file" \
        /dev/null "$IPT explain $file $EXPLAIN")
    t_restore=${t[0]} t_ipt=${t[1]} t_lint=${t[2]} t_explain=${t[3]}
    echo "medians: restore $t_restore s, check $t_ipt s, lint $t_lint s, explain $t_explain s ($runs rounds after $WARMUP)"
    rss=$(peak_rss "$file")
    rows+=("$(awk -v n="$n" -v ti="$t_ipt" -v tl="$t_lint" -v te="$t_explain" -v tr="$t_restore" -v rss="$rss" -v size="$size" 'BEGIN {
        printf "| %d | %.3f s | %.3f s | %.3f | %.3f s | %.3f | %.3f s | %.3f | %.1f MiB | %.1f MiB | %.2f |", n, ti, tr, ti / tr, tl, tl / tr, te, te / tr, rss / 1024, size / 1048576, rss * 1024 / size
    }')")
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median wall times; ratios against iptables-legacy-restore --test (targets: check <= 0.1, lint <= 0.2, explain <= 0.1); RSS/size target <= 4"
echo "| services | ipt check | iptables-legacy-restore --test | ratio | ipt lint (all lints) | ratio | ipt explain (one packet) | ratio | ipt check peak RSS | file size | RSS/size |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
