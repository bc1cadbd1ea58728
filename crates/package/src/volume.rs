//! The bound volume (合订本, `.pdf`): cover, 目录 with page numbers, bookmarks for 一级 /
//! 二级 / 三级 / unit, then per indicator its text, units and verdicts, followed by its
//! evidence: PDF pages embedded as they are, images one per page, anything else listed by
//! name, size and SHA-256 with its place in the archive.
//!
//! Evidence to embed is first streamed from the file store into a private temporary folder
//! (SHA-256 checked on the way); each PDF is opened once to count its pages, and one that
//! is damaged or password-protected is listed with the reason instead of embedded. typst
//! then reads the files while laying out the volume.
//!
//! Memory: typst holds every embedded file (and every decoded image) while it lays out and
//! writes the volume, so peak memory grows with the evidence embedded. [`VolumeLimits`]
//! bounds it: a volume whose embedded evidence exceeds the limit is refused with a message
//! saying to build one volume per 一级指标 (`--heading`), before anything is read.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use fazhi_document::{Compilation, DocumentError, PdfSettings};
use fazhi_files::{FileError, FileStore, human_size};
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::PackageError;
use crate::archive::{BuiltPackage, Control, Progress, hash_file};
use crate::catalog::{PackProblem, type_label};
use crate::plan::{Plan, PlannedFile, china};

const TEMPLATE: &str = include_str!("../templates/volume.typ");
/// At most this many files embedded in one volume. typst interns every file path for the
/// life of the process (65 535 at most); paths are reused across volumes (`/ev/<n>.<ext>`),
/// so this bounds them for good.
const MAX_EMBEDDED_FILES: usize = 4000;

/// Bounds of one volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolumeLimits {
    /// Total bytes of PDF and image evidence embedded in one volume.
    pub max_embedded_bytes: u64,
    /// One image larger than this is listed, not embedded (it would be decoded in full).
    pub max_image_bytes: u64,
}

impl Default for VolumeLimits {
    fn default() -> Self {
        VolumeLimits {
            // Measured peak RSS ≈ 130 MiB + 4.2 × the embedded bytes (BENCHMARKS.md): about
            // 560 MiB at this limit.
            max_embedded_bytes: 100 << 20,
            max_image_bytes: 40 << 20,
        }
    }
}

/// How an evidence file appears in the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pdf,
    Image,
    Other,
}

fn kind_of(content_type: &str) -> Kind {
    match content_type.split(';').next().unwrap_or("").trim() {
        "application/pdf" => Kind::Pdf,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" => Kind::Image,
        _ => Kind::Other,
    }
}

fn extension(kind: Kind, content_type: &str) -> &'static str {
    match (kind, content_type) {
        (Kind::Pdf, _) => "pdf",
        (_, "image/png") => "png",
        (_, "image/gif") => "gif",
        (_, "image/webp") => "webp",
        _ => "jpg",
    }
}

/// One evidence file's outcome.
#[derive(Debug, Clone)]
enum Outcome {
    /// Embedded: file inside the compilation, its path on disk, pages.
    Embedded {
        vpath: String,
        disk: PathBuf,
        pages: usize,
        kind: Kind,
    },
    /// Listed only, with why.
    Listed(String),
}

/// Counts the pages of a PDF, or says why it cannot be embedded.
fn pdf_pages(path: &Path) -> Result<usize, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("无法读取：{e}"))?;
    match hayro_syntax::Pdf::new(bytes) {
        Ok(pdf) => match pdf.pages().len() {
            0 => Err("PDF 文件已损坏（没有可读的页面），未嵌入".into()),
            n => Ok(n),
        },
        Err(hayro_syntax::LoadPdfError::Decryption(_)) => {
            Err("PDF 已加密（设有打开密码），无法嵌入；请上传未加密的版本".into())
        }
        Err(hayro_syntax::LoadPdfError::Invalid) => Err("PDF 文件已损坏，无法读取，未嵌入".into()),
    }
}

/// Builds the volume of `plan` at `out` (replacing it). Runs on the blocking pool.
pub async fn write_volume(
    files: &FileStore,
    plan: Plan,
    out: &Path,
    control: Control,
    limits: VolumeLimits,
) -> Result<BuiltPackage, PackageError> {
    let files = files.clone();
    let out = out.to_path_buf();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        write_volume_blocking(&handle, &files, &plan, &out, &control, limits)
    })
    .await
    .map_err(|e| PackageError::Io(std::io::Error::other(e)))?
}

