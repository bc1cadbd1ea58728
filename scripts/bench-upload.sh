#!/usr/bin/env bash
# HTTP upload benchmark (see BENCHMARKS.md, section "HTTP upload (1 GiB over loopback)").
#
# Builds the release binary, creates a 1 GiB file of random bytes, times `sha256sum` on it
# (the file is in the page cache: read once before), then starts `fazhi serve` on a free
# loopback port with a throw-away data directory and, with curl and a cookie jar:
#
#   - the administrator logs in, changes the initial password and opens a round;
#   - a liaison of 县司法局 (created with `fazhi user add`) logs in, changes the password
#     and signs for the first of the unit's tasks.
#
# The server is then restarted (the session lives in the database), so that the memory the
# set-up's password hashes left behind does not count, and the file is uploaded as evidence
# with `curl -F file=@…` to POST /tasks/{id}/files, BENCH_RUNS times. Before each run after
# the first, 8 bytes of the file are changed in place, so no run is deduplicated against
# an earlier one. For each run: wall time (curl's time_total), MiB/s, ratio to the time of
# `sha256sum`, the server's peak RSS during the run (VmHWM, reset before each run through
# /proc/<pid>/clear_refs) and its CPU time (user + system). Prints a Markdown table.
#
# Loopback only; the server is stopped and the work directory (with the 1 GiB file and the
# data directory) removed on exit. Nothing is installed. Linux only (/proc).
#
# With BENCH_CHUNKED=1 each run goes the way the page sends large files (断点续传,
# views/uploads.rs): POST /tasks/{id}/uploads announces it, 8 MiB chunks follow as
# PATCH /uploads/{token} (one curl each, read from the file with dd), and
# POST /uploads/{token}/finish assembles them into the store (hashing on the way); the time
# is split into sending and assembling.
#
# Settings (environment):
#   BENCH_CHUNKED      1: send in chunks, as the page does for files over 8 MiB (default 0)
#   BENCH_MIB          size of the file in MiB          (default 1024)
#   BENCH_RUNS         uploads of the file              (default 3)
#   FAZHI_BIN          use this binary instead of building one
#   CARGO_TARGET_DIR   honoured by the build and when locating the binary
#   TMPDIR             where the work directory goes    (default /tmp; needs 2×BENCH_MIB
#                      free per run: the file, and its copy in the store)
set -euo pipefail
cd "$(dirname "$0")/.."

MIB=${BENCH_MIB:-1024}
RUNS=${BENCH_RUNS:-3}
CHUNKED=${BENCH_CHUNKED:-0}
CHUNK_MIB=8
LIAISON=bench-sifa
UNIT=县司法局

die() {
  echo "bench-upload: $*" >&2
  exit 1
}

for tool in curl sha256sum awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool 未安装"
done
[[ -r /proc/self/status ]] || die "需要 Linux 的 /proc"

# --- build -------------------------------------------------------------------------
# shellcheck source=scripts/lib/release-bin.sh
source scripts/lib/release-bin.sh  # the scripts run from the repository root

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fazhi-bench-upload.XXXXXX")
SERVER_PID=""
stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the file and sha256sum ----------------------------------------------------------
FILE="$WORK/upload.bin"
echo "== $MIB MiB of random bytes in $FILE" >&2
head -c "$((MIB * 1024 * 1024))" /dev/urandom >"$FILE"
cat "$FILE" >/dev/null # in the page cache, as for the upload
now() { date +%s.%N; }
t0=$(now)
sha256sum "$FILE" >/dev/null
t1=$(now)
SHA_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "== sha256sum: $SHA_S s" >&2

# --- server --------------------------------------------------------------------------
DATA="$WORK/data"
env -u FAZHI_DATABASE_URL -u FAZHI_CONFIG -u FAZHI_DATA_DIR \
  "$BIN" user add "$LIAISON" --name 压测联络员 --unit "$UNIT" --data-dir "$DATA" >"$WORK/user.out"
ADMIN_INITIAL=$(sed -n 's/^ *初始密码：\(.*\)$/\1/p' "$WORK/user.out" | head -n1 | tr -d '[:space:]')
LIAISON_INITIAL=$(sed -n 's/^已创建用户.*初始密码：\(.*\)$/\1/p' "$WORK/user.out" | head -n1 | tr -d '[:space:]')
[[ -n $ADMIN_INITIAL && -n $LIAISON_INITIAL ]] || die "fazhi user add 没有打印初始密码"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

