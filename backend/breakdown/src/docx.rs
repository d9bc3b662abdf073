//! Reader for the breakdown table as a Word document (.docx).
//!
//! What Word writes, and how it is read:
//! - the paragraphs before the table are the preamble (title, totals);
//! - the table is the first one whose header row reads 一级指标 … 责任单位;
//! - a cell merged down (`w:vMerge`) holds its text in the first row and
//!   is empty below, exactly like the text dump's continuation cells;
//! - a cell spanning columns (`w:gridSpan`) counts as that many cells;
//! - every paragraph of a cell (and every line break, `w:br`) is a line;
//! - a header row repeated on every page (`w:tblHeader`) is written once.

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::report::ParseError;
use crate::table::{RawCell, RawRow, RawTable};

/// The main document part of a .docx archive.
fn document_xml(bytes: &[u8]) -> Result<String, ParseError> {
    crate::archive::check(bytes).map_err(|refused| ParseError::whole(refused.to_string()))?;
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ParseError::whole(format!("not a Word document (.docx): {e}")))?;
    let mut part =
        archive.by_name("word/document.xml").map_err(|_| ParseError::whole("not a Word document: it has no word/document.xml"))?;
    let mut xml = String::new();
    part.read_to_string(&mut xml).map_err(|e| ParseError::whole(format!("reading word/document.xml: {e}")))?;
    Ok(xml)
}

#[derive(Default)]
struct CellBuilder {
    paragraphs: Vec<String>,
    current: String,
    /// `w:vMerge` without `restart`: the continuation of a merged cell.
    continues_merge: bool,
    span: usize,
}

/// One cell as read: its paragraphs and how many grid columns it spans.
type ReadCell = (Vec<String>, usize);

pub fn read(bytes: &[u8]) -> Result<RawTable, ParseError> {
    let xml = document_xml(bytes)?;
    let mut reader = Reader::from_str(&xml);
    let mut preamble: Vec<String> = Vec::new();
    let mut tables: Vec<(Vec<String>, Vec<Vec<ReadCell>>)> = Vec::new();

    // Depth of table nesting; only top-level tables count.
    let mut table_depth = 0usize;
    let mut table: Vec<Vec<ReadCell>> = Vec::new();
    let mut row: Option<Vec<ReadCell>> = None;
    let mut cell: Option<CellBuilder> = None;
    let mut paragraph_outside = String::new();
    let mut in_paragraph = false;
    let mut in_text = false;

    loop {
        let event = reader.read_event().map_err(|e| ParseError::whole(format!("word/document.xml is not well-formed: {e}")))?;
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                let empty = matches!(event, Event::Empty(_));
                match tag.name().as_ref() {
                    "w:tbl" if !empty => {
                        table_depth += 1;
                        if table_depth == 1 {
                            table = Vec::new();
                        }
                    }
                    "w:tr" if table_depth == 1 && !empty => row = Some(Vec::new()),
                    "w:tc" if table_depth == 1 && !empty => cell = Some(CellBuilder { span: 1, ..CellBuilder::default() }),
                    "w:vMerge" if table_depth == 1 => {
                        let restart = tag.attributes().flatten().any(|a| a.key.as_ref() == "w:val" && a.value == "restart");
                        if let Some(cell) = cell.as_mut() {
                            cell.continues_merge = !restart;
                        }
                    }
                    "w:gridSpan" if table_depth == 1 => {
                        let span = tag
                            .attributes()
                            .flatten()
                            .find(|a| a.key.as_ref() == "w:val")
                            .and_then(|a| a.value.parse::<usize>().ok())
                            .unwrap_or(1);
                        if let Some(cell) = cell.as_mut() {
                            cell.span = span.max(1);
                        }
                    }
                    "w:p" if !empty => in_paragraph = true,
                    "w:t" if !empty => in_text = true,
                    "w:br" | "w:cr" => {
                        if let Some(cell) = cell.as_mut() {
                            cell.paragraphs.push(std::mem::take(&mut cell.current));
                        } else if table_depth == 0 {
                            preamble.push(std::mem::take(&mut paragraph_outside));
                        }
                    }
                    "w:tab" => {
                        if let Some(cell) = cell.as_mut() {
                            cell.current.push('\t');
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(text) if in_text && in_paragraph => {
                let text = text.xml10_content();
                match cell.as_mut() {
                    Some(cell) if table_depth == 1 => cell.current.push_str(&text),
                    _ if table_depth == 0 => paragraph_outside.push_str(&text),
                    _ => {}
                }
            }
            Event::GeneralRef(reference) if in_text && in_paragraph => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(character)) => character.to_string(),
                    _ => quick_xml::escape::resolve_predefined_entity(&reference.xml10_content()).unwrap_or_default().to_owned(),
                };
                match cell.as_mut() {
                    Some(cell) if table_depth == 1 => cell.current.push_str(&resolved),
                    _ if table_depth == 0 => paragraph_outside.push_str(&resolved),
                    _ => {}
                }
            }
            Event::End(tag) => match tag.name().as_ref() {
                "w:t" => in_text = false,
                "w:p" => {
                    in_paragraph = false;
                    if let Some(cell) = cell.as_mut() {
                        if table_depth == 1 {
                            cell.paragraphs.push(std::mem::take(&mut cell.current));
                        }
                    } else if table_depth == 0 {
                        preamble.push(std::mem::take(&mut paragraph_outside));
                    }
                }
                "w:tc" if table_depth == 1 => {
                    if let (Some(built), Some(row)) = (cell.take(), row.as_mut()) {
                        let mut paragraphs = built.paragraphs;
                        if !built.current.is_empty() {
                            paragraphs.push(built.current);
                        }
                        if built.continues_merge {
                            paragraphs.clear();
                        }
                        row.push((paragraphs, built.span));
                    }
                }
                "w:tr" if table_depth == 1 => {
                    if let Some(row) = row.take() {
                        table.push(row);
                    }
                }
                "w:tbl" => {
                    if table_depth == 1 {
                        tables.push((std::mem::take(&mut preamble), std::mem::take(&mut table)));
                    }
                    table_depth = table_depth.saturating_sub(1);
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }

    let is_header = |row: &Vec<ReadCell>| {
        let text: String =
            row.iter().flat_map(|(paragraphs, _)| paragraphs.iter()).flat_map(|p| p.chars()).filter(|c| !c.is_whitespace()).collect();
        text.contains("一级指标") && text.contains("序号") && text.contains("牵头单位")
    };
    let (index, (preamble, rows)) =
        tables.into_iter().enumerate().find(|(_, (_, rows))| rows.iter().take(3).any(is_header)).ok_or_else(|| {
            ParseError::whole("the document has no table whose header reads 一级指标 | 二级指标 | 序号 | 三级指标 | 牵头单位 | 责任单位")
        })?;

    let place = Some(format!("Word 表格 {}", index + 1));
    let raw_rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, cells)| {
            let number = i as u32 + 1;
            let cells = cells
                .into_iter()
                .flat_map(|(paragraphs, span)| {
                    std::iter::once(RawCell { line: number, paragraphs })
                        .chain((1..span).map(move |_| RawCell { line: number, paragraphs: Vec::new() }))
                })
                .collect();
            RawRow { number, line: number, cells, place: place.clone() }
        })
        .collect();
    let preamble =
        preamble.into_iter().enumerate().filter(|(_, text)| !text.trim().is_empty()).map(|(i, text)| (i as u32 + 1, text)).collect();
    Ok(RawTable { preamble, rows: raw_rows })
}
