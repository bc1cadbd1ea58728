//! Benchmark: import of the county seed (PDF-extracted text, 115 lines, 94 indicators).
//! Run with `cargo bench -p fazhi-import --bench import_seed`. Prints the median and the
//! spread over repeated runs; no assertion on time (benchmarks report, tests assert).

use std::hint::black_box;
use std::time::{Duration, Instant};

use fazhi_import::{ImportOptions, import_bytes};

const SEED: &[u8] = include_bytes!("../../../data/seed/lanling-zerenfengong.txt");

fn main() {
    let options = ImportOptions::default();
    // Warm up: the first call loads the OpenCC dictionaries, measured separately.
    let start = Instant::now();
    let first = import_bytes(SEED, Some("seed.txt"), &options).expect("seed imports");
    let cold = start.elapsed();
    assert_eq!(first.framework.level_counts(), vec![8, 32, 94]);

    let runs = 200;
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let out = import_bytes(black_box(SEED), Some("seed.txt"), &options).expect("seed imports");
        black_box(out);
        times.push(start.elapsed());
    }
    times.sort();
    let median = times[runs / 2];
    let p10 = times[runs / 10];
    let p90 = times[runs * 9 / 10];
    let kib = SEED.len() as f64 / 1024.0;
    println!("import seed ({:.1} KiB, 94 indicators), {runs} runs", kib);
    println!(
        "  first call (loads OpenCC tables): {:.2} ms",
        cold.as_secs_f64() * 1e3
    );
    println!(
        "  median {:.3} ms  (p10 {:.3} ms, p90 {:.3} ms)  ≈ {:.1} MiB/s",
        median.as_secs_f64() * 1e3,
        p10.as_secs_f64() * 1e3,
        p90.as_secs_f64() * 1e3,
        kib / 1024.0 / median.as_secs_f64()
    );
}
