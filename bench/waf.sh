#!/usr/bin/env bash
# Benchmark (not a test): the WAF with the OWASP CRS at paranoia level 1 — nginx + ModSecurity v3
# against `palisade serve`, both loading the same CRS checkout by path ($PALISADE_CRS_DIR).
#
# One run on this machine: a tiny nginx responder is the upstream (CPU 1); in front of it, each
# pinned to CPU 1 and measured one after the other by wrk pinned to CPU 0:
#   (a) plain nginx reverse proxy (1 worker, no WAF) — the reference for the "% of nginx" ratio,
#   (b) nginx + ModSecurity v3 (Debian's libnginx-mod-http-modsecurity) + CRS at PL1,
#   (c) `palisade serve` + CRS at PL1 (blocking mode),
# with a benign GET (5 query arguments, browser headers) and a 4 KiB urlencoded form POST
# (bench/post4k.lua). Both WAFs use the same engine settings (request body access on, JSON/XML body
# processors, rules 200000-200003 as in ModSecurity's recommended configuration; audit log off).
# Prints req/s, p50/p99, the palisade/modsecurity and palisade/nginx ratios and the resident
# memory (VmRSS) of each server with the rules loaded (nginx: master + worker).
#
# Environment: PALISADE_CRS_DIR (required), DURATION (default 10s), CONNECTIONS (default 50;
# ModSecurity is measured with the same count), BASE_PORT (default 18180),
# CARGO_TARGET_DIR (default ~/.cache/palisade-target), PALISADE_BIN (a built `palisade` binary:
# skips the release build).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${PALISADE_CRS_DIR:?set PALISADE_CRS_DIR to a CRS v4 checkout}"
CRS=$(cd "$PALISADE_CRS_DIR" && pwd)
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
BASE_PORT=${BASE_PORT:-18180}
UPSTREAM_PORT=$((BASE_PORT + 1))
NGINX_PORT=$((BASE_PORT + 2))
MODSEC_PORT=$((BASE_PORT + 3))
PALISADE_PORT=$((BASE_PORT + 4))
ADMIN_PORT=$((BASE_PORT + 5))
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/palisade-target}
MODSEC_MODULE=/usr/lib/nginx/modules/ngx_http_modsecurity_module.so

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null || [ ! -e "$MODSEC_MODULE" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx wrk libnginx-mod-http-modsecurity >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [ -n "${PALISADE_BIN:-}" ]; then
    PALISADE=$PALISADE_BIN
else
    cargo build --release --locked -p palisade
    PALISADE="$CARGO_TARGET_DIR/release/palisade"
fi

for port in "$UPSTREAM_PORT" "$NGINX_PORT" "$MODSEC_PORT" "$PALISADE_PORT" "$ADMIN_PORT"; do
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

nginx_conf() { # name, main-context lines, server block
    cat >"$WORK/$1.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
pid $WORK/$1.pid;
error_log $WORK/$1.error.log warn;
$2
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/$1.body;
    proxy_temp_path $WORK/$1.proxy;
    fastcgi_temp_path $WORK/$1.fastcgi;
    uwsgi_temp_path $WORK/$1.uwsgi;
    scgi_temp_path $WORK/$1.scgi;
    keepalive_requests 1000000;
    client_body_buffer_size 64k;
    $3
}
CONF
}

PROXY="proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\";"
UPSTREAM_BLOCK="upstream app { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }"
nginx_conf upstream "" "server { listen 127.0.0.1:$UPSTREAM_PORT; location / { return 200 \"ok\n\"; } }"
nginx_conf proxy "" "$UPSTREAM_BLOCK
    server { listen 127.0.0.1:$NGINX_PORT; location / { $PROXY } }"

# ModSecurity: the engine settings of ModSecurity's recommended configuration (as Palisade's
# embedded rules/palisade-engine.conf), paranoia level 1, then CRS by path.
cat >"$WORK/modsecurity.conf" <<CONF
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecAuditEngine Off
SecDebugLogLevel 0
SecRule REQUEST_HEADERS:Content-Type "@rx ^(?:application(?:/soap\+|/)|text/)xml" \
    "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" \
    "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" \
    "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.'"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \
    "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'"
SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=1"
Include $CRS/crs-setup.conf.example
Include $CRS/rules/*.conf
CONF
nginx_conf modsec "load_module $MODSEC_MODULE;" "$UPSTREAM_BLOCK
    modsecurity on;
    modsecurity_rules_file $WORK/modsecurity.conf;
    server { listen 127.0.0.1:$MODSEC_PORT; location / { $PROXY } }"

cat >"$WORK/palisade.toml" <<CONF
data_dir = "$WORK/palisade-data"

[[listener]]
addr = "127.0.0.1:$PALISADE_PORT"

[admin]
addr = "127.0.0.1:$ADMIN_PORT"

[[upstream]]
name = "app"
servers = ["http://127.0.0.1:$UPSTREAM_PORT"]

[[site]]
hosts = ["*"]

[[site.route]]
upstream = "app"

[log]
level = "warn"
access_log = false

[waf]
rules = ["$CRS/crs-setup.conf.example", "$CRS/rules/*.conf"]
paranoia_level = 1
CONF

taskset -c 1 "$NGINX" -p "$WORK" -e "$WORK/upstream.error.log" -c "$WORK/upstream.conf" & PIDS+=($!)
taskset -c 1 "$NGINX" -p "$WORK" -e "$WORK/proxy.error.log" -c "$WORK/proxy.conf" & PIDS+=($!)
taskset -c 1 "$NGINX" -p "$WORK" -e "$WORK/modsec.error.log" -c "$WORK/modsec.conf" & MODSEC_PID=$!
PIDS+=("$MODSEC_PID")
taskset -c 1 "$PALISADE" serve --config "$WORK/palisade.toml" >"$WORK/palisade.out" 2>"$WORK/palisade.err" & PALISADE_PID=$!
PIDS+=("$PALISADE_PID")

for port in "$UPSTREAM_PORT" "$NGINX_PORT" "$MODSEC_PORT" "$PALISADE_PORT"; do
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
        sleep 0.1
    done
    curl -fsS -o /dev/null "http://127.0.0.1:$port/" || {
        echo "port $port does not answer" >&2
        cat "$WORK"/*.err* "$WORK"/*.error.log >&2
        exit 1
    }
done
for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a server exited at start-up" >&2; cat "$WORK"/*.err* "$WORK"/*.error.log >&2; exit 1; }
done

GET_PATH="/products/list?category=shoes&size=42&color=blue&sort=price&page=3"
BROWSER_HEADERS=(
    -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    -H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    -H "Accept-Language: en-US,en;q=0.5"
    -H "Accept-Encoding: gzip, deflate, br"
    -H "Cookie: session=3f2a9c1d7e; theme=dark"
)

# Both WAFs must let the benign requests through and block an attack, or the figures mean nothing.
for port in "$MODSEC_PORT" "$PALISADE_PORT"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "${BROWSER_HEADERS[@]}" "http://127.0.0.1:$port$GET_PATH")
    [ "$code" = 200 ] || { echo "benign GET on port $port answered $code" >&2; exit 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/?q=1%27%20UNION%20SELECT%20password%20FROM%20users--")
    [ "$code" = 403 ] || { echo "attack on port $port answered $code (expected 403)" >&2; exit 1; }
done

rss_kib() { # pids... → summed VmRSS in KiB
    local total=0 pid kib
    for pid in "$@"; do
        kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${kib:-0}))
    done
    echo "$total"
}
nginx_pids() { # master pid → master and its workers
    echo "$1" $(pgrep -P "$1" || true)
}

declare -A RPS
measure() { # label, port, extra wrk args...
    local label=$1 port=$2; shift 2
    local out
    out=$(taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
    local rps p50 p99 non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    RPS[$label]=$rps
    printf '%-26s %12s %10s %10s %s\n' "$label" "$rps" "$p50" "$p99" "${non2xx:+(non-2xx: $non2xx)}"
}

printf '%-26s %12s %10s %10s\n' "target" "req/s" "p50" "p99"
for kind in get post; do
    for target in nginx modsecurity palisade; do
        case $target in
            nginx) port=$NGINX_PORT ;;
            modsecurity) port=$MODSEC_PORT ;;
            palisade) port=$PALISADE_PORT ;;
        esac
        if [ "$kind" = get ]; then
            measure "$target $kind" "$port" "${BROWSER_HEADERS[@]}" "http://127.0.0.1:$port$GET_PATH"
        else
            measure "$target $kind" "$port" -s bench/post4k.lua "http://127.0.0.1:$port/checkout"
        fi
    done
done
echo
for kind in get post; do
    awk -v p="${RPS[palisade $kind]}" -v m="${RPS[modsecurity $kind]}" -v n="${RPS[nginx $kind]}" -v k="$kind" \
        'BEGIN { printf "%s: palisade/modsecurity %.1fx (target >= 30x), palisade/nginx %.1f%% (target >= 40%%)\n", k, p / m, 100 * p / n }'
done
echo
printf 'resident memory with CRS loaded (VmRSS, after the runs):\n'
printf '  nginx + ModSecurity + CRS (master + worker): %6d MiB\n' $(($(rss_kib $(nginx_pids "$MODSEC_PID")) / 1024))
printf '  plain nginx proxy (master + worker):         %6d MiB\n' $(($(rss_kib $(nginx_pids "${PIDS[1]}")) / 1024))
printf '  palisade serve + CRS:                        %6d MiB\n' $(($(rss_kib "$PALISADE_PID") / 1024))
