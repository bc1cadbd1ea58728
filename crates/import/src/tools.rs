//! The two external programs the importer may call: poppler's `pdftotext` (PDF text with
//! the GBK CMaps of 公文 PDFs) and LibreOffice's `soffice` (old binary .doc/.wps to .docx).
//! Each runs as a child process with a time limit and a cap on what it may write back, so
//! a hostile file costs at most that time and that memory.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("没有安装 {0}")]
    NotInstalled(&'static str),
    #[error("{0} 在 {1} 秒内没有完成，已停止")]
    TimedOut(&'static str, u64),
    #[error("{0} 的输出超过 {1} MB 的上限，已停止")]
    TooLarge(&'static str, usize),
    #[error("{0} 报错：{1}")]
    Failed(&'static str, String),
}

/// Run `program` with `input` on its stdin; its stdout, at most `max_output` bytes.
pub fn run(
    program: &'static str,
    args: &[&str],
    input: &[u8],
    timeout: Duration,
    max_output: usize,
) -> Result<Vec<u8>, ToolError> {
    let mut command = Command::new(program);
    // Its own process group, so that a timeout also stops what it started (soffice is a
    // launcher script around soffice.bin).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ToolError::NotInstalled(program),
            _ => ToolError::Failed(program, e.to_string()),
        })?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(ToolError::Failed(
            program,
            "无法连接子进程的输入输出".into(),
        ));
    };
    let over_limit = AtomicBool::new(false);
    thread::scope(|scope| {
        // A child that stops reading early closes its stdin: the write error is expected.
        scope.spawn(move || {
            let _ = stdin.write_all(input);
        });
        let over = &over_limit;
        let out = scope.spawn(move || {
            let mut buf = Vec::new();
            let _ = stdout.take(max_output as u64 + 1).read_to_end(&mut buf);
            if buf.len() > max_output {
                over.store(true, Ordering::Relaxed);
            }
            buf
        });
        let err = scope.spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.take(16 * 1024).read_to_end(&mut buf);
            buf
        });
        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if Instant::now() >= deadline => {
                    break Err(ToolError::TimedOut(program, timeout.as_secs()));
                }
                // Output over the cap: no need to wait for the rest.
                Ok(None) if over_limit.load(Ordering::Relaxed) => {
                    break Err(ToolError::TooLarge(program, max_output / (1024 * 1024)));
                }
                Ok(None) => thread::sleep(Duration::from_millis(10)),
                Err(e) => break Err(ToolError::Failed(program, e.to_string())),
            }
        };
        if status.is_err() {
            kill_group(&mut child);
        }
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        let status = status?;
        if stdout.len() > max_output {
            return Err(ToolError::TooLarge(program, max_output / (1024 * 1024)));
        }
        if !status.success() {
            let message = String::from_utf8_lossy(&stderr);
            let first = message
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("退出码非零");
            return Err(ToolError::Failed(program, first.trim().to_string()));
        }
        Ok(stdout)
    })
}

/// Stop the child and everything in its process group, then reap it. The group is
/// signalled with the system's `kill` program, which keeps this crate free of `unsafe`.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Convert an old binary Word (.doc) or WPS (.wps) file to .docx with LibreOffice.
pub fn convert_to_docx(
    bytes: &[u8],
    extension: &str,
    timeout: Duration,
    max_output: usize,
) -> Result<Vec<u8>, ToolError> {
    if bytes.len() > max_output {
        return Err(ToolError::TooLarge("soffice", max_output / (1024 * 1024)));
    }
    let failed = |e: std::io::Error| ToolError::Failed("soffice", e.to_string());
    let dir = tempfile::tempdir().map_err(failed)?;
    let ext = if extension.chars().all(|c| c.is_ascii_alphanumeric()) && !extension.is_empty() {
        extension
    } else {
        "doc"
    };
    let input = dir.path().join(format!("input.{ext}"));
    std::fs::write(&input, bytes).map_err(failed)?;
    // A private profile: a LibreOffice already running for the user would otherwise take
    // the job (or refuse it) instead of this headless one.
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.path().join("profile").display()
    );
    let input_arg = input.display().to_string();
    let outdir = dir.path().display().to_string();
    run(
        "soffice",
        &[
            &profile,
            "--headless",
            "--convert-to",
            "docx",
            "--outdir",
            &outdir,
            &input_arg,
        ],
        &[],
        timeout,
        64 * 1024,
    )?;
    read_capped(&dir.path().join("input.docx"), max_output)
}

fn read_capped(path: &Path, max: usize) -> Result<Vec<u8>, ToolError> {
    let file = std::fs::File::open(path)
        .map_err(|_| ToolError::Failed("soffice", "没有生成 .docx 文件".into()))?;
    let mut buf = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ToolError::Failed("soffice", e.to_string()))?;
    if buf.len() > max {
        return Err(ToolError::TooLarge("soffice", max / (1024 * 1024)));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_is_named() {
        let err = run("fazhi-no-such-tool", &[], b"", Duration::from_secs(1), 10).unwrap_err();
        assert!(
            matches!(err, ToolError::NotInstalled("fazhi-no-such-tool")),
            "{err}"
        );
    }

    #[test]
    fn output_and_time_are_capped() {
        let out = run("cat", &[], b"hello", Duration::from_secs(5), 100).unwrap();
        assert_eq!(out, b"hello");
        let err = run("cat", &[], &[b'x'; 10_000], Duration::from_secs(5), 100).unwrap_err();
        assert!(matches!(err, ToolError::TooLarge(..)), "{err}");
        let err = run("sleep", &["5"], b"", Duration::from_millis(200), 100).unwrap_err();
        assert!(matches!(err, ToolError::TimedOut(..)), "{err}");
        // What the program started is stopped with it.
        let started = Instant::now();
        let err = run(
            "sh",
            &["-c", "sleep 5 & wait"],
            b"",
            Duration::from_millis(200),
            100,
        )
        .unwrap_err();
        assert!(matches!(err, ToolError::TimedOut(..)), "{err}");
        assert!(started.elapsed() < Duration::from_secs(4));
        let err = run("false", &[], b"", Duration::from_secs(5), 100).unwrap_err();
        assert!(matches!(err, ToolError::Failed(..)), "{err}");
    }
}
