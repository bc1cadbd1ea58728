//! Tests of the rule extractor: the seed items of the 兰陵县 table, each pattern family,
//! and property tests (no panic, spans always link back to the words).

use proptest::prelude::*;
use regex::Regex;

use super::text::{Norm, parse_num};
use super::*;

// Indicator texts of `data/seed/lanling-zerenfengong.txt` (三级指标 序号 → text), as
// extracted from the PDF (item 76 joined with its continuation line).
const I5: &str = "全面推行“证照分离”“多证合一”。进一步压缩企业开办时间，承诺办理时限不超过5个工作日，市场监管、税务、社保等流程逐步实现“一窗受理，并行办理”。";
const I6: &str = "政务服务重点领域和高频事项基本实现“一网、一门、一次”。政务服务事项网上可办率不低于80%；除对场地有特殊要求的事项外，政务服务事项进驻政务服务机构基本实现“应进必进”，且80%以上实现“一窗”分类受理；市县100个高频事项实现“最多跑一次”。";
const I11: &str =
    "推进政府事权规范化建设。一类事项原则上由一个部门统筹，一件事情原则上由一个部门负责。";
const I13: &str = "加强信用监管，推进涉企信息归集共享，严格依法科学界定守信和失信行为，实行守信联合激励和失信联合惩戒机制，做到市场主体“一处违法、处处受限”。";
const I25: &str = "行政规范性文件的合法性审核率达 100%。制定机关负责合法性审核的部门对文件的制定主体、程序和有关内容等是否符合法律法规规章和国家政策的规定，及时进行合法性审核。合法性审核的时间一般不少于 5 个工作日，最长不超过 15 个工作日；未经合法性审核或者经审核不合法的，不提交集体审议。";
const I27: &str = "建立、实施行政规范性文件后评估制度，每 2 年至少开展 1 次行政规范性文件后评估，评估结果向社会公布并作为修改、废止的重要参考，对不适应全面深化改革和经济社会发展要求的行政规范性文件及时修改和废止。";
const I28: &str = "行政规范性文件按照规定的程序和时限报送备案，且报备率、报备及时率、规范率均达 100%。公民、法人和其他组织对行政规范性文件的建议审查制度健全。";
const I33: &str = "除依法不予公开的外，重大行政决策事项充分听取社会公众意见，并向社会及时反馈意见采纳情况和理由。如向社会公开征求意见的，征求意见期限一般不少于30日。";
const I37: &str = "重大行政决策全部经合法性审查，不存在未经合法性审查或者经合法性审查不合法仍提交决策机关讨论的情形；没有以征求意见等方式代替合法性审查的情况。重大行政决策的合法性审查时间不少于7个工作日。";
const I46: &str = "行政执法权限协调机制已经建立完善并有明确的协调机关负责，除需请示上级机关的外，执法机关之间对具体案件权限争议进行协调、明确责任主体的时间在7个工作日以内。";
const I49: &str = "除法律、法规、规章另有规定的外，行政执法人员严格执行2人以上执法规定。严格执行“亮证执法”制度，出示或者佩戴执法证件，公示执法身份。出具执法文书，主动告知当事人执法事由、执法依据、权利义务等内容。";
const I50: &str = "行政执法统计年报制度建立完善，行政执法机关于每年1月15日前公开本机关上年度行政执法总体情况，报县政府和上级主管部门。";
const I51: &str = "行政执法机关在执法决定作出之日起20个工作日内向社会公布执法机关、执法对象、执法类别、执法结论等信息，接受社会监督，行政许可、行政处罚的执法决定信息在执法决定作出之日起7个工作日之内公开，但法律、行政法规另有规定的除外。";
const I57: &str = "行政执法机关均明确具体负责本单位重大执法决定法制审核的工作机构，原则上负责法制审核的人员不少于本单位执法人员总数的 5%。";
const I59: &str =
    "建立行政执法日常检查监督机制，每年至少组织 1 次行政执法案卷评查、抽查或者其他形式的检查工作。";
