#!/usr/bin/env bash
# The blog behind the course's ingress (deploy/blog/nginx.conf.in through scripts/run-blog-frontdoor),
# first as one process, then split: one process per module on NATS JetStream. The course's
# client's three calls, made as its browser makes them (Host and Origin http://posts.com), work
# unchanged in both; split, a query process killed with SIGKILL, and then one whose view was
# deleted, come back with the same page from the stream.
#   tests/split/blog_split_test.sh path/to/blog
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
blog="$(realpath "$1")"
PATH=$PATH:/usr/sbin
for tool in nats-server nginx curl python3; do
    command -v "$tool" >/dev/null || { echo "blog split test: $tool is missing (scripts/install-deps --split)" >&2; exit 1; }
done
work="$(mktemp -d -t blog-split-XXXXXX)"
declare -a pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }

taken=" "
free_port() {
    while :; do
        free=$((10000 + RANDOM % 20000))
        case "$taken" in *" $free "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$free") 2>/dev/null; then taken+="$free "; return; fi
    done
}
wait_http() {  # URL: until it answers
    for _ in $(seq 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done
    fail "$1 did not answer"
}
export JWT_KEY="blog-split-test-key-0123456789abcdef0123"

# The stand-in for the client's build: the front door serves it at / and for its own routes.
mkdir -p "$work/client"
echo '<!doctype html><title>course blog client</title>' >"$work/client/index.html"

front=""
start_front() {  # POSTS COMMENTS QUERY addresses
    free_port; front=127.0.0.1:$free
    POSTS=$1 COMMENTS=$2 QUERY=$3 "$root/scripts/run-blog-frontdoor" "$work/client" "$front" >"$work/nginx.log" 2>&1 &
    pids+=($!)
    wait_http "http://$front/"
}
as_browser() {  # METHOD PATH [JSON]: what the course's client sends, through the front door,
    # as a browser that reached it as posts.com on its port sends it
    local site="posts.com:${front#*:}"
    local args=(-s -X "$1" -H "Host: $site" -H "Origin: http://$site" -w '\n%{http_code}')
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
    curl "${args[@]}" "http://$front$2"
}
json() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().rsplit('\n',1)[0]); print($1)"; }
status() { tail -n1; }

# The course's flow: a post, two comments (one banned), the page until moderation has decided.
course_flow() {
    local out post
    out=$(as_browser POST /posts/create '{"title":"Through the ingress"}')
    [ "$(status <<<"$out")" = 201 ] || fail "create post: $out"
    post=$(json 'd["id"]' <<<"$out")
    for _ in $(seq 100); do  # split: comments learns of the post through NATS
        out=$(as_browser POST "/posts/$post/comments" '{"content":"first!"}')
        [ "$(status <<<"$out")" = 201 ] && break
        sleep 0.05
    done
    [ "$(status <<<"$out")" = 201 ] || fail "comment: $out"
    out=$(as_browser POST "/posts/$post/comments" '{"content":"orange you glad"}')
    [ "$(status <<<"$out")" = 201 ] || fail "second comment: $out"
    for _ in $(seq 200); do
        out=$(as_browser GET /posts)
        got=$(json "' '.join(c['status'] for c in d.get('$post',{}).get('comments',[]))" <<<"$out")
        [ "$got" = "approved rejected" ] && break
        sleep 0.05
    done
    [ "$got" = "approved rejected" ] || fail "moderation through the front door: '$got' in $out"
    out=$(as_browser GET "/posts/$post/comments")
    [ "$(json 'len(d)' <<<"$out")" = 2 ] || fail "GET comments: $out"
    [ "$(as_browser GET /some/client/route | head -n1)" = '<!doctype html><title>course blog client</title>' ] ||
        fail "the client's own routes get its index.html"
    out=$(curl -s -w '\n%{http_code}' -X POST -H "Host: posts.com:${front#*:}" -H 'Origin: http://evil.example' \
        -H 'Content-Type: application/json' -d '{"title":"x"}' "http://$front/posts/create")
    [ "$(status <<<"$out")" = 403 ] || fail "a cross-site post is refused: $out"
}

echo "== one process"
free_port; one=127.0.0.1:$free
"$blog" --host 127.0.0.1 --port "${one#*:}" --data-dir "$work/one" --metrics-listen off --access-log false >"$work/one.log" 2>&1 &
pids+=($!); one_pid=$!
wait_http "http://$one/healthz"
start_front "$one" "$one" "$one"
course_flow
kill "$one_pid"

echo "== split: one process per module on NATS JetStream"
free_port; nats=$free
mkdir -p "$work/nats"
printf 'listen: 127.0.0.1:%s\njetstream { store_dir: "%s" }\n' "$nats" "$work/nats" >"$work/nats.conf"
nats-server -c "$work/nats.conf" >"$work/nats.log" 2>&1 &
pids+=($!)
declare -A port pid
start_module() {  # MODULE
    "$blog" --modules "$1" --bus "nats://127.0.0.1:$nats" --host 127.0.0.1 --port "${port[$1]}" \
        --data-dir "$work/$1" --metrics-listen off --access-log false >>"$work/$1.log" 2>&1 &
    pid[$1]=$!
    pids+=($!)
    wait_http "http://127.0.0.1:${port[$1]}/healthz"
}
for m in posts comments moderation query; do
    free_port; port[$m]=$free
    start_module "$m"
done
start_front "127.0.0.1:${port[posts]}" "127.0.0.1:${port[comments]}" "127.0.0.1:${port[query]}"
course_flow
page=$(as_browser GET /posts | sed '$d')

echo "== split: the query process killed, then its view deleted"
kill -9 "${pid[query]}"
start_module query
[ "$(as_browser GET /posts | sed '$d')" = "$page" ] || fail "after SIGKILL the page differs"
kill "${pid[query]}"; wait "${pid[query]}" 2>/dev/null || true
rm -f "$work/query/query.db"*
start_module query
for _ in $(seq 100); do
    now=$(as_browser GET /posts | sed '$d')
    [ "$now" = "$page" ] && break
    sleep 0.05
done
[ "$now" = "$page" ] || fail "a deleted view is not rebuilt from the stream: $now"
echo "blog split test: ok"