fn embeddable(f: &PlannedFile, limits: VolumeLimits) -> bool {
    match kind_of(&f.content_type) {
        Kind::Pdf => true,
        Kind::Image => f.size <= limits.max_image_bytes,
        Kind::Other => false,
    }
}

#[allow(clippy::too_many_lines)]
fn write_volume_blocking(
    handle: &tokio::runtime::Handle,
    files: &FileStore,
    plan: &Plan,
    out: &Path,
    control: &Control,
    limits: VolumeLimits,
) -> Result<BuiltPackage, PackageError> {
    let created_at = Utc::now();
    let to_embed: u64 = plan
        .files
        .iter()
        .filter(|f| embeddable(f, limits))
        .map(|f| f.size)
        .sum();
    if to_embed > limits.max_embedded_bytes {
        return Err(PackageError::Invalid(format!(
            "合订本要嵌入的 PDF 和图片共 {}，超过单册上限 {}。请按一级指标分册生成（--heading 一、二…），或改用压缩包（--format zip）",
            human_size(to_embed),
            human_size(limits.max_embedded_bytes)
        )));
    }
    // Fail early, before any file is read, when the server has no Chinese font.
    let settings = PdfSettings::from_env();
    settings.fonts()?;

    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let spool = tempfile::Builder::new()
        .prefix(".volume-")
        .tempdir_in(dir)?;
    let mut progress = Progress {
        files_done: 0,
        files_total: plan.files.len() as u64,
        bytes_done: 0,
        bytes_total: plan.total_bytes(),
    };
    (control.progress)(progress);
    let cancelled = || control.cancel.load(Ordering::Relaxed);

    let mut problems = Vec::new();
    let mut outcomes = Vec::with_capacity(plan.files.len());
    let mut embedded_files = 0usize;
    for (i, f) in plan.files.iter().enumerate() {
        if cancelled() {
            return Err(PackageError::Cancelled);
        }
        let kind = kind_of(&f.content_type);
        let outcome = if !embeddable(f, limits) {
            let why = if kind == Kind::Image {
                format!(
                    "图片大于 {}，未嵌入；见压缩包中的 {}",
                    human_size(limits.max_image_bytes),
                    f.path
                )
            } else {
                format!(
                    "{}，未嵌入；见压缩包中的 {}",
                    type_label(&f.content_type),
                    f.path
                )
            };
            Outcome::Listed(why)
        } else if embedded_files >= MAX_EMBEDDED_FILES {
            Outcome::Listed(format!(
                "本册已嵌入 {MAX_EMBEDDED_FILES} 份文件（单册上限），未嵌入；请按一级指标分册生成，或见压缩包中的 {}",
                f.path
            ))
        } else {
            embedded_files += 1;
            match handle.block_on(files.get_stream(&f.sha256)) {
                Err(FileError::NotFound { .. }) => {
                    problems.push(PackProblem {
                        material_no: f.place.material_no.clone(),
                        path: f.path.clone(),
                        evidence_id: f.evidence_id,
                        kind: "missing".into(),
                        message: "文件存储中找不到此文件，未收入".into(),
                    });
                    Outcome::Listed("文件存储中找不到此文件，未收入".into())
                }
                Err(e) => return Err(e.into()),
                Ok(stream) => {
                    let disk = spool
                        .path()
                        .join(format!("{i}.{}", extension(kind, &f.content_type)));
                    let mut w = BufWriter::new(File::create(&disk)?);
                    let mut hasher = Sha256::new();
                    let mut stream = stream.into_stream();
                    while let Some(chunk) = handle.block_on(stream.next()) {
                        if cancelled() {
                            return Err(PackageError::Cancelled);
                        }
                        let chunk = chunk?;
                        hasher.update(&chunk);
                        w.write_all(&chunk)?;
                    }
                    w.flush()?;
                    drop(w);
                    let sha = hex::encode(hasher.finalize());
                    if sha != f.sha256 {
                        problems.push(PackProblem {
                            material_no: f.place.material_no.clone(),
                            path: f.path.clone(),
                            evidence_id: f.evidence_id,
                            kind: "altered".into(),
                            message: format!(
                                "内容与上传时登记的不符（现为 SHA-256 {sha}），按现状收入，请核查"
                            ),
                        });
                    }
                    let vpath = format!("/ev/{i}.{}", extension(kind, &f.content_type));
                    match kind {
                        Kind::Pdf => match pdf_pages(&disk) {
                            Ok(pages) => Outcome::Embedded {
                                vpath,
                                disk,
                                pages,
                                kind,
                            },
                            Err(why) => Outcome::Listed(why),
                        },
                        _ => Outcome::Embedded {
                            vpath,
                            disk,
                            pages: 1,
                            kind,
                        },
                    }
                }
            }
        };
        outcomes.push(outcome);
        progress.files_done += 1;
        progress.bytes_done += f.size;
        (control.progress)(progress);
    }

    let today = created_at.with_timezone(&china()).date_naive();
    let compile = |outcomes: &[Outcome]| {
        let (data, embedded) = volume_data(plan, outcomes, created_at);
        fazhi_document::pdf::compile(
            Compilation {
                template: TEMPLATE,
                data,
                files: embedded,
                today,
            },
            &settings,
        )
    };
    let bytes = match compile(&outcomes) {
        Ok(b) => b,
        Err(DocumentError::Render(first)) => {
            // One evidence file typst cannot embed (an image it cannot decode, a PDF page it
            // cannot convert) fails the whole layout: find which, list them, lay out again.
            tracing::info!(error = %first, "合订本排版失败，逐个检查嵌入的材料");
            for (o, f) in outcomes.iter_mut().zip(&plan.files) {
                if cancelled() {
                    return Err(PackageError::Cancelled);
                }
                if let Outcome::Embedded { .. } = o
                    && let Err(e) = compile_alone(o, &settings, today)
                {
                    *o = Outcome::Listed(format!("无法嵌入（{e}）；见压缩包中的 {}", f.path));
                }
            }
            compile(&outcomes)?
        }
        Err(e) => return Err(e.into()),
    };
    if cancelled() {
        return Err(PackageError::Cancelled);
    }
    let part = out.with_file_name(format!(
        ".{}.part",
        out.file_name()
            .map_or_else(|| "volume".into(), |n| n.to_string_lossy().into_owned())
    ));
    std::fs::write(&part, &bytes)?;
    drop(bytes);
    let (size, sha256) = hash_file(&part, &control.cancel).inspect_err(|_| {
        let _ = std::fs::remove_file(&part);
    })?;
    std::fs::rename(&part, out)?;
    drop(spool);
    Ok(BuiltPackage {
        path: out.to_path_buf(),
        size,
        sha256,
        files_packed: plan.files.len(),
        links: plan.links.len(),
        left_out_unapproved: plan.left_out_unapproved,
        problems,
        scope: plan.scope_label(),
        catalog_pdf_error: None,
    })
}