const I62: &str = "全面实行行政执法人员持证上岗和资格管理制度，行政执法人员均通过执法资格考试。每年开展行政执法人员公共法律知识、专门法律知识、新法律法规等专题培训不少于 40 学时。行政执法着装管理规范。";
const I66: &str = "认真研究办理人大及其常委会组成人员对政府工作提出的有关审议意见、人大代表和政协委员提出的意见和建议，办理后满意度达 95%以上。";
const I67: &str = "支持人民法院依法受理和审理行政案件，行政机关负责人按规定出庭应诉；对于涉及重大公共利益的案件、社会高度关注的案件、可能引发群体性事件的案件、检察机关提起的行政公益诉讼案件等，被诉行政机关负责人出庭率达 100%。行政诉讼败诉率不高于上一年度全国行政诉讼败诉率平均值。";
const I73: &str = "行政机关违法行政行为投诉举报登记制度建立,举报箱、电子信箱、热线电话等监督渠道通畅,统一政务咨询投诉举报平台建立健全,除 110、120、119 等紧急类热线以外,将各部门非紧急类政务热线整合,纳入统一政务咨询投诉举报平台管理。";
const I76: &str = "政府新闻发言人、突发事件信息发布等制度完善。对涉及特别重大、重大突发事件的政务舆情,最迟在事件发生后 5 小时内发布权威信息,在 24 小时内举行新闻发布会,并根据工作进展情况,持续发布权威信息,有关地方和部门主要负责人要带头主动发声。";
const I77: &str = "因不履行或者不正确履行政府信息公开法定职责，在行政复议或者行政诉讼中被撤销、确认违法或者责令履行等的发生率在5%以下。";
const I79: &str = "推进企事业单位、乡镇街道、社会组织中人民调解组织建设。村委会、居委会人民调解组织全覆盖。行业性、专业性人民调解委员会有3名以上专职人民调解员，乡镇（街道）人民调解委员会有2名以上专职人民调解员，有条件的村（居）和企事业单位人民调解委员会有1名以上专职人民调解员，派驻有关单位和部门的人民调解工作室有2名以上专职人民调解员。人民调解工作经费财政保障落实到位。";
const I82: &str = "行政复议规范化、信息化、专业化程度较高。通过行政复议工作平台实现案件网上办理。行政复议、应诉机构设置、人员配备与工作任务相适应，审查行政复议案件由2名以上行政复议人员参加。行政复议立案登记以及办案场所、工作经费、办案设备等保障到位。";
const I84: &str = "广泛开展形式多样、生动活泼的法治宣传教育活动。开展“12.4”国家宪法周（日）集中宣传教育活动。严格落实国家工作人员宪法宣誓制度。全面加强青少年法治宣传教育。";
const I86: &str = "健全完善普法宣传教育机制。加强法治文化阵地和设施建设，每个县级地区至少建成一个法治学习宣传教育基地或者法治文化主题的城市公园（广场、长廊）。经常开展群众性法治文化活动。";
const I89: &str = "领导干部学法制度健全，把宪法法律列入政府常务会议学习内容，列入党校（行政学院）、干部学院、社会主义学院必修课。每年领导班子至少安排4次以上法治专题学习，至少组织开展1次政府及其部门领导班子成员旁听人民法院庭审活动。";
const I91: &str = "将法治政府建设纳入本地区发展总体规划和年度工作计划，党委主要负责人每年召开部署安排法治政府建设年度重点工作的专题会议不少于1次。";
const I92: &str = "县政府每年第一季度向县委、人大常委会和上一级政府报告上一年度法治政府建设情况，政府各部门每年第一季度向县委和县政府、上级有主管部门报告上一年度法治政府建设情况，并通过报刊、政府网站等向社会公开。";
const I94: &str = "法治建设成效作为衡量各级领导班子和领导干部实绩的重要内容，纳入政绩考核等指标体系，分值权重不低于总分值的10%。每年对法治政府建设情况开展检查考评工作，对工作不力、问题较多的单位开展约谈整改。";

/// All seed texts used here, with their 序号.
const SEED: &[(u32, &str)] = &[
    (5, I5),
    (6, I6),
    (11, I11),
    (13, I13),
    (25, I25),
    (27, I27),
    (28, I28),
    (33, I33),
    (37, I37),
    (46, I46),
    (49, I49),
    (50, I50),
    (51, I51),
    (57, I57),
    (59, I59),
    (62, I62),
    (66, I66),
    (67, I67),
    (73, I73),
    (76, I76),
    (77, I77),
    (79, I79),
    (82, I82),
    (84, I84),
    (86, I86),
    (89, I89),
    (91, I91),
    (92, I92),
    (94, I94),
];

fn unit_name(u: DurationUnit) -> &'static str {
    match u {
        DurationUnit::Workday => "workday",
        DurationUnit::Day => "day",
        DurationUnit::Hour => "hour",
        DurationUnit::Minute => "minute",
        DurationUnit::Week => "week",
        DurationUnit::Month => "month",
        DurationUnit::Year => "year",
    }
}

