#!/usr/bin/env bash
# Runs every test of the project. The README's test command; CI calls it too.
set -euo pipefail
cd "$(dirname "$0")/.."

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  echo "cargo-nextest 未安装，改用 cargo test" >&2
  cargo test --workspace --no-fail-fast
fi
# Doc examples: nextest does not run them.
cargo test --workspace --doc --quiet

# Real-browser end-to-end test (needs chromium + node; FAZHI_E2E=skip skips it locally).
./scripts/e2e.sh
