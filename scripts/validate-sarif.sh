#!/usr/bin/env bash
# Validates `ipt lint --format sarif` with Microsoft's SARIF Multitool (MIT licensed; its npm
# package @microsoft/sarif-multitool-linux is a self-contained binary with the SARIF 2.1.0
# schema): the JSON schema and the SARIF rules. Fails on any error it reports.
#   scripts/validate-sarif.sh [ipt binary]
set -euo pipefail
cd "$(dirname "$0")/.."
ipt=${1:-target/debug/ipt}
tool_dir=target/sarif-multitool
if [ ! -x "$tool_dir/package/Sarif.Multitool" ]; then
    command -v npm >/dev/null || { echo "validate-sarif: npm is needed to fetch the SARIF Multitool" >&2; exit 1; }
    mkdir -p "$tool_dir"
    (cd "$tool_dir" && npm pack --silent @microsoft/sarif-multitool-linux@5.7.0 >/dev/null && tar xzf microsoft-sarif-multitool-linux-5.7.0.tgz)
    chmod +x "$tool_dir/package/Sarif.Multitool"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# every lint fixture with every lint on, a file that does not load, an unreadable one, an
# absolute path
"$ipt" lint --format sarif --warn style fixtures/lint/*.rules fixtures/check/dnat-in-input.rules \
    fixtures/does-not-exist.rules "$PWD/fixtures/valid/kube-proxy.rules" > "$work/ipt.sarif" || true
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=len(d["runs"][0]["results"]); assert n > 10, n' "$work/ipt.sarif"
"$tool_dir/package/Sarif.Multitool" validate "$work/ipt.sarif" -o "$work/validation.sarif" --log ForceOverwrite >/dev/null
python3 - "$work/validation.sarif" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
problems = [r for run in log["runs"] for r in run.get("results", []) if r.get("level", "warning") == "error"]
for r in problems:
    print(r["ruleId"], r["message"].get("text") or r["message"].get("arguments"))
warnings = [r["ruleId"] for run in log["runs"] for r in run.get("results", []) if r.get("level", "warning") != "error"]
print(f"SARIF Multitool: {len(problems)} errors, warnings {sorted(set(warnings))}")
sys.exit(1 if problems else 0)
PY
