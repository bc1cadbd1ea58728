//! The importer on CSV bytes.
#![no_main]

use fazhi_import::{ImportOptions, InputFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ImportOptions {
        format: Some(InputFormat::Csv),
        ..Default::default()
    };
    let _ = fazhi_import::import_bytes(data, None, &options);
});
