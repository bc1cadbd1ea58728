//! Builds the indicator tree from rows of cells.
//!
//! PDF extraction scrambles columns (a cell shifts left when the cells before it are
//! empty, a page break splits a cell and its rest lands on the next page's first row), so
//! a cell's *content* decides what it is — a numbered heading, an item number, a unit
//! list or plain text — and its column (from the header row) only decides where plain
//! text belongs.

use std::sync::LazyLock;

use fazhi_domain::framework::{Framework, Heading, Indicator, Node, Role, WeightUnit};
use fazhi_domain::unit::{self, AliasTable, Unit, UnitKind};
use regex::Regex;

use crate::diagnostic::{Diagnostic, DiagnosticKind as K, Severity};
use crate::grid::Row;
use crate::normalize::{self, Repair};
use crate::prose;
use crate::shape;
use crate::{ImportError, ImportOutput};

/// What a column holds, from the header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Heading(usize),
    Seq,
    ItemText,
    Units,
    LeadUnits,
    CoUnits,
    Other,
}

/// How a heading is numbered. The depth of each style is learned from the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Style {
    /// 一、
    ChineseComma,
    /// （一）
    ParenChinese,
    /// 1.  1、  1．
    ArabicDot,
    /// （1）
    ParenArabic,
    /// ①
    Circled,
}

#[derive(Debug, Clone)]
enum Cell {
    Units(Vec<(String, Option<Role>)>),
    Seq(String),
    Numbered {
        style: Style,
        code: String,
        rest: String,
    },
    Text(String),
    /// A responsibility sentence (or a unit list with notes) read by [`prose`].
    Prose(prose::Statement),
}

static CHINESE_COMMA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([一二三四五六七八九十百零〇]+)\s*[、．.]\s*(.*)$").expect("static regex")
});
static PAREN_CHINESE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[（(]\s*([一二三四五六七八九十百]+)\s*[）)]\s*(.*)$").expect("static regex")
});
static ARABIC_DOT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{1,3})\s*[.．、]\s*(\D.*)$").expect("static regex"));
static PAREN_ARABIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[（(]\s*(\d{1,3})\s*[）)]\s*(.*)$").expect("static regex"));
static CIRCLED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([①-⑳])\s*(.*)$").expect("static regex"));
static SEQ: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{1,4})\s*[.．、]?$").expect("static regex"));
static UNIT_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(责任单位|责任部门|牵头单位|牵头部门|配合单位|配合部门|协办单位|参与单位)\s*[:：]")
        .expect("static regex")
});
static ATTACHMENT_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^附件\s*\d*\s*[:：]?\s*").expect("static regex"));

fn numbered(text: &str) -> Option<(Style, String, String)> {
    let patterns: [(&Regex, Style); 5] = [
        (&CHINESE_COMMA, Style::ChineseComma),
        (&PAREN_CHINESE, Style::ParenChinese),
        (&ARABIC_DOT, Style::ArabicDot),
        (&PAREN_ARABIC, Style::ParenArabic),
        (&CIRCLED, Style::Circled),
    ];
    patterns.iter().find_map(|(re, style)| {
        re.captures(text)
            .map(|c| (*style, c[1].to_string(), c[2].trim().to_string()))
    })
}

/// Column roles if `row` is a header row.
/// Longest column label, in characters (`三级指标（考核内容及评分标准）` is 15).
const MAX_LABEL_CHARS: usize = 24;

fn header_roles(row: &Row) -> Option<Vec<Column>> {
    // A column label is short, and a cell with an inline lead mark (`县司法局（牵头）、县公安局`)
    // is a unit list, not the label `牵头单位`: without this an indicator row whose text
    // mentions 内容/任务/指标 next to such a unit cell read as a repeated header and was lost.
    let is_label = |t: &str| {
        t.chars().count() <= MAX_LABEL_CHARS && !t.contains("（牵头）") && !t.contains("(牵头)")
    };
    let texts: Vec<String> = row
        .cells
        .iter()
        .map(|c| c.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .map(|t| if is_label(&t) { t } else { String::new() })
        .collect();
    let level_cols: Vec<usize> = texts
        .iter()
        .enumerate()
        .filter(|(_, t)| t.contains("级") && (t.contains("指标") || t.contains("目标")))
        .map(|(i, _)| i)
        .collect();
    let mut roles: Vec<Column> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if let Some(pos) = level_cols.iter().position(|c| *c == i) {
                if pos + 1 == level_cols.len() {
                    Column::ItemText
                } else {
                    Column::Heading(pos)
                }
            } else if t.contains("牵头") {
                Column::LeadUnits
            } else if t.contains("配合") || t.contains("协办") || t.contains("参与") {
                Column::CoUnits
            } else if t.contains("责任单位") || t.contains("责任部门") || t == "单位" {
                Column::Units
            } else if t == "序号" || t == "编号" || t == "项次" {
                Column::Seq
            } else if level_cols.is_empty()
                && (t.contains("内容") || t.contains("指标") || t.contains("任务"))
            {
                Column::ItemText
            } else {
                Column::Other
            }
        })
        .collect();
    let has_units = roles
        .iter()
        .any(|r| matches!(r, Column::Units | Column::LeadUnits));
    let has_items = roles.contains(&Column::ItemText);
    let recognised = roles.iter().filter(|r| **r != Column::Other).count();
    if !(has_units && has_items && recognised >= 2) {
        return None;
    }
    // Trailing unknown columns (备注, 分值) keep their place but hold nothing we read.
    while roles.last() == Some(&Column::Other) && roles.len() > 1 {
        roles.pop();
    }
    Some(roles)
}

