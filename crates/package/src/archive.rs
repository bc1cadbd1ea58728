//! Writing the archive: every file streams from the file store through one bounded buffer
//! into the zip writer, its SHA-256 computed on the way and checked against the hash
//! recorded at upload; then `目录.xlsx`, `说明.txt` and `manifest.json`.
//!
//! The archive is written to a hidden `.NAME.part` file beside the destination (seekable,
//! so the zip writer patches sizes and CRCs into the local headers) and renamed when
//! complete: a crash or a cancel never leaves a half package under the final name.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Timelike, Utc};
use fazhi_files::{FileError, FileStore};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use fazhi_document::PdfSettings;

use crate::PackageError;
use crate::catalog::{
    MANIFEST_FORMAT, Manifest, ManifestEntry, ManifestLink, PackProblem, PackedFile, readme,
    write_catalog_xlsx,
};
use crate::catalog_pdf::render_catalog_pdf;
use crate::plan::{CATALOG_PDF, CATALOG_XLSX, MANIFEST_JSON, Plan, README_TXT, china};

/// Buffer between the zip writer and the output file.
const WRITE_BUFFER: usize = 1 << 20;
/// Chunk size when copying local files (目录.xlsx) and hashing the result.
const COPY_CHUNK: usize = 256 * 1024;
/// At most this often a progress report (plus one at the end of every file).
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// How far the build is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// Progress callback and cancel flag of a build.
#[derive(Clone)]
pub struct Control {
    /// Called with the progress, at most every 200 ms and after each file.
    pub progress: Arc<dyn Fn(Progress) + Send + Sync>,
    /// Set to stop the build; checked between chunks.
    pub cancel: Arc<AtomicBool>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            progress: Arc::new(|_| {}),
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("cancel", &self.cancel.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A finished archive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuiltPackage {
    pub path: PathBuf,
    pub size: u64,
    /// SHA-256 of the whole archive.
    pub sha256: String,
    pub files_packed: usize,
    pub links: usize,
    pub left_out_unapproved: usize,
    /// Files missing from the store or altered since upload (listed in the package too).
    pub problems: Vec<PackProblem>,
    pub scope: String,
    /// Why `目录.pdf` is missing (no CJK font on the server, …); the archive is complete
    /// otherwise and says so in `说明.txt`.
    pub catalog_pdf_error: Option<String>,
}

/// Whether deflate is worth it: text-like content. Media, PDF and office files are
/// compressed already and are stored as they are.
fn compressible(content_type: &str) -> bool {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    ct.starts_with("text/")
        || matches!(
            ct,
            "application/json"
                | "application/xml"
                | "application/msword"
                | "application/rtf"
                | "application/vnd.ms-excel"
                | "image/bmp"
                | "image/svg+xml"
                | "image/tiff"
        )
}

fn zip_time(t: DateTime<Utc>) -> zip::DateTime {
    let t = t.with_timezone(&china());
    let parts = (
        u16::try_from(t.year()).ok(),
        u8::try_from(t.month()).ok(),
        u8::try_from(t.day()).ok(),
        u8::try_from(t.hour()).ok(),
        u8::try_from(t.minute()).ok(),
        u8::try_from(t.second()).ok(),
    );
    match parts {
        (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) => {
            zip::DateTime::from_date_and_time(y, mo, d, h, mi, s).unwrap_or_default()
        }
        _ => zip::DateTime::default(),
    }
}

fn options(method: CompressionMethod, size: u64, at: DateTime<Utc>) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(method)
        // ZIP64 for this entry only when it needs it; the archive-level ZIP64 records
        // (offsets past 4 GiB, > 65 535 entries) are added by the writer as needed.
        .large_file(size >= u64::from(u32::MAX))
        .last_modified_time(zip_time(at))
        .unix_permissions(0o644)
}

fn part_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "package".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!(".{name}.part"))
}

/// Removes the part file unless disarmed.
struct PartGuard(Option<PathBuf>);

impl Drop for PartGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Builds the archive of `plan` at `out` (replacing it). Runs the writing on the blocking
/// pool; must be called inside a Tokio runtime.
pub async fn write_zip(
    files: &FileStore,
    plan: Plan,
    out: &Path,
    control: Control,
) -> Result<BuiltPackage, PackageError> {
    let files = files.clone();
    let out = out.to_path_buf();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || write_zip_blocking(&handle, &files, &plan, &out, &control))
        .await
        .map_err(|e| PackageError::Io(std::io::Error::other(e)))?
}

