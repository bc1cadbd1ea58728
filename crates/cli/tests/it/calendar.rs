//! `fazhi calendar …` on a real data directory.

use crate::audit::tempfile_dir;
use crate::{fazhi, stderr, stdout};

#[test]
fn calendar_years_add_and_workdays() {
    let dir = tempfile_dir("calendar");
    let d = dir.to_str().unwrap();
    let out = fazhi(&["calendar", "years", "--data-dir", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2026\t随系统提供"),
        "{}",
        stdout(&out)
    );

    // The official example: 5 working days after 2025-09-26 is 2025-10-10.
    let out = fazhi(&[
        "calendar",
        "workdays",
        "--from",
        "2025-09-26",
        "--add",
        "5",
        "--data-dir",
        d,
    ]);
    assert_eq!(
        stdout(&out).trim(),
        "2025-09-26 之后第 5 个工作日是 2025-10-10"
    );
    let out = fazhi(&[
        "calendar",
        "workdays",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-24",
        "--data-dir",
        d,
    ]);
    assert!(
        stdout(&out).contains("相隔 16 个工作日"),
        "{}",
        stdout(&out)
    );
    // 2027 is not shipped: said, not guessed.
    let out = fazhi(&[
        "calendar",
        "workdays",
        "--from",
        "2027-03-01",
        "--add",
        "3",
        "--data-dir",
        d,
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("2027"), "{}", stderr(&out));

    // A bad file is refused with its line; a good one is added and then counts.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "date,kind,name\n2027-02-06,holiday,春节\n").unwrap();
    let out = fazhi(&[
        "calendar",
        "add",
        bad.to_str().unwrap(),
        "--year",
        "2027",
        "--source",
        "测试",
        "--data-dir",
        d,
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("第 2 行"), "{}", stderr(&out));
    let good = dir.join("2027.csv");
    std::fs::write(
        &good,
        "date,kind,name\n2027-02-06,off,春节\n2027-02-07,off,春节\n2027-02-08,off,春节\n2027-02-20,workday,春节\n",
    )
    .unwrap();
    let out = fazhi(&[
        "calendar",
        "add",
        good.to_str().unwrap(),
        "--year",
        "2027",
        "--source",
        "国办发明电〔2026〕测试号",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("已录入2027年节假日安排，共 4 条"));
    let out = fazhi(&["calendar", "years", "--data-dir", d]);
    assert!(stdout(&out).contains("2027\t国办发明电〔2026〕测试号（命令行录入）"));
    // 2027-02-05 (Fri) + 1 working day: 02-06..08 are off → 02-09.
    let out = fazhi(&[
        "calendar",
        "workdays",
        "--from",
        "2027-02-05",
        "--add",
        "1",
        "--data-dir",
        d,
    ]);
    assert!(stdout(&out).contains("是 2027-02-09"), "{}", stdout(&out));
    std::fs::remove_dir_all(&dir).ok();
}
