#!/usr/bin/env bash
# Profile (not a test): instructions per proxied request, counted by callgrind (deterministic, so
# comparable on a busy machine). An nginx responder is the upstream; `palisade serve` runs under
# valgrind with route mode/inspect from MODE (default "off") and INSPECT (default false), no access
# log; after a 2 s warm-up the counters are zeroed, wrk runs 10 s (GET, or bench/post4k.lua for
# `post`), and the dumped total is divided by the requests served.
# Usage: bench/callgrind-proxy.sh BIN OUT_FILE [get|post]   (ports 19081-19083)

set -euo pipefail
BIN=$1; OUT=$2; KIND=${3:-get}
W=$(mktemp -d)
source "$(dirname "$0")/profile-common.sh"
upstream_nginx_conf $W/up.conf $W 19081
palisade_conf $W/p.toml $W 19082 19083 19081 "${MODE:-off}" "${INSPECT:-false}"
[ -n "${EXTRA_TOML:-}" ] && cat "$EXTRA_TOML" >> $W/p.toml
nginx -p $W -c $W/up.conf & NG=$!
valgrind --tool=callgrind --callgrind-out-file=$OUT $BIN serve --config $W/p.toml > $W/out 2>&1 & VP=$!
for i in $(seq 300); do curl -s -o /dev/null http://127.0.0.1:19082/ && break; sleep 0.5; done
wrk -c10 -t1 -d2s http://127.0.0.1:19082/ > /dev/null
callgrind_control -z $VP > /dev/null
if [ "$KIND" = post ]; then R=$(wrk -c10 -t1 -d10s -s "$(dirname "$0")/post4k.lua" http://127.0.0.1:19082/); else R=$(wrk -c10 -t1 -d10s http://127.0.0.1:19082/); fi
N=$(echo "$R" | awk '/requests in/{print $1}')
callgrind_control -d $VP > /dev/null; sleep 1
kill $VP; wait $VP 2>/dev/null || true; kill $NG; wait $NG 2>/dev/null || true
LAST=$(ls $OUT.* | sort -t. -k3 -n | tail -1)
TOT=$(callgrind_annotate $LAST 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
echo "requests=$N total=$TOT per_request=$((TOT / N)) file=$LAST"
rm -rf $W
