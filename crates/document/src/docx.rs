//! The Word renderer (docx-rs). Every run names its fonts with `eastAsia` set: Word and
//! WPS ignore a font for Chinese text otherwise. The standard 公文 fonts are named, not
//! embedded (recipients have them; LibreOffice substitutes).

use std::io::Cursor;
use std::path::Path;

use docx_rs::{
    AlignmentType, BreakType, Docx, FieldCharType, Footer, InstrPAGE, InstrText, LineSpacing,
    LineSpacingType, PageMargin, Paragraph, Run, RunFonts, Shading, ShdType, SpecialIndentType,
    Table as DTable, TableAlignmentType, TableBorders, TableCell, TableCellMargins,
    TableLayoutType, TableRow, VAlignType, WidthType,
};

use crate::DocumentError;
use crate::model::{BarChart, Document, Numbered, Table, chinese_date, signature_indents};

pub const FONT_TITLE: &str = "方正小标宋简体";
pub const FONT_BODY: &str = "仿宋_GB2312";
pub const FONT_HEI: &str = "黑体";
pub const FONT_KAI: &str = "楷体_GB2312";
pub const FONT_NUMBER: &str = "宋体";
const FONT_LATIN: &str = "Times New Roman";

/// Twips (1/20 pt) per millimetre.
fn mm(v: f64) -> i32 {
    #[allow(clippy::cast_possible_truncation)]
    let t = (v * 1440.0 / 25.4).round() as i32;
    t
}

/// Half-points: 2号 22 pt, 3号 16 pt, 4号 14 pt, 小四 12 pt.
const SIZE_TITLE: usize = 44;
const SIZE_BODY: usize = 32;
const SIZE_4: usize = 28;
const SIZE_SMALL4: usize = 24;
/// The fixed line pitch, 29 pt in twips.
const PITCH: i32 = 580;
/// One body character (16 pt) in twips.
const CHAR: i32 = 320;
/// Width of the 版心 (210 − 28 − 26 mm).
fn text_width() -> usize {
    usize::try_from(mm(156.0)).unwrap_or(8844)
}

fn fonts(east_asia: &str, latin: &str) -> RunFonts {
    RunFonts::new()
        .east_asia(east_asia)
        .ascii(latin)
        .hi_ansi(latin)
        .cs(latin)
}

fn run(text: &str, font: &str, size: usize) -> Run {
    let latin = if font == FONT_BODY { FONT_LATIN } else { font };
    Run::new()
        .add_text(text)
        .fonts(fonts(font, latin))
        .size(size)
}

fn exact() -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Exact)
        .line(PITCH)
        .before(0)
        .after(0)
}

fn single() -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Auto)
        .line(240)
        .before(0)
        .after(0)
}

/// A body-style paragraph: justified, first line indented two characters.
fn body_par(text: &str, font: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, font, SIZE_BODY))
        .align(AlignmentType::Both)
        .line_spacing(exact())
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(2 * CHAR)),
            None,
            None,
        )
}

fn cell(text: &str, font: &str, align: AlignmentType) -> TableCell {
    TableCell::new()
        .add_paragraph(
            Paragraph::new()
                .add_run(run(text, font, SIZE_SMALL4))
                .align(align)
                .line_spacing(single()),
        )
        .vertical_align(VAlignType::Center)
}

fn grid(weights: &[u32]) -> Vec<usize> {
    let total: u32 = weights.iter().sum::<u32>().max(1);
    weights
        .iter()
        .map(|w| {
            text_width() * usize::try_from(*w).unwrap_or(1) / usize::try_from(total).unwrap_or(1)
        })
        .collect()
}

fn caption(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, FONT_HEI, SIZE_4))
        .align(AlignmentType::Center)
        .line_spacing(exact())
        .keep_next(true)
}