/// Split a unit cell, honouring `牵头单位：…` / `配合单位：…` labels.
fn unit_cell(raw: &str) -> Option<Vec<(String, Option<Role>)>> {
    let labels: Vec<_> = UNIT_LABEL.captures_iter(raw).collect();
    if labels.is_empty() {
        return unit::is_unit_list(raw).then(|| {
            unit::split_unit_list(raw)
                .into_iter()
                .map(|n| (n, None))
                .collect()
        });
    }
    // Text before the first label must be empty, else this is prose that mentions a label.
    let first = labels[0].get(0).map(|m| m.start()).unwrap_or(0);
    if !raw[..first]
        .trim()
        .trim_start_matches(['（', '('])
        .is_empty()
    {
        return None;
    }
    let mut out = Vec::new();
    for (i, cap) in labels.iter().enumerate() {
        let (Some(whole), Some(label)) = (cap.get(0), cap.get(1)) else {
            continue;
        };
        let end = labels
            .get(i + 1)
            .and_then(|c| c.get(0))
            .map(|m| m.start())
            .unwrap_or(raw.len());
        let role = match label.as_str() {
            "牵头单位" | "牵头部门" => Some(Role::Lead),
            "配合单位" | "配合部门" | "协办单位" | "参与单位" => Some(Role::Co),
            _ => None,
        };
        for name in unit::split_unit_list(&raw[whole.end()..end]) {
            out.push((name, role));
        }
    }
    (!out.is_empty()).then_some(out)
}

#[derive(Debug)]
struct Draft {
    depth: usize,
    /// A table row with an item number; outline items become leaves when childless.
    leaf: bool,
    code: String,
    text: String,
    line: u32,
    units: Vec<(String, Option<Role>)>,
}

struct Builder<'a> {
    roles: Option<Vec<Column>>,
    has_seq_column: bool,
    /// Depth of each numbering style.
    style_depth: Vec<(Style, usize)>,
    /// For each heading column: whether its headings are numbered (so unnumbered text
    /// there is a continuation, not a new heading).
    numbered_columns: Vec<bool>,
    drafts: Vec<Draft>,
    open: Vec<usize>,
    last_item: Option<usize>,
    diags: &'a mut Vec<Diagnostic>,
}

