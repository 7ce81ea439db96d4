#!/usr/bin/env bash
# Benchmark (not a test): `palisade serve` WITH inspection and the default ruleset
# (rules/palisade-default.conf, what serve runs when no [waf] rules are configured) against plain
# nginx, on the GET and the 4 KiB form POST of bench/proxy.sh. Issue target: >= 60% of nginx's req/s.
#
# It runs bench/proxy.sh unchanged (same servers, pinning, wrk runs and ratio lines) with PALISADE
# pointing at a small wrapper that turns the route's `mode = "off"` / `inspect = false` (WAF off,
# bodies streamed) into the defaults (WAF on in block mode, bodies inspected) in the configuration
# proxy.sh writes before starting the real binary. In the output, "palisade" is the
# gateway with the default ruleset. Environment: as bench/proxy.sh (DURATION, CONNECTIONS,
# BASE_PORT, CARGO_TARGET_DIR); PALISADE_REAL may name a prebuilt binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/palisade-target}
if [ -z "${PALISADE_REAL:-}" ]; then
    cargo build --release --locked -p palisade
    PALISADE_REAL="$CARGO_TARGET_DIR/release/palisade"
fi
WRAP=$(mktemp -d)
trap 'rm -rf "$WRAP"' EXIT
cat >"$WRAP/palisade" <<WRAPPER
#!/usr/bin/env bash
# serve --config FILE: inspect every route with the default ruleset.
set -euo pipefail
args=("\$@")
for i in "\${!args[@]}"; do
    if [ "\${args[\$i]}" = --config ]; then
        sed -i -e 's/^inspect = false\$/inspect = true/' -e '/^mode = "off"\$/d' "\${args[\$((i + 1))]}"
        ! grep -q '^mode = "off"\$' "\${args[\$((i + 1))]}" || { echo "default-ruleset.sh: WAF still off" >&2; exit 1; }
        grep -q '^inspect = true\$' "\${args[\$((i + 1))]}" || { echo "default-ruleset.sh: no inspect line to flip" >&2; exit 1; }
    fi
done
exec "$PALISADE_REAL" "\$@"
WRAPPER
chmod +x "$WRAP/palisade"
echo "palisade = palisade serve with inspection on and the default ruleset ($PALISADE_REAL)"
PALISADE="$WRAP/palisade" bash bench/proxy.sh
