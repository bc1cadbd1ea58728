//! Builds the bound volume of a data directory's active round (what `fazhi package build
//! --format pdf` does, without the job record), for measuring time and peak memory under
//! `/usr/bin/time -v` on a round made by `bench_round` with `BENCH_PDF=1`.
//!
//! Usage: `bench_volume DATA_DIR OUT.pdf [MAX_EMBED_MIB]`

use fazhi_package::{Control, PackageFormat, PackageParams, VolumeLimits, plan, write_volume};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, out) = match args.as_slice() {
        [_, d, o, ..] => (std::path::Path::new(d), std::path::Path::new(o)),
        _ => return Err("用法：bench_volume DATA_DIR OUT.pdf [MAX_EMBED_MIB]".into()),
    };
    let mut limits = VolumeLimits::default();
    if let Some(m) = args.get(3) {
        limits.max_embedded_bytes = m.parse::<u64>()? << 20;
    }
    let store = fazhi_store::Store::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.join("fazhi.sqlite").display()
    ))
    .await?;
    let files = fazhi_files::FileStore::local(dir.join("files"))?;
    let params = PackageParams {
        format: PackageFormat::Pdf,
        ..Default::default()
    };
    let p = plan(&store, &params).await?;
    let built = write_volume(&files, p, out, Control::default(), limits).await?;
    println!("{} 字节，{} 份材料", built.size, built.files_packed);
    Ok(())
}
