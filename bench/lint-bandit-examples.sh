#!/usr/bin/env bash
# Bandit parity on Bandit's own example files (examples/ of Bandit's sdist, never copied into this
# repo): per test id, Bandit's findings, how many of them `palisade lint --select B` reports at the
# same (file, test id, line), and Palisade's total; fails listing any of Bandit's it misses.
#   bash bench/lint-bandit-examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-$HOME/.cache/palisade-bench-venv}
BANDIT_VERSION=${BANDIT_VERSION:-1.8.6}
SDIST=${SDIST:-$HOME/.cache/bandit-sdist}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/palisade-target}

if ! "$VENV/bin/bandit" --version 2>/dev/null | grep -q "bandit $BANDIT_VERSION"; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "bandit==$BANDIT_VERSION"
fi
EXAMPLES=$SDIST/bandit-$BANDIT_VERSION/examples
if [ ! -d "$EXAMPLES" ]; then
    mkdir -p "$SDIST"
    "$VENV/bin/pip" download -q --no-deps --no-binary :all: -d "$SDIST" "bandit==$BANDIT_VERSION"
    tar -xzf "$SDIST/bandit-$BANDIT_VERSION.tar.gz" -C "$SDIST"
fi
echo "bandit $BANDIT_VERSION examples: $EXAMPLES ($(find "$EXAMPLES" -name '*.py' | wc -l) Python files)"
PALISADE_BANDIT_EXAMPLES=$EXAMPLES PALISADE_BANDIT=$VENV/bin/bandit \
    cargo test -q -p palisade-lint --test bandit_examples -- --nocapture