/// Lays out one embedded file on its own, to learn whether typst can embed it.
fn compile_alone(
    o: &Outcome,
    settings: &PdfSettings,
    today: chrono::NaiveDate,
) -> Result<(), DocumentError> {
    let Outcome::Embedded {
        vpath,
        disk,
        pages,
        kind,
    } = o
    else {
        return Ok(());
    };
    let template = "#let d = json(\"/data.json\")\n#for k in range(1, d.pages + 1) { page(if d.pdf { image(d.file, page: k, width: 100%) } else { image(d.file, width: 100%) }) }\n";
    fazhi_document::pdf::compile(
        Compilation {
            template,
            data: json!({"file": vpath, "pages": pages, "pdf": *kind == Kind::Pdf}),
            files: vec![(vpath.clone(), disk.clone())],
            today,
        },
        settings,
    )
    .map(drop)
}

fn short(text: &str, max: usize) -> String {
    let t = text.trim();
    if t.chars().count() <= max {
        t.to_string()
    } else {
        let mut s: String = t.chars().take(max).collect();
        s.push('…');
        s
    }
}

/// `1-1-001-01` → the indicator's number `[1, 1, 1]` (tree order) and its key `1-1-001`.
fn indicator_of(material_no: &str) -> (Vec<u64>, String) {
    let key = material_no
        .rsplit_once('-')
        .map_or(material_no, |(k, _)| k)
        .to_string();
    let order = key
        .split('-')
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect();
    (order, key)
}

