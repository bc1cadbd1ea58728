//! The typst `World` of one compilation: a fixed template as `/main.typ`, the document's
//! data as `/data.json` (user text never enters typst source, so it cannot inject markup),
//! extra files (evidence pages and images) read from disk when typst asks for them, and
//! the fonts of the [`FontCatalog`], loaded lazily.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{Datelike, NaiveDate};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use crate::DocumentError;
use crate::fonts::FontCatalog;

/// Where a file typst may read comes from.
#[derive(Debug, Clone)]
pub enum FileSource {
    Memory(Bytes),
    Disk(PathBuf),
}

pub(crate) fn file_id(path: &str) -> Result<FileId, DocumentError> {
    let vpath = VirtualPath::new(path)
        .map_err(|e| DocumentError::Render(format!("内部文件名 {path} 无效：{e:?}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

pub(crate) struct DocWorld {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    catalog: Arc<FontCatalog>,
    fonts: Vec<OnceLock<Option<Font>>>,
    /// Font file bytes shared by the faces of one collection.
    font_files: Mutex<HashMap<PathBuf, Bytes>>,
    main: Source,
    files: HashMap<FileId, FileSource>,
    today: NaiveDate,
}

impl DocWorld {
    pub(crate) fn new(
        catalog: Arc<FontCatalog>,
        template: &str,
        files: HashMap<FileId, FileSource>,
        today: NaiveDate,
    ) -> Result<Self, DocumentError> {
        let main = Source::new(file_id("/main.typ")?, template.to_string());
        Ok(DocWorld {
            library: LazyHash::new(Library::default()),
            book: LazyHash::new(catalog.book()),
            fonts: catalog.entries.iter().map(|_| OnceLock::new()).collect(),
            catalog,
            font_files: Mutex::new(HashMap::new()),
            main,
            files,
            today,
        })
    }

    fn load_font(&self, index: usize) -> Option<Font> {
        let entry = self.catalog.entries.get(index)?;
        let bytes = {
            let mut cache = self.font_files.lock().ok()?;
            match cache.get(&entry.path) {
                Some(b) => b.clone(),
                None => {
                    let b = Bytes::new(std::fs::read(&entry.path).ok()?);
                    cache.insert(entry.path.clone(), b.clone());
                    b
                }
            }
        };
        Font::new(bytes, entry.index)
    }

    /// Compiles and exports the PDF.
    pub(crate) fn pdf(&self) -> Result<Vec<u8>, DocumentError> {
        let result = typst::compile::<PagedDocument>(self);
        let doc = result.output.map_err(|e| diagnostics(&e))?;
        let options = typst_pdf::PdfOptions {
            ident: typst::foundations::Smart::Custom("fazhi".into()),
            creator: typst::foundations::Smart::Custom(Some(format!(
                "fazhi {}",
                env!("CARGO_PKG_VERSION")
            ))),
            ..Default::default()
        };
        let out = typst_pdf::pdf(&doc, &options).map_err(|e| diagnostics(&e));
        drop(doc);
        // typst memoizes layouts, fonts and images process-wide; a server that renders
        // one report a day must not keep them.
        typst::comemo::evict(0);
        out
    }
}

fn diagnostics(errors: &[SourceDiagnostic]) -> DocumentError {
    let text: Vec<String> = errors
        .iter()
        .take(5)
        .map(|e| {
            let hints: Vec<&str> = e.hints.iter().map(|h| h.v.as_str()).collect();
            if hints.is_empty() {
                e.message.to_string()
            } else {
                format!("{}（{}）", e.message, hints.join("；"))
            }
        })
        .collect();
    DocumentError::Render(text.join("；"))
}

impl World for DocWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            return Ok(self.main.clone());
        }
        let bytes = self.file(id)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| FileError::InvalidUtf8)?;
        Ok(Source::new(id, text.to_string()))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        match self.files.get(&id) {
            Some(FileSource::Memory(b)) => Ok(b.clone()),
            Some(FileSource::Disk(p)) => std::fs::read(p)
                .map(Bytes::new)
                .map_err(|e| FileError::from_io(e, p)),
            None => Err(FileError::NotFound(PathBuf::from(
                id.vpath().get_without_slash(),
            ))),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts
            .get(index)?
            .get_or_init(|| self.load_font(index))
            .clone()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Datetime::from_ymd(
            self.today.year(),
            u8::try_from(self.today.month()).ok()?,
            u8::try_from(self.today.day()).ok()?,
        )
    }
}
