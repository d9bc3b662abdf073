//! A small writer of Word documents (.docx, Office Open XML): paragraphs of
//! runs with the few properties official documents use (font, size, bold,
//! colour, alignment, indents, a rule under a paragraph), tables and PNG
//! images. What it writes opens in Word, WPS and LibreOffice.
//!
//! The same document always gives the same bytes: every part of the zip
//! carries the same fixed time (1980-01-01, zip's first day) and parts are
//! written in a fixed order, so an issued bulletin can be regenerated from
//! its frozen inputs and compared byte for byte.

use std::io::Write;

use zip::write::SimpleFileOptions;

/// How a paragraph is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
    Both,
}

impl Align {
    fn as_str(self) -> &'static str {
        match self {
            Align::Left => "left",
            Align::Center => "center",
            Align::Right => "right",
            Align::Both => "both",
        }
    }
}

/// A run of text with one look.
#[derive(Debug, Clone)]
pub struct Run {
    text: String,
    /// An East Asian font name, e.g. 仿宋_GB2312; the reader substitutes one it has.
    font: &'static str,
    /// In points.
    size_pt: f32,
    bold: bool,
    /// RGB, e.g. "FF0000".
    colour: Option<&'static str>,
}

impl Run {
    pub fn new(text: impl Into<String>, font: &'static str, size_pt: f32) -> Run {
        Run { text: text.into(), font, size_pt, bold: false, colour: None }
    }

    pub fn bold(mut self) -> Run {
        self.bold = true;
        self
    }

    pub fn colour(mut self, rgb: &'static str) -> Run {
        self.colour = Some(rgb);
        self
    }

