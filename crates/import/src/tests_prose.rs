//! Responsibility sentences and document shapes as other counties write them, read end to end.

use fazhi_domain::framework::Framework;
use fazhi_domain::unit::UnitKind;

use crate::{DiagnosticKind, ImportOptions, ImportOutput, Severity};

fn import(text: &str) -> ImportOutput {
    crate::import_bytes(text.as_bytes(), Some("doc.txt"), &ImportOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn leaves(f: &Framework) -> Vec<&fazhi_domain::Indicator> {
    f.walk_indicators().into_iter().map(|(_, i)| i).collect()
}

fn kinds(out: &ImportOutput, kind: DiagnosticKind) -> Vec<&crate::Diagnostic> {
    out.diagnostics.iter().filter(|d| d.kind == kind).collect()
}

#[test]
fn responsibility_sentence_after_an_item_names_its_units() {
    let out = import(
        "一、健全依法决策机制\n\
         1. 制定重大行政决策事项目录并向社会公开。\n\
         责任分工：此项工作由县司法局牵头负责，县公安局、县民政局协助。\n\
         2. 落实合法性审查制度。\n\
         由县司法局牵头，县政府办公室配合\n\
         3. 推行法律顾问制度。\n\
         县司法局牵头，县财政局、县人社局配合。\n\
         4. 规范行政执法。\n\
         牵头单位：县司法局；责任单位：县公安局、县市场监督管理局\n\
         5. 加强行政复议。\n\
         县司法局（牵头）、县信访局\n",
    );
    let items = leaves(&out.framework);
    assert_eq!(items.len(), 5);
    let expect: [(&[&str], &[&str]); 5] = [
        (&["县司法局", "县公安局", "县民政局"], &["县司法局"]),
        (&["县司法局", "县政府办公室"], &["县司法局"]),
        (&["县司法局", "县财政局", "县人社局"], &["县司法局"]),
        (&["县司法局", "县公安局", "县市场监督管理局"], &["县司法局"]),
        (&["县司法局", "县信访局"], &["县司法局"]),
    ];
    for (item, (units, lead)) in items.iter().zip(expect) {
        assert_eq!(item.units, units, "{}", item.code);
        assert_eq!(item.lead, lead, "{}", item.code);
    }
    assert_eq!(items[0].text, "制定重大行政决策事项目录并向社会公开。");
    assert!(out.warnings().next().is_none(), "{:?}", out.diagnostics);
}

#[test]
fn closing_qualifier_is_not_part_of_a_unit_and_groups_stay_groups() {
    let out = import(
        "一、优化营商环境\n\
         1. 全面清理涉企收费。\n\
         责任单位：县发改局、县财政局、各有关部门，各乡镇按职责分工分别负责。\n\
         2. 推进政务公开。\n\
         责任单位：县政府办公室、县直有关单位、各乡镇人民政府等\n",
    );
    let items = leaves(&out.framework);
    assert_eq!(
        items[0].units,
        ["县发改局", "县财政局", "各有关部门", "各乡镇"]
    );
    assert_eq!(
        items[1].units,
        ["县政府办公室", "县直有关单位", "各乡镇人民政府"]
    );
    assert!(!out.framework.units.iter().any(|u| u.contains("负责")));
    for name in ["各有关部门", "县直有关单位", "各乡镇人民政府", "各乡镇"] {
        let unit = out.unit_details.iter().find(|u| u.name == name).unwrap();
        assert_eq!(unit.kind, UnitKind::Group, "{name}");
    }
    let notes = kinds(&out, DiagnosticKind::UnitQualifierRemoved);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(notes[0].indicator.as_deref(), Some("1"));
    assert!(notes[0].message.contains("按职责分工分别负责"));
    // `等`: the list may be incomplete, a person must look.
    assert_eq!(notes[1].severity, Severity::Warning);
}

#[test]
fn addressee_line_is_never_read_as_units() {
    let out = import(
        "兰陵县人民政府办公室关于印发法治政府建设工作安排的通知\n\
         各乡镇人民政府，各街道办事处，县直各部门：\n\
         现将工作安排印发给你们，请认真贯彻落实。\n\
         一、推进依法行政\n\
         1. 加强规范性文件管理。\n\
         责任单位：县司法局\n",
    );
    assert_eq!(out.framework.units, ["县司法局"]);
    assert!(!out.framework.units.iter().any(|u| u.contains("街道")));
}

#[test]
fn sentence_cut_before_its_units_is_reported_not_guessed() {
    let out = import(
        "一、推进依法行政\n\
         1. 加强规范性文件管理。\n\
         此项工作由县司法局\n",
    );
    let items = leaves(&out.framework);
    assert!(items[0].units.is_empty());
    assert_eq!(items[0].text, "加强规范性文件管理。");
    let cut = kinds(&out, DiagnosticKind::Truncated);
    assert_eq!(cut.len(), 1);
    assert_eq!(cut[0].indicator.as_deref(), Some("1"));
    assert_eq!(cut[0].line, Some(3));
    assert_eq!(kinds(&out, DiagnosticKind::MissingUnits).len(), 1);
}

#[test]
fn unit_cells_in_a_table_read_prose_forms_too() {
    let out = import(
        "一级指标\t序号\t三级指标\t责任单位\n\
         一、依法行政\t1\t公布清单。\t县司法局（牵头）、县财政局\n\
         \t2\t取消证明。\t由县司法局牵头，县民政局配合\n\
         \t3\t审核文件。\t县司法局、各乡镇按职责分工负责\n",
    );
    let items = leaves(&out.framework);
    assert_eq!(items[0].units, ["县司法局", "县财政局"]);
    assert_eq!(items[0].lead, ["县司法局"]);
    assert_eq!(items[1].units, ["县司法局", "县民政局"]);
    assert_eq!(items[2].units, ["县司法局", "各乡镇"]);
    assert_eq!(items[2].lead, ["县司法局"]);
}

#[test]
fn a_row_mentioning_content_next_to_a_lead_mark_is_not_a_repeated_header() {
    // Found by exporting the county library: the item text says 内容/任务/指标 and the unit
    // cell carries `（牵头）`, which once read as the header `三级指标 … 牵头单位` repeated.
    let out = import(
        "一级指标\t序号\t三级指标\t责任单位\n\
         一、依法行政\t1\t重大行政决策情况作为考核评价的重要内容。\t县委组织部（牵头）、县政府办公室\n\
         \t2\t未出现下达与法律规定冲突的任务指标。\t县委办公室（牵头）、县政府办公室\n",
    );
    let items = leaves(&out.framework);
    assert_eq!(items.len(), 2, "{:?}", out.diagnostics);
    assert_eq!(items[0].units, ["县委组织部", "县政府办公室"]);
    assert_eq!(items[0].lead, ["县委组织部"]);
    assert_eq!(items[1].lead, ["县委办公室"]);
    assert!(kinds(&out, DiagnosticKind::HeaderRepeated).is_empty());
}

const WORK_PLAN: &str = "兰陵县人民政府办公室\n\
兰政办发〔2021〕12号\n\
兰陵县人民政府办公室关于印发2021年法治政府建设工作安排的通知\n\
各乡镇人民政府，各街道办事处，县直各部门：\n\
为深入推进法治政府建设，现将《2021年法治政府建设工作安排》印发给你们，请认真贯彻执行。\n\
三、推进依法行政（占总分值的15%）\n\
（一）规范性文件管理\n\
5. 加强规范性文件管理，实行统一登记、统一编号、统一印发制度。\n\
责任单位：县司法局\n\
6. 落实合法性审查制度，审核率达100%。\n\
责任单位：县司法局、县政府办公室\n\
基本要求：各单位要高度重视，确保按时完成。\n\
四、规范执法行为(20分)\n\
（一）执法三项制度\n\
7. 全面推行行政执法三项制度。\n\
牵头单位：县司法局\n\
8. 开展执法案卷评查。\n\
责任单位：县司法局\n\
9. 建立行政执法人员\n\
附件：1. 工作任务台账\n\
兰陵县人民政府办公室\n\
2021年3月15日\n";

#[test]
fn work_plan_title_weights_and_lines_that_are_not_indicators() {
    let out = import(WORK_PLAN);
    let f = &out.framework;
    assert_eq!(f.title, "2021年法治政府建设工作安排");
    assert_eq!(f.level_counts(), vec![2, 2, 5]);
    let codes: Vec<&str> = leaves(f).iter().map(|i| i.code.as_str()).collect();
    // Numbering starts where the document starts: 三、 and item 5.
    assert_eq!(codes, ["5", "6", "7", "8", "9"]);
    assert_eq!(f.indicators[0].code(), "三");
    let fazhi_domain::Node::Heading(h) = &f.indicators[0] else {
        panic!("heading expected")
    };
    assert_eq!(h.title, "推进依法行政");
    assert_eq!(h.weight.as_ref().map(|w| w.value.as_str()), Some("15"));
    let fazhi_domain::Node::Heading(h2) = &f.indicators[1] else {
        panic!("heading expected")
    };
    assert_eq!(
        h2.weight.as_ref().map(|w| w.unit),
        Some(fazhi_domain::framework::WeightUnit::Points)
    );
    let items = leaves(f);
    // The 基本要求 paragraph is not glued to item 6; the signature is not a unit of item 9.
    assert_eq!(items[1].text, "落实合法性审查制度，审核率达100%。");
    assert!(items[4].units.is_empty());
    assert_eq!(f.units, ["县司法局", "县政府办公室"]);
    let skipped = kinds(&out, DiagnosticKind::NotAnIndicator);
    assert_eq!(skipped.len(), 4, "{skipped:?}");
    // Item 9 stops mid-sentence.
    let cut = kinds(&out, DiagnosticKind::Truncated);
    assert_eq!(cut.len(), 1);
    assert_eq!(cut[0].indicator.as_deref(), Some("9"));
    assert!(kinds(&out, DiagnosticKind::NumberingGap).is_empty());
    assert_eq!(kinds(&out, DiagnosticKind::WeightRead).len(), 2);
}

#[test]
fn body_on_one_long_line_reads_like_the_same_body_on_many() {
    let many = import(WORK_PLAN);
    let one_line: String = WORK_PLAN
        .lines()
        .skip(5)
        .take(14)
        .collect::<Vec<_>>()
        .join(" ");
    let one = import(&format!("2021年法治政府建设工作安排\n{one_line}\n"));
    assert_eq!(one.framework.title, many.framework.title);
    assert_eq!(one.framework.level_counts(), vec![2, 2, 5]);
    let a: Vec<_> = leaves(&one.framework)
        .iter()
        .map(|i| (i.text.clone(), i.units.clone()))
        .collect();
    let b: Vec<_> = leaves(&many.framework)
        .iter()
        .map(|i| (i.text.clone(), i.units.clone()))
        .collect();
    assert_eq!(a, b);
}
