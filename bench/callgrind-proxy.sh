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
cat > $W/up.conf <<C
daemon off; worker_processes 1; pid $W/up.pid; error_log $W/up.err warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $W/b; proxy_temp_path $W/p; fastcgi_temp_path $W/f; uwsgi_temp_path $W/u; scgi_temp_path $W/s;
keepalive_requests 1000000; server { listen 127.0.0.1:19081; location / { return 200 "ok\n"; } } }
C
cat > $W/p.toml <<C
data_dir = "$W/data"
[[listener]]
addr = "127.0.0.1:19082"
[admin]
addr = "127.0.0.1:19083"
[[upstream]]
name = "app"
servers = ["http://127.0.0.1:19081"]
[[site]]
hosts = ["*"]
[[site.route]]
upstream = "app"
mode = "${MODE:-off}"
inspect = ${INSPECT:-false}
[log]
level = "warn"
access_log = false
C
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
