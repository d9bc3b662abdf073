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
    if starts(b"BM") {
        return is_bmp(head).then(|| kind("image/bmp", "BMP"));
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
        return is_mp4(head).then(|| kind("video/mp4", "MP4"));
    }
    if starts(b"ID3") || (head.len() >= 2 && head[0] == 0xff && head[1] & 0xe0 == 0xe0) {
        return is_mp3(head).then(|| kind("audio/mpeg", "MP3"));
    }
    None
}

/// Whether markup a browser would run (HTML, SVG, XML) appears near the
/// start: a few bytes of a binary format's magic in front of a web page must
/// not make it evidence.
fn has_markup(head: &[u8]) -> bool {
    let start = &head[..head.len().min(1024)];
    let lower: Vec<u8> = start.iter().map(u8::to_ascii_lowercase).collect();
    [b"<html".as_slice(), b"<script", b"<!doctype", b"<svg", b"<?xml", b"<iframe", b"<body", b"<head"]
        .iter()
        .any(|marker| lower.windows(marker.len()).any(|window| window == *marker))
}

fn u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u32_be(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// A Windows bitmap: its file header and the header of the image that follows.
fn is_bmp(head: &[u8]) -> bool {
    let structure = || -> Option<bool> {
        let file_size = u32_le(head, 2)?;
        let reserved = u32_le(head, 6)?;
        let pixels_at = u32_le(head, 10)?;
        let info_size = u32_le(head, 14)?;
        let (planes, bits) = if info_size == 12 { (u16_le(head, 22)?, u16_le(head, 24)?) } else { (u16_le(head, 26)?, u16_le(head, 28)?) };
        Some(
            reserved == 0
                && file_size >= 26
                && (26..=file_size).contains(&pixels_at)
                && [12, 40, 52, 56, 64, 108, 124].contains(&info_size)
                && planes == 1
                && [1, 2, 4, 8, 16, 24, 32].contains(&bits),
        )
    };
    structure().unwrap_or(false) && !has_markup(head)
}

/// An ISO media file (MP4): an `ftyp` box of a plausible size with a
/// printable brand, followed by another box of a known type when the head
/// reaches it.
fn is_mp4(head: &[u8]) -> bool {
    const BOXES: [&[u8; 4]; 12] =
        [b"moov", b"mdat", b"free", b"skip", b"wide", b"meta", b"uuid", b"pdin", b"moof", b"sidx", b"styp", b"mfra"];
    let structure = || -> Option<bool> {
        let size = u32_be(head, 0)? as usize;
        let brand = head.get(8..12)?;
        let plausible = (16..=1024).contains(&size) && size % 4 == 0 && brand.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ');
        let next_known = match head.get(size + 4..size + 8) {
            Some(next) => BOXES.iter().any(|known| next == known.as_slice()),
            None => true,
        };
        Some(plausible && next_known)
    };
    structure().unwrap_or(false) && !has_markup(head)
}

/// The length of the MPEG audio frame whose header starts `bytes`, if it is one.
fn mpeg_frame_length(bytes: &[u8]) -> Option<usize> {
    let header = bytes.get(..4)?;
    if header[0] != 0xff || header[1] & 0xe0 != 0xe0 {
        return None;
    }
    let version = (header[1] >> 3) & 0b11; // 0: 2.5, 2: 2, 3: 1; 1 is reserved
    let layer = (header[1] >> 1) & 0b11; // 1: III, 2: II, 3: I; 0 is reserved
    let bitrate_index = (header[2] >> 4) as usize;
    let rate_index = ((header[2] >> 2) & 0b11) as usize;
    let padding = ((header[2] >> 1) & 1) as usize;
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    const BITRATES_V1_L3: [usize; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    const BITRATES_V2_L3: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    const BITRATES_V1_L2: [usize; 15] = [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384];
    const BITRATES_V1_L1: [usize; 15] = [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448];
    const BITRATES_V2_L1: [usize; 15] = [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256];
    let bitrate = match (version, layer) {
        (3, 1) => BITRATES_V1_L3[bitrate_index],
        (3, 2) => BITRATES_V1_L2[bitrate_index],
        (3, 3) => BITRATES_V1_L1[bitrate_index],
        (_, 3) => BITRATES_V2_L1[bitrate_index],
        _ => BITRATES_V2_L3[bitrate_index],
    } * 1000;
    let rate = [44_100, 48_000, 32_000][rate_index]
        / match version {
            3 => 1,
            2 => 2,
            _ => 4,
        };
    let length = match layer {
        3 => (12 * bitrate / rate + padding) * 4,
        1 if version != 3 => 72 * bitrate / rate + padding,
        _ => 144 * bitrate / rate + padding,
    };
    (length >= 4).then_some(length)
}

/// MPEG audio: an ID3v2 tag with a well-formed header (the frames after it
/// are checked when the head reaches them), or frames whose headers follow
/// one another.
fn is_mp3(head: &[u8]) -> bool {
    let audio_at = if head.starts_with(b"ID3") {
        let Some(header) = head.get(..10) else { return false };
        let (major, revision, flags) = (header[3], header[4], header[5]);
        let size = &header[6..10];
        if !(2..=4).contains(&major) || revision == 0xff || flags & 0x0f != 0 || size.iter().any(|b| b & 0x80 != 0) {
            return false;
        }
        let tag = size.iter().fold(0usize, |sum, b| (sum << 7) | *b as usize);
        10 + tag
    } else {
        0
    };
    if has_markup(head) {
        return false;
    }
    let Some(rest) = head.get(audio_at..).filter(|rest| rest.len() >= 4) else {
        // The tag is longer than the head: its header is all there is to check.
        return audio_at > 0;
    };
    let Some(first) = mpeg_frame_length(rest) else { return false };
    // The next frame, when the head reaches it, must follow the first.
    rest.get(first..first + 4).is_none_or(|next| mpeg_frame_length(next).is_some())
}

/// The file name extensions a recognised kind goes by; the first is the one
/// a download's name gets when it has none of them.
pub fn extensions(mime: &str) -> &'static [&'static str] {
    match mime {
        "application/pdf" => &["pdf"],
        "image/png" => &["png"],
        "image/jpeg" => &["jpg", "jpeg", "jpe", "jfif"],
        "image/gif" => &["gif"],
        "image/webp" => &["webp"],
        "image/tiff" => &["tif", "tiff"],
        "image/bmp" => &["bmp", "dib"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => &["docx", "docm", "wps"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => &["xlsx", "xlsm", "et"],
        "application/ofd" => &["ofd"],
        "application/zip" => &["zip"],
        "application/msword" => &["doc"],
        "application/vnd.ms-excel" => &["xls", "et"],
        "application/vnd.ms-works" => &["wps"],
        "application/x-ole-storage" => &["doc", "xls", "ppt", "wps", "et", "dps"],
        "video/mp4" => &["mp4", "m4v", "mov", "m4a", "3gp"],
        "audio/mpeg" => &["mp3"],
        _ => &[],
    }
}

/// The name a download goes by: the file's own name, with the extension of
/// its kind added when it does not already end in one (a page named
/// `x.html` that is really MP3 audio downloads as `x.html.mp3`).
pub fn download_name(file_name: &str, mime: &str) -> String {
    let known = extensions(mime);
    let extension = file_name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase());
    match (known.first(), extension) {
        (Some(_), Some(ext)) if known.contains(&ext.as_str()) => file_name.to_owned(),
        (Some(first), _) => format!("{file_name}.{first}"),
        (None, _) => file_name.to_owned(),
    }
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
        assert_eq!(sniff(&mp4(), "执法记录.mp4").unwrap().mime, "video/mp4");
        assert_eq!(sniff(&id3_mp3(), "录音.mp3").unwrap().mime, "audio/mpeg");
        assert_eq!(sniff(&frames(), "录音.mp3").unwrap().mime, "audio/mpeg");
        assert_eq!(sniff(&bmp(), "扫描件.bmp").unwrap().mime, "image/bmp");
    }

    #[test]
    fn refuses_what_is_not_evidence_whatever_its_name() {
        assert_eq!(sniff(b"MZ\x90\0 a windows program", "报告.pdf"), None);
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /", "照片.jpg"), None);
        assert_eq!(sniff(b"<html><script>", "page.html"), None);
        assert_eq!(sniff(b"", "empty.pdf"), None);
    }

    /// An MPEG-1 layer III frame header, 128 kbit/s, 44.1 kHz: 417 bytes a frame.
    const FRAME: [u8; 4] = [0xff, 0xfb, 0x90, 0x00];

    fn frames() -> Vec<u8> {
        let mut bytes = Vec::new();
        for _ in 0..3 {
            bytes.extend(FRAME);
            bytes.extend(vec![0u8; 413]);
        }
        bytes
    }

    fn id3_mp3() -> Vec<u8> {
        let mut bytes = b"ID3\x04\x00\x00\x00\x00\x00\x0a".to_vec();
        bytes.extend([0u8; 10]);
        bytes.extend(frames());
        bytes
    }

    fn mp4() -> Vec<u8> {
        let mut bytes = 24u32.to_be_bytes().to_vec();
        bytes.extend(b"ftypisom\0\0\x02\0isomiso2");
        bytes.extend(8u32.to_be_bytes());
        bytes.extend(b"free");
        bytes.extend(16u32.to_be_bytes());
        bytes.extend(b"mdat12345678");
        bytes
    }

    fn bmp() -> Vec<u8> {
        let mut bytes = b"BM".to_vec();
        bytes.extend(70u32.to_le_bytes());
        bytes.extend(0u32.to_le_bytes());
        bytes.extend(54u32.to_le_bytes());
        bytes.extend(40u32.to_le_bytes());
        bytes.extend(2i32.to_le_bytes());
        bytes.extend(2i32.to_le_bytes());
        bytes.extend(1u16.to_le_bytes());
        bytes.extend(24u16.to_le_bytes());
        bytes.extend([0u8; 24]);
        bytes.extend([0u8; 16]);
        bytes
    }

    #[test]
    fn a_magic_prefix_does_not_make_a_web_page_evidence() {
        let page = b"<html><body><script>alert(document.cookie)</script></body></html>";
        for prefix in [b"BM".as_slice(), b"ID3", b"\xff\xe0", b"\xff\xfb\x90\x00", b"\0\0\0\x18ftypisom\0\0\0\0isomiso2"] {
            let mut file = prefix.to_vec();
            file.extend(page);
            assert_eq!(sniff(&file, "x.html"), None, "{prefix:?}");
        }
        let mut after_real_header = bmp();
        after_real_header.truncate(54);
        after_real_header.extend(page);
        assert_eq!(sniff(&after_real_header, "x.bmp"), None, "a real header with a page right after it");
    }

    #[test]
    fn downloads_are_named_for_their_kind() {
        assert_eq!(download_name("录音.mp3", "audio/mpeg"), "录音.mp3");
        assert_eq!(download_name("x.html", "audio/mpeg"), "x.html.mp3");
        assert_eq!(download_name("扫描件", "application/pdf"), "扫描件.pdf");
        assert_eq!(download_name("照片.JPEG", "image/jpeg"), "照片.JPEG");
    }
}
