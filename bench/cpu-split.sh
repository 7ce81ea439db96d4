#!/usr/bin/env bash
# Profile (not a test): user and system CPU time per request of `palisade serve` (route mode off)
# and of an nginx reverse proxy, and of the upstream nginx behind each, read from
# /proc/PID/task/*/stat around a 5 s wrk GET run; servers pinned to CPU 1, wrk to CPU 0.
# Usage: bench/cpu-split.sh BIN   (ports 19081-19084)

set -euo pipefail
BIN=$1
W=$(mktemp -d)
source "$(dirname "$0")/profile-common.sh"
upstream_nginx_conf $W/up.conf $W 19081
proxy_nginx_conf $W/px.conf $W 19084 19081
palisade_conf $W/p.toml $W 19082 19083 19081 off false
taskset -c 1 nginx -p $W -c $W/up.conf & NG=$!
taskset -c 1 nginx -p $W -c $W/px.conf & NP=$!
taskset -c 1 $BIN serve --config $W/p.toml > $W/out 2>&1 & VP=$!
sleep 1.5
ticks() { local t=0; for task in /proc/$1/task/*; do read -r -a f < $task/stat; t=$((t)); echo "${f[13]} ${f[14]}"; done | awk '{u+=$1; s+=$2} END {print u, s}'; }
UPW=$(pgrep -P $NG | head -1)
for target in "palisade $VP 19082" "nginx $(pgrep -P $NP | head -1) 19084"; do
  set -- $target
  wrk -c50 -t1 -d1s http://127.0.0.1:$3/ > /dev/null
  read u0 s0 < <(ticks $2); read uu0 us0 < <(ticks $UPW)
  R=$(taskset -c 0 wrk -c50 -t1 -d5s http://127.0.0.1:$3/)
  read u1 s1 < <(ticks $2); read uu1 us1 < <(ticks $UPW)
  N=$(echo "$R" | awk '/requests in/{print $1}')
  echo "$1 requests=$N  proxy user=$(( (u1-u0)*10000000/N ))ns sys=$(( (s1-s0)*10000000/N ))ns  upstream user=$(( (uu1-uu0)*10000000/N ))ns sys=$(( (us1-us0)*10000000/N ))ns"
done
kill $VP $NG $NP; wait 2>/dev/null || true
rm -rf $W
