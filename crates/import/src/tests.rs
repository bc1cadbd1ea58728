//! Tests of the importer on the county seed and on the other layouts it reads.

use fazhi_domain::framework::{Framework, Node};
use proptest::prelude::*;

use crate::errata::{self, Errata};
use crate::{DiagnosticKind, ImportError, ImportOptions, ImportOutput, InputFormat, Severity};

const SEED: &str = include_str!("../../../data/seed/lanling-zerenfengong.txt");
const LIBRARY: &str = include_str!("../../../data/library/lanling.json");
const ERRATA: &str = include_str!("../../../data/library/lanling-errata.toml");

/// Units per item, read off the document by eye (and by a one-line script over the last
/// cell of each numbered row); 纪委监委 written in its canonical form.
const EXPECTED_UNITS: [&str; 94] = [
    "县行政审批服务局",                                 // 1
    "县行政审批服务局",                                 // 2
    "县行政审批服务局",                                 // 3
    "县司法局",                                         // 4
    "县行政审批服务局 县市场监督管理局",                // 5
    "县行政审批服务局",                                 // 6
    "县委编办",                                         // 7
    "县行政审批服务局",                                 // 8
    "县财政局 县行政审批服务局",                        // 9
    "县委编办",                                         // 10
    "县委编办",                                         // 11
    "县市场监督管理局",                                 // 12
    "县发改局",                                         // 13
    "县市场监督管理局",                                 // 14
    "县司法局 县市场监督管理局",                        // 15
    "县政府办公室 县发改局",                            // 16
    "县政府办公室 县发改局",                            // 17
    "县民政局 县市场监督管理局",                        // 18
    "县财政局 县民政局",                                // 19
    "县财政局",                                         // 20
    "县司法局",                                         // 21
    "县发改局 临沂市环保局兰陵分局 县自然资源和规划局", // 22
    "县司法局",                                         // 23
    "县司法局",                                         // 24
    "县司法局",                                         // 25
    "县司法局",                                         // 26
    "县司法局",                                         // 27
    "县司法局",                                         // 28
    "县司法局",                                         // 29
    "县政府办公室",                                     // 30
    "县政府办公室",                                     // 31
    "县政府办公室",                                     // 32
    "县政府办公室",                                     // 33
    "县政府办公室",                                     // 34
    "",                                                 // 35
    "县委政法委",                                       // 36
    "县司法局",                                         // 37
    "县司法局",                                         // 38
    "县政府办公室",                                     // 39
    "县政府办公室",                                     // 40
    "县政府办公室",                                     // 41
    "县政府办公室",                                     // 42
    "县委组织部 县政府办公室",                          // 43
    "县委编办",                                         // 44
    "县司法局",                                         // 45
    "县委编办",                                         // 46
    "县法院 县检察院 县公安局 县司法局",                // 47
    "县司法局",                                         // 48
    "各执法部门",                                       // 49
    "各执法部门",                                       // 50
    "各执法部门",                                       // 51
    "各执法部门",                                       // 52
    "各执法部门",                                       // 53
    "各执法部门",                                       // 54
    "各执法部门",                                       // 55
    "各执法部门",                                       // 56
    "各执法部门",                                       // 57
    "各执法部门",                                       // 58
    "县司法局",                                         // 59
    "县司法局",                                         // 60
    "县司法局",                                         // 61
    "县司法局",                                         // 62
    "县人社局",                                         // 63
    "县委办公室 县政府办公室",                          // 64
    "县财政局",                                         // 65
    "县政府办公室",                                     // 66
    "县政府办公室 县法院 县司法局",                     // 67
    "县政府办公室 县法院 县司法局",                     // 68
    "县检察院 县纪委监委",                              // 69
    "县政府办公室",                                     // 70
    "县政府办公室 县委编办",                            // 71
    "县审计局",                                         // 72
    "县政府办公室",                                     // 73
    "县政府办公室",                                     // 74
    "县政府办公室",                                     // 75
    "县委宣传部 县政府办公室",                          // 76
    "县司法局",                                         // 77
    "县信访局 县司法局",                                // 78
    "县司法局",                                         // 79
    "县司法局",                                         // 80
    "县司法局",                                         // 81
    "县司法局",                                         // 82
    "县司法局",                                         // 83
    "县司法局",                                         // 84
    "县司法局",                                         // 85
    "县司法局",                                         // 86
    "",                                                 // 87
    "县委组织部 县纪委监委",                            // 88
    "县政府办公室 县司法局",                            // 89
    "县委组织部 县司法局",                              // 90
    "县委办公室 县政府办公室",                          // 91
    "县司法局",                                         // 92
    "县委办公室 县政府办公室 县委督委办",               // 93
    "县委办公室 县委组织部 县委督委办 县司法局",        // 94
];