impl Builder<'_> {
    fn depth_of(&mut self, style: Style) -> usize {
        if let Some((_, d)) = self.style_depth.iter().find(|(s, _)| *s == style) {
            return *d;
        }
        let d = self
            .style_depth
            .iter()
            .map(|(_, d)| d + 1)
            .max()
            .unwrap_or(0);
        self.style_depth.push((style, d));
        d
    }

    fn role_at(&self, col: usize) -> Option<Column> {
        self.roles.as_ref().and_then(|r| r.get(col).copied())
    }

    fn open_heading(&mut self, depth: usize, code: String, title: String, line: u32) {
        self.open.truncate(depth);
        let idx = self.drafts.len();
        self.drafts.push(Draft {
            depth: self.open.len(),
            leaf: false,
            code,
            text: title,
            line,
            units: Vec::new(),
        });
        self.open.push(idx);
        self.last_item = Some(idx);
    }

    fn open_leaf(&mut self, code: String, line: u32) -> usize {
        if self.open.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    Severity::Warning,
                    K::IndicatorWithoutHeading,
                    format!("第{code}项出现在任何上级指标之前，已放在最外层"),
                )
                .at(line)
                .on(code.clone()),
            );
        }
        let idx = self.drafts.len();
        self.drafts.push(Draft {
            depth: self.open.len(),
            leaf: true,
            code,
            text: String::new(),
            line,
            units: Vec::new(),
        });
        self.last_item = Some(idx);
        idx
    }

    fn auto_code(&self, depth: usize) -> String {
        let siblings = self
            .drafts
            .iter()
            .rev()
            .take_while(|d| d.depth >= depth)
            .filter(|d| d.depth == depth)
            .count();
        (siblings + 1).to_string()
    }

    /// Append a fragment that a page break cut off to draft `target`.
    fn join(&mut self, target: usize, fragment: &str, line: u32) {
        let Some(draft) = self.drafts.get_mut(target) else {
            return;
        };
        if draft.text.is_empty() {
            draft.text = fragment.to_string();
            return;
        }
        let before = draft.text.clone();
        let overlap = match (before.chars().last(), fragment.chars().next()) {
            (Some(a), Some(b)) => a == b && normalize::is_cjk(a),
            _ => false,
        };
        let rest = if overlap {
            fragment.chars().skip(1).collect::<String>()
        } else {
            fragment.to_string()
        };
        draft.text.push_str(&rest);
        let code = draft.code.clone();
        let target_line = draft.line;
        let what = if draft.leaf { "指标" } else { "标题" };
        let (before_short, fragment_short) = (tail(&before, 16), head(fragment, 16));
        self.diags.push(
            Diagnostic::new(
                Severity::Info,
                K::SplitCellJoined,
                format!(
                    "跨页拆开的{what}已接回：第{line}行“{fragment_short}”接在第{target_line}行“{before_short}”之后"
                ),
            )
            .at(line)
            .on(code.clone()),
        );
        if overlap {
            let c = fragment.chars().next().unwrap_or_default();
            self.diags.push(
                Diagnostic::new(
                    Severity::Warning,
                    K::OverlapRemoved,
                    format!(
                        "“{before}”与“{fragment}”在分页处重复了“{c}”，只保留一个，得到“{}”",
                        self.drafts[target].text
                    ),
                )
                .at(line)
                .on(code),
            );
        }
    }

    fn report_repairs(&mut self, repairs: &[Repair], line: u32, code: Option<String>, raw: &str) {
        for repair in repairs {
            let (severity, kind, message) = match repair {
                Repair::Traditional(pairs) => {
                    let shown: Vec<String> =
                        pairs.iter().map(|(t, s)| format!("{t}→{s}")).collect();
                    (
                        Severity::Info,
                        K::TraditionalConverted,
                        format!("识别出的繁体字已转为简体：{}", shown.join("、")),
                    )
                }
                Repair::Spaces {
                    removed,
                    vertical: true,
                } => (
                    Severity::Warning,
                    K::VerticalText,
                    format!(
                        "“{}”是竖排文字，已去掉{removed}处空格合并；字序可能有误，请对照原件",
                        raw.trim()
                    ),
                ),
                Repair::Spaces {
                    removed,
                    vertical: false,
                } => (
                    Severity::Info,
                    K::SpacesRemoved,
                    format!("去掉文字或数字间多余的空格{removed}处"),
                ),
                Repair::Punctuation(n) => (
                    Severity::Info,
                    K::PunctuationNormalized,
                    format!("{n}处半角标点改为全角"),
                ),
            };
            let mut d = Diagnostic::new(severity, kind, message).at(line);
            if let Some(code) = &code {
                d = d.on(code.clone());
            }
            self.diags.push(d);
        }
    }
}

/// The last `n` characters, with an ellipsis when cut.
fn tail(text: &str, n: usize) -> String {
    let count = text.chars().count();
    if count <= n {
        text.to_string()
    } else {
        format!("…{}", text.chars().skip(count - n).collect::<String>())
    }
}

/// The first `n` characters, with an ellipsis when cut.
fn head(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(n).collect::<String>())
    }
}

