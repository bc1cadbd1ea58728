//! Finding the fonts a PDF embeds: the system font folders plus an optional configured one,
//! scanned once per process (only the fonts' metadata is kept; their bytes are read when a
//! document needs them and dropped afterwards).
//!
//! The 公文 fonts (方正小标宋简体, 仿宋_GB2312, 黑体, 楷体_GB2312) are commercial and not packaged;
//! when a site puts licensed copies in the configured folder they are used. Otherwise the
//! free substitutes from Debian: Noto Serif CJK SC (for 仿宋 and, in bold, for 小标宋), Noto
//! Sans CJK SC (黑体), LXGW WenKai or AR PL UKai (楷体; without one, Noto Serif CJK SC).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use typst::text::{FontBook, FontInfo};

use crate::DocumentError;

/// Folders scanned on every machine (Debian's, local additions, the user's).
const SYSTEM_DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];
/// Font files larger than this are skipped (the largest CJK collections are ~30 MB).
const MAX_FONT_FILE: u64 = 128 << 20;
/// At most this many font files are scanned (a folder of thousands is a mistake).
const MAX_FONT_FILES: usize = 4000;

/// One face of a font file.
#[derive(Debug, Clone)]
pub struct FontEntry {
    pub path: PathBuf,
    pub index: u32,
    pub info: FontInfo,
}

/// The fonts found, and which serves each 公文 role.
#[derive(Debug, Clone)]
pub struct FontCatalog {
    pub entries: Vec<FontEntry>,
    pub roles: Roles,
}

/// Family names chosen for each role (as typst names them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Roles {
    /// Body text (仿宋_GB2312 or its substitute).
    pub song: String,
    /// The title (方正小标宋简体 or a bold serif).
    pub title: String,
    /// Whether the title face needs the bold weight (a substitute for 小标宋).
    pub title_bold: bool,
    /// 一级标题 (黑体).
    pub hei: String,
    /// 二级标题 (楷体_GB2312 or its substitute).
    pub kai: String,
    /// Page numbers (宋体).
    pub number: String,
}

const SONG: &[&str] = &[
    "FangSong_GB2312",
    "仿宋_GB2312",
    "FangSong",
    "仿宋",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "Source Han Serif CN",
    "FandolFang",
    "FandolSong",
    "AR PL UMing CN",
];
const TITLE: &[&str] = &[
    "FZXiaoBiaoSong-B05S",
    "方正小标宋简体",
    "FZXiaoBiaoSong-B05",
];
const HEI: &[&str] = &[
    "SimHei",
    "黑体",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "FandolHei",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
];
const KAI: &[&str] = &[
    "KaiTi_GB2312",
    "楷体_GB2312",
    "KaiTi",
    "楷体",
    "LXGW WenKai",
    "AR PL UKai CN",
    "AR PL KaitiM GB",
    "FandolKai",
];
const NUMBER: &[&str] = &["SimSun", "宋体", "Noto Serif CJK SC", "Source Han Serif SC"];

fn is_font_file(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        matches!(
            e.to_ascii_lowercase().as_str(),
            "ttf" | "otf" | "ttc" | "otc"
        )
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 8 || out.len() >= MAX_FONT_FILES {
        return;
    }
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out, depth + 1);
        } else if is_font_file(&p) && out.len() < MAX_FONT_FILES {
            out.push(p);
        }
    }
}

fn has_cjk(info: &FontInfo) -> bool {
    // 中, 国, 县: a face without these cannot set a Chinese document.
    ['中', '国', '县']
        .iter()
        .all(|c| info.coverage.contains(u32::from(*c)))
}

