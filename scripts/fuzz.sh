#!/usr/bin/env bash
# Fuzzes every parser that reads uploaded or hand-edited input (fuzz/fuzz_targets) for
# SECONDS each (default 60), starting from the checked-in seed corpus (fuzz/corpus, read
# only; new inputs go to a temporary directory). Fails on any crash, panic, timeout or
# allocation over the limits below; the input that failed is kept under fuzz/artifacts/.
#
#   scripts/fuzz.sh [SECONDS]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and a nightly compiler, or the
# stable one with RUSTC_BOOTSTRAP=1 (used when no nightly toolchain is installed).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
targets=(import_text import_csv import_xlsx rules holiday_csv)
# Separate from the main target directory: fuzz builds use other compiler flags.
target_dir="${FUZZ_TARGET_DIR:-$HOME/.cache/fazhi-fuzz-target}"
# No fuzz input is larger than a few tens of KB: a single allocation over 1 GB, or a
# process over 2 GB, is a bug (an input claiming a size it does not have).
limits=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10)

if rustup run nightly rustc --version >/dev/null 2>&1; then
  cargo_fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  cargo_fuzz=(cargo fuzz)
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "缺少 cargo-fuzz：cargo install cargo-fuzz --locked" >&2
  exit 2
fi

echo "== fuzz build"
"${cargo_fuzz[@]}" build --target-dir "$target_dir"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
summary=()
for target in "${targets[@]}"; do
  echo "== fuzz $target (${seconds}s)"
  mkdir -p "$work/$target" "artifacts/$target"
  set +e
  "${cargo_fuzz[@]}" run --target-dir "$target_dir" "$target" "$work/$target" "corpus/$target" -- \
    -max_total_time="$seconds" "${limits[@]}" -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" >"$work/$target.log" 2>&1
  rc=$?
  set -e
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.log" | tail -n 1)"
  corpus="$(find "$work/$target" -type f | wc -l)"
  if [[ $rc -ne 0 ]]; then
    failed+=("$target")
    summary+=("$(printf '%-12s %12s executions  FAILED (exit %s)' "$target" "${execs:-?}" "$rc")")
    tail -n 60 "$work/$target.log" >&2
  else
    summary+=("$(printf '%-12s %12s executions  ok (%s new corpus inputs)' "$target" "${execs:-?}" "$corpus")")
  fi
done

echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing found failures in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