/// Classify one raw cell. Unit lists are recognised before spaces are removed, because
/// spaces separate the units.
fn classify(raw: &str) -> (Cell, Vec<Repair>) {
    let (simplified, pairs) = normalize::to_simplified(raw.trim());
    let mut repairs = if pairs.is_empty() {
        vec![]
    } else {
        vec![Repair::Traditional(pairs)]
    };
    if let Some(statement) = prose::parse(&simplified) {
        return (Cell::Prose(statement), repairs);
    }
    if let Some(mut units) = unit_cell(&simplified) {
        // `责任单位：…，各乡镇按职责分工分别负责。`: the label reader keeps the closing words.
        if let Some((last, role)) = units.pop() {
            let (name, qualifier) = prose::strip_qualifier(&last);
            if !units.iter().any(|(n, _)| *n == name) {
                units.push((name.clone(), role));
            }
            if let Some(qualifier) = qualifier {
                let notes = vec![prose::Note::Qualifier { name, qualifier }];
                return (
                    Cell::Prose(prose::Statement::Units { units, notes }),
                    repairs,
                );
            }
        }
        return (Cell::Units(units), repairs);
    }
    if let Some(c) = SEQ.captures(simplified.trim()) {
        return (Cell::Seq(c[1].to_string()), repairs);
    }
    // The space between a number and its title is layout, not damage: clean the title only.
    if let Some((style, code, rest)) = numbered(&simplified) {
        let (rest, more) = normalize::tidy(&rest);
        repairs.extend(more);
        return (Cell::Numbered { style, code, rest }, repairs);
    }
    let (text, more) = normalize::tidy(&simplified);
    repairs.extend(more);
    (Cell::Text(text), repairs)
}

struct ClassifiedRow {
    line: u32,
    /// (effective column, raw text, cell, repairs)
    cells: Vec<(usize, String, Cell, Vec<Repair>)>,
}

fn classify_row(row: &Row, header_len: Option<usize>) -> ClassifiedRow {
    // A row shorter than the header lost its leading empty cells (the PDF extraction
    // drops them when a cell continues from the previous page): align it right.
    let offset = header_len.map_or(0, |n| n.saturating_sub(row.cells.len()));
    let cells = row
        .cells
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.trim().is_empty())
        .map(|(i, raw)| {
            let (cell, repairs) = classify(raw);
            (i + offset, raw.clone(), cell, repairs)
        })
        .collect();
    ClassifiedRow {
        line: row.line,
        cells,
    }
}

fn preamble_title(rows: &[Row]) -> Option<String> {
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let joined: String = r
                .cells
                .iter()
                .map(|c| c.trim())
                .collect::<Vec<_>>()
                .join("");
            let t = ATTACHMENT_LABEL.replace(&joined, "").trim().to_string();
            normalize::clean_text(&t).0
        })
        .filter(|t| !t.is_empty())
        .collect();
    shape::document_title(&lines)
}

/// Rows of one long cell split at their numbering (a body pasted as one line).
fn split_long_rows(rows: &[Row]) -> Vec<Row> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let filled: Vec<&String> = row.cells.iter().filter(|c| !c.trim().is_empty()).collect();
        let pieces = match filled.as_slice() {
            [only] => shape::split_long_line(only),
            _ => Vec::new(),
        };
        if pieces.len() > 1 {
            out.extend(pieces.into_iter().map(|p| Row {
                line: row.line,
                cells: vec![p],
            }));
        } else {
            out.push(row.clone());
        }
    }
    out
}

pub(crate) fn assemble(rows: &[Row], aliases: &AliasTable) -> Result<ImportOutput, ImportError> {
    let mut diags = Vec::new();
    if rows.iter().all(Row::is_blank) {
        return Err(ImportError::Empty);
    }
    let rows = &split_long_rows(rows)[..];
    let skipped = shape::rows_to_skip(rows);
    let header = rows
        .iter()
        .enumerate()
        .find_map(|(i, r)| header_roles(r).map(|roles| (i, roles)));
    let (body_start, roles, title) = match &header {
        Some((i, roles)) => (*i + 1, Some(roles.clone()), preamble_title(&rows[..*i])),
        None => {
            // Outline layout: content starts at the first numbered line.
            let first = rows.iter().position(|r| {
                r.cells
                    .iter()
                    .any(|c| numbered(&normalize::clean_text(c).0).is_some())
            });
            let first = first.ok_or_else(|| ImportError::UnknownLayout(
                "既没有找到含“三级指标”“责任单位”等列名的表头行，也没有找到“一、”“1.”这样编号的指标行".into(),
            ))?;
            (first, None, preamble_title(&rows[..first]))
        }
    };
    let header_len = roles.as_ref().map(Vec::len);
    let mut kept: Vec<&Row> = Vec::new();
    for (i, r) in rows.iter().enumerate().skip(body_start) {
        match skipped.iter().find(|(s, _)| *s == i) {
            Some((_, reason)) => {
                let text: String = r.cells.iter().map(|c| c.trim()).collect();
                diags.push(
                    Diagnostic::new(
                        Severity::Info,
                        K::NotAnIndicator,
                        format!("“{}”是{reason}，不是指标，未导入", head(&text, 40)),
                    )
                    .at(r.line),
                );
            }
            None if !r.is_blank() => kept.push(r),
            None => {}
        }
    }
    let body: Vec<ClassifiedRow> = kept
        .into_iter()
        .filter(|r| {
            let repeated = header.is_some() && header_roles(r).is_some();
            if repeated {
                diags.push(
                    Diagnostic::new(Severity::Info, K::HeaderRepeated, "跳过分页处重复的表头行")
                        .at(r.line),
                );
            }
            !repeated
        })
        .map(|r| classify_row(r, header_len))
        .collect();

    let has_seq_column = roles.as_ref().is_some_and(|r| r.contains(&Column::Seq));
    let mut b = Builder {
        has_seq_column,
        style_depth: Vec::new(),
        numbered_columns: Vec::new(),
        roles,
        drafts: Vec::new(),
        open: Vec::new(),
        last_item: None,
        diags: &mut diags,
    };
    learn_columns(&mut b, &body);

    for row in &body {
        build_row(&mut b, row);
    }
    let drafts = std::mem::take(&mut b.drafts);
    let outline = b.roles.is_none();
    finish(drafts, outline, title, aliases, diags)
}