fn import_str(text: &str, name: &str) -> Result<ImportOutput, ImportError> {
    crate::import_bytes(text.as_bytes(), Some(name), &ImportOptions::default())
}

fn seed() -> ImportOutput {
    import_str(SEED, "seed.txt").expect("the seed imports")
}

fn leaves(f: &Framework) -> Vec<&fazhi_domain::Indicator> {
    f.walk_indicators().into_iter().map(|(_, i)| i).collect()
}

fn diags_of(out: &ImportOutput, kind: DiagnosticKind) -> Vec<&crate::Diagnostic> {
    out.diagnostics.iter().filter(|d| d.kind == kind).collect()
}

#[test]
fn seed_has_the_documents_shape() {
    let out = seed();
    assert_eq!(out.framework.title, "法治政府建设示范创建责任分工");
    assert_eq!(out.framework.level_counts(), vec![8, 32, 94]);
    let codes: Vec<String> = leaves(&out.framework)
        .iter()
        .map(|i| i.code.clone())
        .collect();
    let expected: Vec<String> = (1..=94).map(|n| n.to_string()).collect();
    assert_eq!(codes, expected);
}

#[test]
fn seed_first_level_titles_are_repaired() {
    let out = seed();
    let titles: Vec<(&str, &str)> = out
        .framework
        .indicators
        .iter()
        .map(|n| match n {
            Node::Heading(h) => (h.code.as_str(), h.title.as_str()),
            Node::Indicator(_) => panic!("a leaf at the top level"),
        })
        .collect();
    assert_eq!(
        titles,
        vec![
            ("一", "政府职能依法全面履行"),
            ("二", "依法行政制度体系完善"),
            ("三", "重大行政决策科学民主合法"),
            ("四", "行政执法严格规范公正文明"),
            ("五", "行政权力制约监督科学有效"),
            ("六", "社会矛盾纠纷依法有效化解"),
            ("七", "政府工作人员法治思维和依法行政能力全面提高"),
            ("八", "法治政府建设组织领导落实到位"),
        ]
    );
}

#[test]
fn seed_units_per_item_are_exact() {
    let out = seed();
    for (item, expected) in leaves(&out.framework).iter().zip(EXPECTED_UNITS) {
        let expected: Vec<&str> = expected.split_whitespace().collect();
        assert_eq!(item.units, expected, "units of item {}", item.code);
        let lead: Vec<&str> = expected.iter().take(1).copied().collect();
        assert_eq!(item.lead, lead, "lead of item {}", item.code);
    }
}

#[test]
fn seed_has_23_canonical_units_with_the_group() {
    let out = seed();
    assert_eq!(out.framework.units.len(), 23);
    assert!(out.framework.units.iter().any(|u| u == "各执法部门"));
    assert!(!out.framework.units.iter().any(|u| u == "纪委监委"));
    let jw = out
        .unit_details
        .iter()
        .find(|u| u.name == "县纪委监委")
        .unwrap();
    assert_eq!(jw.aliases, vec!["纪委监委"]);
    let group = out
        .unit_details
        .iter()
        .find(|u| u.name == "各执法部门")
        .unwrap();
    assert_eq!(group.kind, fazhi_domain::UnitKind::Group);
    assert_eq!(diags_of(&out, DiagnosticKind::AliasFolded).len(), 1);
}