PORT=""
start_server() { # on $PORT if set, else on a free port
  local candidates=("$PORT") n
  [[ -n $PORT ]] || candidates=()
  for _ in 1 2 3 4 5 6 7 8 9 10; do candidates+=($((20000 + RANDOM % 40000))); done
  for candidate in "${candidates[@]}"; do
    [[ $candidate == "$PORT" ]] || ! port_in_use "$candidate" || continue
    env -u FAZHI_DATABASE_URL -u FAZHI_CONFIG -u FAZHI_DATA_DIR -u FAZHI_BIND \
      "$BIN" serve --data-dir "$DATA" --bind "127.0.0.1:$candidate" \
      >"$WORK/server.out" 2>"$WORK/server.err" &
    SERVER_PID=$!
    for n in $(seq 1 300); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      if curl -fsS -o /dev/null "http://127.0.0.1:$candidate/healthz" 2>/dev/null; then
        PORT=$candidate
        return 0
      fi
      sleep 0.1
    done
    stop_server
  done
  cat "$WORK/server.err" >&2 || true
  die "服务没有启动"
}
start_server
BASE="http://127.0.0.1:$PORT"
echo "== fazhi serve on $BASE (pid $SERVER_PID, data $DATA)" >&2

status_kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$SERVER_PID/status"; }
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$SERVER_PID/stat"; } # user, system
TICKS_PER_S=$(getconf CLK_TCK 2>/dev/null || echo 100)
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# --- set-up: round, liaison, signed task ---------------------------------------------
csrf_of() { sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -n1; }
# login JAR USER PASSWORD NEW_PASSWORD: first login with the forced password change.
first_login() {
  local jar=$1 user=$2 initial=$3 new=$4 csrf code
  c() { curl -sS -b "$jar" -c "$jar" "$@"; }
  csrf=$(c "$BASE/login" | csrf_of)
  [[ -n $csrf ]] || die "登录页上没有 CSRF 令牌"
  code=$(c -o /dev/null -w '%{http_code} %{redirect_url}' --data-urlencode "username=$user" \
    --data-urlencode "password=$initial" --data-urlencode "_csrf=$csrf" "$BASE/login")
  [[ $code == "303 $BASE/password" ]] || die "$user 登录失败（$code）"
  csrf=$(c "$BASE/password" | csrf_of)
  code=$(c -o /dev/null -w '%{http_code}' --data-urlencode "current=$initial" \
    --data-urlencode "new=$new" --data-urlencode "confirm=$new" \
    --data-urlencode "_csrf=$csrf" "$BASE/password")
  [[ $code == 303 ]] || die "$user 修改密码失败（HTTP $code）"
}
ADMIN_JAR="$WORK/admin.jar"
JAR="$WORK/liaison.jar"
first_login "$ADMIN_JAR" admin "$ADMIN_INITIAL" "Bench-admin-$RANDOM$RANDOM"
csrf=$(curl -sS -b "$ADMIN_JAR" "$BASE/rounds" | csrf_of)
code=$(curl -sS -b "$ADMIN_JAR" -o /dev/null -w '%{http_code}' --data-urlencode "name=压测轮次" \
  --data-urlencode "starts_on=2027-01-01" --data-urlencode "ends_on=2027-12-31" \
  --data-urlencode "_csrf=$csrf" "$BASE/admin/rounds")
[[ $code == 303 ]] || die "开启轮次失败（HTTP $code）"
first_login "$JAR" "$LIAISON" "$LIAISON_INITIAL" "Bench-liaison-$RANDOM$RANDOM"
TASK=$(curl -sS -b "$JAR" "$BASE/tasks" | grep -o 'href="/tasks/[0-9]*"' | head -n1 | grep -o '[0-9]*' || true)
[[ -n $TASK ]] || die "联络员的任务列表是空的"
csrf=$(curl -sS -b "$JAR" "$BASE/tasks/$TASK" | csrf_of)
code=$(curl -sS -b "$JAR" -o /dev/null -w '%{http_code}' --data-urlencode "action=sign" \
  --data-urlencode "_csrf=$csrf" "$BASE/tasks/$TASK/action")
[[ $code == 303 ]] || die "签收任务失败（HTTP $code）"
SETUP_HWM=$(status_kib VmHWM)
SETUP_RSS=$(status_kib VmRSS)
echo "== set-up done (task $TASK); that server: VmHWM $(mib "$SETUP_HWM") MiB, VmRSS $(mib "$SETUP_RSS") MiB" >&2

# A fresh process for the measurement; the session is in the database.
stop_server
start_server
BASE="http://127.0.0.1:$PORT"
csrf=$(curl -sS -b "$JAR" "$BASE/tasks/$TASK" | csrf_of)
[[ -n $csrf ]] || die "重启后会话失效"
START_HWM=$(status_kib VmHWM)
echo "== restarted (pid $SERVER_PID): VmHWM $(mib "$START_HWM") MiB" >&2

# --- the uploads -----------------------------------------------------------------------
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
git diff --quiet HEAD -- crates Cargo.toml Cargo.lock 2>/dev/null || COMMIT="$COMMIT (with uncommitted changes)"
[[ -z ${FAZHI_BIN:-} ]] || COMMIT="binary $BIN"
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
SUMMARY="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($CPU), $COMMIT, curl $(curl --version | awk 'NR == 1 { print $2 }')"
LOAD_BEFORE=$(uptime | sed 's/.*load average: //')
echo "== $SUMMARY; load average before: $LOAD_BEFORE" >&2

