#!/usr/bin/env bash
# HTTP benchmark of a unit's 责任清单 (see BENCHMARKS.md, section "HTTP: 单位责任清单").
#
# Builds the release binary, starts `fazhi serve` on a free loopback port with a
# throw-away data directory, logs in as the first administrator (changing the initial
# password), creates an API token, looks up 县司法局, then loads with wrk:
#
#   GET /api/v1/units/{id}/indicators   with the Bearer token
#   GET /api/v1/units/{id}/indicators   with the session cookie
#   GET /units/{id}                     (the 单位责任清单 page) with the session cookie
#   GET /overview                       (达标总览: every task of a round judged) with the cookie
#   GET /tasks                          (the round's 113 tasks with their lights) with the cookie
#   GET /dashboard                      (工作看板: the round's statistics, cached) with the cookie
#
# (a round is opened first, with a due date, so the work pages have their tasks)
# each at 64 connections and again at 1 connection, and prints a Markdown table
# (req/s, p50, p99, errors, server CPU time per request).
#
# Loopback only; every run is bounded. The server is stopped and the data directory
# removed on exit. Nothing is installed: wrk must already be there.
#
# Settings (environment):
#   BENCH_DURATION      length of each run            (default 15s)
#   BENCH_CONNECTIONS   concurrent connections        (default 64)
#   BENCH_THREADS       wrk threads                   (default 2)
#   BENCH_WARMUP        warm-up run before each run   (default 3s; 0 to skip)
#   BENCH_LATENCY_CONNECTIONS  the same three runs again at this many connections,
#                       for the time of one request (default 1; 0 to skip)
#   BENCH_UNIT          unit to measure               (default 县司法局)
#   FAZHI_BIN           use this binary instead of building one
#   CARGO_TARGET_DIR    honoured by the build and when locating the binary
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-15s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
WARMUP=${BENCH_WARMUP:-3s}
LATENCY_CONNECTIONS=${BENCH_LATENCY_CONNECTIONS:-1}
UNIT=${BENCH_UNIT:-县司法局}

die() {
  echo "bench-http: $*" >&2
  exit 1
}

for tool in curl wrk; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    case $tool in
      wrk) die "wrk 未安装。Debian/Ubuntu：sudo apt-get install -y wrk（或自行安装后重试）" ;;
      *) die "$tool 未安装。Debian/Ubuntu：sudo apt-get install -y $tool" ;;
    esac
  fi
done

# --- build -------------------------------------------------------------------------
# shellcheck source=scripts/lib/release-bin.sh
source scripts/lib/release-bin.sh  # the scripts run from the repository root

# --- server ------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fazhi-bench.XXXXXX")
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

PORT=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
  candidate=$((20000 + RANDOM % 40000))
  port_in_use "$candidate" && continue
  rm -rf "$WORK/data"
  "$BIN" serve --data-dir "$WORK/data" --bind "127.0.0.1:$candidate" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    if curl -fsS -o /dev/null "http://127.0.0.1:$candidate/healthz" 2>/dev/null; then
      PORT=$candidate
      break
    fi
    sleep 0.1
  done
  [[ -n $PORT ]] && break
  # Lost the race for the port (or slow start): stop it and try another.
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
done
if [[ -z $PORT ]]; then
  cat "$WORK/server.err" >&2 || true
  die "服务没有启动"
fi
BASE="http://127.0.0.1:$PORT"
echo "== fazhi serve on $BASE (pid $SERVER_PID, data $WORK/data)" >&2

INITIAL=$(sed -n 's/^ *初始密码：\(.*\)$/\1/p' "$WORK/server.out" | head -n1)
[[ -n $INITIAL ]] || die "服务输出中没有初始密码"

# --- log in, change the password, make a token -------------------------------------
JAR="$WORK/cookies"
c() { curl -sS -b "$JAR" -c "$JAR" "$@"; }
csrf_of() { sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -n1; }

csrf=$(c "$BASE/login" | csrf_of)
[[ -n $csrf ]] || die "登录页上没有 CSRF 令牌"
c -o /dev/null --data-urlencode "username=admin" --data-urlencode "password=$INITIAL" \
  --data-urlencode "_csrf=$csrf" "$BASE/login"

csrf=$(c "$BASE/password" | csrf_of)
[[ -n $csrf ]] || die "登录失败（修改密码页上没有 CSRF 令牌）"
NEWPASS="bench$(date +%s)x$RANDOM"
code=$(c -o /dev/null -w '%{http_code}' --data-urlencode "current=$INITIAL" \
  --data-urlencode "new=$NEWPASS" --data-urlencode "confirm=$NEWPASS" \
  --data-urlencode "_csrf=$csrf" "$BASE/password")
[[ $code == 303 || $code == 302 ]] || die "修改密码失败（HTTP $code）"

TOKEN=$(c --data-urlencode "name=bench" --data-urlencode "_csrf=$csrf" "$BASE/account/tokens" |
  sed -n 's/.*<code id="new-token">\([^<]*\)<\/code>.*/\1/p' | head -n1)
[[ -n $TOKEN ]] || die "没有拿到 API 令牌"
SESSION=$(awk '$6 == "fazhi_session" { print $7 }' "$JAR" | tail -n1)
[[ -n $SESSION ]] || die "没有会话 Cookie"

UNIT_ID=$(curl -sS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/units" |
  grep -o "\"id\":[0-9]*,\"name\":\"$UNIT\"" | grep -o '[0-9]*' | head -n1 || true)
[[ -n $UNIT_ID ]] || die "单位列表中没有“$UNIT”"
echo "== $UNIT: unit id $UNIT_ID" >&2