#[test]
fn seed_split_items_are_complete() {
    let out = seed();
    let all = leaves(&out.framework);
    let item = |code: &str| all.iter().find(|i| i.code == code).unwrap();
    let t24 = &item("24").text;
    assert!(t24.starts_with("行政规范性文件没有增加法律、法规规定之外的行政权力事项"));
    assert!(t24.contains("没有超越职权规定应由市场调节"), "{t24}");
    assert!(t24.ends_with("违法设置市场准入和退出条件等。"));
    let t76 = &item("76").text;
    assert!(
        t76.contains("有关地方和部门主要负责人要带头主动发声。"),
        "{t76}"
    );
    assert!(
        t76.contains("最迟在事件发生后5小时内发布权威信息"),
        "spaces in numbers removed: {t76}"
    );
    let t25 = &item("25").text;
    assert!(t25.contains("合法性审核率达100%"));
    assert!(t25.contains("不少于5个工作日，最长不超过15个工作日"));
    assert!(
        item("68").text.contains("裁判，不存在"),
        "half-width comma made full-width"
    );
    for i in &all {
        assert!(!i.text.is_empty(), "item {} has text", i.code);
        assert!(
            !i.text.contains(' '),
            "item {} keeps no stray space",
            i.code
        );
    }
}

#[test]
fn seed_second_level_page_breaks_are_joined() {
    let out = seed();
    let titles: Vec<String> = out
        .framework
        .walk_indicators()
        .iter()
        .filter_map(|(path, _)| path.get(1).map(|h| h.title.clone()))
        .collect();
    assert!(titles.contains(&"加强事中事后监管。".to_string()));
    assert!(titles.contains(&"依法决策机制健全。".to_string()));
    assert!(titles.contains(&"全面推行执法全过程记录制度。".to_string()));
    assert!(titles.contains(&"全面落实行政执法责任制。".to_string()));
    assert!(titles.contains(&"加强党对法治政府建设的领导。".to_string()));
    assert!(!titles.iter().any(|t| t.contains('執') || t.contains('權')));
}

#[test]
fn seed_diagnostics_name_missing_units_and_the_duplicate() {
    let out = seed();
    let missing: Vec<(Option<&str>, Option<u32>)> = diags_of(&out, DiagnosticKind::MissingUnits)
        .iter()
        .map(|d| (d.indicator.as_deref(), d.line))
        .collect();
    assert_eq!(
        missing,
        vec![(Some("35"), Some(48)), (Some("87"), Some(108))]
    );
    let dup = diags_of(&out, DiagnosticKind::DuplicateText);
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0].indicator.as_deref(), Some("87"));
    assert!(dup[0].message.contains("88"), "{}", dup[0].message);
    assert!(
        dup.iter()
            .chain(&diags_of(&out, DiagnosticKind::MissingUnits))
            .all(|d| d.severity == Severity::Warning)
    );
}

#[test]
fn seed_every_repair_is_reported_with_its_line() {
    let out = seed();
    let at = |kind, line| {
        out.diagnostics
            .iter()
            .any(|d| d.kind == kind && d.line == Some(line))
    };
    // Page-break splits: 管。, 策科学民主合法 + 全。, 文明, 程记录制度。, 政执法责任制。, 效, item 24, item 76.
    for line in [22, 44, 61, 69, 77, 86, 36, 96, 112] {
        assert!(
            at(DiagnosticKind::SplitCellJoined, line),
            "join on line {line}"
        );
    }
    for line in [44, 69] {
        assert!(
            at(DiagnosticKind::OverlapRemoved, line),
            "overlap on line {line}"
        );
    }
    assert!(at(DiagnosticKind::TraditionalConverted, 58));
    assert!(at(DiagnosticKind::VerticalText, 113));
    assert!(at(DiagnosticKind::SpacesRemoved, 37));
    assert!(at(DiagnosticKind::PunctuationNormalized, 86));
    assert!(out.diagnostics.iter().all(|d| d.line.is_some()));
    assert!(diags_of(&out, DiagnosticKind::NumberingGap).is_empty());
    assert!(diags_of(&out, DiagnosticKind::UnattachedText).is_empty());
}

