//! Content type from the first bytes of a file (its magic number), never from its name.
//!
//! A small signature table rather than the `infer` crate: `infer` recognises Word and Excel
//! 97–2003 files by parsing the whole compound file, which a streaming upload does not have at
//! hand, it does not recognise text, and some of its MIME strings are unusual (`audio/m4a`).
//! Here a 97–2003 file is told apart by its first directory sector, which [`Sniffer`] picks up
//! from the stream wherever it lies.

/// How many leading bytes [`sniff`] looks at (a ZIP's first entries, a text's first lines).
pub const SNIFF_LEN: usize = 64 * 1024;

/// How much of a compound file's first directory sector is kept (4 or 32 entries).
const OLE_DIR_MAX: usize = 4096;

const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The MIME types [`sniff`] returns.
pub(crate) mod mime {
    pub const PDF: &str = "application/pdf";
    pub const OFD: &str = "application/ofd";
    pub const PNG: &str = "image/png";
    pub const JPEG: &str = "image/jpeg";
    pub const GIF: &str = "image/gif";
    pub const WEBP: &str = "image/webp";
    pub const BMP: &str = "image/bmp";
    pub const TIFF: &str = "image/tiff";
    pub const HEIC: &str = "image/heic";
    pub const AVIF: &str = "image/avif";
    pub const MP4: &str = "video/mp4";
    pub const MOV: &str = "video/quicktime";
    pub const GPP: &str = "video/3gpp";
    pub const AVI: &str = "video/x-msvideo";
    pub const WEBM: &str = "video/webm";
    pub const MKV: &str = "video/x-matroska";
    pub const FLV: &str = "video/x-flv";
    pub const MPEG_TS: &str = "video/mp2t";
    pub const MP3: &str = "audio/mpeg";
    pub const AAC: &str = "audio/aac";
    pub const M4A: &str = "audio/mp4";
    pub const WAV: &str = "audio/wav";
    pub const AMR: &str = "audio/amr";
    pub const AMR_WB: &str = "audio/amr-wb";
    pub const OGG: &str = "audio/ogg";
    pub const FLAC: &str = "audio/flac";
    pub const ZIP: &str = "application/zip";
    pub const DOCX: &str =
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    pub const PPTX: &str =
        "application/vnd.openxmlformats-officedocument.presentationml.presentation";
    pub const ODT: &str = "application/vnd.oasis.opendocument.text";
    pub const ODS: &str = "application/vnd.oasis.opendocument.spreadsheet";
    pub const ODP: &str = "application/vnd.oasis.opendocument.presentation";
    pub const DOC: &str = "application/msword";
    pub const XLS: &str = "application/vnd.ms-excel";
    pub const PPT: &str = "application/vnd.ms-powerpoint";
    pub const OLE: &str = "application/x-ole-storage";
    pub const RAR: &str = "application/vnd.rar";
    pub const SEVEN_Z: &str = "application/x-7z-compressed";
    pub const GZIP: &str = "application/gzip";
    pub const TEXT: &str = "text/plain";
    pub const UNKNOWN: &str = "application/octet-stream";
}

/// What a county clerk calls a file of `content_type` (as [`sniff`] names it): `PDF 文档`,
/// `Word 文档`, `视频` …; anything not recognised is `其他文件`, never a MIME type.
///
/// ```
/// assert_eq!(fazhi_files::kind_label("application/pdf"), "PDF 文档");
/// assert_eq!(fazhi_files::kind_label("video/mp4"), "视频");
/// assert_eq!(fazhi_files::kind_label("application/octet-stream"), "其他文件");
/// ```
pub fn kind_label(content_type: &str) -> &'static str {
    use mime as c;
    match content_type {
        c::PDF => "PDF 文档",
        c::OFD => "OFD 版式文档",
        c::DOCX | c::DOC | c::ODT => "Word 文档",
        c::XLSX | c::XLS | c::ODS => "Excel 表格",
        c::PPTX | c::PPT | c::ODP => "演示文稿",
        c::OLE => "Office 文档",
        c::ZIP | c::RAR | c::SEVEN_Z | c::GZIP => "压缩包",
        c::TEXT => "文本文件",
        t if t.starts_with("image/") => "图片",
        t if t.starts_with("video/") => "视频",
        t if t.starts_with("audio/") => "音频",
        _ => "其他文件",
    }
}