/// Learn from the whole table, before building, at which depth each numbering style sits
/// (by the header column its cells mostly stand in) and which heading columns are numbered.
fn learn_columns(b: &mut Builder, body: &[ClassifiedRow]) {
    let Some(roles) = b.roles.clone() else {
        return;
    };
    let heading_cols = roles
        .iter()
        .filter(|r| matches!(r, Column::Heading(_)))
        .count();
    let mut numbered = vec![0usize; heading_cols];
    let mut plain = vec![0usize; heading_cols];
    let mut votes: Vec<(Style, usize, usize)> = Vec::new();
    for row in body {
        for (col, _, cell, _) in &row.cells {
            let Some(Column::Heading(depth)) = roles.get(*col).copied() else {
                continue;
            };
            match cell {
                Cell::Numbered { style, .. } => {
                    numbered[depth] += 1;
                    match votes.iter_mut().find(|(s, d, _)| s == style && *d == depth) {
                        Some(v) => v.2 += 1,
                        None => votes.push((*style, depth, 1)),
                    }
                }
                Cell::Text(_) => plain[depth] += 1,
                _ => {}
            }
        }
    }
    b.numbered_columns = numbered
        .iter()
        .zip(&plain)
        .map(|(n, p)| n >= p && *n > 0)
        .collect();
    let mut styles: Vec<Style> = votes.iter().map(|v| v.0).collect();
    styles.dedup();
    for style in styles {
        let best = votes
            .iter()
            .filter(|v| v.0 == style)
            .max_by_key(|v| v.2)
            .map(|v| v.1);
        if let Some(depth) = best
            && !b.style_depth.iter().any(|(s, _)| *s == style)
        {
            b.style_depth.push((style, depth));
        }
    }
}

fn build_row(b: &mut Builder, row: &ClassifiedRow) {
    let line = row.line;
    let seq_at = row.cells.iter().position(|(col, _, cell, _)| match cell {
        Cell::Seq(_) => true,
        // Without an item-number column, a numbered item-text cell is the item.
        Cell::Numbered { .. } => {
            !b.has_seq_column && b.roles.is_some() && b.role_at(*col) == Some(Column::ItemText)
        }
        _ => false,
    });
    let mut leaf: Option<usize> = None;
    for (pos, (col, raw, cell, repairs)) in row.cells.iter().enumerate() {
        let role = b.role_at(*col);
        let before_seq = seq_at.is_some_and(|s| pos < s);
        let mut code_for_repairs = None;
        match cell {
            Cell::Seq(code) => {
                let idx = b.open_leaf(code.clone(), line);
                leaf = Some(idx);
                code_for_repairs = Some(code.clone());
            }
            Cell::Units(units) => {
                let target = leaf.or(b.last_item);
                match target {
                    Some(t) => {
                        b.drafts[t].units.extend(units.iter().cloned());
                        code_for_repairs = Some(b.drafts[t].code.clone());
                    }
                    None => b.diags.push(
                        Diagnostic::new(
                            Severity::Warning,
                            K::UnattachedText,
                            format!("单位“{}”前面没有任何指标，无法归属", raw.trim()),
                        )
                        .at(line),
                    ),
                }
            }
            Cell::Prose(statement) => {
                code_for_repairs = attach_statement(b, leaf.or(b.last_item), statement, raw, line);
            }
            Cell::Numbered { style, code, rest } => {
                if Some(pos) == seq_at {
                    let idx = b.open_leaf(code.clone(), line);
                    b.drafts[idx].text = rest.clone();
                    leaf = Some(idx);
                    code_for_repairs = Some(code.clone());
                } else if leaf.is_some()
                    || (b.has_seq_column && matches!(role, Some(Column::ItemText | Column::Units)))
                {
                    // Item text that itself starts with a number, or its continuation.
                    let text = normalize::clean_text(raw).0;
                    code_for_repairs = append_text(b, leaf, role, false, &text, line);
                } else {
                    let depth = b.depth_of(*style);
                    b.open_heading(depth, code.clone(), rest.clone(), line);
                    code_for_repairs = Some(code.clone());
                }
            }
            Cell::Text(text) => {
                code_for_repairs = append_text(b, leaf, role, before_seq, text, line);
            }
        }
        b.report_repairs(repairs, line, code_for_repairs, raw);
    }
}

