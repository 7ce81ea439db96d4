#!/usr/bin/env bash
# Parity and speed of `palisade audit` against cargo-audit on real Cargo.lock files, both reading
# the same RustSec data: cargo-audit the native advisory-db (../shared/advisories/rustsec),
# Palisade its OSV export (../shared/advisories/rustsec-osv). For every lockfile the sets of
# (package, version, advisory id) are compared, vulnerabilities and informational warnings
# (unmaintained/unsound/notice) separately; yanked-crate warnings need the crates.io index and
# are not compared. Exit 1 on any difference.
#
# Usage: bash bench/audit-parity.sh [Cargo.lock ...]
#   default lockfiles: this repository's Cargo.lock and fuzz/Cargo.lock, plus the largest Cargo.lock
#   files shipped inside crates in ~/.cargo/registry/src (PARITY_MAX_REGISTRY_LOCKS, default 20).
# Needs: cargo-audit (cargo install cargo-audit --locked), python3, a release build of palisade
#   (PALISADE_BIN, default target/release/palisade; built when missing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ADVISORIES=${PALISADE_ADVISORIES_DIR:-$ROOT/../shared/advisories}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PALISADE=${PALISADE_BIN:-$TARGET_DIR/release/palisade}
MAX_REGISTRY_LOCKS=${PARITY_MAX_REGISTRY_LOCKS:-20}

for dir in "$ADVISORIES/rustsec/crates" "$ADVISORIES/rustsec-osv/crates"; do
    [ -d "$dir" ] || { echo "missing $dir (set PALISADE_ADVISORIES_DIR)" >&2; exit 2; }
done
command -v cargo-audit >/dev/null || { echo "cargo-audit not installed: cargo install cargo-audit --locked" >&2; exit 2; }
if [ ! -x "$PALISADE" ]; then
    (cd "$ROOT" && cargo build --release --locked -p palisade)
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PALISADE" audit db import "$ADVISORIES/rustsec-osv/crates" --name rustsec-osv --data-dir "$WORK/data" >/dev/null

if [ $# -gt 0 ]; then
    LOCKS=("$@")
else
    LOCKS=("$ROOT/Cargo.lock")
    [ -f "$ROOT/fuzz/Cargo.lock" ] && LOCKS+=("$ROOT/fuzz/Cargo.lock")
    while IFS= read -r lock; do LOCKS+=("$lock"); done < <(
        find "$HOME/.cargo/registry/src" -mindepth 3 -maxdepth 3 -name Cargo.lock -printf '%s %p\n' 2>/dev/null \
            | sort -rn | head -n "$MAX_REGISTRY_LOCKS" | cut -d' ' -f2-)
fi

status=0
printf '%-60s %9s %9s %9s %11s %11s\n' LOCKFILE PACKAGES VULNS WARNINGS CARGO-AUDIT PALISADE
for lock in "${LOCKS[@]}"; do
    start=$(date +%s%N)
    set +e
    cargo audit --db "$ADVISORIES/rustsec" --no-fetch --stale -f "$lock" --json >"$WORK/cargo-audit.json" 2>"$WORK/cargo-audit.err"
    ca_rc=$?
    mid=$(date +%s%N)
    "$PALISADE" audit "$lock" --data-dir "$WORK/data" --format json --fail-on never --max-age 100000d \
        --output "$WORK/palisade.json" 2>"$WORK/palisade.err"
    pa_rc=$?
    end=$(date +%s%N)
    set -e
    if [ "$ca_rc" -gt 1 ] || [ ! -s "$WORK/cargo-audit.json" ]; then
        echo "$lock: cargo-audit failed ($ca_rc): $(head -c 300 "$WORK/cargo-audit.err")" >&2; status=1; continue
    fi
    if [ "$pa_rc" -ne 0 ]; then
        echo "$lock: palisade failed ($pa_rc): $(head -c 300 "$WORK/palisade.err")" >&2; status=1; continue
    fi
    python3 - "$lock" "$WORK/cargo-audit.json" "$WORK/palisade.json" \
        "$(( (mid - start) / 1000000 ))" "$(( (end - mid) / 1000000 ))" <<'PY' || status=1
import json, sys
lock, ca_path, pa_path, ca_ms, pa_ms = sys.argv[1:]
ca, pa = json.load(open(ca_path)), json.load(open(pa_path))
def key(p, advisory_id): return (p["name"], p["version"], advisory_id)
ca_vulns = {key(v["package"], v["advisory"]["id"]) for v in ca["vulnerabilities"]["list"]}
ca_warns = {key(w["package"], w["advisory"]["id"])
            for kind, items in ca.get("warnings", {}).items() if kind != "yanked"
            for w in items if w.get("advisory")}
pa_vulns, pa_warns = set(), set()
for p in pa["packages"]:
    for f in p["findings"]:
        ids = [f["id"]] + [a for a in f["aliases"] if a.startswith("RUSTSEC-")]
        for i in ids:
            if i.startswith("RUSTSEC-"):
                (pa_warns if f["informational"] else pa_vulns).add(key(p, i))
ok = ca_vulns == pa_vulns and ca_warns == pa_warns
print(f"{lock[-60:]:<60} {pa['packages_audited']:>9} {len(pa_vulns):>9} {len(pa_warns):>9} {ca_ms + ' ms':>11} {pa_ms + ' ms':>11}  {'same' if ok else 'DIFFERENT'}")
for label, a, b in (("vulnerabilities", ca_vulns, pa_vulns), ("warnings", ca_warns, pa_warns)):
    for item in sorted(a - b): print(f"  {label} only cargo-audit: {item}")
    for item in sorted(b - a): print(f"  {label} only palisade:    {item}")
sys.exit(0 if ok else 1)
PY
done

# Speed on the Python side: importing the full PyPA data, and auditing a generated 500-package
# poetry.lock (the first 500 PyPA package names, each at version 1.0 — most have advisories).
start=$(date +%s%N)
"$PALISADE" audit db import "$ADVISORIES/pypa/vulns" --name pypa --data-dir "$WORK/data" >"$WORK/pypa-import.txt"
end=$(date +%s%N)
echo "PyPA import: $(cat "$WORK/pypa-import.txt") — wall $(( (end - start) / 1000000 )) ms"
mkdir -p "$WORK/python"
find "$ADVISORIES/pypa/vulns" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | head -n 500 |
    awk '{ printf "[[package]]\nname = \"%s\"\nversion = \"1.0\"\n\n", $1 }' >"$WORK/python/poetry.lock"
start=$(date +%s%N)
set +e
"$PALISADE" audit "$WORK/python/poetry.lock" --data-dir "$WORK/data" --format json --fail-on never --max-age 100000d \
    --output "$WORK/python.json" 2>/dev/null
set -e
end=$(date +%s%N)
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("500-package poetry.lock: %d audited, %d vulnerable, %d findings" % (r["packages_audited"], len(r["packages"]), sum(len(p["findings"]) for p in r["packages"])), end="")' "$WORK/python.json"
echo " — wall $(( (end - start) / 1000000 )) ms"
exit $status