#[test]
fn checked_in_library_is_reproduced_from_the_raw_seed() {
    let mut out = seed();
    let list = Errata::parse(ERRATA).expect("errata parse");
    errata::apply(&mut out, &list).expect("errata apply");
    let library: ImportOutput = serde_json::from_str(LIBRARY).expect("library parses");
    assert_eq!(
        out, library,
        "data/library/lanling.json is stale: regenerate it (see the errata file header)"
    );
}

#[test]
fn stale_erratum_is_refused_and_changes_nothing() {
    let mut out = seed();
    let before = out.clone();
    let list = Errata::parse(
        "[[erratum]]\npath = [\"四\", \"1\"]\nfrom = \"不是这个\"\nto = \"x\"\nreason = \"r\"\n\
         [[erratum]]\npath = [\"九\"]\nfrom = \"a\"\nto = \"b\"\nreason = \"r\"\n",
    )
    .unwrap();
    let err = errata::apply(&mut out, &list).unwrap_err();
    assert!(err.to_string().contains("不再适用"), "{err}");
    assert_eq!(out, before);
}

/// Write a framework back out as a clean table, one row per indicator, with the heading
/// cells only on the first row of each heading (as merged cells read).
fn to_rows(f: &Framework, restart_numbering: bool) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "一级指标".to_string(),
        "二级指标".into(),
        "序号".into(),
        "三级指标".into(),
        "责任单位".into(),
    ]];
    let mut last_path: Vec<String> = Vec::new();
    let mut counter = 0;
    for (path, item) in f.walk_indicators() {
        let codes: Vec<String> = path.iter().map(|h| h.code.clone()).collect();
        let mut row = vec![String::new(); 5];
        for (depth, h) in path.iter().enumerate() {
            if last_path.get(..=depth) != codes.get(..=depth) {
                let sep = if depth == 0 { "、" } else { ". " };
                row[depth] = format!("{}{sep}{}", h.code, h.title);
                if depth == 1 {
                    counter = 0;
                }
            }
        }
        counter += 1;
        row[2] = if restart_numbering {
            counter.to_string()
        } else {
            item.code.clone()
        };
        row[3] = item.text.clone();
        row[4] = item.units.join("、");
        rows.push(row);
        last_path = codes;
    }
    rows
}

fn same_tree(a: &Framework, b: &Framework) {
    assert!(!a.title.is_empty());
    assert_eq!(a.level_counts(), b.level_counts());
    assert_eq!(a.units, b.units);
    let la = leaves(a);
    let lb = leaves(b);
    for (x, y) in la.iter().zip(&lb) {
        assert_eq!(x.text, y.text);
        assert_eq!(x.units, y.units);
    }
}

fn titled(rows: &[Vec<String>], sep: &str) -> String {
    let mut s = String::from("法治政府建设示范创建责任分工\n");
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|c| {
                if sep == "," {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect();
        s.push_str(&cells.join(sep));
        s.push('\n');
    }
    s
}

#[test]
fn reads_the_same_table_as_tsv_and_csv() {
    let original = seed();
    let rows = to_rows(&original.framework, false);
    let tsv = import_str(&titled(&rows, "\t"), "t.tsv").unwrap();
    same_tree(&tsv.framework, &original.framework);
    let csv = import_str(&titled(&rows, ","), "t.csv").unwrap();
    same_tree(&csv.framework, &original.framework);
    assert_eq!(csv.framework.title, "法治政府建设示范创建责任分工");
}

#[test]
fn reads_gbk_csv_from_chinese_excel() {
    let original = seed();
    let text = titled(&to_rows(&original.framework, false), ",");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let out = crate::import_bytes(&gbk, Some("t.csv"), &ImportOptions::default()).unwrap();
    same_tree(&out.framework, &original.framework);
    assert_eq!(out.diagnostics[0].kind, DiagnosticKind::EncodingConverted);
}

#[test]
fn reads_the_same_table_as_xlsx_with_merged_cells() {
    let original = seed();
    let rows = to_rows(&original.framework, false);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .write_string(0, 0, "法治政府建设示范创建责任分工")
        .unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap();
            let c = u16::try_from(c).unwrap();
            match cell.parse::<f64>() {
                Ok(n) if c == 2 && r > 1 => sheet.write_number(r, c, n).unwrap(),
                _ if cell.is_empty() => sheet,
                _ => sheet.write_string(r, c, cell).unwrap(),
            };
        }
    }
    // Merge the first heading's cell over its rows, as county offices do.
    let fmt = rust_xlsxwriter::Format::new();
    sheet.merge_range(2, 0, 23, 0, &rows[1][0], &fmt).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let out = crate::import_bytes(&bytes, Some("table.xlsx"), &ImportOptions::default()).unwrap();
    same_tree(&out.framework, &original.framework);
    assert_eq!(out.framework.title, "法治政府建设示范创建责任分工");
    assert_eq!(InputFormat::detect(None, &bytes), InputFormat::Xlsx);
}

