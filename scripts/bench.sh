#!/usr/bin/env bash
# Times `ipt check` and `ipt lint` side by side with `iptables-legacy-restore --test` (what a user would run
# instead) on kube-proxy-shaped dumps of 1k, 10k and 100k services, and reports the wall times,
# their ratio and ipt's peak RSS against the file size. The figures go into docs/benchmarks.md.
#
#   scripts/bench.sh [SERVICES...]      (default: 1000 10000 100000)
#
# Needs root (iptables-restore --test asks the kernel for its tables; `unshare -n` gives it an
# empty network namespace of its own, so the host's firewall is never read or touched),
# iptables-legacy-restore and GNU time (/usr/bin/time). Uses hyperfine when it is installed,
# else repeats /usr/bin/time. Dumps are written once to $BENCH_DIR (default target/bench) by the
# project's generator (examples/gen-kube.rs) and reused.
#
# Environment: BENCH_DIR, RUNS (timed runs per command, default 10; 3 for 100k), WARMUP (2).
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

have_hyperfine=false
if command -v hyperfine >/dev/null; then have_hyperfine=true; fi

# the median wall time of a command, in seconds, over $1 runs (the command reads stdin from $2)
median_time() {
    local runs=$1 input=$2; shift 2
    local i times=() out
    out=$(mktemp)
    for ((i = 0; i < WARMUP; i++)); do "$@" <"$input" >/dev/null 2>&1 || true; done
    for ((i = 0; i < runs; i++)); do
        /usr/bin/time -f '%e' -o "$out" "$@" <"$input" >/dev/null 2>&1 || true
        times+=("$(tail -1 "$out")")
    done
    rm -f "$out"
    printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
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
    if $have_hyperfine; then
        csv=$(mktemp)
        # through a shell (for the redirection), whose start hyperfine measures and subtracts
        hyperfine --style basic -w "$WARMUP" -r "$runs" --export-csv "$csv" \
            -n iptables-legacy-restore "unshare -n iptables-legacy-restore --test < $file" \
            -n ipt "$IPT check $file" \
            -n ipt-lint "$IPT lint --warn style --fail-on error $file" \
            -n ipt-explain "$IPT explain $file $EXPLAIN" >&2
        t_ipt=$(awk -F, '$1 == "ipt" { print $4 }' "$csv")
        t_lint=$(awk -F, '$1 == "ipt-lint" { print $4 }' "$csv")
        t_explain=$(awk -F, '$1 == "ipt-explain" { print $4 }' "$csv")
        t_restore=$(awk -F, '$1 == "iptables-legacy-restore" { print $4 }' "$csv")
        rm -f "$csv"
    else
        t_restore=$(median_time "$runs" "$file" unshare -n iptables-legacy-restore --test)
        t_ipt=$(median_time "$runs" /dev/null "$IPT" check "$file")
        t_lint=$(median_time "$runs" /dev/null "$IPT" lint --warn style --fail-on error "$file")
        # shellcheck disable=SC2086
        t_explain=$(median_time "$runs" /dev/null "$IPT" explain "$file" $EXPLAIN)
    fi
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