/// One line per rule: `percent 报备率 == 100%`, with ` ?` when uncertain.
fn brief(r: &Rule) -> String {
    let s = &r.subject;
    let body = match &r.kind {
        RuleKind::Percent { op, value } => format!("percent {s} {op} {value}%"),
        RuleKind::Duration { op, value, unit } => {
            format!("duration {s} {op} {value} {}", unit_name(*unit))
        }
        RuleKind::Count { op, value, unit } => format!("count {s} {op} {value} {unit}"),
        RuleKind::Frequency {
            op,
            times,
            every_years,
        } => format!("frequency {s} {op} {times}/{every_years}y"),
        RuleKind::Deadline { month, day } => format!("deadline {s} {month}/{day}"),
        RuleKind::Date { month, day } => format!("date {s} {month}/{day}"),
    };
    if r.certain { body } else { format!("{body} ?") }
}

/// Extract, check that every rule links back to its words, and describe the rules.
fn briefs(text: &str) -> Vec<String> {
    let rules = extract_rules(text);
    check_links(text, &rules);
    rules.iter().map(brief).collect()
}

/// Numbers written in `s` (Arabic or Chinese; every sub-run of a Chinese run).
fn numbers_in(s: &str) -> Vec<f64> {
    let n = Norm::new(s);
    let re = Regex::new(r"[0-9]+(?:\.[0-9]+)?|[零〇一二两三四五六七八九十百千万]+").unwrap();
    let mut out = Vec::new();
    for m in re.find_iter(&n.s) {
        let cs: Vec<char> = m.as_str().chars().collect();
        if cs[0].is_ascii_digit() {
            out.extend(parse_num(m.as_str()));
            out.extend(m.as_str().split('.').filter_map(parse_num));
            continue;
        }
        for i in 0..cs.len() {
            for j in i + 1..=cs.len() {
                let sub: String = cs[i..j].iter().collect();
                out.extend(parse_num(&sub));
            }
        }
    }
    out
}

/// The invariants every rule of every text must meet.
fn check_links(text: &str, rules: &[Rule]) {
    let chars: Vec<char> = text.chars().collect();
    for r in rules {
        let (a, b) = r.span;
        assert!(a < b && b <= chars.len(), "span out of range: {r:?}");
        let at: String = chars[a..b].iter().collect();
        assert_eq!(at, r.source, "source is not the text at span: {r:?}");
        assert!(
            text.contains(r.subject.trim()),
            "subject not in text: {r:?}"
        );
        assert_eq!(r.subject, r.subject.trim());
        let nums = numbers_in(&r.source);
        let has = |v: f64| nums.iter().any(|&x| (x - v).abs() < 1e-9);
        let ok = match &r.kind {
            RuleKind::Percent { .. } if r.note.as_deref().is_some_and(|n| n.contains("分数")) => {
                true
            }
            RuleKind::Percent { value, .. }
            | RuleKind::Duration { value, .. }
            | RuleKind::Count { value, .. } => has(*value),
            RuleKind::Frequency { times, .. } => {
                has(f64::from(*times)) || r.note.as_deref().is_some_and(|n| n.contains("折算"))
            }
            RuleKind::Deadline { month, .. } => {
                has(f64::from(*month))
                    || has(f64::from(month.div_ceil(3)))
                    || r.source.contains("年底")
                    || r.source.contains("上半年")
            }
            RuleKind::Date { month, .. } => has(f64::from(*month)),
        };
        assert!(ok, "source does not contain the number: {r:?}");
    }
}

fn assert_rules(text: &str, expected: &[&str]) {
    assert_eq!(briefs(text), expected, "text: {text}");
}

// ------------------------------------------------------------------ seed items

#[test]
fn item_05_business_start_time() {
    assert_rules(I5, &["duration 承诺办理时限 <= 5 workday"]);
}

#[test]
fn item_06_online_rate_and_one_window() {
    // `100个高频事项` is a quantity, not a threshold: returned uncertain, never certain.
    assert_rules(
        I6,
        &[
            "percent 政务服务事项网上可办率 >= 80%",
            "percent 实现“一窗”分类受理 >= 80%",
            "count 高频事项 >= 100 个 ?",
        ],
    );
}

