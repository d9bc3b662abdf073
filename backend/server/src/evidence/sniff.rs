//! What a file is, judged by its content, not its name: the allowlist of
//! evidence types. PDF, OFD, images, Word, Excel and WPS documents, zip
//! archives, MP3 audio and MP4 video.

/// A recognised type: its MIME type and a short name for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub mime: &'static str,
    pub name: &'static str,
}

const fn kind(mime: &'static str, name: &'static str) -> Kind {
    Kind { mime, name }
}

/// How many leading bytes [`sniff`] needs to decide.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// The kind of a file from its first bytes (up to [`SNIFF_BYTES`]) and, for
/// formats that only the name tells apart (old binary Office files), its
/// name. `None`: not an accepted type.
pub fn sniff(head: &[u8], file_name: &str) -> Option<Kind> {
    let extension = file_name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        return Some(kind("application/pdf", "PDF"));
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some(kind("image/png", "PNG"));
    }
    if starts(b"\xff\xd8\xff") {
        return Some(kind("image/jpeg", "JPEG"));
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some(kind("image/gif", "GIF"));
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(kind("image/webp", "WebP"));
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Some(kind("image/tiff", "TIFF"));
    }
    if starts(b"BM") && head.len() >= 14 {
        return Some(kind("image/bmp", "BMP"));
    }
    if starts(b"PK\x03\x04") {
        return Some(zip_kind(head));
    }
    if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        // Compound files: the old binary Word, Excel and WPS formats.
        return Some(match extension.as_str() {
            "doc" => kind("application/msword", "Word"),
            "xls" => kind("application/vnd.ms-excel", "Excel"),
            "wps" => kind("application/vnd.ms-works", "WPS 文字"),
            "et" => kind("application/vnd.ms-excel", "WPS 表格"),
            _ => kind("application/x-ole-storage", "Office"),
        });
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some(kind("video/mp4", "MP4"));
    }
    if starts(b"ID3") || (head.len() >= 2 && head[0] == 0xff && head[1] & 0xe0 == 0xe0) {
        return Some(kind("audio/mpeg", "MP3"));
    }
    None
}

/// Tells the zip-based formats apart by the entries their archives begin with.
fn zip_kind(head: &[u8]) -> Kind {
    let names = zip_entry_names(head);
    let has = |prefix: &str| names.iter().any(|name| name.starts_with(prefix));
    if has("word/") {
        kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word")
    } else if has("xl/") {
        kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel")
    } else if names.iter().any(|name| name.eq_ignore_ascii_case("OFD.xml")) || has("Doc_0/") {
        kind("application/ofd", "OFD")
    } else {
        kind("application/zip", "zip")
    }
}

/// The names of the local file headers found in the first bytes of a zip.
fn zip_entry_names(head: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = 0;
    while at + 30 <= head.len() && head[at..].starts_with(b"PK\x03\x04") {
        let u16_at = |offset: usize| u16::from_le_bytes([head[at + offset], head[at + offset + 1]]) as usize;
        let u32_at = |offset: usize| {
            u32::from_le_bytes([head[at + offset], head[at + offset + 1], head[at + offset + 2], head[at + offset + 3]]) as usize
        };
        let flags = u16_at(6);
        let compressed = u32_at(18);
        let (name_len, extra_len) = (u16_at(26), u16_at(28));
        let name_end = at + 30 + name_len;
        if name_end > head.len() {
            break;
        }
        names.push(String::from_utf8_lossy(&head[at + 30..name_end]).into_owned());
        // With a data descriptor the size is unknown here; the names seen so far must do.
        if flags & 0x08 != 0 {
            break;
        }
        at = name_end + extra_len + compressed;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for name in names {
            bytes.extend(b"PK\x03\x04");
            bytes.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            bytes.extend(3u32.to_le_bytes()); // compressed size
            bytes.extend(3u32.to_le_bytes()); // uncompressed size
            bytes.extend((name.len() as u16).to_le_bytes());
            bytes.extend(0u16.to_le_bytes());
            bytes.extend(name.as_bytes());
            bytes.extend(b"abc");
        }
        bytes
    }

    #[test]
    fn recognises_the_allowed_types_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n...", "报告.pdf").unwrap().mime, "application/pdf");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....", "x").unwrap().mime, "image/png");
        assert_eq!(sniff(b"\xff\xd8\xff\xe0....", "照片.jpg").unwrap().mime, "image/jpeg");
        assert_eq!(sniff(&zip_with(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]), "方案.docx").unwrap().name, "Word");
        assert_eq!(sniff(&zip_with(&["[Content_Types].xml", "xl/workbook.xml"]), "台账.xlsx").unwrap().name, "Excel");
        assert_eq!(sniff(&zip_with(&["OFD.xml", "Doc_0/Document.xml"]), "公文.ofd").unwrap().mime, "application/ofd");
        assert_eq!(sniff(&zip_with(&["照片/1.jpg"]), "材料.zip").unwrap().mime, "application/zip");
        assert_eq!(sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "旧文件.doc").unwrap().mime, "application/msword");
        assert_eq!(sniff(b"\0\0\0\x20ftypisom....", "执法记录.mp4").unwrap().mime, "video/mp4");
        assert_eq!(sniff(b"ID3\x04\0....", "录音.mp3").unwrap().mime, "audio/mpeg");
    }

    #[test]
    fn refuses_what_is_not_evidence_whatever_its_name() {
        assert_eq!(sniff(b"MZ\x90\0 a windows program", "报告.pdf"), None);
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /", "照片.jpg"), None);
        assert_eq!(sniff(b"<html><script>", "page.html"), None);
        assert_eq!(sniff(b"", "empty.pdf"), None);
    }
}
