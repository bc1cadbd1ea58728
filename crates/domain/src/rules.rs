//! Requirement rules extracted from indicator text (in progress).
