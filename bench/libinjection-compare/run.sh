#!/bin/sh
# Compares libinjection (SQLi/XSS) with Palisade's detectors on the corpus.
# Creates a venv with libinjection-python (built from source by pip), runs
# Palisade's eval (JSON) and prints both side by side.
#   LIBINJECTION_VENV  venv location (default: ~/.cache/palisade-libinjection-venv)
#   PALISADE_EVAL      command printing the eval JSON (default: the palisade-detect example)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${LIBINJECTION_VENV:-$HOME/.cache/palisade-libinjection-venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import libinjection' 2>/dev/null || "$VENV/bin/pip" install -q libinjection-python
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
if [ -n "${PALISADE_EVAL:-}" ]; then
    sh -c "$PALISADE_EVAL" > "$OUT"
else
    (cd "$ROOT" && cargo run -q --release -p palisade-detect --example eval -- --format json "$ROOT/corpus") > "$OUT"
fi
"$VENV/bin/python" "$HERE/compare.py" "$ROOT/corpus" "$OUT"