# upload_chunked RUN: announce, send the chunks, finish; prints "303 SECONDS BYTES" like the
# whole upload (303 standing for success) and notes the split on stderr.
upload_chunked() {
  local run=$1 size token off code t0 t1 t2 sent=0
  size=$((MIB * 1024 * 1024))
  t0=$(now)
  token=$(curl -sS -b "$JAR" -H "X-CSRF-Token: $csrf" --data-urlencode "name=upload.bin" \
    --data-urlencode "size=$size" --data-urlencode "title=压测分段上传 $run" \
    "$BASE/tasks/$TASK/uploads" | sed -n 's/.*"upload":"\([0-9a-f]*\)".*/\1/p')
  [[ -n $token ]] || die "分段上传没有开始"
  for ((off = 0; off < size; off += CHUNK_MIB * 1024 * 1024)); do
    code=$(dd if="$FILE" bs=1M skip=$((off / 1048576)) count=$CHUNK_MIB status=none |
      curl -sS -b "$JAR" -X PATCH -H 'Expect:' -H "X-CSRF-Token: $csrf" -H "Upload-Offset: $off" \
        -H 'Content-Type: application/octet-stream' --data-binary @- -o "$WORK/response" \
        -w '%{http_code} %{size_upload}' "$BASE/uploads/$token")
    [[ ${code%% *} == 200 ]] || die "第 $off 字节起的分段失败（HTTP $code）：$(head -c 300 "$WORK/response")"
    sent=$((sent + ${code##* }))
  done
  t1=$(now)
  code=$(curl -sS -b "$JAR" -X POST -H "X-CSRF-Token: $csrf" -o "$WORK/response" -w '%{http_code}' \
    "$BASE/uploads/$token/finish")
  [[ $code == 200 ]] || die "合并失败（HTTP $code）：$(head -c 300 "$WORK/response")"
  t2=$(now)
  awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "   chunks %.2f s, assembly %.2f s\n", b - a, c - b }' >&2
  awk -v a="$t0" -v c="$t2" -v n="$sent" 'BEGIN { printf "303 %.3f %d\n", c - a, n }'
}

ROWS=()
for run in $(seq 1 "$RUNS"); do
  if ((run > 1)); then
    printf '%08d' "$run" | dd of="$FILE" bs=8 count=1 conv=notrunc status=none
  fi
  reset="no"
  if echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null; then reset="yes"; fi
  read -r u0 s0 <<<"$(cpu_ticks)"
  if [[ $CHUNKED == 1 ]]; then
    out=$(upload_chunked "$run")
  else
    out=$(curl -sS -b "$JAR" -H 'Expect:' -o "$WORK/response" \
      -w '%{http_code} %{time_total} %{size_upload}' \
      -F "title=压测上传 $run" -F "file=@$FILE;type=application/octet-stream" \
      "$BASE/tasks/$TASK/files?_csrf=$csrf")
  fi
  read -r u1 s1 <<<"$(cpu_ticks)"
  read -r code secs sent <<<"$out"
  [[ $code == 303 ]] || die "上传失败（HTTP $code）：$(head -c 500 "$WORK/response")"
  hwm=$(status_kib VmHWM)
  rss=$(status_kib VmRSS)
  row=$(awk -v s="$secs" -v b="$sent" -v m="$MIB" -v sha="$SHA_S" -v hwm="$hwm" -v rss="$rss" \
    -v user=$((u1 - u0)) -v sys=$((s1 - s0)) -v hz="$TICKS_PER_S" -v run="$run" \
    -v reset="$reset" 'BEGIN {
      printf "| %d | %.2f s | %.0f MiB/s | %.2f s | %.2f | %.1f MiB%s | %.1f MiB | %.2f s + %.2f s |",
        run, s, m / s, sha, s / sha, hwm / 1024, (reset == "yes" ? "" : " (since start)"),
        rss / 1024, user / hz, sys / hz
    }')
  echo "$row ($sent bytes sent)" >&2
  ROWS+=("$row")
done
page=$(curl -sS -b "$JAR" "$BASE/tasks/$TASK")
grep -q "佐证材料（$RUNS）" <<<"$page" || die "任务页上的佐证材料数量不对"
# (find fails on a folder that was never made: no stray file there either)
STRAY=$({ find "$DATA/files/tmp" "$DATA/files/uploads" -type f 2>/dev/null || true; } | wc -l)
[[ $STRAY == 0 ]] || die "上传后 tmp 或 uploads 中留有 $STRAY 个文件"

echo "$SUMMARY; $([[ $CHUNKED == 1 ]] && echo "in ${CHUNK_MIB} MiB chunks (断点续传)" || echo "one multipart request")"
echo "load average (1, 5, 15 min) before: $LOAD_BEFORE; after: $(uptime | sed 's/.*load average: //')"
echo "set-up server (6 password hashes): VmHWM $(mib "$SETUP_HWM") MiB, VmRSS $(mib "$SETUP_RSS") MiB; measured server after start: VmHWM $(mib "$START_HWM") MiB"
echo
echo "| run | upload (curl time_total) | throughput | sha256sum | ratio upload/sha256sum | server peak RSS (VmHWM) | server RSS after | server CPU (user + system) |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
