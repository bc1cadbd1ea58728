# Sourced by the benchmark scripts: sets BIN to the fazhi binary to measure — $FAZHI_BIN
# when given, else a release build (`cargo build --release -p fazhi-cli`, honouring
# CARGO_TARGET_DIR). Expects a `die` function.
if [[ -n ${FAZHI_BIN:-} ]]; then
  BIN=$FAZHI_BIN
else
  echo "== cargo build --release -p fazhi-cli" >&2
  cargo build --release -p fazhi-cli
  target_dir=${CARGO_TARGET_DIR:-target}
  [[ $target_dir == /* ]] || target_dir="$PWD/$target_dir"
  BIN="$target_dir/release/fazhi"
fi
[[ -x $BIN ]] || die "找不到可执行文件 $BIN"