/// Attach what a responsibility sentence says to `target` and report its notes.
fn attach_statement(
    b: &mut Builder,
    target: Option<usize>,
    statement: &prose::Statement,
    raw: &str,
    line: u32,
) -> Option<String> {
    let code = target.map(|t| b.drafts[t].code.clone());
    let on = |d: Diagnostic| match &code {
        Some(c) => d.at(line).on(c.clone()),
        None => d.at(line),
    };
    match statement {
        prose::Statement::Addressee(text) => {
            b.diags.push(on(Diagnostic::new(
                Severity::Info,
                K::NotAnIndicator,
                format!("“{text}”是主送单位（称谓行），不作为责任单位"),
            )));
            return None;
        }
        prose::Statement::Truncated(text) => {
            b.diags.push(on(Diagnostic::new(
                Severity::Warning,
                K::Truncated,
                format!("“{text}”这句话没有写完，没有写出由谁负责；未猜测责任单位，请对照原件补全"),
            )));
            return code;
        }
        prose::Statement::Units { units, notes } => {
            let Some(t) = target else {
                b.diags.push(on(Diagnostic::new(
                    Severity::Warning,
                    K::UnattachedText,
                    format!("单位“{}”前面没有任何指标，无法归属", raw.trim()),
                )));
                return None;
            };
            b.drafts[t].units.extend(units.iter().cloned());
            for note in notes {
                let prose::Note::Qualifier { name, qualifier } = note;
                // `等` means the list may go on: a person must complete it.
                let severity = if qualifier == "等" {
                    Severity::Warning
                } else {
                    Severity::Info
                };
                b.diags.push(on(Diagnostic::new(
                    severity,
                    K::UnitQualifierRemoved,
                    format!(
                        "单位名称后的“{qualifier}”不是单位名称的一部分，已去掉，单位记为“{name}”"
                    ),
                )));
            }
        }
    }
    code
}

/// Place a plain-text cell: item text, or the continuation of a heading or item that a
/// page break cut. Returns the code it was attached to.
fn append_text(
    b: &mut Builder,
    leaf: Option<usize>,
    role: Option<Column>,
    before_seq: bool,
    text: &str,
    line: u32,
) -> Option<String> {
    if let Some(l) = leaf {
        if b.drafts[l].text.is_empty() {
            b.drafts[l].text = text.to_string();
        } else {
            b.join(l, text, line);
        }
        return Some(b.drafts[l].code.clone());
    }
    let heading_depth = match role {
        Some(Column::Heading(d)) => Some(d),
        _ if before_seq => b.open.len().checked_sub(1),
        _ => None,
    };
    if let Some(depth) = heading_depth {
        let numbered = b.numbered_columns.get(depth).copied().unwrap_or(true);
        match b.open.get(depth).copied() {
            // In a column of numbered headings, unnumbered text is the rest of a cut cell.
            Some(target) if numbered => {
                b.join(target, text, line);
                return Some(b.drafts[target].code.clone());
            }
            _ => {
                // Unnumbered headings: every new cell in the column is a new heading.
                let code = b.auto_code(depth.min(b.open.len()));
                b.open_heading(depth, code.clone(), text.to_string(), line);
                return Some(code);
            }
        }
    }
    if b.roles.is_some() && !b.has_seq_column && role == Some(Column::ItemText) {
        let code = b.auto_code(b.open.len());
        let idx = b.open_leaf(code.clone(), line);
        b.drafts[idx].text = text.to_string();
        return Some(code);
    }
    match b.last_item {
        Some(target) => {
            b.join(target, text, line);
            Some(b.drafts[target].code.clone())
        }
        None => {
            b.diags.push(
                Diagnostic::new(
                    Severity::Warning,
                    K::UnattachedText,
                    format!("这段文字前面没有任何指标，无法归属：“{text}”"),
                )
                .at(line),
            );
            None
        }
    }
}

