#!/usr/bin/env bash
# Measure (not a test): resident memory (VmRSS) of an idle `palisade serve` with the OWASP CRS at
# paranoia level 1 loaded from $PALISADE_CRS_DIR (default ../shared/crs).
# Usage: bench/rss-crs.sh BIN   (ports 19181-19183)

set -euo pipefail
BIN=$1; CRS=$(cd "${PALISADE_CRS_DIR:-$(dirname "$0")/../../shared/crs}" && pwd); W=$(mktemp -d)
source "$(dirname "$0")/profile-common.sh"
palisade_conf $W/p.toml $W 19182 19183 19181 block true
cat >> $W/p.toml <<C
[waf]
rules = ["$CRS/crs-setup.conf.example", "$CRS/rules/*.conf"]
paranoia_level = 1
C
$BIN serve --config $W/p.toml > $W/out 2>&1 & P=$!
for i in $(seq 120); do curl -s -o /dev/null http://127.0.0.1:19182/ && break; sleep 0.5; done
sleep 1; grep VmRSS /proc/$P/status
kill $P; wait $P 2>/dev/null || true; rm -rf $W
