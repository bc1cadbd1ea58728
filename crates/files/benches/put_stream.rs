//! Streams a large file through `FileStore::put_stream` into a local store in a temporary
//! directory, and prints the throughput and the peak memory (VmHWM), next to `sha256sum` on
//! the same file and SHA-256 alone in this process.
//!
//! ```sh
//! cargo bench -p fazhi-files --bench put_stream              # generates a 1 GiB file
//! cargo bench -p fazhi-files --bench put_stream -- FILE      # or streams FILE
//! FAZHI_BENCH_MIB=256 cargo bench -p fazhi-files --bench put_stream
//! ```
//!
//! The source is read in 64 KiB chunks on a blocking thread, as an HTTP body arrives (from the
//! page cache: the first pass, SHA-256 alone, warms it); the store fsyncs, as in production.
//! Nothing is asserted: the numbers are for BENCHMARKS.md.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;
use fazhi_files::{FileStore, GIB, MIB};
use futures_util::stream::{self, Stream};
use sha2::{Digest, Sha256};

const CHUNK: usize = 64 * 1024;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let work = tempfile::Builder::new()
        .prefix("fazhi-files-bench")
        .tempdir_in(
            std::env::var_os("FAZHI_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from),
        )
        .expect("临时目录");

    let source = match args.first() {
        Some(path) => PathBuf::from(path),
        None => {
            let mib: u64 = std::env::var("FAZHI_BENCH_MIB")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1024);
            let path = work.path().join("source.bin");
            let started = Instant::now();
            generate(&path, mib * MIB).expect("生成测试文件");
            println!(
                "generated {} MiB of pseudo-random data in {:.1} s",
                mib,
                started.elapsed().as_secs_f64()
            );
            path
        }
    };
    let size = std::fs::metadata(&source).expect("源文件").len();
    let mib = size as f64 / MIB as f64;
    println!("source: {} ({:.1} MiB)", source.display(), mib);

    // SHA-256 alone in this process (sha2 crate), same reads; this also brings the file into
    // the page cache, so that every run below reads it from memory.
    {
        let started = Instant::now();
        let mut file = std::fs::File::open(&source).expect("打开");
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file.read(&mut buf).expect("读取");
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let secs = started.elapsed().as_secs_f64();
        let _ = hasher.finalize();
        println!(
            "sha2 read+hash:         {:7.2} s  {:8.1} MiB/s",
            secs,
            mib / secs
        );
    }

    // sha256sum on the same (cached) file, for comparison.
    let sha256sum = {
        let started = Instant::now();
        match std::process::Command::new("sha256sum")
            .arg(&source)
            .output()
        {
            Ok(out) if out.status.success() => {
                let secs = started.elapsed().as_secs_f64();
                let text = String::from_utf8_lossy(&out.stdout);
                let hash = text.split_whitespace().next().unwrap_or("").to_string();
                println!(
                    "sha256sum:              {:7.2} s  {:8.1} MiB/s",
                    secs,
                    mib / secs
                );
                Some(hash)
            }
            _ => {
                println!("sha256sum: not available");
                None
            }
        }
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = FileStore::local(work.path().join("store")).expect("打开存储");

    reset_peak_rss();
    let before = status_kib("VmHWM");
    let started = Instant::now();
    let blob = runtime
        .block_on(async {
            store
                .put_stream(read_in_chunks(source.clone()), 64 * GIB)
                .await
        })
        .expect("put_stream");
    let secs = started.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM");
    println!(
        "put_stream (local):     {:7.2} s  {:8.1} MiB/s  (hash + sniff + write + fsync + commit)",
        secs,
        mib / secs
    );
    match (before, peak) {
        (Some(before), Some(peak)) => println!(
            "peak RSS: {:.1} MiB (baseline {:.1} MiB, growth {:.1} MiB for a {:.0} MiB file)",
            peak as f64 / 1024.0,
            before as f64 / 1024.0,
            (peak.saturating_sub(before)) as f64 / 1024.0,
            mib
        ),
        _ => println!("peak RSS: /proc/self/status not available"),
    }
    println!(
        "sha256 {} size {} type {}",
        blob.sha256, blob.size, blob.content_type
    );
    if let Some(hash) = sha256sum {
        println!(
            "matches sha256sum: {}",
            if hash == blob.sha256 { "yes" } else { "NO" }
        );
    }

    // The same file again: hashed and written to tmp/, then dropped as a duplicate.
    let started = Instant::now();
    let again = runtime
        .block_on(async { store.put_stream(read_in_chunks(source), 64 * GIB).await })
        .expect("put_stream");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "put_stream (duplicate): {:7.2} s  {:8.1} MiB/s  deduplicated={}",
        secs,
        mib / secs,
        again.deduplicated
    );
}

/// Writes `len` bytes of xorshift output to `path`.
fn generate(path: &Path, len: u64) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(8 << 20, std::fs::File::create(path)?);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut block = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        out.write_all(&block[..n])?;
        left -= n as u64;
    }
    out.flush()
}

/// Reads a file in [`CHUNK`]-byte pieces on a blocking thread, at most 8 pieces ahead.
fn read_in_chunks(path: PathBuf) -> impl Stream<Item = std::io::Result<Bytes>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
    tokio::task::spawn_blocking(move || {
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        loop {
            let mut buf = vec![0u8; CHUNK];
            match file.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// Resets VmHWM to the current RSS (Linux: "5" to /proc/self/clear_refs).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
