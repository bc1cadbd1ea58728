//! The office's management pages (管理 menu): units, users, importing a new framework version, the audit log.

pub mod audit;
pub mod import;
pub mod units;
pub mod users;
