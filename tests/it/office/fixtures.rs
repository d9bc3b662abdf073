//! Office documents built the way county offices' files look, from a raw
//! table (the text dump's rows, or a table written here): a Word document
//! with merged indicator cells, a header row marked to repeat on every page,
//! units on separate paragraphs or line breaks, text split over several
//! runs; a workbook with a title above the header, merged indicator cells
//! and multi-line unit cells.

use std::io::Write;

use duban_breakdown::table::{RawCell, RawRow, RawTable};
use rust_xlsxwriter::{Format, Workbook};

/// Whether a row is the table's header (the first or a page's repeat).
fn is_header(row: &RawRow) -> bool {
    let first: String = row.cells[0].paragraphs.concat().chars().filter(|c| !c.is_whitespace()).collect();
    first == "一级指标"
}

fn is_blank(cell: &RawCell) -> bool {
    cell.paragraphs.iter().all(|p| p.trim().is_empty())
}

/// The header once, then the data rows: what a Word original holds, its
/// page headers being repeats Word draws, not rows.
fn header_and_rows(table: &RawTable) -> (&RawRow, Vec<&RawRow>) {
    let header = table.rows.iter().find(|row| is_header(row)).expect("the table has a header");
    (header, table.rows.iter().filter(|row| !is_header(row)).collect())
}