fn table(t: &Table) -> (Option<Paragraph>, DTable) {
    let widths = grid(&t.column_weights());
    let header = TableRow::new(
        t.header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                cell(h, FONT_HEI, AlignmentType::Center)
                    .width(widths.get(i).copied().unwrap_or(1000), WidthType::Dxa)
            })
            .collect(),
    )
    .cant_split();
    let mut rows = vec![header];
    for r in t.normalized_rows() {
        rows.push(
            TableRow::new(
                r.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let align = if i == 0 {
                            AlignmentType::Left
                        } else {
                            AlignmentType::Center
                        };
                        cell(c, FONT_BODY, align)
                            .width(widths.get(i).copied().unwrap_or(1000), WidthType::Dxa)
                    })
                    .collect(),
            )
            .cant_split(),
        );
    }
    let table = DTable::new(rows)
        .set_grid(widths)
        .width(text_width(), WidthType::Dxa)
        .align(TableAlignmentType::Center)
        .layout(TableLayoutType::Fixed)
        .margins(TableCellMargins::new().margin(60, 80, 60, 80));
    (t.caption.as_deref().map(caption), table)
}

/// Bars as a borderless table: the label, the bar as shaded cells spanning its share of 20
/// columns, the value. Opens the same in Word, WPS and LibreOffice (no image, no chart
/// part).
fn chart(c: &BarChart) -> (Paragraph, DTable) {
    const STEPS: usize = 20;
    let width = text_width();
    let label_w = width * 34 / 100;
    let value_w = width * 14 / 100;
    let step_w = (width - label_w - value_w) / STEPS;
    let mut grid = vec![label_w];
    grid.extend(std::iter::repeat_n(step_w, STEPS));
    grid.push(value_w);
    let rows = c
        .bars()
        .into_iter()
        .map(|(label, share, value)| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let filled = ((share * STEPS as f64).round() as usize).min(STEPS);
            let mut cells = vec![cell(&label, FONT_BODY, AlignmentType::Right)];
            if filled > 0 {
                cells.push(
                    cell("", FONT_BODY, AlignmentType::Left)
                        .grid_span(filled)
                        .shading(
                            Shading::new()
                                .shd_type(ShdType::Clear)
                                .color("auto")
                                .fill("2F5597"),
                        ),
                );
            }
            if filled < STEPS {
                cells.push(cell("", FONT_BODY, AlignmentType::Left).grid_span(STEPS - filled));
            }
            cells.push(cell(&value, FONT_BODY, AlignmentType::Left));
            TableRow::new(cells).cant_split()
        })
        .collect();
    let table = DTable::new(rows)
        .set_grid(grid)
        .width(width, WidthType::Dxa)
        .align(TableAlignmentType::Center)
        .layout(TableLayoutType::Fixed)
        .set_borders(TableBorders::with_empty())
        .margins(TableCellMargins::new().margin(50, 40, 50, 40));
    (caption(&c.title), table)
}

fn page_number(odd: bool) -> Footer {
    let f = fonts(FONT_NUMBER, FONT_NUMBER);
    let number = Run::new()
        .fonts(f.clone())
        .size(SIZE_4)
        .add_field_char(FieldCharType::Begin, false)
        .add_instr_text(InstrText::PAGE(InstrPAGE::new()))
        .add_field_char(FieldCharType::Separate, false)
        .add_text("1")
        .add_field_char(FieldCharType::End, false);
    let dash = |t: &str| Run::new().add_text(t).fonts(f.clone()).size(SIZE_4);
    // One 4号 character (14 pt = 280 twips) in from the edge.
    let p = Paragraph::new()
        .add_run(dash("— "))
        .add_run(number)
        .add_run(dash(" —"))
        .line_spacing(single());
    let p = if odd {
        p.align(AlignmentType::Right)
            .indent(None, None, Some(280), None)
    } else {
        p.align(AlignmentType::Left)
            .indent(Some(280), None, None, None)
    };
    Footer::new().add_paragraph(p)
}

