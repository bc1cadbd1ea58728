#!/usr/bin/env bash
# Runs every test of the project. The README's test command; CI calls it too.
set -euo pipefail
cd "$(dirname "$0")/.."

# The storage tests run on SQLite and, when it answers, on PostgreSQL. Say so up front:
# the test runner would otherwise hide the per-test "skipped" notes.
pg_url="${FAZHI_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
if [[ "${FAZHI_TEST_PG:-auto}" == "skip" ]]; then
  echo "注意：FAZHI_TEST_PG=skip，PostgreSQL 存储测试已跳过，只在 SQLite 上运行。" >&2
elif command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -d "$pg_url"; then
  if [[ "${FAZHI_TEST_PG:-auto}" == "require" ]]; then
    echo "错误：FAZHI_TEST_PG=require，但 PostgreSQL（$pg_url）不可用。" >&2
    exit 1
  fi
  echo "注意：PostgreSQL（$pg_url）不可用，PostgreSQL 存储测试已跳过，只在 SQLite 上运行。" >&2
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  echo "cargo-nextest 未安装，改用 cargo test" >&2
  cargo test --workspace --no-fail-fast
fi
# Doc examples: nextest does not run them.
cargo test --workspace --doc --quiet

# The JSON API against its OpenAPI document (openapi-spec-validator, schemathesis).
./scripts/api-check.sh

# Real-browser end-to-end test (needs chromium + node; FAZHI_E2E=skip skips it locally).
./scripts/e2e.sh