struct Writer<'a> {
    zip: ZipWriter<BufWriter<File>>,
    control: &'a Control,
    progress: Progress,
    last_report: Instant,
}

impl Writer<'_> {
    fn report(&mut self, force: bool) {
        if force || self.last_report.elapsed() >= PROGRESS_EVERY {
            (self.control.progress)(self.progress);
            self.last_report = Instant::now();
        }
    }

    fn check_cancel(&self) -> Result<(), PackageError> {
        if self.control.cancel.load(Ordering::Relaxed) {
            Err(PackageError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Writes a small generated entry, returns its manifest line.
    fn small(
        &mut self,
        path: &str,
        bytes: &[u8],
        role: &str,
        method: CompressionMethod,
        at: DateTime<Utc>,
    ) -> Result<ManifestEntry, PackageError> {
        self.zip
            .start_file(path, options(method, bytes.len() as u64, at))?;
        self.zip.write_all(bytes)?;
        Ok(ManifestEntry {
            path: path.to_string(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
            role: role.to_string(),
            material_no: None,
            evidence_id: None,
            version: None,
        })
    }
}

fn write_zip_blocking(
    handle: &tokio::runtime::Handle,
    files: &FileStore,
    plan: &Plan,
    out: &Path,
    control: &Control,
) -> Result<BuiltPackage, PackageError> {
    let created_at = Utc::now();
    let part = part_path(out);
    let mut guard = PartGuard(Some(part.clone()));
    let file = File::create(&part)?;
    let mut w = Writer {
        zip: ZipWriter::new(BufWriter::with_capacity(WRITE_BUFFER, file)),
        control,
        progress: Progress {
            files_done: 0,
            files_total: plan.files.len() as u64,
            bytes_done: 0,
            bytes_total: plan.total_bytes(),
        },
        last_report: Instant::now(),
    };
    w.report(true);

    let mut entries = Vec::with_capacity(plan.files.len() + 2);
    let mut problems = Vec::new();
    let mut packed: Vec<Option<String>> = Vec::with_capacity(plan.files.len());
    for f in &plan.files {
        w.check_cancel()?;
        let stream = match handle.block_on(files.get_stream(&f.sha256)) {
            Ok(s) => s,
            Err(FileError::NotFound { .. }) => {
                problems.push(PackProblem {
                    material_no: f.place.material_no.clone(),
                    path: f.path.clone(),
                    evidence_id: f.evidence_id,
                    kind: "missing".into(),
                    message: "文件存储中找不到此文件，未收入".into(),
                });
                packed.push(None);
                w.progress.files_done += 1;
                w.progress.bytes_done += f.size;
                w.report(true);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let method = if compressible(&f.content_type) {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        w.zip.start_file(
            f.path.as_str(),
            options(method, f.size.max(stream.size), f.uploaded_at),
        )?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut stream = stream.into_stream();
        while let Some(chunk) = handle.block_on(stream.next()) {
            w.check_cancel()?;
            let chunk = chunk?;
            hasher.update(&chunk);
            w.zip.write_all(&chunk)?;
            size += chunk.len() as u64;
            w.progress.bytes_done += chunk.len() as u64;
            w.report(false);
        }
        let sha256 = hex::encode(hasher.finalize());
        if sha256 != f.sha256 || size != f.size {
            problems.push(PackProblem {
                material_no: f.place.material_no.clone(),
                path: f.path.clone(),
                evidence_id: f.evidence_id,
                kind: "altered".into(),
                message: format!(
                    "内容与上传时登记的不符（登记 SHA-256 {}、{} 字节；现为 {sha256}、{size} 字节），按现状收入，请核查",
                    f.sha256, f.size
                ),
            });
        }
        // Keep the running byte count honest when the stored size differed.
        w.progress.bytes_done = w.progress.bytes_done - size + f.size;
        w.progress.files_done += 1;
        w.report(true);
        entries.push(ManifestEntry {
            path: f.path.clone(),
            size,
            sha256: sha256.clone(),
            role: "evidence".into(),
            material_no: Some(f.place.material_no.clone()),
            evidence_id: Some(f.evidence_id),
            version: Some(f.version),
        });
        packed.push(Some(sha256));
    }
    w.check_cancel()?;

    // 目录.xlsx: written to a temporary file next to the archive, then copied in.
    let rows: Vec<PackedFile<'_>> = plan
        .files
        .iter()
        .zip(&packed)
        .map(|(f, sha)| PackedFile {
            planned: f,
            packed_sha256: sha.clone(),
            problem: problems.iter().find(|p| p.path == f.path),
        })
        .collect();
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let xlsx = tempfile::Builder::new()
        .prefix(".catalog-")
        .suffix(".xlsx")
        .tempfile_in(dir)?;
    write_catalog_xlsx(xlsx.path(), plan, &rows)?;
    let xlsx_size = std::fs::metadata(xlsx.path())?.len();
    // Already deflate-compressed inside.
    w.zip.start_file(
        CATALOG_XLSX,
        options(CompressionMethod::Stored, xlsx_size, created_at),
    )?;
    let mut hasher = Sha256::new();
    let mut reader = File::open(xlsx.path())?;
    let mut buf = vec![0u8; COPY_CHUNK];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        w.zip.write_all(&buf[..n])?;
    }
    entries.push(ManifestEntry {
        path: CATALOG_XLSX.into(),
        size: xlsx_size,
        sha256: hex::encode(hasher.finalize()),
        role: "catalog".into(),
        material_no: None,
        evidence_id: None,
        version: None,
    });
    drop(xlsx);

    // 目录.pdf: the same rows, printable. Without a CJK font on the server the archive is
    // still built (目录.xlsx holds everything) and 说明.txt says why the PDF is missing.
    let catalog_pdf_error =
        match render_catalog_pdf(plan, &rows, &problems, created_at, &PdfSettings::from_env()) {
            Ok(bytes) => {
                let entry = w.small(
                    CATALOG_PDF,
                    &bytes,
                    "catalog",
                    CompressionMethod::Deflated,
                    created_at,
                )?;
                entries.push(entry);
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "目录.pdf 未生成");
                Some(e.to_string())
            }
        };
    w.check_cancel()?;

    let files_packed = packed.iter().filter(|p| p.is_some()).count();
    let text = readme(
        plan,
        created_at,
        files_packed,
        &problems,
        catalog_pdf_error.as_deref(),
    );
    let entry = w.small(
        README_TXT,
        text.as_bytes(),
        "readme",
        CompressionMethod::Deflated,
        created_at,
    )?;
    entries.push(entry);

    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        generator: format!("fazhi {}", env!("CARGO_PKG_VERSION")),
        created_at,
        round_id: plan.round.id.0,
        round_name: plan.round.name.clone(),
        framework_title: plan.framework_title.clone(),
        scope: plan.scope_label(),
        params: serde_json::to_value(&plan.params).unwrap_or_default(),
        entries,
        links: plan
            .links
            .iter()
            .map(|l| ManifestLink {
                material_no: l.place.material_no.clone(),
                title: l.title.clone(),
                url: l.url.clone(),
                published_on: l.published_on,
                evidence_id: l.evidence_id,
            })
            .collect(),
        problems: problems.clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    w.zip.start_file(
        MANIFEST_JSON,
        options(CompressionMethod::Deflated, json.len() as u64, created_at),
    )?;
    w.zip.write_all(&json)?;

    (control.progress)(w.progress);
    let buffered = w.zip.finish()?;
    let file = buffered.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);

    let (size, sha256) = hash_file(&part, &control.cancel)?;
    std::fs::rename(&part, out)?;
    guard.0 = None;
    Ok(BuiltPackage {
        path: out.to_path_buf(),
        size,
        sha256,
        files_packed,
        links: plan.links.len(),
        left_out_unapproved: plan.left_out_unapproved,
        problems,
        scope: plan.scope_label(),
        catalog_pdf_error,
    })
}

/// Size and SHA-256 of a file, read in chunks.
pub fn hash_file(path: &Path, cancel: &AtomicBool) -> Result<(u64, String), PackageError> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; COPY_CHUNK];
    let mut size = 0u64;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(PackageError::Cancelled);
        }
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}