fn finish(
    drafts: Vec<Draft>,
    outline: bool,
    title: Option<String>,
    aliases: &AliasTable,
    mut diags: Vec<Diagnostic>,
) -> Result<ImportOutput, ImportError> {
    let has_children: Vec<bool> = (0..drafts.len())
        .map(|i| drafts.get(i + 1).is_some_and(|n| n.depth > drafts[i].depth))
        .collect();
    let is_leaf: Vec<bool> = drafts
        .iter()
        .zip(&has_children)
        .map(|(d, kids)| d.leaf || (!kids && (outline || !d.units.is_empty())))
        .collect();
    if !is_leaf.iter().any(|l| *l) {
        return Err(ImportError::UnknownLayout(
            "读到了标题行，但没有读到任何带序号或责任单位的末级指标".into(),
        ));
    }

    // Units: fold aliases over all names in the document, keep first-appearance order.
    let all_names: Vec<String> = drafts
        .iter()
        .flat_map(|d| d.units.iter().map(|(n, _)| n.clone()))
        .collect();
    let mut units: Vec<Unit> = Vec::new();
    let mut folded_reported: Vec<String> = Vec::new();
    let mut leaf_units: Vec<(Vec<String>, Vec<String>)> = Vec::with_capacity(drafts.len());
    for d in &drafts {
        let mut names: Vec<String> = Vec::new();
        let mut lead: Vec<String> = Vec::new();
        let explicit_roles = d.units.iter().any(|(_, r)| r.is_some());
        for (raw, role) in &d.units {
            let canonical = aliases.canonical(raw, &all_names).to_string();
            if canonical != *raw && !folded_reported.contains(raw) {
                folded_reported.push(raw.clone());
                diags.push(
                    Diagnostic::new(
                        Severity::Info,
                        K::AliasFolded,
                        format!("“{raw}”与“{canonical}”是同一单位，统一为“{canonical}”"),
                    )
                    .at(d.line)
                    .on(d.code.clone()),
                );
            }
            match units.iter_mut().find(|u| u.name == canonical) {
                Some(u) => {
                    if canonical != *raw && !u.aliases.contains(raw) {
                        u.aliases.push(raw.clone());
                    }
                }
                None => units.push(Unit {
                    name: canonical.clone(),
                    aliases: if canonical != *raw {
                        vec![raw.clone()]
                    } else {
                        vec![]
                    },
                    kind: UnitKind::infer(&canonical),
                }),
            }
            if !names.contains(&canonical) {
                names.push(canonical.clone());
                let leads = if explicit_roles {
                    *role == Some(Role::Lead)
                } else {
                    names.len() == 1
                };
                if leads {
                    lead.push(canonical);
                }
            }
        }
        // A table that marks only 配合单位 and 责任单位: the first 责任单位 leads.
        if explicit_roles
            && lead.is_empty()
            && let Some((first, _)) = d.units.iter().find(|(_, r)| r.is_none())
        {
            lead.push(aliases.canonical(first, &all_names).to_string());
        }
        leaf_units.push((names, lead));
    }

    check_leaves(&drafts, &is_leaf, &leaf_units, &mut diags);
    let leaf_texts: Vec<&str> = drafts
        .iter()
        .zip(&is_leaf)
        .filter(|(_, l)| **l)
        .map(|(d, _)| d.text.as_str())
        .collect();
    if shape::last_item_cut(&leaf_texts)
        && let Some(last) = drafts.iter().zip(&is_leaf).rev().find(|(_, l)| **l)
    {
        let d = last.0;
        diags.push(
            Diagnostic::new(
                Severity::Warning,
                K::Truncated,
                format!(
                    "最后一项（第{}项）止于“{}”，没有结束标点，可能被截断；请对照原件补全",
                    d.code,
                    tail(&d.text, 16)
                ),
            )
            .at(d.line)
            .on(d.code.clone()),
        );
    }

    // Fold the flat drafts into a tree by depth.
    let mut roots: Vec<Node> = Vec::new();
    let mut stack: Vec<(usize, Node)> = Vec::new();
    fn attach(stack: &mut [(usize, Node)], roots: &mut Vec<Node>, node: Node) {
        match stack.last_mut() {
            Some((_, Node::Heading(h))) => h.children.push(node),
            _ => roots.push(node),
        }
    }
    for (i, d) in drafts.into_iter().enumerate() {
        while stack.last().is_some_and(|(depth, _)| *depth >= d.depth) {
            if let Some((_, node)) = stack.pop() {
                attach(&mut stack, &mut roots, node);
            }
        }
        let node = if is_leaf[i] {
            let (units, lead) = std::mem::take(&mut leaf_units[i]);
            Node::Indicator(Indicator {
                code: d.code,
                text: d.text,
                units,
                lead,
                line: Some(d.line),
            })
        } else {
            if !has_children[i] {
                diags.push(
                    Diagnostic::new(
                        Severity::Warning,
                        K::EmptyHeading,
                        format!("“{}”下面没有任何指标", d.text),
                    )
                    .at(d.line)
                    .on(d.code.clone()),
                );
            }
            let (title, weight) = shape::split_weight(&d.text);
            if let Some(w) = &weight {
                let unit = match w.unit {
                    WeightUnit::Percent => "%",
                    WeightUnit::Points => "分",
                };
                diags.push(
                    Diagnostic::new(
                        Severity::Info,
                        K::WeightRead,
                        format!("“{title}”的分值{}{unit}已记为该指标的权重", w.value),
                    )
                    .at(d.line)
                    .on(d.code.clone()),
                );
            }
            Node::Heading(Heading {
                code: d.code,
                title,
                children: Vec::new(),
                line: Some(d.line),
                weight,
            })
        };
        stack.push((d.depth, node));
    }
    while let Some((_, node)) = stack.pop() {
        attach(&mut stack, &mut roots, node);
    }

    let framework = Framework {
        title: title.unwrap_or_else(|| "未命名指标体系".into()),
        indicators: roots,
        units: units.iter().map(|u| u.name.clone()).collect(),
    };
    Ok(ImportOutput {
        framework,
        unit_details: units,
        diagnostics: diags,
    })
}

