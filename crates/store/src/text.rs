//! Cleaning of the free texts users type (reasons, titles, notes): one rule for every
//! field, so limits and messages read the same everywhere.

use crate::error::{StoreError, StoreResult};

/// Trims a free text and checks it: not blank when `required`, at most `max` characters,
/// no control characters other than line breaks and tabs.
pub(crate) fn clean_text(raw: &str, what: &str, max: usize, required: bool) -> StoreResult<String> {
    let text = raw.trim();
    if required && text.is_empty() {
        return Err(StoreError::invalid(format!("{what}不能为空")));
    }
    if text.chars().count() > max {
        return Err(StoreError::invalid(format!("{what}太长（最多{max}个字）")));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(StoreError::invalid(format!("{what}含有不可见字符")));
    }
    Ok(text.to_string())
}

/// Like [`clean_text`] for a one-line optional value: blank becomes `None`.
pub(crate) fn clean_optional_line(
    raw: Option<&str>,
    what: &str,
    max: usize,
) -> StoreResult<Option<String>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let text = clean_text(raw, what, max, false)?;
    if text.chars().any(char::is_control) {
        return Err(StoreError::invalid(format!("{what}不能换行")));
    }
    Ok((!text.is_empty()).then_some(text))
}
