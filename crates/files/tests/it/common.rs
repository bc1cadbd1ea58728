//! Helpers shared by the test modules.

use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use sha2::{Digest, Sha256};

/// Deterministic pseudo-random bytes (xorshift), so a test's data does not compress or repeat.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `bytes` as a stream of chunks of `chunk` bytes.
pub fn chunked(
    bytes: &[u8],
    chunk: usize,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    let chunks: Vec<Bytes> = bytes.chunks(chunk).map(Bytes::copy_from_slice).collect();
    stream::iter(chunks.into_iter().map(Ok))
}

/// `bytes` in chunks, then an error, as a client that disconnects midway.
pub fn failing_after(
    bytes: &[u8],
    chunk: usize,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    chunked(bytes, chunk).chain(stream::once(async {
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "客户端断开"))
    }))
}

/// `bytes` in chunks, then nothing ever again (a stalled client).
pub fn stalling_after(
    bytes: &[u8],
    chunk: usize,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    chunked(bytes, chunk).chain(stream::pending())
}

/// Every regular file under `dir`, recursively (none if it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Waits up to five seconds for `check` to hold (background clean-up).
pub async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    check()
}