impl FontCatalog {
    /// Scans the system folders and `extra` (configured fonts first: a site's licensed 公文
    /// fonts win over the free substitutes).
    pub fn scan(extra: Option<&Path>) -> Result<FontCatalog, DocumentError> {
        let mut files = Vec::new();
        if let Some(dir) = extra {
            if !dir.is_dir() {
                return Err(DocumentError::Fonts(format!(
                    "配置的字体目录 {} 不存在或不是目录",
                    dir.display()
                )));
            }
            collect(dir, &mut files, 0);
        }
        let mut dirs: Vec<PathBuf> = SYSTEM_DIRS.iter().map(PathBuf::from).collect();
        if let Some(home) = std::env::var_os("HOME") {
            dirs.push(Path::new(&home).join(".local/share/fonts"));
        }
        for d in &dirs {
            collect(d, &mut files, 0);
        }
        Self::from_files(files)
    }

    /// Scans only `dirs` (no system folders): for tests and for sites that want exactly
    /// their own fonts.
    pub fn scan_only(dirs: &[&Path]) -> Result<FontCatalog, DocumentError> {
        let mut files = Vec::new();
        for d in dirs {
            collect(d, &mut files, 0);
        }
        Self::from_files(files)
    }

    fn from_files(files: Vec<PathBuf>) -> Result<FontCatalog, DocumentError> {
        let mut entries = Vec::new();
        for path in files {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.len() > MAX_FONT_FILE {
                continue;
            }
            let Ok(data) = std::fs::read(&path) else {
                continue;
            };
            for (index, info) in (0u32..).zip(FontInfo::iter(&data)) {
                entries.push(FontEntry {
                    path: path.clone(),
                    index,
                    info,
                });
            }
        }
        let roles = Roles::choose(&entries)?;
        Ok(FontCatalog { entries, roles })
    }

    /// The process-wide catalog for `extra` (scanned on first use).
    pub fn shared(extra: Option<&Path>) -> Result<Arc<FontCatalog>, DocumentError> {
        static CACHE: OnceLock<Mutex<HashMap<Option<PathBuf>, Arc<FontCatalog>>>> = OnceLock::new();
        let key = extra.map(Path::to_path_buf);
        let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some(c) = cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(c);
        }
        let catalog = Arc::new(FontCatalog::scan(extra)?);
        if let Ok(mut m) = cache.lock() {
            m.insert(key, Arc::clone(&catalog));
        }
        Ok(catalog)
    }

    /// The book typst selects from.
    pub fn book(&self) -> FontBook {
        FontBook::from_infos(self.entries.iter().map(|e| e.info.clone()))
    }

    /// The font files a document with these roles embeds, for messages and tests.
    pub fn describe(&self) -> String {
        let r = &self.roles;
        format!(
            "正文 {}，标题 {}{}，一级标题 {}，二级标题 {}",
            r.song,
            r.title,
            if r.title_bold { "（粗体）" } else { "" },
            r.hei,
            r.kai
        )
    }
}

impl Roles {
    fn choose(entries: &[FontEntry]) -> Result<Roles, DocumentError> {
        let cjk: Vec<&FontEntry> = entries.iter().filter(|e| has_cjk(&e.info)).collect();
        let pick = |wanted: &[&str]| -> Option<String> {
            wanted.iter().find_map(|w| {
                cjk.iter()
                    .find(|e| e.info.family.eq_ignore_ascii_case(w))
                    .map(|e| e.info.family.clone())
            })
        };
        // Any CJK face at all, so a machine with only, say, WenQuanYi still works.
        let any = cjk.first().map(|e| e.info.family.clone());
        let Some(song) = pick(SONG).or_else(|| any.clone()) else {
            return Err(DocumentError::NoCjkFont);
        };
        let hei = pick(HEI).unwrap_or_else(|| song.clone());
        let kai = pick(KAI).unwrap_or_else(|| song.clone());
        let number = pick(NUMBER).unwrap_or_else(|| song.clone());
        let (title, title_bold) = match pick(TITLE) {
            Some(t) => (t, false),
            None => (song.clone(), true),
        };
        Ok(Roles {
            song,
            title,
            title_bold,
            hei,
            kai,
            number,
        })
    }
}
