#!/usr/bin/env bash
# Checks the JSON API against its own OpenAPI document on a real server:
#   1. openapi-spec-validator (PyPI): the document is valid OpenAPI;
#   2. schemathesis (PyPI): generated requests with an admin token; no server error, no
#      undocumented status, every response matching its schema.
# Starts a fresh `fazhi serve` on a free loopback port with an empty data folder.
#
#   FAZHI_BIN=path/to/fazhi   use this binary instead of `cargo build -p fazhi-cli`
#   FAZHI_API_CHECK=skip      skip (prints a line, exits 0); CI never skips
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [[ "${FAZHI_API_CHECK:-}" == "skip" ]]; then
  echo "已跳过接口检查 (FAZHI_API_CHECK=skip)"
  exit 0
fi
fail() {
  echo "api-check: $*" >&2
  exit 1
}
command -v openapi-spec-validator >/dev/null || fail "找不到 openapi-spec-validator（pip install openapi-spec-validator）"
command -v schemathesis >/dev/null || fail "找不到 schemathesis（pip install schemathesis）"

if [[ -n "${FAZHI_BIN:-}" ]]; then
  BIN="$FAZHI_BIN"
else
  cargo build -p fazhi-cli --quiet
  BIN="${CARGO_TARGET_DIR:-target}/debug/fazhi"
fi
[[ "$BIN" == /* ]] || BIN="$ROOT/$BIN"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fazhi-api.XXXXXX")"
SERVER_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -f "$WORK/server.log" ]]; then
    tail -n 40 "$WORK/server.log" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
env -u FAZHI_DATABASE_URL -u FAZHI_CONFIG -u FAZHI_DATA_DIR -u FAZHI_BIND RUST_LOG=warn \
  "$BIN" serve --data-dir "$WORK/data" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "服务器启动失败"
  sleep 0.1
done
PASSWORD="$(sed -n 's/^ *初始密码：\(.*\)$/\1/p' "$WORK/server.log" | head -n 1 | tr -d '[:space:]')"
[[ -n "$PASSWORD" ]] || fail "没有在服务器输出中找到“初始密码：”"

# Log in as a person would (the first login must change the password), then make a token.
JAR="$WORK/cookies"
csrf() { curl -fsS -b "$JAR" -c "$JAR" "$BASE$1" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1; }
T="$(csrf /login)"
curl -fsS -o /dev/null -b "$JAR" -c "$JAR" --data-urlencode "_csrf=$T" \
  --data-urlencode username=admin --data-urlencode "password=$PASSWORD" "$BASE/login"
NEW="api-check-$(date +%s)-Pw"
T="$(csrf /password)"
curl -fsS -o /dev/null -b "$JAR" -c "$JAR" --data-urlencode "_csrf=$T" \
  --data-urlencode "current=$PASSWORD" --data-urlencode "new=$NEW" --data-urlencode "confirm=$NEW" \
  "$BASE/password"
T="$(csrf /account/tokens)"
TOKEN="$(curl -fsS -b "$JAR" -c "$JAR" --data-urlencode "_csrf=$T" --data-urlencode "name=api-check" \
  "$BASE/account/tokens" | sed -n 's/.*<code id="new-token">\(fz_[0-9a-f]*\)<\/code>.*/\1/p')"
[[ -n "$TOKEN" ]] || fail "没有拿到接口令牌"

echo "== api-check: openapi-spec-validator"
curl -fsS "$BASE/api/v1/openapi.json" -o "$WORK/openapi.json"
openapi-spec-validator "$WORK/openapi.json"

echo "== api-check: schemathesis"
# Bounded: a fixed number of examples per operation, loopback only.
schemathesis --config-file "$ROOT/scripts/schemathesis.toml" run "$WORK/openapi.json" --url "$BASE" \
  --header "Authorization: Bearer $TOKEN" \
  --checks all --max-examples "${FAZHI_API_EXAMPLES:-60}" \
  --seed 1 --no-color
