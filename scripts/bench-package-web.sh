#!/usr/bin/env bash
# Benchmark of the 佐证材料汇编 built and downloaded through the server (BENCHMARKS.md,
# section "Evidence package through the web"). The same generated round as
# scripts/bench-package.sh (the example `bench_round`: one BENCH_BIG_MIB MiB recording and
# BENCH_SMALL_COUNT photos of BENCH_SMALL_MIB MiB, all approved), then in one run:
#
#   cat  of every blob to /dev/null         (reading alone; warms the page cache)
#   fazhi package build --out X.zip         (the command line, for comparison)
#   fazhi serve, the 材料汇编 form           (POST /packages; the server's worker builds it;
#                                             polled through /api/v1/packages/{id})
#   curl of /packages/{id}/file > /dev/null (the whole download)
#   curl with Range: the last 1 GiB          (a resumed download)
#
# For the server steps the peak RSS is the server's (VmHWM, reset before each step by
# writing 5 to /proc/PID/clear_refs). Prints a Markdown table. The data directory is
# removed on exit.
#
# Settings (environment): BENCH_BIG_MIB (default 4200), BENCH_SMALL_COUNT (200),
# BENCH_SMALL_MIB (2), BENCH_DIR, FAZHI_BIN (default a release build), BENCH_EXAMPLE (the
# bench_round binary; default built in release).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "错误：$*" >&2; exit 1; }
for tool in curl python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || die "需要 $tool"
done

BIG=${BENCH_BIG_MIB:-4200}
COUNT=${BENCH_SMALL_COUNT:-200}
SMALL=${BENCH_SMALL_MIB:-2}

source scripts/lib/release-bin.sh
if [[ -n ${BENCH_EXAMPLE:-} ]]; then
  EXAMPLE=$BENCH_EXAMPLE
