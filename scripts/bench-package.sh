#!/usr/bin/env bash
# Benchmark of the 佐证材料汇编 (see BENCHMARKS.md, section "Evidence package").
#
# Initialises a throw-away data directory with `fazhi user list`, generates a round with
# the example `bench_round` (one large recording of BENCH_BIG_MIB MiB — above 4 GiB, so the
# archive needs ZIP64 — and BENCH_SMALL_COUNT photos of BENCH_SMALL_MIB MiB, pseudo-random
# content, all approved), then, in one run and on the same files (the store's blobs):
#
#   cat  of every blob to /dev/null        (reading alone; also warms the page cache)
#   fazhi package build --out X.zip        (stream, SHA-256 check, zip, 目录.xlsx, hash of the result)
#   zip -0 -r  of the blob directory        (Info-ZIP, stored, the same bytes)
#   fazhi package verify X.zip             (re-hash every entry)
#   unzip -t X.zip                         (Info-ZIP's own check, ZIP64)
#
# each under /usr/bin/time -v, and prints a Markdown table: seconds, MiB/s, ratio to cat,
# peak RSS. The data directory is removed on exit.
#
# Settings (environment):
#   BENCH_BIG_MIB      size of the large file       (default 4200)
#   BENCH_SMALL_COUNT  number of small files         (default 200)
#   BENCH_SMALL_MIB    size of each small file       (default 2)
#   BENCH_DIR          where to put the data (default a new directory under /tmp)
#   FAZHI_BIN          the fazhi binary (default: a release build, scripts/lib/release-bin.sh)
#   BENCH_EXAMPLE      the bench_round binary (default: built in the same profile as FAZHI_BIN's
#                      default, i.e. `cargo build --release -p fazhi-package --example bench_round`)
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "错误：$*" >&2; exit 1; }
for tool in zip unzip /usr/bin/time; do
  command -v "$tool" >/dev/null || die "需要 $tool（Debian：zip unzip time）"
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

DIR=${BENCH_DIR:-$(mktemp -d /tmp/fazhi-bench-package.XXXXXX)}
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
DATA="$DIR/data"

echo "== 生成轮次：1 × ${BIG} MiB + ${COUNT} × ${SMALL} MiB（$DATA）" >&2
"$BIN" user list --data-dir "$DATA" >/dev/null
"$EXAMPLE" "$DATA" "$BIG" "$COUNT" "$SMALL"
BLOBS="$DATA/files/blobs"
TOTAL=$(find "$BLOBS" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
FILES=$(find "$BLOBS" -type f | wc -l)

declare -A SECS RSS
measure() { # name, command...
  local name=$1; shift
  local log="$DIR/$name.time"
  /usr/bin/time -v -o "$log" "$@" >"$DIR/$name.out" 2>&1 || {
    cat "$DIR/$name.out" >&2; die "$name 失败"; }
  SECS[$name]=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
  RSS[$name]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
}

echo "== cat" >&2
measure cat sh -c "find '$BLOBS' -type f -print0 | xargs -0 cat > /dev/null"
echo "== fazhi package build" >&2
measure fazhi "$BIN" package build --out "$DIR/fazhi.zip" --data-dir "$DATA"
echo "== zip -0 -r" >&2
measure zip sh -c "cd '$DATA/files' && zip -0 -r -q '$DIR/zip.zip' blobs"
echo "== fazhi package verify" >&2
measure verify "$BIN" package verify "$DIR/fazhi.zip"
echo "== unzip -t" >&2
measure unzip_t unzip -tq "$DIR/fazhi.zip"
grep -q "No errors detected" "$DIR/unzip_t.out" || die "unzip -t 报错：$(cat "$DIR/unzip_t.out")"

MIB_TOTAL=$(awk -v b="$TOTAL" 'BEGIN {printf "%.0f", b/1048576}')
echo
echo "Content: $FILES files, $MIB_TOTAL MiB; archive $(stat -c %s "$DIR/fazhi.zip") bytes (zip -0: $(stat -c %s "$DIR/zip.zip"))."
echo
echo "| step | seconds | MiB/s | time ÷ cat | peak RSS |"
echo "|---|---|---|---|---|"
for name in cat fazhi zip verify unzip_t; do
  awk -v n="$name" -v s="${SECS[$name]}" -v c="${SECS[cat]}" -v m="$MIB_TOTAL" -v r="${RSS[$name]}" \
    'BEGIN {printf "| %s | %.2f | %.0f | %.2f | %.1f MiB |\n", n, s, (s>0? m/s : 0), (c>0? s/c : 0), r/1024}'
done