#[test]
fn item_25_legality_review() {
    assert_rules(
        I25,
        &[
            "percent 行政规范性文件的合法性审核率 == 100%",
            "duration 合法性审核的时间 >= 5 workday",
            "duration 合法性审核的时间 <= 15 workday",
        ],
    );
    let rules = extract_rules(I25);
    assert_eq!(rules[1].source, "合法性审核的时间一般不少于 5 个工作日");
    assert_eq!(rules[2].source, "最长不超过 15 个工作日");
    assert_eq!(rules[2].note.as_deref(), Some("对象承前句"));
}

#[test]
fn item_28_three_rates_share_a_value() {
    assert_rules(
        I28,
        &[
            "percent 报备率 == 100%",
            "percent 报备及时率 == 100%",
            "percent 规范率 == 100%",
        ],
    );
}

#[test]
fn item_33_comment_period() {
    assert_rules(I33, &["duration 征求意见期限 >= 30 day"]);
}

#[test]
fn item_37_review_time() {
    assert_rules(I37, &["duration 重大行政决策的合法性审查时间 >= 7 workday"]);
}

#[test]
fn item_46_coordination_time() {
    assert_rules(
        I46,
        &["duration 执法机关之间对具体案件权限争议进行协调、明确责任主体的时间 <= 7 workday"],
    );
}

#[test]
fn item_50_yearly_report_deadline() {
    assert_rules(I50, &["deadline 公开本机关上年度行政执法总体情况 1/15"]);
    let r = &extract_rules(I50)[0];
    assert_eq!(r.source, "每年1月15日前公开本机关上年度行政执法总体情况");
    assert_eq!(r.note.as_deref(), Some("主体：行政执法机关"));
}

#[test]
fn item_51_publication_within_workdays() {
    assert_rules(
        I51,
        &[
            "duration 公布执法机关、执法对象、执法类别、执法结论等信息 <= 20 workday",
            "duration 行政许可、行政处罚的执法决定信息 <= 7 workday",
        ],
    );
    for r in extract_rules(I51) {
        assert_eq!(r.note.as_deref(), Some("起算：执法决定作出之日"));
    }
}

#[test]
fn item_57_share_of_legal_reviewers() {
    assert_rules(I57, &["percent 负责法制审核的人员 >= 5%"]);
    let r = &extract_rules(I57)[0];
    assert_eq!(r.note.as_deref(), Some("基数：本单位执法人员总数"));
}

#[test]
fn item_62_training_hours() {
    assert_rules(I62, &["count 专题培训 >= 40 学时"]);
    assert_eq!(extract_rules(I62)[0].note.as_deref(), Some("每年"));
}

#[test]
fn item_73_hotline_numbers_are_not_rules() {
    assert_rules(I73, &[]);
}

#[test]
fn item_76_press_release_hours() {
    assert_rules(
        I76,
        &[
            "duration 发布权威信息 <= 5 hour",
            "duration 举行新闻发布会 <= 24 hour",
        ],
    );
    assert_eq!(
        extract_rules(I76)[0].note.as_deref(),
        Some("起算：事件发生")
    );
}

#[test]
fn item_77_rate_below() {
    assert_rules(I77, &["percent 发生率 <= 5%"]);
}

#[test]
fn item_79_mediators() {
    assert_rules(
        I79,
        &[
            "count 专职人民调解员 >= 3 名",
            "count 专职人民调解员 >= 2 名",
            "count 专职人民调解员 >= 1 名",
            "count 专职人民调解员 >= 2 名",
        ],
    );
    let notes: Vec<_> = extract_rules(I79)
        .into_iter()
        .filter_map(|r| r.note)
        .collect();
    assert_eq!(
        notes,
        [
            "范围：行业性、专业性人民调解委员会",
            "范围：乡镇（街道）人民调解委员会",
            "范围：有条件的村（居）和企事业单位人民调解委员会",
            "范围：派驻有关单位和部门的人民调解工作室",
        ]
    );
}

#[test]
fn item_89_study_frequency() {
    assert_rules(
        I89,
        &[
            "frequency 法治专题学习 >= 4/1y",
            "frequency 政府及其部门领导班子成员旁听人民法院庭审活动 >= 1/1y",
        ],
    );
}

#[test]
fn item_92_first_quarter_twice() {
    // Two occurrences, two actors: one rule each (actor in the note).
    assert_rules(
        I92,
        &[
            "deadline 报告上一年度法治政府建设情况 3/31",
            "deadline 报告上一年度法治政府建设情况 3/31",
        ],
    );
    let notes: Vec<_> = extract_rules(I92)
        .into_iter()
        .filter_map(|r| r.note)
        .collect();
    assert_eq!(notes, ["主体：县政府", "主体：政府各部门"]);
}

