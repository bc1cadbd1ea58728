//! Generates a round for the package benchmark (`scripts/bench-package.sh`): in a data
//! directory that `fazhi` has initialised, opens a round and adds approved evidence — one
//! large file of `BIG_MIB` MiB (a recording; above 4 GiB it needs ZIP64) and `SMALL_COUNT`
//! files of `SMALL_MIB` MiB (photos) spread over the tasks of several units. Content is
//! pseudo-random (incompressible, distinct per file) and generated chunk by chunk.
//!
//! With `BENCH_PDF=1` the small files are scans as PDFs instead (one page, one
//! uncompressed image of `SMALL_MIB` MiB of noise: a stand-in for a scanned page) and a
//! `BIG_MIB` of 0 leaves the recording out: the input of the bound-volume benchmark
//! (`scripts/bench-volume.sh`).
//!
//! Usage: `bench_round DATA_DIR BIG_MIB SMALL_COUNT SMALL_MIB`

use bytes::Bytes;
use fazhi_store::{
    Actor, ActorRole, NewEvidence, NewRound, Store, TaskAction, TaskFilter, Verdict,
};

const MIB: usize = 1 << 20;

/// xorshift64*: fast, good enough to defeat compression and deduplication.
fn fill(seed: &mut u64, buf: &mut [u8]) {
    for chunk in buf.chunks_mut(8) {
        *seed ^= *seed >> 12;
        *seed ^= *seed << 25;
        *seed ^= *seed >> 27;
        let v = seed.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

fn content(
    seed: u64,
    mib: usize,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold((seed | 1, 0usize), move |(mut s, done)| async move {
        if done >= mib {
            return None;
        }
        let mut buf = vec![0u8; MIB];
        fill(&mut s, &mut buf);
        Some((Ok(Bytes::from(buf)), (s, done + 1)))
    })
}

/// A one-page A4 PDF whose page shows an uncompressed RGB image of about `mib` MiB.
fn scan_pdf(seed: u64, mib: usize) -> Vec<u8> {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let side = ((mib * MIB / 3) as f64).sqrt() as usize;
    let mut pixels = vec![0u8; side * side * 3];
    let mut s = seed | 1;
    fill(&mut s, &mut pixels);
    let content = b"q 595 0 0 842 0 0 cm /Im0 Do Q";
    let mut out: Vec<u8> = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    obj(
        &mut out,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>",
    );
    let mut c = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    c.extend_from_slice(content);
    c.extend_from_slice(b"\nendstream");
    obj(&mut out, &c);
    let mut im = format!(
        "<< /Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {} >>\nstream\n",
        pixels.len()
    )
    .into_bytes();
    im.extend_from_slice(&pixels);
    im.extend_from_slice(b"\nendstream");
    obj(&mut out, &im);
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, big, count, small] = args.as_slice() else {
        return Err("用法：bench_round DATA_DIR BIG_MIB SMALL_COUNT SMALL_MIB".into());
    };
    let (big, count, small): (usize, usize, usize) = (big.parse()?, count.parse()?, small.parse()?);
    let dir = std::path::Path::new(dir);
    let store = Store::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.join("fazhi.sqlite").display()
    ))
    .await?;
    let files = fazhi_files::FileStore::local(dir.join("files"))?;
    let office = Actor::system();
    store
        .open_round(
            NewRound {
                name: "2026年度".into(),
                starts_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?,
                ends_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).ok_or("date")?,
                framework_id: None,
                due_on: None,
                copy_from: None,
            },
            &office,
        )
        .await?;
    let mut tasks = Vec::new();
    for unit in ["县行政审批服务局", "县司法局", "县公安局", "县市场监管局"] {
        let Some(id) = store.find_unit(unit).await? else {
            continue;
        };
        for t in store
            .tasks(&TaskFilter {
                unit: Some(id),
                ..Default::default()
            })
            .await?
        {
            store
                .transition(
                    t.id,
                    &TaskAction::Sign,
                    ActorRole::ResponsibleUnit,
                    &office,
                    fazhi_domain::clock::Clock::default().today(),
                )
                .await?;
            tasks.push(t.id);
        }
    }
    let pdf = std::env::var_os("BENCH_PDF").is_some_and(|v| v == "1");
    let mut items = Vec::new();
    if big > 0 {
        items.push(("执法全过程记录视频", "video.mp4", big));
    }
    if pdf {
        items.extend((0..count).map(|_| ("执法案卷扫描件", "scan.pdf", small)));
    } else {
        items.extend((0..count).map(|_| ("现场检查照片", "photo.jpg", small)));
    }
    for (i, (title, name, mib)) in items.into_iter().enumerate() {
        let seed = 0x9E37_79B9_7F4A_7C15 ^ ((i as u64 + 1) << 1);
        let blob = if pdf && name == "scan.pdf" {
            let bytes = Bytes::from(scan_pdf(seed, mib));
            files
                .put_stream(
                    futures_util::stream::iter([Ok::<_, std::io::Error>(bytes)]),
                    u64::MAX,
                )
                .await?
        } else {
            files.put_stream(content(seed, mib), u64::MAX).await?
        };
        store
            .put_blob(&blob.sha256, blob.size, blob.content_type)
            .await?;
        let task = tasks[i % tasks.len()];
        let id = store
            .add_file_evidence(
                task,
                NewEvidence {
                    title: format!("{title}{i:04}"),
                    ..Default::default()
                },
                &blob.sha256,
                Some(name),
                &office,
            )
            .await?;
        store
            .review_evidence(id, Verdict::Ok, None, &office)
            .await?;
    }
    store.close().await?;
    Ok(())
}
