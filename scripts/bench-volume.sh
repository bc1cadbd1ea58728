#!/usr/bin/env bash
# Benchmark of the bound volume (合订本, `fazhi package build --format pdf`; BENCHMARKS.md,
# section "Bound volume"): peak memory and time against the evidence embedded.
#
# For each count N in BENCH_COUNTS: a throw-away data directory, a round with N approved
# scans as PDFs (`bench_round` with BENCH_PDF=1: one page each, an uncompressed image of
# BENCH_SMALL_MIB MiB of noise), then `fazhi package build --format pdf` under
# /usr/bin/time -v. Prints a Markdown table: evidence MiB, pages, seconds, peak RSS, volume size.
#
# Settings (environment):
#   BENCH_COUNTS     scans per run          (default "10 50 100")
#   BENCH_SMALL_MIB  size of each scan      (default 2)
#   FAZHI_BIN        the fazhi binary (default: a release build, scripts/lib/release-bin.sh)
#   BENCH_EXAMPLE    the bench_round binary (default: built with --release)
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "错误：$*" >&2; exit 1; }
for tool in /usr/bin/time pdfinfo; do
  command -v "$tool" >/dev/null || die "需要 $tool（Debian：time poppler-utils）"
done
COUNTS=${BENCH_COUNTS:-"10 50 100"}
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

ROOT=$(mktemp -d /tmp/fazhi-bench-volume.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
echo "| scans | evidence MiB | pages | seconds | peak RSS | volume MiB |"
echo "|---|---|---|---|---|---|"
for n in $COUNTS; do
  DATA="$ROOT/data-$n"
  "$BIN" user list --data-dir "$DATA" >/dev/null
  BENCH_PDF=1 "$EXAMPLE" "$DATA" 0 "$n" "$SMALL"
  TOTAL=$(find "$DATA/files/blobs" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  OUT="$ROOT/volume-$n.pdf"
  /usr/bin/time -v -o "$ROOT/$n.time" "$BIN" package build --format pdf --out "$OUT" --data-dir "$DATA" \
    >"$ROOT/$n.out" 2>&1 || { cat "$ROOT/$n.out" >&2; die "第 $n 组失败"; }
  SECS=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$ROOT/$n.time")
  RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$ROOT/$n.time")
  PAGES=$(pdfinfo "$OUT" | awk '/^Pages:/ {print $2}')
  awk -v n="$n" -v t="$TOTAL" -v p="$PAGES" -v s="$SECS" -v r="$RSS" -v v="$(stat -c %s "$OUT")" \
    'BEGIN {printf "| %d | %.0f | %d | %.1f | %.0f MiB | %.0f |\n", n, t/1048576, p, s, r/1024, v/1048576}'
  rm -rf "$DATA" "$OUT"
done