else
  cargo build --release -p fazhi-package --example bench_round
  target_dir=${CARGO_TARGET_DIR:-target}
  [[ $target_dir == /* ]] || target_dir="$PWD/$target_dir"
  EXAMPLE="$target_dir/release/examples/bench_round"
fi
[[ -x $EXAMPLE ]] || die "找不到 $EXAMPLE"

DIR=${BENCH_DIR:-$(mktemp -d /tmp/fazhi-bench-package-web.XXXXXX)}
mkdir -p "$DIR"
DATA="$DIR/data"
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT

echo "== 生成轮次：1 × ${BIG} MiB + ${COUNT} × ${SMALL} MiB（$DATA）" >&2
PASSWORD="$(env -u FAZHI_DATABASE_URL -u FAZHI_CONFIG "$BIN" user list --data-dir "$DATA" | sed -n 's/^ *初始密码：\(.*\)$/\1/p' | head -n 1 | tr -d '[:space:]')"
[[ -n $PASSWORD ]] || die "没有拿到管理员初始密码"
"$EXAMPLE" "$DATA" "$BIG" "$COUNT" "$SMALL"
BLOBS="$DATA/files/blobs"
TOTAL=$(find "$BLOBS" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
FILES=$(find "$BLOBS" -type f | wc -l)
MIB_TOTAL=$(awk -v b="$TOTAL" 'BEGIN {printf "%.0f", b/1048576}')

declare -A SECS RSS
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b-a}'; }
measure() { # name, command... (a process of its own: its peak RSS)
  local name=$1; shift
  local log="$DIR/$name.time"
  /usr/bin/time -v -o "$log" "$@" >"$DIR/$name.out" 2>&1 || { cat "$DIR/$name.out" >&2; die "$name 失败"; }
  SECS[$name]=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
  RSS[$name]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
}

echo "== cat" >&2
measure cat sh -c "find '$BLOBS' -type f -print0 | xargs -0 cat > /dev/null"
echo "== fazhi package build（命令行）" >&2
measure cli "$BIN" package build --out "$DIR/cli.zip" --data-dir "$DATA"
CLI_SIZE=$(stat -c %s "$DIR/cli.zip")
rm -f "$DIR/cli.zip"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
env -u FAZHI_DATABASE_URL -u FAZHI_CONFIG RUST_LOG=warn \
  "$BIN" serve --data-dir "$DATA" --bind "127.0.0.1:$PORT" >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null || die "服务器没有启动"

JAR="$DIR/cookies"
csrf() { curl -fsS -b "$JAR" -c "$JAR" "$BASE$1" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1; }
T="$(csrf /login)"
curl -fsS -o /dev/null -b "$JAR" -c "$JAR" --data-urlencode "_csrf=$T" \
  --data-urlencode username=admin --data-urlencode "password=$PASSWORD" "$BASE/login"
NEW="bench-$(date +%s)-Pw"
T="$(csrf /password)"
curl -fsS -o /dev/null -b "$JAR" -c "$JAR" --data-urlencode "_csrf=$T" \
  --data-urlencode "current=$PASSWORD" --data-urlencode "new=$NEW" --data-urlencode "confirm=$NEW" "$BASE/password"

hwm_reset() { echo 5 >"/proc/$SERVER_PID/clear_refs"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
IDLE_KIB=$(rss_kib)

echo "== 网页提交，服务器后台生成" >&2
T="$(csrf /packages)"
hwm_reset
START=$(now)
LOCATION="$(curl -fsS -o /dev/null -w '%{redirect_url}' -b "$JAR" -c "$JAR" --data-urlencode "_csrf=$T" \
  --data-urlencode evidence=approved "$BASE/packages")"
JOB="${LOCATION##*#job-}"
[[ $JOB =~ ^[0-9]+$ ]] || die "没有拿到任务编号（$LOCATION）"
STATUS=""
while :; do
  STATUS="$(curl -fsS -b "$JAR" "$BASE/api/v1/packages/$JOB" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
  [[ $STATUS == queued || $STATUS == running ]] || break
  sleep 0.5
done
END=$(now)
[[ $STATUS == done ]] || die "任务 #$JOB 结束于 $STATUS"
SECS[web]=$(elapsed "$START" "$END")
RSS[web]=$(hwm_kib)
WEB_SIZE="$(curl -fsS -b "$JAR" "$BASE/api/v1/packages/$JOB" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')"

echo "== 下载整个压缩包" >&2
hwm_reset
START=$(now)
GOT="$(curl -fsS -o /dev/null -w '%{size_download}' -b "$JAR" "$BASE/packages/$JOB/file")"
END=$(now)
[[ $GOT == "$WEB_SIZE" ]] || die "下载了 $GOT 字节，应为 $WEB_SIZE"
SECS[download]=$(elapsed "$START" "$END")
RSS[download]=$(hwm_kib)

echo "== 断点续传：最后 1 GiB" >&2
FROM=$((WEB_SIZE - 1073741824))
hwm_reset
START=$(now)
CODE="$(curl -fsS -o /dev/null -w '%{http_code} %{size_download}' -H "Range: bytes=$FROM-" -b "$JAR" "$BASE/packages/$JOB/file")"
END=$(now)
[[ $CODE == "206 1073741824" ]] || die "续传应得 206 与 1 GiB：$CODE"
SECS[resume]=$(elapsed "$START" "$END")
RSS[resume]=$(hwm_kib)

echo
echo "Content: $FILES files, $MIB_TOTAL MiB; archive $WEB_SIZE bytes from the server ($CLI_SIZE from the command line)."
echo
echo "| step | seconds | MiB/s | time ÷ cat | peak RSS |"
echo "|---|---|---|---|---|"
for name in cat cli web download resume; do
  mib=$MIB_TOTAL
  [[ $name == resume ]] && mib=1024
  awk -v n="$name" -v s="${SECS[$name]}" -v c="${SECS[cat]}" -v m="$mib" -v t="$MIB_TOTAL" -v r="${RSS[$name]}" \
    'BEGIN {ratio = (c>0 && m==t) ? sprintf("%.2f", s/c) : "—";
            printf "| %s | %.2f | %.0f | %s | %.1f MiB |\n", n, s, (s>0? m/s : 0), ratio, r/1024}'
done
echo
echo "(cli: fazhi package build, its own process; web, download, resume: the fazhi serve process,"
echo " whose RSS after login and before the build was $(awk -v k="$IDLE_KIB" 'BEGIN {printf "%.1f", k/1024}') MiB)"