/// The template's data and the files it embeds.
fn volume_data(
    plan: &Plan,
    outcomes: &[Outcome],
    created_at: DateTime<Utc>,
) -> (Value, Vec<(String, PathBuf)>) {
    // Indicators in tree order, each with its files and links.
    let mut order: Vec<(Vec<u64>, String)> = plan
        .files
        .iter()
        .map(|f| indicator_of(&f.place.material_no))
        .chain(
            plan.links
                .iter()
                .map(|l| indicator_of(&l.place.material_no)),
        )
        .collect();
    order.sort();
    order.dedup();

    let mut embedded = Vec::new();
    let mut indicators: Vec<Value> = Vec::new();
    let mut open: Vec<String> = Vec::new();
    for (_, key) in &order {
        let files: Vec<(usize, &PlannedFile)> = plan
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| indicator_of(&f.place.material_no).1 == *key)
            .collect();
        let links: Vec<_> = plan
            .links
            .iter()
            .filter(|l| indicator_of(&l.place.material_no).1 == *key)
            .collect();
        let Some(first) = files
            .first()
            .map(|(_, f)| &f.place)
            .or_else(|| links.first().map(|l| &l.place))
        else {
            continue;
        };
        // Headings opened here: the ones that differ from the previous indicator's.
        let mut opens = Vec::new();
        for (level, (code, title)) in first.headings.iter().enumerate().take(2) {
            let text = if level == 0 {
                format!("{code}、{title}")
            } else {
                format!("{code}.{}", title.trim_end_matches(['。', '；', ';']))
            };
            if open.get(level) != Some(&text) {
                open.truncate(level);
                open.push(text.clone());
                opens.push(json!({"level": level + 1, "text": text}));
            }
        }
        let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
        for (idx, f) in files {
            let (embed, listed, place) = match &outcomes[idx] {
                Outcome::Embedded {
                    vpath,
                    disk,
                    pages,
                    kind,
                } => {
                    embedded.push((vpath.clone(), disk.clone()));
                    (
                        json!({"kind": if *kind == Kind::Pdf { "pdf" } else { "image" }, "file": vpath, "pages": pages}),
                        Value::Null,
                        format!("附后 {pages} 页"),
                    )
                }
                Outcome::Listed(why) => (
                    Value::Null,
                    json!(format!(
                        "{}（{}，{}）：{why}",
                        f.title,
                        type_label(&f.content_type),
                        human_size(f.size)
                    )),
                    "未嵌入，见下方说明".to_string(),
                ),
            };
            let title = match &f.doc_number {
                Some(d) if !d.trim().is_empty() => format!("{}（{d}）", f.title),
                _ => f.title.clone(),
            };
            let item = json!({
                "no": f.place.material_no,
                "title": title,
                "verdict": f.review.label(),
                "reviewer": f.review.reviewer.clone().unwrap_or_default(),
                "place": place,
                "embed": embed,
                "listed": listed,
                "sha256": f.sha256,
            });
            match groups.iter_mut().find(|(u, _)| *u == f.place.unit) {
                Some((_, items)) => items.push(item),
                None => groups.push((f.place.unit.clone(), vec![item])),
            }
        }
        let mut units: Vec<&str> = groups.iter().map(|(u, _)| u.as_str()).collect();
        for l in &links {
            if !units.contains(&l.place.unit.as_str()) {
                units.push(&l.place.unit);
            }
        }
        let links: Vec<Value> = links
            .iter()
            .map(|l| {
                json!(format!(
                    "{} {}（{}，{}）{}",
                    l.place.material_no,
                    l.title,
                    l.place.unit,
                    l.review.label(),
                    l.url
                ))
            })
            .collect();
        indicators.push(json!({
            "open": opens,
            "heading": format!("{} {}", first.indicator_code, short(&first.indicator_text, 28)),
            "text": first.indicator_text,
            "units": units.join("、"),
            "groups": groups.into_iter().map(|(u, items)| json!({"unit": u, "items": items})).collect::<Vec<_>>(),
            "links": links,
        }));
    }
    let data = json!({
        "title": format!("{} 佐证材料汇编", plan.round.name),
        "issuer": plan.framework_title,
        "scope": plan.scope_label(),
        "date": fazhi_document::model::chinese_date(created_at.with_timezone(&china()).date_naive()),
        "indicators": indicators,
    });
    (data, embedded)
}