#[test]
fn numbering_restarting_under_each_heading() {
    let original = seed();
    let rows = to_rows(&original.framework, true);
    let out = import_str(&titled(&rows, "\t"), "t.txt").unwrap();
    same_tree(&out.framework, &original.framework);
    assert!(diags_of(&out, DiagnosticKind::NumberingGap).is_empty());
    let first_of_second: Vec<&str> = out
        .framework
        .walk_indicators()
        .iter()
        .map(|(_, i)| i.code.as_str())
        .take(8)
        .collect();
    assert_eq!(first_of_second, ["1", "2", "3", "4", "5", "6", "1", "2"]);
}

#[test]
fn numbering_jump_is_reported() {
    let text = "一级指标\t二级指标\t序号\t三级指标\t责任单位\n\
                一、甲\t1. 乙。\t1\t第一项。\t县司法局\n\
                \t\t3\t第三项。\t县财政局\n";
    let out = import_str(text, "t.txt").unwrap();
    let gaps = diags_of(&out, DiagnosticKind::NumberingGap);
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].line, Some(3));
}

#[test]
fn outline_with_unit_lines_and_lead_and_co_units() {
    let text = "关于印发责任分工的通知\n\
                各单位：现将分工印发给你们。\n\
                \n\
                一、政府职能依法全面履行\n\
                （一）行政审批制度改革全面推行。\n\
                1. 向社会公布本级政府全部行政审批事项清单，\n\
                实行目录化管理。\n\
                责任单位：县行政审批服务局\n\
                2. 对各类证明事项，凡没有法律法规依据的一律取消。\n\
                牵头单位：县司法局\n\
                配合单位：县财政局、县民政局\n\
                （二）优化政府组织结构。\n\
                1. 推进政府事权规范化建设。\n\
                牵头单位：县委编办；配合单位：县司法局\n\
                二、依法行政制度体系完善\n\
                （一）加强行政规范性文件制定和监督。\n\
                1. 行政规范性文件的合法性审核率达100%。\n\
                责任单位：县司法局 纪委监委\n";
    let out = import_str(text, "outline.txt").unwrap();
    let f = &out.framework;
    assert_eq!(f.level_counts(), vec![2, 3, 4]);
    let items = leaves(f);
    assert_eq!(
        items[0].text,
        "向社会公布本级政府全部行政审批事项清单，实行目录化管理。"
    );
    assert_eq!(items[1].units, ["县司法局", "县财政局", "县民政局"]);
    assert_eq!(items[1].lead, ["县司法局"]);
    assert_eq!(items[2].units, ["县委编办", "县司法局"]);
    assert_eq!(items[2].lead, ["县委编办"]);
    assert_eq!(items[3].units, ["县司法局", "纪委监委"]);
    // The title is the line naming the document, not the preamble sentence under it.
    assert_eq!(f.title, "责任分工");
    assert!(out.warnings().next().is_none(), "{:?}", out.diagnostics);
}

