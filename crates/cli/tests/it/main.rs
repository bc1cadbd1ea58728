//! End-to-end tests of the `fazhi` binary. One test binary; one module per command.

mod audit;
mod calendar;
mod export;
mod import;
#[cfg(target_os = "linux")]
mod live;
mod package;
mod rules;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The project root, where `data/` lives.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fazhi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fazhi"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the fazhi binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
