#!/usr/bin/env bash
# Side-by-side wall and CPU time of `palisade lint` and Bandit on the same Python tree
# (default: Django's source from PyPI), in one run on this machine.
#   bash bench/lint-vs-bandit.sh [TREE]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-$HOME/.cache/palisade-bench-venv}
DJANGO_VERSION=${DJANGO_VERSION:-5.2.8}
BANDIT_VERSION=${BANDIT_VERSION:-1.8.6}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/palisade-target}

if [ ! -x "$VENV/bin/bandit" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "bandit==$BANDIT_VERSION" "django==$DJANGO_VERSION"
fi
TREE=${1:-$("$VENV/bin/python" -c 'import django, os; print(os.path.dirname(django.__file__))')}
cargo build -q --release --locked -p palisade
PALISADE=$CARGO_TARGET_DIR/release/palisade

echo "tree: $TREE ($(find "$TREE" -name '*.py' | wc -l) Python files)"
measure() {
    local name=$1; shift
    /usr/bin/time -f "$name: %e s wall, %U s user, %S s system, %M KB max RSS" "$@" > /dev/null 2> "/tmp/lint-bench-$name.err" || true
    tail -1 "/tmp/lint-bench-$name.err"
}
for round in 1 2 3; do
    echo "round $round"
    measure palisade "$PALISADE" lint "$TREE" --format json --fail-on never --no-gitignore
    measure bandit "$VENV/bin/bandit" -q -r "$TREE" -f json
done