#[test]
fn other_seed_items() {
    assert_rules(I11, &[]);
    assert_rules(I13, &[]);
    assert_rules(I27, &["frequency 行政规范性文件后评估 >= 1/2y"]);
    assert_rules(I49, &["count 执法 >= 2 人"]);
    assert_rules(
        I59,
        &["frequency 行政执法案卷评查、抽查或者其他形式的检查工作 >= 1/1y"],
    );
    assert_rules(I66, &["percent 办理后满意度 >= 95%"]);
    assert_rules(I67, &["percent 被诉行政机关负责人出庭率 == 100%"]);
    assert_rules(I82, &["count 行政复议人员 >= 2 名"]);
    assert_rules(I84, &["date 国家宪法周（日） 12/4"]);
    assert_rules(I86, &["count 法治学习宣传教育基地 >= 1 个"]);
    assert_rules(
        I91,
        &["frequency 召开部署安排法治政府建设年度重点工作的专题会议 >= 1/1y"],
    );
    assert_rules(I94, &["percent 分值权重 >= 10%"]);
}

#[test]
fn every_seed_rule_links_back_to_its_words() {
    for (k, text) in SEED {
        let rules = extract_rules(text);
        check_links(text, &rules);
        let mut spans: Vec<_> = rules.iter().map(|r| r.span).collect();
        let sorted = {
            let mut s = spans.clone();
            s.sort();
            s
        };
        assert_eq!(spans, sorted, "item {k}: rules not sorted");
        spans.dedup();
        assert_eq!(spans.len(), rules.len(), "item {k}: duplicate rules");
    }
}

/// What the importer will hand over: no spaces between CJK and digits, ASCII `,;:()`
/// next to CJK made full-width.
fn cleaned(text: &str) -> String {
    let cs: Vec<char> = text.chars().collect();
    let mut out = String::new();
    for (i, &c) in cs.iter().enumerate() {
        let prev_cjk = i > 0 && !cs[i - 1].is_ascii();
        let next_cjk = cs.get(i + 1).is_some_and(|c| !c.is_ascii());
        match c {
            ' ' if prev_cjk || next_cjk => {}
            ',' => out.push('，'),
            ';' => out.push('；'),
            ':' => out.push('：'),
            '(' => out.push('（'),
            ')' => out.push('）'),
            _ => out.push(c),
        }
    }
    out
}