# --- a round, so /overview and /tasks have the county's 113 tasks -------------------
csrf=$(c "$BASE/rounds" | csrf_of)
code=$(c -o /dev/null -w '%{http_code}' --data-urlencode "name=基准测试轮次" \
  --data-urlencode "starts_on=2026-01-01" --data-urlencode "ends_on=2026-12-31" \
  --data-urlencode "due_on=$(date -u -d '+20 days' +%F)" --data-urlencode "_csrf=$csrf" \
  "$BASE/admin/rounds")
[[ $code == 303 ]] || die "开启轮次失败（HTTP $code）"

# --- load ----------------------------------------------------------------------------
API_PATH="/api/v1/units/$UNIT_ID/indicators"
PAGE_PATH="/units/$UNIT_ID"
BEARER="Authorization: Bearer $TOKEN"
COOKIE="Cookie: fazhi_session=$SESSION"

# wrk counts a redirect (to /login or /password) as a success: check first that each
# endpoint really answers 200 with the expected body.
check() { # path header expected-content-type
  local out
  out=$(curl -sS -o "$WORK/body" -w '%{http_code} %{content_type} %{size_download}' -H "$2" "$BASE$1")
  [[ $out == "200 $3"* ]] || die "GET $1 回答 $out，不是 200 $3"
  echo "$out" | awk '{ print $NF }'
}

# CPU time (user + system) the server has used so far, in clock ticks; empty off Linux.
server_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat" 2>/dev/null || true; }
TICKS_PER_S=$(getconf CLK_TCK 2>/dev/null || echo 100)

ROWS=()
run() { # label auth path header [connections]
  local label=$1 auth=$2 path=$3 header=$4 conns=${5:-$CONNECTIONS} threads=$THREADS bytes out rps p50 p99 errors load t0 t1 requests cpu
  case $path in
    /api/*) bytes=$(check "$path" "$header" application/json) ;;
    *) bytes=$(check "$path" "$header" text/html) ;;
  esac
  ((threads <= conns)) || threads=$conns
  if [[ $WARMUP != 0 ]]; then
    wrk -t"$threads" -c"$conns" -d"$WARMUP" -H "$header" "$BASE$path" >/dev/null
  fi
  load=$(uptime | sed 's/.*load average: //')
  echo >&2
  echo "== $label ($auth, $conns connections), $bytes bytes/response, load average before: $load" >&2
  echo "\$ wrk -t$threads -c$conns -d$DURATION --latency -H '${header%%:*}: …' $BASE$path" >&2
  t0=$(server_ticks)
  out=$(wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -H "$header" "$BASE$path")
  t1=$(server_ticks)
  echo "$out" >&2
  # Server CPU time per request: depends much less than req/s on how much of the
  # machine the server got (other processes, wrk itself).
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  cpu="?"
  if [[ -n $t0 && -n $t1 && ${requests:-0} -gt 0 ]]; then
    cpu=$(awk -v d=$((t1 - t0)) -v hz="$TICKS_PER_S" -v n="$requests" \
      'BEGIN { printf "%.2f ms", d * 1000 / hz / n }')
    echo "server CPU: $cpu per request" >&2
  fi
  check "$path" "$header" "$( [[ $path == /api/* ]] && echo application/json || echo text/html)" >/dev/null
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  errors=$(awk '
    /Socket errors:/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { n += $5 }
    END { print s + n }' <<<"$out")
  ROWS+=("| \`GET $path\` | $auth | $conns | $rps | $p50 | $p99 | $errors | $cpu |")
}

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
git diff --quiet HEAD -- crates Cargo.toml Cargo.lock 2>/dev/null || COMMIT="$COMMIT (with uncommitted changes)"
[[ -z ${FAZHI_BIN:-} ]] || COMMIT="binary $BIN"
WRK_VERSION=$(wrk -v 2>&1 | head -n1 | awk '{ print $2 }' || true)
SUMMARY="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $COMMIT, wrk $WRK_VERSION -t$THREADS -d$DURATION"
LOAD_BEFORE=$(uptime | sed 's/.*load average: //')
echo >&2
echo "== $SUMMARY" >&2
echo "== load average before: $LOAD_BEFORE" >&2
run "API list" "Bearer token" "$API_PATH" "$BEARER"
run "API list" "session cookie" "$API_PATH" "$COOKIE"
run "单位责任清单 page" "session cookie" "$PAGE_PATH" "$COOKIE"
run "达标总览 page" "session cookie" "/overview" "$COOKIE"
run "任务 page" "session cookie" "/tasks" "$COOKIE"
run "工作看板 page" "session cookie" "/dashboard" "$COOKIE"
# With a closed loop of N connections the median latency is about N / throughput
# (Little's law), so the time one request takes is measured on its own too.
if [[ $LATENCY_CONNECTIONS != 0 ]]; then
  run "API list" "Bearer token" "$API_PATH" "$BEARER" "$LATENCY_CONNECTIONS"
  run "API list" "session cookie" "$API_PATH" "$COOKIE" "$LATENCY_CONNECTIONS"
  run "单位责任清单 page" "session cookie" "$PAGE_PATH" "$COOKIE" "$LATENCY_CONNECTIONS"
  run "达标总览 page" "session cookie" "/overview" "$COOKIE" "$LATENCY_CONNECTIONS"
  run "任务 page" "session cookie" "/tasks" "$COOKIE" "$LATENCY_CONNECTIONS"
  run "工作看板 page" "session cookie" "/dashboard" "$COOKIE" "$LATENCY_CONNECTIONS"
fi

echo "$SUMMARY"
echo "load average (1, 5, 15 min) before: $LOAD_BEFORE; after: $(uptime | sed 's/.*load average: //')"
echo
echo "| endpoint | auth | connections | req/s | p50 | p99 | errors | server CPU/request |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