    fn write(&self, xml: &mut String) {
        let half_points = (self.size_pt * 2.0).round() as u32;
        xml.push_str("<w:r><w:rPr>");
        xml.push_str(&format!(r#"<w:rFonts w:ascii="{0}" w:hAnsi="{0}" w:eastAsia="{0}" w:cs="{0}"/>"#, escape(self.font)));
        if self.bold {
            xml.push_str("<w:b/>");
        }
        if let Some(colour) = self.colour {
            xml.push_str(&format!(r#"<w:color w:val="{colour}"/>"#));
        }
        xml.push_str(&format!(r#"<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>"#));
        // Line breaks inside a run become Word's breaks.
        for (index, line) in self.text.split('\n').enumerate() {
            if index > 0 {
                xml.push_str("<w:br/>");
            }
            xml.push_str(&format!(r#"<w:t xml:space="preserve">{}</w:t>"#, escape(line)));
        }
        xml.push_str("</w:r>");
    }
}

/// A paragraph.
#[derive(Debug, Clone)]
pub struct Paragraph {
    runs: Vec<Run>,
    align: Align,
    /// The first line's indent, in characters (official bodies indent two).
    first_line_chars: u32,
    /// Space after, in points.
    space_after_pt: u32,
    /// A rule under the paragraph in this colour (the red line under the header).
    rule_below: Option<&'static str>,
}

impl Paragraph {
    pub fn new(align: Align) -> Paragraph {
        Paragraph { runs: Vec::new(), align, first_line_chars: 0, space_after_pt: 0, rule_below: None }
    }

    pub fn run(mut self, run: Run) -> Paragraph {
        self.runs.push(run);
        self
    }

    pub fn indent_first_line(mut self, chars: u32) -> Paragraph {
        self.first_line_chars = chars;
        self
    }

    pub fn space_after(mut self, points: u32) -> Paragraph {
        self.space_after_pt = points;
        self
    }

    pub fn rule_below(mut self, rgb: &'static str) -> Paragraph {
        self.rule_below = Some(rgb);
        self
    }

    fn write(&self, xml: &mut String) {
        xml.push_str("<w:p><w:pPr>");
        if let Some(colour) = self.rule_below {
            xml.push_str(&format!(r#"<w:pBdr><w:bottom w:val="single" w:sz="18" w:space="4" w:color="{colour}"/></w:pBdr>"#));
        }
        xml.push_str(&format!(r#"<w:spacing w:after="{}" w:line="560" w:lineRule="exact"/>"#, self.space_after_pt * 20));
        if self.first_line_chars > 0 {
            xml.push_str(&format!(r#"<w:ind w:firstLineChars="{}"/>"#, self.first_line_chars * 100));
        }
        xml.push_str(&format!(r#"<w:jc w:val="{}"/></w:pPr>"#, self.align.as_str()));
        for run in &self.runs {
            run.write(xml);
        }
        xml.push_str("</w:p>");
    }
}

/// A table: a header row and rows of text, in one font and size, with
/// column widths in characters of that size.
#[derive(Debug, Clone)]
pub struct Table {
    font: &'static str,
    size_pt: f32,
    widths_chars: Vec<u32>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(font: &'static str, size_pt: f32, header: &[(&str, u32)]) -> Table {
        Table {
            font,
            size_pt,
            widths_chars: header.iter().map(|(_, width)| *width).collect(),
            header: header.iter().map(|(text, _)| (*text).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn write(&self, xml: &mut String) {
        // A character of the font's size, in twentieths of a point.
        let char_twips = (self.size_pt * 20.0).round() as u32;
        let half_points = (self.size_pt * 2.0).round() as u32;
        xml.push_str(r#"<w:tbl><w:tblPr><w:jc w:val="center"/><w:tblBorders>"#);
        for side in ["top", "left", "bottom", "right", "insideH", "insideV"] {
            xml.push_str(&format!(r#"<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>"#));
        }
        xml.push_str(r#"</w:tblBorders><w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>"#);
        for width in &self.widths_chars {
            xml.push_str(&format!(r#"<w:gridCol w:w="{}"/>"#, width * char_twips + 216));
        }
        xml.push_str("</w:tblGrid>");
        let rows = std::iter::once((true, &self.header)).chain(self.rows.iter().map(|row| (false, row)));
        for (is_header, cells) in rows {
            xml.push_str("<w:tr>");
            if is_header {
                xml.push_str("<w:trPr><w:tblHeader/></w:trPr>");
            }
            for (index, width) in self.widths_chars.iter().enumerate() {
                let text = cells.get(index).map(String::as_str).unwrap_or_default();
                xml.push_str(&format!(
                    r#"<w:tc><w:tcPr><w:tcW w:w="{}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr><w:p><w:pPr><w:spacing w:before="40" w:after="40"/><w:jc w:val="center"/></w:pPr><w:r><w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}"/>{bold}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r></w:p></w:tc>"#,
                    width * char_twips + 216,
                    escape(text),
                    font = escape(self.font),
                    bold = if is_header { "<w:b/>" } else { "" },
                ));
            }
            xml.push_str("</w:tr>");
        }
        xml.push_str("</w:tbl>");
    }
}

/// A PNG picture in its own centred paragraph, at a width in millimetres.
#[derive(Debug, Clone)]
pub struct Image {
    png: Vec<u8>,
    width_px: u32,
    height_px: u32,
    width_mm: f32,
    description: String,
}

impl Image {
    pub fn png(png: Vec<u8>, width_px: u32, height_px: u32, width_mm: f32, description: impl Into<String>) -> Image {
        Image { png, width_px, height_px, width_mm, description: description.into() }
    }

    fn write(&self, xml: &mut String, number: usize) {
        const EMU_PER_MM: f32 = 36_000.0;
        let cx = (self.width_mm * EMU_PER_MM).round() as u64;
        let cy = (self.width_mm * EMU_PER_MM * self.height_px as f32 / self.width_px as f32).round() as u64;
        let description = escape(&self.description);
        xml.push_str(&format!(
            r#"<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{cx}" cy="{cy}"/><wp:docPr id="{number}" name="图{number}" descr="{description}"/><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr><pic:cNvPr id="{number}" name="image{number}.png" descr="{description}"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed="rIdImage{number}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>"#
        ));
    }
}

/// What a document's body is made of, in order.
#[derive(Debug, Clone)]
enum Block {
    Paragraph(Paragraph),
    Table(Table),
    Image(Image),
}

/// A document: paragraphs, tables and images on A4 with the margins of
/// official documents.
#[derive(Debug, Clone, Default)]
pub struct Document {
    blocks: Vec<Block>,
    title: String,
}

pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

impl Document {
    pub fn new(title: impl Into<String>) -> Document {
        Document { blocks: Vec::new(), title: title.into() }
    }

    pub fn push(&mut self, paragraph: Paragraph) {
        self.blocks.push(Block::Paragraph(paragraph));
    }

    pub fn table(&mut self, table: Table) {
        self.blocks.push(Block::Table(table));
    }

    pub fn image(&mut self, image: Image) {
        self.blocks.push(Block::Image(image));
    }

    /// The .docx file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = String::new();
        let mut images: Vec<&Image> = Vec::new();
        for block in &self.blocks {
            match block {
                Block::Paragraph(paragraph) => paragraph.write(&mut body),
                Block::Table(table) => {
                    table.write(&mut body);
                    // Word needs a paragraph between a table and what follows.
                    body.push_str("<w:p/>");
                }
                Block::Image(image) => {
                    images.push(image);
                    image.write(&mut body, images.len());
                }
            }
        }
        let image_relationships: String = (1..=images.len())
            .map(|number| {
                format!(
                    r#"<Relationship Id="rIdImage{number}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image{number}.png"/>"#
                )
            })
            .collect();
        // A4 (11906 × 16838 twentieths of a point); margins of GB/T 9704:
        // 37 mm top, 35 mm bottom, 28 mm left, 26 mm right.
        let document = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"><w:body>{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1588" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr></w:body></w:document>"#
        );
        let core = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{}</dc:title><dc:creator>duban</dc:creator></cp:coreProperties>"#,
            escape(&self.title)
        );
        let relationships = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{image_relationships}</Relationships>"#
        );
        let parts: [(&str, &str); 5] = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="png" ContentType="image/png"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#,
            ),
            ("word/_rels/document.xml.rels", &relationships),
            ("word/document.xml", &document),
            ("docProps/core.xml", &core),
        ];
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).last_modified_time(zip::DateTime::default());
        for (name, content) in parts {
            zip.start_file(name, options).expect("writing to memory");
            zip.write_all(content.as_bytes()).expect("writing to memory");
        }
        for (index, image) in images.iter().enumerate() {
            // PNG is compressed already.
            let stored = options.compression_method(zip::CompressionMethod::Stored);
            zip.start_file(format!("word/media/image{}.png", index + 1), stored).expect("writing to memory");
            zip.write_all(&image.png).expect("writing to memory");
        }
        zip.finish().expect("writing to memory").into_inner()
    }
}

/// Text as XML character data; characters XML 1.0 forbids are dropped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\t' | '\n' | '\r' => escaped.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_zip_with_the_document_and_escapes_text() {
        let mut document = Document::new("测试");
        document.push(Paragraph::new(Align::Center).run(Run::new("A & B <督办>\u{1}", "仿宋_GB2312", 16.0).bold().colour("FF0000")));
        let bytes = document.to_bytes();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("word/document.xml").unwrap(), &mut xml).unwrap();
        assert!(xml.contains("A &amp; B &lt;督办&gt;</w:t>"), "{xml}");
        assert!(xml.contains(r#"<w:sz w:val="32"/>"#));
        assert!(archive.by_name("[Content_Types].xml").is_ok());
    }
}
