//! `fazhi import`.

use serde_json::Value;

use crate::{fazhi, stderr, stdout};

const SEED: &str = "data/seed/lanling-zerenfengong.txt";

#[test]
fn json_output_has_the_documented_shape() {
    let out = fazhi(&["import", SEED, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    assert_eq!(v["title"], "法治政府建设示范创建责任分工");
    let first = &v["indicators"][0];
    assert_eq!(first["code"], "一");
    assert_eq!(first["title"], "政府职能依法全面履行");
    let second = &first["children"][0];
    assert_eq!(second["code"], "1");
    assert_eq!(second["title"], "行政审批制度改革全面推行。");
    let item = &second["children"][0];
    assert_eq!(item["code"], "1");
    assert!(
        item["text"]
            .as_str()
            .unwrap()
            .starts_with("向社会公布本级政府全部行政审批事项清单，")
    );
    assert_eq!(item["units"], serde_json::json!(["县行政审批服务局"]));
    assert_eq!(v["units"].as_array().unwrap().len(), 23);
    let missing: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "missing_units")
        .collect();
    assert_eq!(missing.len(), 2);
    assert_eq!(missing[0]["severity"], "warning");
    assert_eq!(missing[0]["indicator"], "35");
    assert_eq!(missing[0]["line"], 48);
    assert!(!missing[0]["message"].as_str().unwrap().is_empty());
}

#[test]
fn json_with_errata_is_the_checked_in_library() {
    let out = fazhi(&[
        "import",
        SEED,
        "--errata",
        "data/library/lanling-errata.toml",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let produced: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let library: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::root().join("data/library/lanling.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(produced, library);
}

#[test]
fn summary_counts_levels_units_and_diagnostics() {
    let out = fazhi(&["import", SEED]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("一级指标 8 个"), "{text}");
    assert!(text.contains("二级指标 32 个"), "{text}");
    assert!(text.contains("末级指标（考核项）94 项"), "{text}");
    assert!(text.contains("责任单位 23 个"), "{text}");
    assert!(text.contains("各执法部门"), "{text}");
    assert!(text.contains("第48行[35]"), "{text}");
    assert!(text.contains("第87项的内容与第88项完全相同"), "{text}");
}

#[test]
fn unreadable_input_fails_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("fazhi-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prose = dir.join("prose.txt");
    std::fs::write(&prose, "会议纪要\n今天开会讨论了工作安排。\n").unwrap();
    let out = fazhi(&["import", prose.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("无法识别表格格式"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());

    let out = fazhi(&["import", "no/such/file.txt"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("无法读取文件"), "{}", stderr(&out));

    let out = fazhi(&["import", SEED, "--input-format", "odt"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("不认识的输入格式"),
        "{}",
        stderr(&out)
    );

    let bad_errata = dir.join("errata.toml");
    std::fs::write(
        &bad_errata,
        "[[erratum]]\npath = [\"一\"]\nfrom = \"x\"\nto = \"y\"\nreason = \"z\"\n",
    )
    .unwrap();
    let out = fazhi(&["import", SEED, "--errata", bad_errata.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("不再适用"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_file_over_the_import_limit_is_refused_before_it_is_read() {
    let dir = std::env::temp_dir().join(format!("fazhi-it-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.xlsx");
    // Sparse: 1 GB claimed, nothing written.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1024 * 1024 * 1024)
        .unwrap();
    let out = fazhi(&["import", big.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("超过导入上限"), "{}", stderr(&out));
    assert!(stderr(&out).contains("1024.0 MB"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

const DOCX: &str = "crates/import/tests/fixtures/lanling.docx";
const PDF: &str = "crates/import/tests/fixtures/lanling.pdf";

/// Indicators (code, text, units, lead) of a `--format json` output.
fn indicators(json: &Value) -> Vec<Value> {
    fn go(nodes: &[Value], out: &mut Vec<Value>) {
        for n in nodes {
            match n.get("children").and_then(Value::as_array) {
                Some(children) => go(children, out),
                None => out.push(serde_json::json!([
                    n["code"], n["text"], n["units"], n["lead"]
                ])),
            }
        }
    }
    let mut out = Vec::new();
    go(json["indicators"].as_array().unwrap(), &mut out);
    out
}

#[test]
fn word_and_pdf_files_import_to_the_library() {
    let library: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::root().join("data/library/lanling.json")).unwrap(),
    )
    .unwrap();
    for file in [DOCX, PDF] {
        let out = fazhi(&["import", file, "--format", "json"]);
        assert!(out.status.success(), "{file}: {}", stderr(&out));
        let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(v["title"], library["title"], "{file}");
        assert_eq!(v["units"], library["units"], "{file}");
        assert_eq!(indicators(&v), indicators(&library), "{file}");
    }
    // Forcing the format works on a file without its extension.
    let dir = std::env::temp_dir().join(format!("fazhi-it-docx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bare = dir.join("table");
    std::fs::copy(crate::root().join(DOCX), &bare).unwrap();
    let out = fazhi(&["import", bare.to_str().unwrap(), "--input-format", "docx"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("末级指标（考核项）94 项"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn compare_lists_what_changed_between_editions() {
    let seed = std::fs::read_to_string(crate::root().join(SEED)).unwrap();
    let edited: String = seed
        .lines()
        .map(|l| {
            if l.contains("\t4\t对各类证明事项") {
                l.replace("一律取消", "全部取消")
            } else if l.contains("\t9\t全面实施行政事业性收费") {
                l.replace("县财政局 县行政审批服务局", "县行政审批服务局")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = std::env::temp_dir().join(format!("fazhi-it-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let new = dir.join("new.txt");
    std::fs::write(&new, edited).unwrap();
    let out = fazhi(&["import", "--compare", SEED, new.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("新增 0 项、删除 0 项、改写 1 项、移动 0 项、责任单位变化 1 项"),
        "{text}"
    );
    assert!(text.contains("[-一律-]{+全部+}"), "{text}");
    assert!(
        text.contains(
            "【责任单位】一/2/第9项：县财政局（牵头）、县行政审批服务局 → 县行政审批服务局（牵头）"
        ),
        "{text}"
    );
    let out = fazhi(&[
        "import",
        "--compare",
        SEED,
        new.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["changes"].as_array().unwrap().len(), 2);
    assert_eq!(v["changes"][0]["change"], "reworded");
    // The same table as Word: the indicators did not change.
    let out = fazhi(&["import", "--compare", SEED, DOCX]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("两个版本的指标完全相同"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_dir_all(&dir).ok();
}