/// The worst case: full-width digits and percent, ASCII punctuation, spaces around
/// every number.
fn messy(text: &str) -> String {
    let cs: Vec<char> = text.chars().collect();
    let digit = |i: usize| cs.get(i).is_some_and(|c| c.is_ascii_digit());
    (0..cs.len())
        .map(|i| match cs[i] {
            c @ '0'..='9' => {
                let w = char::from_u32(c as u32 + 0xFEE0).unwrap();
                let pre = if i == 0 || !digit(i - 1) { " " } else { "" };
                let post = if digit(i + 1) { "" } else { "\u{3000}" };
                format!("{pre}{w}{post}")
            }
            '%' => "％".to_string(),
            '，' => ",".to_string(),
            '；' => ";".to_string(),
            '（' => "(".to_string(),
            '）' => ")".to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn squash(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .map(|s| {
            s.chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| match c {
                    '（' => '(',
                    '）' => ')',
                    '，' => ',',
                    _ => c,
                })
                .collect()
        })
        .collect()
}

#[test]
fn cleaned_and_messy_forms_give_the_same_rules() {
    for (k, text) in SEED {
        let want = squash(briefs(text));
        assert_eq!(squash(briefs(&cleaned(text))), want, "item {k} cleaned");
        assert_eq!(squash(briefs(&messy(text))), want, "item {k} messy");
    }
    assert!(
        cleaned(I25).contains("审核率达100%"),
        "the cleaned form drops the spaces"
    );
}

// ------------------------------------------------------------------ families

#[test]
fn percent_family() {
    assert_rules("群众满意度达到95%以上。", &["percent 群众满意度 >= 95%"]);
    assert_rules("按时办结率不低于90%。", &["percent 按时办结率 >= 90%"]);
    assert_rules("差错率在5%以下。", &["percent 差错率 <= 5%"]);
    assert_rules("败诉率不高于10%。", &["percent 败诉率 <= 10%"]);
    assert_rules("执行率达100%。", &["percent 执行率 == 100%"]);
    assert_rules("执行率不低于100%。", &["percent 执行率 == 100%"]);
    assert_rules("覆盖率达到80%。", &["percent 覆盖率 >= 80%"]);
    assert_rules("线上办理占比80%以上。", &["percent 线上办理占比 >= 80%"]);
    assert_rules("覆盖率百分之八十以上。", &["percent 覆盖率 >= 80%"]);
    assert_rules("通过率99.5%以上。", &["percent 通过率 >= 99.5%"]);
    assert_rules(
        "表决须经三分之二以上成员同意。",
        &["percent 表决 >= 66.67% ?"],
    );
    assert_rules("律师占比为5%。", &["percent 律师占比 >= 5% ?"]);
}

#[test]
fn duration_family() {
    assert_rules("应当在十五日内作出决定。", &["duration 作出决定 <= 15 day"]);
    assert_rules("复议期限为二十日内。", &["duration 复议期限 <= 20 day"]);
    assert_rules("办理时限不得超过30日。", &["duration 办理时限 <= 30 day"]);
    assert_rules("公示期不少于5个工作日。", &["duration 公示期 >= 5 workday"]);
    assert_rules("整改期限3个月内。", &["duration 整改期限 <= 3 month"]);
    assert_rules(
        "接到投诉后2小时以内到达现场。",
        &["duration 到达现场 <= 2 hour"],
    );
    assert_rules(
        "自受理之日起20个工作日内办结。",
        &["duration 办结 <= 20 workday"],
    );
    assert_eq!(
        extract_rules("自受理之日起20个工作日内办结。")[0]
            .note
            .as_deref(),
        Some("起算：受理之日")
    );
    // a bare time span: uncertain
    assert_rules("公示期5个工作日。", &["duration 公示期 <= 5 workday ?"]);
    let r = &extract_rules("每月5日前报送。")[0];
    assert!(!r.certain && r.note.as_deref().unwrap_or("").contains("日期"));
}

#[test]
fn count_family() {
    assert_rules("配备两名以上工作人员。", &["count 工作人员 >= 2 名"]);
    assert_rules("参加人数不少于50人。", &["count 参加人数 >= 50 人"]);
    assert_rules("专题培训不少于四十学时。", &["count 专题培训 >= 40 学时"]);
    assert_rules("每个乡镇至少建成一个调解室。", &["count 调解室 >= 1 个"]);
    assert_rules("执法时不得少于2人。", &["count 执法时 >= 2 人"]);
    assert_rules("培训班学员3人以内。", &["count 培训班学员 <= 3 人"]);
}

#[test]
fn frequency_family() {
    assert_rules("每年至少组织1次督查。", &["frequency 督查 >= 1/1y"]);
    assert_rules("每2年至少开展1次评估。", &["frequency 评估 >= 1/2y"]);
    assert_rules("每两年开展不少于一次评估。", &["frequency 评估 >= 1/2y"]);
    assert_rules(
        "每年领导班子至少安排4次以上法治专题学习。",
        &["frequency 法治专题学习 >= 4/1y"],
    );
    assert_rules(
        "每年召开专题会议不少于1次。",
        &["frequency 召开专题会议 >= 1/1y"],
    );
    assert_rules("每季度至少召开1次例会。", &["frequency 例会 >= 4/1y"]);
    assert_eq!(
        extract_rules("每季度至少召开1次例会。")[0].note.as_deref(),
        Some("折算为每年4次")
    );
    // no threshold word: the period makes it a frequency, but uncertain
    assert_rules("每年开展一次评估。", &["frequency 评估 >= 1/1y ?"]);
    // 一次性 is not a count
    assert_rules("每年一次性告知。", &[]);
}

#[test]
fn deadline_family() {
    assert_rules("每年1月15日前报送年报。", &["deadline 报送年报 1/15"]);
    assert_rules("每年1月底之前报送总结。", &["deadline 报送总结 1/31"]);
    assert_rules("每年第一季度报告工作。", &["deadline 报告工作 3/31"]);
    assert_rules("每年第二季度报告工作。", &["deadline 报告工作 6/30"]);
    assert_rules("每年三季度末前报告工作。", &["deadline 报告工作 9/30"]);
    assert_rules("每年第四季度报告工作。", &["deadline 报告工作 12/31"]);
    assert_rules("每年十二月十日前报送计划。", &["deadline 报送计划 12/10"]);
    assert_rules("每年年底前完成自评。", &["deadline 完成自评 12/31"]);
    assert_rules("每年2月底前报送。", &["deadline 报送 2/28"]);
    // no 每年: uncertain; with a year: one-off, uncertain
    assert_rules("于3月31日前报送材料。", &["deadline 报送材料 3/31 ?"]);
    assert_rules("2020年6月30日前完成清理。", &["deadline 完成清理 6/30 ?"]);
}

#[test]
fn date_family() {
    assert_rules("开展“12.4”国家宪法日宣传。", &["date 国家宪法日 12/4"]);
    assert_rules("开展\"12·4\"国家宪法日宣传。", &["date 国家宪法日 12/4"]);
    assert_rules("每年12月4日国家宪法日开展宣传。", &["date 国家宪法日 12/4"]);
    // a document date is not a rule
    assert_rules("根据2019年3月1日印发的通知。", &[]);
    // not a date
    assert_rules("开展“13.4”活动。", &[]);
}

#[test]
fn exclusive_and_negated_words() {
    assert_rules(
        "办理时间超过30日的，应当说明理由。",
        &["duration 办理时间 > 30 day"],
    );
    assert_rules("人数不满3人的，不得成立。", &["count 人数 < 3 人"]);
    assert_rules("不足5人的不予开班。", &["count 不予开班 < 5 人"]);
    assert_rules("满意度低于80%的，应当整改。", &["percent 满意度 < 80%"]);
    assert_rules("出庭率高于90%的，予以通报表扬。", &["percent 出庭率 > 90%"]);
    assert_rules("办理期限不得超过15日。", &["duration 办理期限 <= 15 day"]);
    assert_rules("满意度不得低于90%。", &["percent 满意度 >= 90%"]);
    assert_rules("办理时间未超过7日。", &["duration 办理时间 <= 7 day"]);
    // conflicting words: the suffix wins, marked uncertain
    assert_rules("人数超过5人以上的。", &["count 人数 >= 5 人 ?"]);
}

#[test]
fn chinese_numerals_in_rules() {
    assert_rules("十五日内作出答复。", &["duration 作出答复 <= 15 day"]);
    assert_rules("二十日内作出答复。", &["duration 作出答复 <= 20 day"]);
    assert_rules("配备两名以上专职人员。", &["count 专职人员 >= 2 名"]);
    assert_rules("至少建成一个教育基地。", &["count 教育基地 >= 1 个"]);
    assert_rules("不少于一百零五人参加。", &["count 参加 >= 105 人"]);
}

#[test]
fn spaces_and_half_width() {
    assert_rules("审核率达 100 %。", &["percent 审核率 == 100%"]);
    assert_rules("审核率达１００％。", &["percent 审核率 == 100%"]);
    assert_rules(
        "审查时间不少于 7 个 工作日。",
        &["duration 审查时间 >= 7 workday"],
    );
    assert_rules(
        "审查时间不少于 7 个工作日;期限最长不超过 15 日.",
        &["duration 审查时间 >= 7 workday", "duration 期限 <= 15 day"],
    );
    let r = &extract_rules("审核率达１００％。")[0];
    assert_eq!(r.source, "审核率达１００％");
    assert_eq!(r.span, (0, 8));
}

#[test]
fn non_thresholds_yield_nothing() {
    for t in [
        "除110、120、119等紧急类热线以外。",
        "依据《行政处罚法》第三十二条第1款。",
        "1. 行政审批制度改革全面推行。",
        "（2）建立健全机制。",
        "2019年以来全面推行。",
        "做到市场主体一处违法、处处受限。",
        "实现“一网、一门、一次”。",
        "实现最多跑一次。",
        "市县高频事项实现“最多跑一次”。",
        "一类事项原则上由一个部门统筹，一件事情原则上由一个部门负责。",
        "推行“一户式”集中储存，实现一窗受理。",
        "进一步压缩时间，统一组织实施，两条线管理。",
        "拨打12345热线。",
        "第一责任人职责。",
        "",
        "。，；",
    ] {
        assert_rules(t, &[]);
    }
}

#[test]
fn json_shape() {
    let rules = extract_rules(I25);
    let v = serde_json::to_value(&rules[0]).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "kind": "percent",
            "subject": "行政规范性文件的合法性审核率",
            "op": "==",
            "value": 100,
            "span": [0, 20],
            "source": "行政规范性文件的合法性审核率达 100%",
            "certain": true
        })
    );
    assert!(v["value"].is_u64(), "100 must serialize as an integer");
    let d = serde_json::to_value(&rules[1]).unwrap();
    assert_eq!(d["kind"], "duration");
    assert_eq!(d["unit"], "workday");
    assert_eq!(d["op"], ">=");
    let f = serde_json::to_value(&extract_rules(I89)[0]).unwrap();
    assert_eq!(f["times"], 4);
    assert_eq!(f["every_years"], 1);
    let dl = serde_json::to_value(&extract_rules(I92)[0]).unwrap();
    assert_eq!(
        (
            dl["kind"].as_str(),
            dl["month"].as_u64(),
            dl["day"].as_u64()
        ),
        (Some("deadline"), Some(3), Some(31))
    );
    let p = serde_json::to_value(&extract_rules("通过率99.5%以上。")[0]).unwrap();
    assert_eq!(p["value"], 99.5);
    // round trip
    for (_, t) in SEED {
        for r in extract_rules(t) {
            let s = serde_json::to_string(&r).unwrap();
            let back: Rule = serde_json::from_str(&s).unwrap();
            assert_eq!(back, r);
        }
    }
}