#[test]
fn table_with_lead_and_co_columns_and_no_seq_column() {
    let text = "附件1\n某县责任分工\n\
                一级指标\t二级指标\t三级指标\t牵头单位\t配合单位\n\
                政府职能依法全面履行\t审批改革\t1. 公布清单。\t县行政审批服务局\t县司法局、县财政局\n\
                \t\t2. 取消证明。\t县司法局\t\n\
                依法行政制度体系完善\t规范性文件\t1. 审核率达100%。\t县司法局\t\n";
    let out = import_str(text, "t.txt").unwrap();
    let f = &out.framework;
    assert_eq!(f.title, "某县责任分工");
    assert_eq!(f.level_counts(), vec![2, 2, 3]);
    let items = leaves(f);
    assert_eq!(items[0].units, ["县行政审批服务局", "县司法局", "县财政局"]);
    assert_eq!(items[0].lead, ["县行政审批服务局"]);
    assert_eq!(items[2].code, "1");
    match &f.indicators[1] {
        Node::Heading(h) => assert_eq!(h.title, "依法行政制度体系完善"),
        Node::Indicator(_) => panic!("expected a heading"),
    }
}

#[test]
fn table_starting_mid_document_after_prose() {
    let body: String = SEED.lines().skip(6).collect::<Vec<_>>().join("\n");
    let text = format!(
        "兰陵县人民政府办公室\n关于印发法治政府建设示范创建实施方案的通知\n\n各乡镇、县直各部门：\n现印发给你们，请认真贯彻执行。\n\n法治政府建设示范创建责任分工\n\n{body}"
    );
    let out = import_str(&text, "doc.txt").unwrap();
    assert_eq!(out.framework.level_counts(), vec![8, 32, 94]);
    assert_eq!(out.framework.title, "法治政府建设示范创建责任分工");
}

#[test]
fn unknown_layouts_get_a_clear_error() {
    for (text, name) in [
        ("", "e.txt"),
        ("\n\n  \n", "e.txt"),
        ("这是一段普通的文字，不是表格。\n第二行。", "p.txt"),
        ("a,b,c\n1,2,3\n", "x.csv"),
    ] {
        let err = import_str(text, name).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.is_empty());
        assert!(
            matches!(err, ImportError::Empty | ImportError::UnknownLayout(_)),
            "{text:?}: {msg}"
        );
    }
    let err = crate::import_bytes(
        b"PK\x03\x04garbage",
        Some("a.xlsx"),
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("电子表格"), "{err}");
    let err =
        crate::import_bytes(b"\x00\x01\x02", Some("a.txt"), &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("二进制"), "{err}");
}

/// Line-level mutations of the seed: drop, duplicate, swap, cut, splice.
fn mutate(seed: &str, ops: &[(u8, usize, usize)]) -> String {
    let mut lines: Vec<String> = seed.lines().map(str::to_string).collect();
    for &(op, a, b) in ops {
        if lines.is_empty() {
            break;
        }
        let a = a % lines.len();
        let b = b % lines.len();
        match op % 5 {
            0 => {
                lines.remove(a);
            }
            1 => {
                let l = lines[a].clone();
                lines.insert(b, l);
            }
            2 => lines.swap(a, b),
            3 => {
                let cut: String = lines[a].chars().take(b % 40).collect();
                lines[a] = cut;
            }
            _ => {
                let tail: String = lines[b].chars().skip(a % 30).collect();
                lines[a].push_str(&tail);
            }
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000), fmt in 0usize..4) {
        let format = [InputFormat::Text, InputFormat::Tsv, InputFormat::Csv, InputFormat::Xlsx][fmt];
        let options = ImportOptions { format: Some(format), ..Default::default() };
        let _ = crate::import_bytes(&bytes, None, &options);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[一二三1-9、.．（）\t\n 县局司法指标责任单位：。，a-z]{0,400}") {
        let _ = import_str(&text, "x.txt");
    }

    #[test]
    fn mutated_seed_never_panics(ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..12)) {
        let text = mutate(SEED, &ops);
        if let Ok(out) = import_str(&text, "m.txt") {
            // Whatever survives still has every indicator under a code.
            for (_, i) in out.framework.walk_indicators() {
                prop_assert!(!i.code.is_empty());
            }
        }
    }

    #[test]
    fn byte_flips_in_the_seed_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..20)) {
        let mut bytes = SEED.as_bytes().to_vec();
        for (pos, b) in flips {
            let i = pos % bytes.len();
            bytes[i] = b;
        }
        let _ = crate::import_bytes(&bytes, Some("f.txt"), &ImportOptions::default());
    }
}