/// The content type of a file from its first bytes (ideally [`SNIFF_LEN`] of them, or the
/// whole file): PDF, OFD, PNG, JPEG, GIF, WebP, BMP, TIFF, HEIC/AVIF, MP4, QuickTime (MOV), 3GP,
/// AVI, WebM/Matroska, FLV, MPEG-TS, MP3, AAC, M4A, WAV, AMR, Ogg, FLAC, ZIP and the Office
/// formats inside one (docx, xlsx, pptx, odt, ods, odp), Word/Excel/PowerPoint 97–2003 (OLE),
/// RAR, 7z, gzip, and plain text (UTF-8, UTF-16 with BOM, GBK/GB18030). Anything else is
/// `application/octet-stream`.
///
/// ```
/// assert_eq!(fazhi_files::sniff(b"%PDF-1.7\n"), "application/pdf");
/// assert_eq!(fazhi_files::sniff("会议纪要\n".as_bytes()), "text/plain");
/// assert_eq!(fazhi_files::sniff(&[0u8; 16]), "application/octet-stream");
/// ```
pub fn sniff(bytes: &[u8]) -> &'static str {
    let mut s = Sniffer::default();
    s.feed(bytes);
    s.finish()
}

/// Sniffs a stream chunk by chunk, keeping at most [`SNIFF_LEN`] + 4 KiB.
#[derive(Debug, Default)]
pub(crate) struct Sniffer {
    head: Vec<u8>,
    /// Bytes fed so far.
    seen: u64,
    /// Offset and length of a compound file's first directory sector, once known.
    ole_dir: Option<(u64, usize)>,
    ole_buf: Vec<u8>,
}

impl Sniffer {
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        let start = self.seen;
        self.seen += chunk.len() as u64;
        if self.head.len() < SNIFF_LEN {
            let take = (SNIFF_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        if self.ole_dir.is_none() && self.head.len() >= 0x40 && self.head.starts_with(&OLE_MAGIC) {
            // Set once; the offset is at least 512, beyond what the header took.
            self.ole_dir = Some(ole_directory_sector(&self.head).unwrap_or((u64::MAX, 0)));
        }
        if let Some((offset, len)) = self.ole_dir {
            let want_from = offset + self.ole_buf.len() as u64;
            let want_to = offset + len as u64;
            let end = self.seen;
            if want_from < want_to && want_from < end && want_from >= start {
                let from = (want_from - start) as usize;
                let to = (want_to.min(end) - start) as usize;
                self.ole_buf.extend_from_slice(&chunk[from..to]);
            }
        }
    }

    pub(crate) fn finish(&self) -> &'static str {
        detect(
            &self.head,
            self.seen > self.head.len() as u64,
            &self.ole_buf,
        )
    }
}

fn detect(b: &[u8], truncated: bool, ole_dir: &[u8]) -> &'static str {
    use mime::*;

    if b.starts_with(b"%PDF-") {
        return PDF;
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return PNG;
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return JPEG;
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return GIF;
    }
    if b.len() >= 12 && b.starts_with(b"RIFF") {
        match &b[8..12] {
            b"WEBP" => return WEBP,
            b"WAVE" => return WAV,
            b"AVI " => return AVI,
            _ => {}
        }
    }
    if let Some(t) = iso_media(b) {
        return t;
    }
    if b.starts_with(b"PK\x03\x04") {
        return zip_kind(b);
    }
    if b.starts_with(b"PK\x05\x06") {
        return ZIP; // an empty archive
    }
    if b.starts_with(&OLE_MAGIC) {
        return ole_kind(ole_dir, b);
    }
    if b.starts_with(b"ID3") {
        return MP3;
    }
    if b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        let window = &b[..b.len().min(64)];
        return if find(window, b"webm").is_some() {
            WEBM
        } else {
            MKV
        };
    }
    if b.starts_with(b"#!AMR-WB\n") {
        return AMR_WB;
    }
    if b.starts_with(b"#!AMR\n") {
        return AMR;
    }
    if b.starts_with(b"OggS") {
        return OGG;
    }
    if b.starts_with(b"fLaC") {
        return FLAC;
    }
    if b.starts_with(b"FLV\x01") {
        return FLV;
    }
    if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        return TIFF;
    }
    // "BM", then the file size, then two reserved 16-bit zeros.
    if b.len() >= 14 && b.starts_with(b"BM") && b[6..10] == [0, 0, 0, 0] {
        return BMP;
    }
    if b.starts_with(b"Rar!\x1a\x07") {
        return RAR;
    }
    if b.starts_with(&[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C]) {
        return SEVEN_Z;
    }
    if b.starts_with(&[0x1F, 0x8B, 0x08]) {
        return GZIP;
    }
    // Text before the MPEG audio frame check: no text starts with 0xFF, but be explicit about BOMs.
    if b.starts_with(&[0xFF, 0xFE]) || b.starts_with(&[0xFE, 0xFF]) {
        return TEXT;
    }
    if let Some(t) = mpeg_audio_frame(b) {
        return t;
    }
    if is_text(b, truncated) {
        return TEXT;
    }
    // MPEG transport stream (some dashboard and body cameras): a sync byte every 188 bytes.
    if b.len() >= 188 * 4 && (0..4).all(|i| b[i * 188] == 0x47) {
        return MPEG_TS;
    }
    UNKNOWN
}

