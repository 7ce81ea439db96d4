#!/usr/bin/env bash
# Benchmark (not a test): Palisade as a plain reverse proxy (inspection off) against nginx.
#
# One run: an nginx static responder is the upstream; wrk (pinned to CPU 0) measures
#   (a) the upstream directly, (b) nginx as a reverse proxy (1 worker, keepalive to the upstream),
#   (c) `palisade serve` with inspection off (route `mode = "off"`: no WAF; bans, security headers,
#       request ids, forwarding headers and the traffic monitor stay on),
# each with a small GET and a 4 KiB form POST (bench/post4k.lua). Every server process is pinned to
# CPU 1. Prints req/s, p50, p99 and the palisade/nginx ratios.
#
# Environment: DURATION (default 10s), CONNECTIONS (default 50), BASE_PORT (default 18080),
# CARGO_TARGET_DIR (default ~/.cache/palisade-target), PALISADE (a prebuilt binary; skips the build).
#
# MODE=logging measures instead the cost of logging on the GET: two `palisade serve` (inspection off),
# one with `[log] access_log = false`, one writing the JSON access log (one line per request) and
# security events to files; ROUNDS (default 3) alternating runs each; prints the on/off ratio.
# MODE=ab compares two palisade binaries (PALISADE and PALISADE_B) on GET and POST, alternating.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
BASE_PORT=${BASE_PORT:-18080}
UPSTREAM_PORT=$((BASE_PORT + 1))
NGINX_PORT=$((BASE_PORT + 2))
PALISADE_PORT=$((BASE_PORT + 3))
ADMIN_PORT=$((BASE_PORT + 4))
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/palisade-target}

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq nginx-light wrk >/dev/null || $SUDO apt-get install -y -qq nginx wrk >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

MODE=${MODE:-nginx}
ROUNDS=${ROUNDS:-3}
SECOND_PORT=$((BASE_PORT + 5))
SECOND_ADMIN_PORT=$((BASE_PORT + 6))
if [ -z "${PALISADE:-}" ]; then
    cargo build --release --locked -p palisade
    PALISADE="$CARGO_TARGET_DIR/release/palisade"
fi
PALISADE_B=${PALISADE_B:-$PALISADE}

for port in "$UPSTREAM_PORT" "$NGINX_PORT" "$PALISADE_PORT" "$ADMIN_PORT" "$SECOND_PORT" "$SECOND_ADMIN_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "port $port is already in use; set BASE_PORT to a free range" >&2
        exit 1
    fi
done

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

nginx_conf() { # name, server block
    cat >"$WORK/$1.conf" <<CONF
daemon off;
worker_processes 1;
pid $WORK/$1.pid;
error_log $WORK/$1.error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/$1.body;
    proxy_temp_path $WORK/$1.proxy;
    fastcgi_temp_path $WORK/$1.fastcgi;
    uwsgi_temp_path $WORK/$1.uwsgi;
    scgi_temp_path $WORK/$1.scgi;
    keepalive_requests 1000000;
    $2
}
CONF
}

