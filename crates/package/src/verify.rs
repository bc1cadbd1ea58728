//! `verify`: recomputes every entry's SHA-256 and compares it with `manifest.json`.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::ZipArchive;

use crate::PackageError;
use crate::catalog::{MANIFEST_FORMAT, Manifest};
use crate::names::is_safe_path;
use crate::plan::MANIFEST_JSON;

/// Largest manifest read (it lists one line per file; far below this).
const MAX_MANIFEST_BYTES: u64 = 256 << 20;
const CHUNK: usize = 256 * 1024;

/// What is wrong with one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// Listed in the manifest, not in the archive.
    Missing { path: String },
    /// In the archive, not in the manifest.
    Extra { path: String },
    /// Content differs from the manifest (or cannot be read back: CRC error, bad data).
    Altered { path: String, reason: String },
    /// A name that could escape the folder it is unpacked into, or appears twice.
    UnsafeName { path: String },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Missing { path } => write!(f, "缺少：{path}（清单中有，压缩包中没有）"),
            Finding::Extra { path } => write!(f, "多出：{path}（压缩包中有，清单中没有）"),
            Finding::Altered { path, reason } => write!(f, "已改动：{path}（{reason}）"),
            Finding::UnsafeName { path } => write!(f, "名称不安全或重复：{path}"),
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Entries whose hash matched.
    pub intact: usize,
    pub findings: Vec<Finding>,
    pub round_name: String,
    pub scope: String,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Checks the archive at `path` against its manifest. An archive that cannot be opened or
/// has no readable manifest is an error; everything else is a finding.
pub fn verify(path: &Path) -> Result<VerifyReport, PackageError> {
    let file = File::open(path)?;
    let mut zip = ZipArchive::new(BufReader::with_capacity(CHUNK, file))
        .map_err(|e| PackageError::Invalid(format!("不是可读的 zip 压缩包：{e}")))?;
    let manifest: Manifest = {
        let entry = zip.by_name(MANIFEST_JSON).map_err(|_| {
            PackageError::Invalid(format!("压缩包中没有 {MANIFEST_JSON}，无法核验"))
        })?;
        if entry.size() > MAX_MANIFEST_BYTES {
            return Err(PackageError::Invalid(format!("{MANIFEST_JSON} 过大")));
        }
        let mut bytes = Vec::new();
        entry
            .take(MAX_MANIFEST_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| PackageError::Invalid(format!("{MANIFEST_JSON} 无法读取：{e}")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| PackageError::Invalid(format!("{MANIFEST_JSON} 格式不对：{e}")))?
    };
    if manifest.format != MANIFEST_FORMAT {
        return Err(PackageError::Invalid(format!(
            "不认识的清单格式“{}”",
            manifest.format
        )));
    }
    let mut expected: BTreeMap<&str, &str> = BTreeMap::new();
    let mut findings = Vec::new();
    for e in &manifest.entries {
        if expected
            .insert(e.path.as_str(), e.sha256.as_str())
            .is_some()
        {
            findings.push(Finding::UnsafeName {
                path: e.path.clone(),
            });
        }
    }
    let mut seen = HashSet::new();
    let mut intact = 0;
    let mut buf = vec![0u8; CHUNK];
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                findings.push(Finding::Altered {
                    path: format!("第 {} 个条目", i + 1),
                    reason: format!("无法读取：{e}"),
                });
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
        };
        if entry.is_dir() {
            continue;
        }
        if !seen.insert(name.clone()) || !is_safe_path(&name) {
            findings.push(Finding::UnsafeName { path: name.clone() });
        }
        if name == MANIFEST_JSON {
            continue;
        }
        let Some(want) = expected.get(name.as_str()) else {
            findings.push(Finding::Extra { path: name });
            continue;
        };
        let mut hasher = Sha256::new();
        let read = loop {
            match entry.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) => break Err(e),
            }
        };
        match read {
            Err(e) => findings.push(Finding::Altered {
                path: name,
                reason: format!("内容无法读出：{e}"),
            }),
            Ok(()) => {
                let got = hex::encode(hasher.finalize());
                if got == *want {
                    intact += 1;
                } else {
                    findings.push(Finding::Altered {
                        path: name,
                        reason: format!("SHA-256 应为 {want}，实为 {got}"),
                    });
                }
            }
        }
    }
    for path in expected.keys() {
        if !seen.contains(*path) {
            findings.push(Finding::Missing {
                path: (*path).to_string(),
            });
        }
    }
    Ok(VerifyReport {
        intact,
        findings,
        round_name: manifest.round_name,
        scope: manifest.scope,
    })
}
