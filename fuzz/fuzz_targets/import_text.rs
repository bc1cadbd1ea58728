//! The importer on text: PDF-extracted text (and TSV when the first byte is odd), any
//! bytes, including GBK and broken UTF-8.
#![no_main]

use fazhi_import::{ImportOptions, InputFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (format, bytes) = match data.split_first() {
        Some((first, rest)) if first % 2 == 1 => (InputFormat::Tsv, rest),
        _ => (InputFormat::Text, data),
    };
    let options = ImportOptions {
        format: Some(format),
        ..Default::default()
    };
    let _ = fazhi_import::import_bytes(bytes, None, &options);
});