/// ISO base media files (MP4, MOV, M4A, 3GP, HEIC, AVIF): a box `ftyp` at offset 4 whose major
/// brand names the kind; old QuickTime files start with another atom.
fn iso_media(b: &[u8]) -> Option<&'static str> {
    use mime::*;
    if b.len() < 12 {
        return None;
    }
    match &b[4..8] {
        b"ftyp" => {
            let brand = &b[8..12];
            Some(match brand {
                b"qt  " => MOV,
                b"M4A " | b"M4B " | b"M4P " | b"F4A " | b"F4B " => M4A,
                b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
                    HEIC
                }
                b"avif" | b"avis" => AVIF,
                _ if brand.starts_with(b"3gp") || brand.starts_with(b"3g2") => GPP,
                _ => MP4,
            })
        }
        b"moov" | b"mdat" | b"wide" | b"pnot" => Some(MOV),
        _ => None,
    }
}

/// An MPEG audio frame header at the very start: MP3 (layer III) or AAC in ADTS.
fn mpeg_audio_frame(b: &[u8]) -> Option<&'static str> {
    if b.len() < 4 || b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
        return None;
    }
    // ADTS: 12 sync bits, layer 00.
    if b[1] & 0xF6 == 0xF0 {
        return Some(mime::AAC);
    }
    let version = (b[1] >> 3) & 0b11; // 01 is reserved
    let layer = (b[1] >> 1) & 0b11; // 01 = layer III
    let bitrate = b[2] >> 4; // 1111 is invalid
    let rate = (b[2] >> 2) & 0b11; // 11 is reserved
    (version != 0b01 && layer == 0b01 && bitrate != 0b1111 && rate != 0b11).then_some(mime::MP3)
}

/// A ZIP archive: walk the local file headers in the head for the names that give the format
/// away (`word/`, `xl/`, `ppt/`, OFD's `OFD.xml`, ODF's `mimetype`).
fn zip_kind(b: &[u8]) -> &'static str {
    use mime::*;
    let mut pos = 0usize;
    for _ in 0..64 {
        let Some(h) = b.get(pos..pos + 30) else { break };
        if &h[..4] != b"PK\x03\x04" {
            break;
        }
        let flags = u16::from_le_bytes([h[6], h[7]]);
        let method = u16::from_le_bytes([h[8], h[9]]);
        let compressed = u32::from_le_bytes([h[18], h[19], h[20], h[21]]) as usize;
        let name_len = u16::from_le_bytes([h[26], h[27]]) as usize;
        let extra_len = u16::from_le_bytes([h[28], h[29]]) as usize;
        let Some(name) = b.get(pos + 30..pos + 30 + name_len) else {
            break;
        };
        let data_at = pos + 30 + name_len + extra_len;
        if name.starts_with(b"word/") {
            return DOCX;
        }
        if name.starts_with(b"xl/") {
            return XLSX;
        }
        if name.starts_with(b"ppt/") {
            return PPTX;
        }
        if name.eq_ignore_ascii_case(b"OFD.xml") {
            return OFD;
        }
        if name == b"mimetype" && method == 0 {
            let value = b.get(data_at..data_at + compressed.min(100)).unwrap_or(&[]);
            match value {
                b"application/vnd.oasis.opendocument.text" => return ODT,
                b"application/vnd.oasis.opendocument.spreadsheet" => return ODS,
                b"application/vnd.oasis.opendocument.presentation" => return ODP,
                _ => {}
            }
        }
        // With a data descriptor (flag bit 3) the sizes come after the data: search for the
        // next header instead.
        pos = if flags & 0x08 == 0 {
            data_at + compressed
        } else {
            match b.get(pos + 30..).and_then(|rest| find(rest, b"PK\x03\x04")) {
                Some(i) => pos + 30 + i,
                None => break,
            }
        };
    }
    ZIP
}

/// Where a compound file's first directory sector lies: `(offset, length to keep)`.
fn ole_directory_sector(header: &[u8]) -> Option<(u64, usize)> {
    let shift = u16::from_le_bytes([*header.get(0x1E)?, *header.get(0x1F)?]);
    if shift != 9 && shift != 12 {
        return None;
    }
    let sector = u32::from_le_bytes(header.get(0x30..0x34)?.try_into().ok()?);
    if sector >= 0xFFFF_FFFA {
        return None;
    }
    let size = 1usize << shift;
    Some(((u64::from(sector) + 1) << shift, size.min(OLE_DIR_MAX)))
}

