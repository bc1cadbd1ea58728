//! The rule extractor on indicator text: extraction, descriptions, corrections.
#![no_main]

use fazhi_domain::rules::extract_rules;
use fazhi_domain::ruleset::effective_rules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for rule in extract_rules(text) {
        let _ = rule.describe();
        let _ = rule.op();
    }
    let _ = effective_rules(text, &[]);
});