nginx_conf upstream "server { listen 127.0.0.1:$UPSTREAM_PORT; location / { return 200 \"ok\n\"; } }"
nginx_conf proxy "upstream app { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }
    server { listen 127.0.0.1:$NGINX_PORT; location / {
        proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
palisade_conf() { # file, port, admin port, access_log, data dir
    cat >"$1" <<CONF
data_dir = "$5"

[[listener]]
addr = "127.0.0.1:$2"

[admin]
addr = "127.0.0.1:$3"

[[upstream]]
name = "app"
servers = ["http://127.0.0.1:$UPSTREAM_PORT"]

[[site]]
hosts = ["*"]

[[site.route]]
upstream = "app"
mode = "off"
inspect = false

[log]
level = "$( [ "$4" = true ] && echo info || echo warn )"
access_log = $4
CONF
}

SERVED=("$UPSTREAM_PORT")
taskset -c 1 "$NGINX" -p "$WORK" -e "$WORK/upstream.error.log" -c "$WORK/upstream.conf" & PIDS+=($!)
case $MODE in
    nginx)
        palisade_conf "$WORK/palisade.toml" "$PALISADE_PORT" "$ADMIN_PORT" false "$WORK/data"
        taskset -c 1 "$NGINX" -p "$WORK" -e "$WORK/proxy.error.log" -c "$WORK/proxy.conf" & PIDS+=($!)
        taskset -c 1 "$PALISADE" serve --config "$WORK/palisade.toml" >"$WORK/palisade.out" 2>"$WORK/palisade.err" & PIDS+=($!)
        SERVED+=("$NGINX_PORT" "$PALISADE_PORT")
        ;;
    logging | ab)
        first_log=false second_log=false second_binary=$PALISADE
        [ "$MODE" = logging ] && second_log=true
        [ "$MODE" = ab ] && second_binary=$PALISADE_B
        palisade_conf "$WORK/first.toml" "$PALISADE_PORT" "$ADMIN_PORT" "$first_log" "$WORK/data-first"
        palisade_conf "$WORK/second.toml" "$SECOND_PORT" "$SECOND_ADMIN_PORT" "$second_log" "$WORK/data-second"
        taskset -c 1 "$PALISADE" serve --config "$WORK/first.toml" >"$WORK/first.out" 2>"$WORK/first.err" & PIDS+=($!)
        # The log goes to a file, as a log shipper would read it.
        taskset -c 1 "$second_binary" serve --config "$WORK/second.toml" >"$WORK/second.out" 2>"$WORK/second.log" & PIDS+=($!)
        SERVED+=("$PALISADE_PORT" "$SECOND_PORT")
        ;;
    *) echo "unknown MODE $MODE (nginx, logging, ab)" >&2; exit 2 ;;
esac

for port in "${SERVED[@]}"; do
    for _ in $(seq 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
        sleep 0.1
    done
    curl -fsS -o /dev/null "http://127.0.0.1:$port/" || { echo "port $port does not answer" >&2; cat "$WORK"/*.err* >&2; exit 1; }
done
for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a server exited at start-up" >&2; cat "$WORK"/*.err* >&2; exit 1; }
done

declare -A RPS
measure() { # label, port, extra wrk args...
    local label=$1 port=$2; shift 2
    local out
    out=$(taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "http://127.0.0.1:$port/bench")
    local rps p50 p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    RPS[$label]=$rps
    printf '%-22s %12s %10s %10s\n' "$label" "$rps" "$p50" "$p99"
}

printf '%-22s %12s %10s %10s\n' "target" "req/s" "p50" "p99"
if [ "$MODE" != nginx ]; then
    if [ "$MODE" = logging ]; then
        first="logging off" second="logging on" kinds=(get)
    else
        first="palisade A" second="palisade B" kinds=(get post)
    fi
    declare -A SUM
    for kind in "${kinds[@]}"; do
        args=()
        [ "$kind" = post ] && args=(-s bench/post4k.lua)
        SUM[$first $kind]=0 SUM[$second $kind]=0
        for round in $(seq "$ROUNDS"); do
            measure "$first $kind #$round" "$PALISADE_PORT" "${args[@]}"
            SUM[$first $kind]=$(awk -v a="${SUM[$first $kind]}" -v b="${RPS[$first $kind #$round]}" 'BEGIN { print a + b }')
            measure "$second $kind #$round" "$SECOND_PORT" "${args[@]}"
            SUM[$second $kind]=$(awk -v a="${SUM[$second $kind]}" -v b="${RPS[$second $kind #$round]}" 'BEGIN { print a + b }')
        done
        awk -v a="${SUM[$second $kind]}" -v b="${SUM[$first $kind]}" -v label="$second/$first $kind" \
            'BEGIN { printf "%s req/s ratio (sum of rounds): %.3f\n", label, a / b }'
    done
    if [ "$MODE" = logging ]; then
        echo "access log lines written: $(grep -c '"palisade::access"' "$WORK/second.log" || true)"
    fi
    exit 0
fi
for kind in get post; do
    args=()
    [ "$kind" = post ] && args=(-s bench/post4k.lua)
    measure "upstream $kind" "$UPSTREAM_PORT" "${args[@]}"
    measure "nginx $kind" "$NGINX_PORT" "${args[@]}"
    measure "palisade $kind" "$PALISADE_PORT" "${args[@]}"
done
for kind in get post; do
    awk -v p="${RPS[palisade $kind]}" -v n="${RPS[nginx $kind]}" -v k="$kind" \
        'BEGIN { printf "palisade/nginx %s req/s ratio: %.2f\n", k, p / n }'
done