/// The .docx of `doc`.
pub fn render_docx(doc: &Document) -> Result<Vec<u8>, DocumentError> {
    let mut d = Docx::new()
        .page_size(11906, 16838)
        .page_margin(PageMargin {
            top: mm(37.0),
            bottom: mm(35.0),
            left: mm(28.0),
            right: mm(26.0),
            header: mm(15.0),
            // The number's line sits 7 mm below the 版心: 35 − 7 − one 4号 line.
            footer: mm(23.0),
            gutter: 0,
        })
        .default_fonts(fonts(FONT_BODY, FONT_LATIN))
        .default_size(SIZE_BODY)
        .footer(page_number(true))
        .even_footer(page_number(false));

    let mut title = Paragraph::new().align(AlignmentType::Center).line_spacing(
        LineSpacing::new()
            .line_rule(LineSpacingType::Exact)
            .line(700)
            .before(0)
            .after(0),
    );
    for (i, line) in doc.title.lines().enumerate() {
        let mut r = run(line, FONT_TITLE, SIZE_TITLE);
        if i > 0 {
            r = Run::new()
                .add_break(BreakType::TextWrapping)
                .add_text(line)
                .fonts(fonts(FONT_TITLE, FONT_TITLE))
                .size(SIZE_TITLE);
        }
        title = title.add_run(r);
    }
    d = d.add_paragraph(title);
    // One blank line between the title and what follows.
    d = d.add_paragraph(
        Paragraph::new()
            .add_run(run("", FONT_BODY, SIZE_BODY))
            .line_spacing(exact()),
    );
    if let Some(r) = doc.recipient.as_deref() {
        d = d.add_paragraph(
            Paragraph::new()
                .add_run(run(&format!("{r}："), FONT_BODY, SIZE_BODY))
                .line_spacing(exact()),
        );
    }
    let blocks = doc.numbered();
    let last = blocks.len().saturating_sub(1);
    for (i, b) in blocks.into_iter().enumerate() {
        match b {
            Numbered::Heading1 { text } => {
                d = d.add_paragraph(body_par(&text, FONT_HEI).keep_next(true).outline_lvl(0));
            }
            Numbered::Heading2 { text } => {
                d = d.add_paragraph(body_par(&text, FONT_KAI).keep_next(true).outline_lvl(1));
            }
            Numbered::Paragraph { text } => {
                // The last paragraph keeps with the signature: a 落款 never stands alone.
                for line in text.lines() {
                    d = d.add_paragraph(body_par(line, FONT_BODY).keep_next(i == last));
                }
            }
            Numbered::Table(t) => {
                let (cap, table) = table(t);
                if let Some(c) = cap {
                    d = d.add_paragraph(c);
                }
                d = d.add_table(table);
                d = d.add_paragraph(
                    Paragraph::new()
                        .add_run(run("", FONT_BODY, SIZE_SMALL4))
                        .line_spacing(single()),
                );
            }
            Numbered::BarChart(c) => {
                let (cap, table) = chart(c);
                d = d.add_paragraph(cap).add_table(table);
                d = d.add_paragraph(
                    Paragraph::new()
                        .add_run(run("", FONT_BODY, SIZE_SMALL4))
                        .line_spacing(single()),
                );
            }
        }
    }
    let date = chinese_date(doc.date);
    let (issuer_pad, date_pad) = signature_indents(&doc.issuer, &date);
    let twips = |em: f64| {
        #[allow(clippy::cast_possible_truncation)]
        let t = (em * f64::from(CHAR)).round() as i32;
        t
    };
    d = d.add_paragraph(
        Paragraph::new()
            .add_run(run("", FONT_BODY, SIZE_BODY))
            .line_spacing(exact())
            .keep_next(true),
    );
    for (text, pad) in [(doc.issuer.as_str(), issuer_pad), (date.as_str(), date_pad)] {
        d = d.add_paragraph(
            Paragraph::new()
                .add_run(run(text, FONT_BODY, SIZE_BODY))
                .align(AlignmentType::Right)
                .indent(None, None, Some(twips(pad)), None)
                .line_spacing(exact())
                .keep_next(text == doc.issuer),
        );
    }
    let mut out = Cursor::new(Vec::new());
    d.build()
        .pack(&mut out)
        .map_err(|e| DocumentError::Docx(e.to_string()))?;
    Ok(out.into_inner())
}

/// Writes `doc` as .docx to `path`.
pub fn write_docx(doc: &Document, path: &Path) -> Result<(), DocumentError> {
    std::fs::write(path, render_docx(doc)?)?;
    Ok(())
}
