#!/bin/bash
# kernel-trace-fixtures.sh -- re-trace every fixtures/explain/*.rules in the kernel and compare the
# result with its saved .trace.jsonl (or, with --update, save it). Root; private namespaces only (it
# runs scripts/kernel-trace.sh, see there). The "kernel" field of the summary is not compared.
# Exit: 0 all equal (or updated), 1 a trace differs or failed.
set -u
cd "$(dirname "$0")/.."
update=0; [ "${1:-}" = --update ] && { update=1; shift; }
files=("$@"); [ ${#files[@]} -gt 0 ] || files=(fixtures/explain/*.rules)
rc=0
strip() { sed -E 's/, "kernel": "[^"]*"//'; }
for f in "${files[@]}"; do
  want=${f%.rules}.trace.jsonl
  if ! got=$(scripts/kernel-trace.sh "$f"); then echo "FAIL  $f (kernel-trace failed)"; rc=1; continue; fi
  if [ $update = 1 ]; then printf '%s\n' "$got" > "$want"; echo "saved $want"; continue; fi
  if [ ! -f "$want" ]; then echo "MISS  $want"; rc=1; continue; fi
  if d=$(diff <(strip < "$want") <(printf '%s\n' "$got" | strip)); then echo "ok    $f"
  else echo "DIFF  $f"; printf '%s\n' "$d" | head -20; rc=1; fi
done
exit $rc