/// For the two indicator columns: how many rows each non-blank cell spans
/// (itself and the blank cells below it), as Word and Excel merge them.
fn vertical_spans(rows: &[&RawRow], column: usize) -> Vec<Span> {
    let mut spans = vec![Span::Alone; rows.len()];
    let mut open: Option<usize> = None;
    for (i, row) in rows.iter().enumerate() {
        if is_blank(&row.cells[column]) {
            if let Some(start) = open {
                spans[i] = Span::Continues;
                spans[start] = Span::Starts(i - start + 1);
            }
        } else {
            open = Some(i);
        }
    }
    spans
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    Alone,
    /// Starts a merge over this many rows.
    Starts(usize),
    Continues,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A run of text; longer texts are split in two runs with a proofing mark
/// between, as Word leaves them after spell-checking.
fn runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 8 {
        return format!(r#"<w:r><w:t xml:space="preserve">{}</w:t></w:r>"#, escape(text));
    }
    let (first, second) = chars.split_at(chars.len() / 2);
    format!(
        r#"<w:r><w:rPr><w:rFonts w:hint="eastAsia"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r><w:proofErr w:type="spellStart"/><w:r><w:t>{}</w:t></w:r><w:proofErr w:type="spellEnd"/>"#,
        escape(&first.iter().collect::<String>()),
        escape(&second.iter().collect::<String>())
    )
}

fn paragraph(text: &str) -> String {
    format!(r#"<w:p><w:pPr><w:jc w:val="center"/></w:pPr>{}</w:p>"#, runs(text))
}

/// A cell's paragraphs: every other multi-unit cell uses line breaks
/// (Shift+Enter) inside one paragraph instead of separate paragraphs.
fn cell_content(cell: &RawCell, use_breaks: bool) -> String {
    let paragraphs: Vec<&str> = cell.paragraphs.iter().map(String::as_str).collect();
    if paragraphs.is_empty() {
        return "<w:p/>".to_owned();
    }
    if use_breaks && paragraphs.len() > 1 {
        let joined: Vec<String> = paragraphs.iter().map(|p| runs(p)).collect();
        return format!("<w:p>{}</w:p>", joined.join("<w:r><w:br/></w:r>"));
    }
    paragraphs.iter().map(|p| paragraph(p)).collect()
}

/// A Word document (.docx) holding the table.
pub fn docx(table: &RawTable) -> Vec<u8> {
    let (header, rows) = header_and_rows(table);
    let spans = [vertical_spans(&rows, 0), vertical_spans(&rows, 1)];
    let mut body = String::new();
    for (_, line) in &table.preamble {
        body.push_str(&paragraph(line));
    }
    body.push_str(r#"<w:tbl><w:tblPr><w:tblW w:w="5000" w:type="pct"/><w:tblBorders/></w:tblPr><w:tblGrid>"#);
    for width in [1200, 1600, 600, 4000, 1600, 2400] {
        body.push_str(&format!(r#"<w:gridCol w:w="{width}"/>"#));
    }
    body.push_str("</w:tblGrid>");
    body.push_str(r#"<w:tr><w:trPr><w:tblHeader/></w:trPr>"#);
    for cell in &header.cells {
        body.push_str(&format!("<w:tc><w:tcPr><w:tcW w:w=\"0\" w:type=\"auto\"/></w:tcPr>{}</w:tc>", cell_content(cell, false)));
    }
    body.push_str("</w:tr>");
    for (i, row) in rows.iter().enumerate() {
        body.push_str("<w:tr>");
        for (column, cell) in row.cells.iter().enumerate() {
            let merge = match spans.get(column).map(|spans| spans[i]) {
                Some(Span::Starts(_)) => r#"<w:vMerge w:val="restart"/>"#,
                Some(Span::Continues) => "<w:vMerge/>",
                _ => "",
            };
            let content = if merge == "<w:vMerge/>" { "<w:p/>".to_owned() } else { cell_content(cell, i % 2 == 0) };
            body.push_str(&format!(r#"<w:tc><w:tcPr><w:vAlign w:val="center"/>{merge}</w:tcPr>{content}</w:tc>"#));
        }
        body.push_str("</w:tr>");
    }
    body.push_str("</w:tbl>");
    body.push_str(&paragraph(""));
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>{body}<w:sectPr><w:pgSz w:w="16838" w:h="11906" w:orient="landscape"/></w:sectPr></w:body></w:document>"#
    );
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#
                .to_owned(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#
                .to_owned(),
        ),
        ("word/document.xml", document),
    ];
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in parts {
        archive.start_file(name, options).unwrap();
        archive.write_all(content.as_bytes()).unwrap();
    }
    archive.finish().unwrap().into_inner()
}

/// A county's own workbook (.xlsx): one sheet, the preamble above the
/// header (the title merged across the table), merged indicator cells,
/// 序号 as numbers, several units in a cell on separate lines.
pub fn xlsx(table: &RawTable) -> Vec<u8> {
    let (header, rows) = header_and_rows(table);
    let spans = [vertical_spans(&rows, 0), vertical_spans(&rows, 1)];
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("附件2").unwrap();
    let wrap = Format::new().set_text_wrap();
    let mut at = 0u32;
    for (_, line) in &table.preamble {
        sheet.merge_range(at, 0, at, 5, line, &wrap).unwrap();
        at += 1;
    }
    // A blank row between the title and the table, as offices leave one.
    at += 1;
    for (column, cell) in header.cells.iter().enumerate() {
        sheet.write_string_with_format(at, column as u16, cell.paragraphs.join("\n"), &wrap).unwrap();
    }
    at += 1;
    for (i, row) in rows.iter().enumerate() {
        let line = at + i as u32;
        for (column, cell) in row.cells.iter().enumerate() {
            let text = cell.paragraphs.join("\n");
            match spans.get(column).map(|spans| spans[i]) {
                Some(Span::Starts(count)) => {
                    sheet.merge_range(line, column as u16, line + count as u32 - 1, column as u16, &text, &wrap).unwrap();
                }
                Some(Span::Continues) => {}
                _ if column == 2 && text.trim().parse::<f64>().is_ok() => {
                    sheet.write_number(line, 2, text.trim().parse::<f64>().unwrap()).unwrap();
                }
                _ if !text.is_empty() => {
                    sheet.write_string_with_format(line, column as u16, &text, &wrap).unwrap();
                }
                _ => {}
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

/// The table as the county tool's text dump.
pub fn text_dump(table: &RawTable) -> String {
    let mut text = String::new();
    for (_, line) in &table.preamble {
        text.push_str(line);
        text.push('\n');
    }
    text.push('\n');
    for row in &table.rows {
        for cell in &row.cells {
            text.push('\t');
            text.push_str(&cell.paragraphs.join("\n"));
            text.push('\n');
        }
        text.push('\n');
    }
    text
}

/// A raw table from rows of six cells; `\n` separates a cell's paragraphs.
pub fn table(preamble: &[&str], rows: &[[&str; 6]]) -> RawTable {
    let header = ["一级\n指标", "二级\n指标", "序号", "三级指标(具体任务事项)", "牵头单位", "责任单位"];
    let rows = std::iter::once(&header)
        .chain(rows)
        .enumerate()
        .map(|(i, cells)| RawRow {
            number: i as u32 + 1,
            line: i as u32 + 1,
            cells: cells
                .iter()
                .map(|text| RawCell {
                    line: i as u32 + 1,
                    paragraphs: text.split('\n').filter(|p| !p.is_empty()).map(str::to_owned).collect(),
                })
                .collect(),
            place: None,
        })
        .collect();
    RawTable { preamble: preamble.iter().enumerate().map(|(i, line)| (i as u32 + 1, (*line).to_owned())).collect(), rows }
}
