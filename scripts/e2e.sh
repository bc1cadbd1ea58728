#!/usr/bin/env bash
# Real-browser end-to-end test: starts a fresh fazhi server on a free local port with an
# empty data folder, then drives Debian's chromium through it (tests/e2e, node --test).
#
#   FAZHI_BIN=path/to/fazhi   use this binary instead of `cargo build -p fazhi-cli`
#   FAZHI_E2E=skip            skip the whole test (prints a line, exits 0)
#   FAZHI_E2E_SCREENSHOTS=DIR where the screenshots go (default target/e2e-screenshots)
#   FAZHI_E2E_CHROMIUM=PATH   the browser (default /usr/bin/chromium)
#   FAZHI_E2E_ONLY=FILES      run only these test files (default tests/e2e/*.test.mjs)
#
# Needs chromium (apt-get install chromium fonts-noto-cjk), sqlite3 and node; runs `npm ci` in
# tests/e2e when its node_modules is missing. A missing browser is an error, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [[ "${FAZHI_E2E:-}" == "skip" ]]; then
  echo "已跳过浏览器端到端测试 (FAZHI_E2E=skip)"
  exit 0
fi

fail() {
  echo "e2e: $*" >&2
  echo "e2e: 如确需跳过浏览器测试，请设置 FAZHI_E2E=skip" >&2
  exit 1
}

CHROMIUM="${FAZHI_E2E_CHROMIUM:-/usr/bin/chromium}"
[[ -x "$CHROMIUM" ]] || fail "找不到浏览器 $CHROMIUM；请先安装：apt-get install -y --no-install-recommends chromium fonts-noto-cjk"
command -v node >/dev/null || fail "找不到 node（Node.js 20 或更新版本）"
command -v curl >/dev/null || fail "找不到 curl"
command -v sqlite3 >/dev/null || fail "找不到 sqlite3（审计日志篡改检测一步要用）；请先安装：apt-get install -y sqlite3"

if [[ ! -d tests/e2e/node_modules/playwright-core ]]; then
  command -v npm >/dev/null || fail "找不到 npm，无法安装 tests/e2e 的依赖"
  echo "== e2e: npm ci (tests/e2e)"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci 失败（tests/e2e）"
fi
[[ -d tests/e2e/node_modules/playwright-core ]] || fail "tests/e2e/node_modules 中没有 playwright-core"

if [[ -n "${FAZHI_BIN:-}" ]]; then
  BIN="$FAZHI_BIN"
else
  echo "== e2e: cargo build -p fazhi-cli"
  cargo build -p fazhi-cli --quiet
  BIN="${CARGO_TARGET_DIR:-target}/debug/fazhi"
fi
[[ "$BIN" == /* ]] || BIN="$ROOT/$BIN"
[[ -x "$BIN" ]] || fail "找不到可执行文件 $BIN"

SHOTS="${FAZHI_E2E_SCREENSHOTS:-target/e2e-screenshots}"
[[ "$SHOTS" == /* ]] || SHOTS="$ROOT/$SHOTS"
mkdir -p "$SHOTS"
rm -f "$SHOTS"/[0-9][0-9]-*.png "$SHOTS"/failed-*.png  # only what an earlier run left

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fazhi-e2e.XXXXXX")"
SERVER_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -f "$WORK/server.log" ]]; then
    echo "---- e2e: 服务器输出（最后 40 行）" >&2
    tail -n 40 "$WORK/server.log" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free port: bind port 0 on loopback, read what the kernel gave, release it.
PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
BASE="http://127.0.0.1:$PORT"

echo "== e2e: 启动 $BIN serve（$BASE）"
# No FAZHI_* from the caller's environment may point the server at another database.
env -u FAZHI_DATABASE_URL -u FAZHI_CONFIG -u FAZHI_DATA_DIR -u FAZHI_BIND \
  RUST_LOG="${RUST_LOG:-warn}" \
  "$BIN" serve --data-dir "$WORK/data" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 300); do
  if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || fail "服务器启动失败"
  sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null 2>&1 || fail "服务器 30 秒内没有就绪（$BASE/healthz）"

ADMIN_PASSWORD="$(sed -n 's/^ *初始密码：\(.*\)$/\1/p' "$WORK/server.log" | head -n 1 | tr -d '[:space:]')"
[[ -n "$ADMIN_PASSWORD" ]] || fail "没有在服务器输出中找到“初始密码：”一行"

echo "== e2e: node --test tests/e2e/（截图目录 $SHOTS）"
FAZHI_E2E_BASE_URL="$BASE" \
FAZHI_E2E_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
FAZHI_E2E_BIN="$BIN" \
FAZHI_E2E_DATA_DIR="$WORK/data" \
FAZHI_E2E_SCREENSHOTS="$SHOTS" \
FAZHI_E2E_CHROMIUM="$CHROMIUM" \
  node --test --test-concurrency=1 ${FAZHI_E2E_ONLY:-tests/e2e/*.test.mjs}