#[test]
fn op_helpers() {
    assert!(Op::Ge.holds(80.0, 80.0));
    assert!(!Op::Gt.holds(80.0, 80.0));
    assert!(Op::Le.holds(5.0, 5.0));
    assert!(!Op::Lt.holds(5.0, 5.0));
    assert!(Op::Eq.holds(100.0, 100.0));
    assert_eq!(Op::Ge.to_string(), ">=");
    assert_eq!(extract_rules(I5)[0].op(), Some(Op::Le));
    assert_eq!(extract_rules(I50)[0].op(), None);
}

// ------------------------------------------------------------------ properties

/// Pieces that make CJK-heavy texts likely to trigger every pass.
#[rustfmt::skip]
const PIECES: &[&str] = &[
    "0", "1", "5", "12", "100", "2019", "３", "％", "%", ".", "·", "一", "两", "十",
    "百", "万", "〇", "零", "第", "每", "年", "每年", "每2年", "季度", "第一季度", "月", "日", "号",
    "前", "之前", "底", "个", "工作日", "小时", "天", "名", "人", "学时", "次", "性", "分之", "百分之",
    "达", "达到", "不少于", "不低于", "不超过", "最长不超过", "至少", "超过", "不得", "不满", "低于", "以上",
    "以下", "以内", "之内", "内", "左右", "多", "的", "等", "、", "，", ",", "。", "；", ";", "：",
    "（", "）", "(", ")", "“", "”", "\"", "《", "》", " ", "\u{3000}", "\t", "\n", "率", "时间",
    "期限", "自", "之日起", "在", "后", "向", "报告", "有", "由", "实现", "或者", "规定", "合法性审核",
    "专职人民调解员", "𠀀", "é", "\u{200B}", "\u{FE6A}",
];

