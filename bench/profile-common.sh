# Sourced by the profiling scripts (callgrind-proxy.sh, cpu-split.sh, rss-crs.sh): the nginx and
# palisade configurations they start, written once.

# upstream_nginx_conf FILE DIR PORT: an nginx responder answering "ok" on 127.0.0.1:PORT.
upstream_nginx_conf() {
    cat >"$1" <<C
daemon off; worker_processes 1; pid $2/$(basename "$1").pid; error_log $2/$(basename "$1").err warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $2/b-$3; proxy_temp_path $2/p-$3; fastcgi_temp_path $2/f-$3; uwsgi_temp_path $2/u-$3; scgi_temp_path $2/s-$3;
keepalive_requests 1000000; server { listen 127.0.0.1:$3; location / { return 200 "ok\n"; } } }
C
}

# proxy_nginx_conf FILE DIR PORT UPSTREAM_PORT: nginx as a keep-alive reverse proxy.
proxy_nginx_conf() {
    cat >"$1" <<C
daemon off; worker_processes 1; pid $2/$(basename "$1").pid; error_log $2/$(basename "$1").err warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $2/b-$3; proxy_temp_path $2/p-$3; fastcgi_temp_path $2/f-$3; uwsgi_temp_path $2/u-$3; scgi_temp_path $2/s-$3;
keepalive_requests 1000000; upstream app { server 127.0.0.1:$4; keepalive 64; }
server { listen 127.0.0.1:$3; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
C
}

# palisade_conf FILE DIR PORT ADMIN_PORT UPSTREAM_PORT MODE INSPECT: one site, one route, no
# access log; append a [waf] section to the file for rules.
palisade_conf() {
    cat >"$1" <<C
data_dir = "$2/data"
[[listener]]
addr = "127.0.0.1:$3"
[admin]
addr = "127.0.0.1:$4"
[[upstream]]
name = "app"
servers = ["http://127.0.0.1:$5"]
[[site]]
hosts = ["*"]
[[site.route]]
upstream = "app"
mode = "$6"
inspect = $7
[log]
level = "warn"
access_log = false
C
}