/// Word, Excel or PowerPoint 97–2003 by the root entry's CLSID or by the stream names in the
/// first directory sector (falling back to the names anywhere in the head).
fn ole_kind(dir: &[u8], head: &[u8]) -> &'static str {
    use mime::*;
    // CLSIDs as stored (little-endian fields).
    const WORD: [u8; 16] = clsid(0x0002_0906);
    const EXCEL5: [u8; 16] = clsid(0x0002_0810);
    const EXCEL8: [u8; 16] = clsid(0x0002_0820);
    const PPT8: [u8; 16] = [
        0x10, 0x8D, 0x81, 0x64, 0x9B, 0x4F, 0xCF, 0x11, 0x86, 0xEA, 0x00, 0xAA, 0x00, 0xB9, 0x29,
        0xE8,
    ];
    if let Some(root_clsid) = dir.get(0x50..0x60) {
        if root_clsid == WORD {
            return DOC;
        }
        if root_clsid == EXCEL5 || root_clsid == EXCEL8 {
            return XLS;
        }
        if root_clsid == PPT8 {
            return PPT;
        }
    }
    for area in [dir, head] {
        if find_utf16(area, "WordDocument") {
            return DOC;
        }
        if find_utf16(area, "Workbook") || find_utf16(area, "Book") {
            return XLS;
        }
        if find_utf16(area, "PowerPoint Document") {
            return PPT;
        }
    }
    OLE
}

const fn clsid(data1: u32) -> [u8; 16] {
    let d = data1.to_le_bytes();
    [
        d[0], d[1], d[2], d[3], 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
    ]
}

fn find_utf16(hay: &[u8], needle: &str) -> bool {
    let n: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    find(hay, &n).is_some()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Plain text: no control characters other than tab, line breaks, form feed and escape, and
/// valid UTF-8 or GBK/GB18030 (common for files from Chinese Windows and Excel's CSV). A
/// character cut at the end of a truncated head is allowed.
fn is_text(b: &[u8], truncated: bool) -> bool {
    if b.is_empty() {
        return false;
    }
    if b.iter()
        .any(|&c| (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)) || c == 0x7F)
    {
        return false;
    }
    match std::str::from_utf8(b) {
        Ok(_) => return true,
        Err(e) if truncated && e.error_len().is_none() => return true,
        Err(_) => {}
    }
    // A truncated head may end inside a two- or four-byte GB18030 character.
    let cut = if truncated { 3 } else { 0 };
    (0..=cut.min(b.len() - 1)).any(|drop| {
        encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(&b[..b.len() - drop])
            .is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ole_directory_is_caught_across_chunks() {
        // Header: sector shift 9, first directory sector 3 → offset (3+1)*512 = 2048.
        let mut file = vec![0u8; 4096];
        file[..8].copy_from_slice(&OLE_MAGIC);
        file[0x1E] = 9;
        file[0x30] = 3;
        let root = 2048;
        file[root + 0x50..root + 0x60].copy_from_slice(&clsid(0x0002_0820));
        for chunk_len in [1, 7, 100, 512, 2049, 4096] {
            let mut s = Sniffer::default();
            for c in file.chunks(chunk_len) {
                s.feed(c);
            }
            assert_eq!(s.finish(), mime::XLS, "chunks of {chunk_len}");
        }
    }

    #[test]
    fn ole_directory_beyond_the_head_is_caught() {
        // A large .doc whose directory lies after the sniffed head.
        let sector = (SNIFF_LEN / 512 + 10) as u32;
        let offset = (sector as usize + 1) * 512;
        let mut file = vec![0u8; offset + 512];
        file[..8].copy_from_slice(&OLE_MAGIC);
        file[0x1E] = 9;
        file[0x30..0x34].copy_from_slice(&sector.to_le_bytes());
        // No CLSID, only the stream name in the second entry.
        let name: Vec<u8> = "WordDocument"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        file[offset + 128..offset + 128 + name.len()].copy_from_slice(&name);
        let mut s = Sniffer::default();
        for c in file.chunks(1000) {
            s.feed(c);
        }
        assert_eq!(s.finish(), mime::DOC);
        assert_eq!(
            sniff(&file[..SNIFF_LEN]),
            mime::OLE,
            "head alone cannot tell"
        );
    }

    #[test]
    fn truncated_utf8_and_gbk_heads_are_text() {
        let text = "法治政府建设示范创建".repeat(10_000);
        let mut s = Sniffer::default();
        s.feed(text.as_bytes());
        assert_eq!(s.finish(), mime::TEXT);

        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        let mut s = Sniffer::default();
        s.feed(&gbk);
        assert_eq!(s.finish(), mime::TEXT);
    }

    #[test]
    fn binary_is_not_text() {
        assert_eq!(sniff(&[0, 1, 2, 3, 4, 5]), mime::UNKNOWN);
        assert_eq!(sniff(&[]), mime::UNKNOWN);
        // High bytes that are neither UTF-8 nor GB18030.
        assert_eq!(sniff(&[0x80, 0x80, 0xFF, 0x30, 0x80]), mime::UNKNOWN);
    }
}