fn cjk_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(PIECES).prop_map(String::from),
            1 => any::<char>().prop_map(String::from),
            1 => prop::char::range('\u{4E00}', '\u{9FFF}').prop_map(String::from),
        ],
        0..60,
    )
    .prop_map(|v| v.concat())
}

fn check_no_invalid(text: &str) {
    let chars: Vec<char> = text.chars().collect();
    for r in extract_rules(text) {
        let (a, b) = r.span;
        assert!(a <= b && b <= chars.len(), "span out of range: {r:?}");
        let at: String = chars[a..b].iter().collect();
        assert_eq!(at, r.source);
        assert!(text.contains(&r.subject), "subject not in text: {r:?}");
        serde_json::to_string(&r).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn never_panics_on_arbitrary_strings(text in any::<String>()) {
        check_no_invalid(&text);
    }

    #[test]
    fn never_panics_on_cjk_heavy_strings(text in cjk_text()) {
        check_no_invalid(&text);
    }

    #[test]
    fn seed_rules_survive_spaces_anywhere(
        item in prop::sample::select(SEED),
        seed in prop::collection::vec(any::<bool>(), 0..400),
    ) {
        // Insert spaces at arbitrary places between non-digit chars: same rules.
        let (_, text) = item;
        let mut spaced = String::new();
        let cs: Vec<char> = text.chars().collect();
        for (i, &c) in cs.iter().enumerate() {
            spaced.push(c);
            let both_digits = c.is_ascii_digit() && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit());
            if !both_digits && seed.get(i).copied().unwrap_or(false) {
                spaced.push(' ');
            }
        }
        let want = squash(briefs(text));
        let got = squash(briefs(&spaced));
        prop_assert_eq!(got, want);
    }
}