/// Missing units, repeated texts, repeated codes and numbering jumps.
fn check_leaves(
    drafts: &[Draft],
    is_leaf: &[bool],
    leaf_units: &[(Vec<String>, Vec<String>)],
    diags: &mut Vec<Diagnostic>,
) {
    let leaves: Vec<usize> = (0..drafts.len()).filter(|i| is_leaf[*i]).collect();
    for &i in &leaves {
        let d = &drafts[i];
        if leaf_units[i].0.is_empty() {
            diags.push(
                Diagnostic::new(
                    Severity::Warning,
                    K::MissingUnits,
                    format!("第{}项没有填写责任单位，需要由管理员指定", d.code),
                )
                .at(d.line)
                .on(d.code.clone()),
            );
        }
    }
    let key = |t: &str| -> String { t.chars().filter(|c| !c.is_whitespace()).collect() };
    for (n, &i) in leaves.iter().enumerate() {
        for &j in &leaves[n + 1..] {
            if drafts[i].text.is_empty() || key(&drafts[i].text) != key(&drafts[j].text) {
                continue;
            }
            // Report on the row that looks like the stray copy: the one without units,
            // else the later one.
            let (stray, kept) = if leaf_units[i].0.is_empty() && !leaf_units[j].0.is_empty() {
                (i, j)
            } else {
                (j, i)
            };
            diags.push(
                Diagnostic::new(
                    Severity::Warning,
                    K::DuplicateText,
                    format!(
                        "第{}项的内容与第{}项完全相同，可能是重复行",
                        drafts[stray].code, drafts[kept].code
                    ),
                )
                .at(drafts[stray].line)
                .on(drafts[stray].code.clone()),
            );
        }
    }
    // Numbering: continuous through the table, or restarting at 1 under each heading.
    let mut prev: Option<(u64, usize)> = None;
    for &i in &leaves {
        let d = &drafts[i];
        let Ok(n) = d.code.parse::<u64>() else {
            continue;
        };
        let parent = (0..i).rev().find(|&p| drafts[p].depth < d.depth);
        let prev_sibling_in_parent = (0..i)
            .rev()
            .take_while(|&p| drafts[p].depth >= d.depth)
            .find(|&p| drafts[p].depth == d.depth && is_leaf[p]);
        let expected_ok = match prev {
            None => true,
            Some((p, _)) => {
                n == p + 1 || (n == 1 && prev_sibling_in_parent.is_none() && parent.is_some())
            }
        };
        if !expected_ok {
            let p = prev.map(|(p, _)| p).unwrap_or_default();
            diags.push(
                Diagnostic::new(
                    Severity::Warning,
                    K::NumberingGap,
                    format!("序号从{p}跳到{n}，请检查是否漏行或错行"),
                )
                .at(d.line)
                .on(d.code.clone()),
            );
        }
        if let Some(s) = prev_sibling_in_parent
            && drafts[s].code == d.code
        {
            diags.push(
                Diagnostic::new(
                    Severity::Warning,
                    K::DuplicateCode,
                    format!("同一上级指标下出现两个第{}项", d.code),
                )
                .at(d.line)
                .on(d.code.clone()),
            );
        }
        prev = Some((n, i));
    }
}
