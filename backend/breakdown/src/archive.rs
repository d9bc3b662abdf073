//! Guarding against zip bombs. Word documents and workbooks are zip
//! archives, and a small archive can inflate to gigabytes: before any of
//! them is read, its entries are counted and inflated into nothing, with a
//! cap on their number, on what they inflate to, and on how much more that
//! is than what was sent. A document that passes inflates to at most
//! [`MAX_INFLATED`] in all.

use std::io::{Cursor, Read};

/// The most entries an archive may have (a large workbook has a few hundred).
pub const MAX_ENTRIES: usize = 10_000;
/// The most all entries together may inflate to.
pub const MAX_INFLATED: u64 = 128 << 20;
/// The most an archive may inflate to per byte of it, once it inflates to
/// more than [`RATIO_FREE`]: real Office documents stay far below (XML
/// compresses to about a tenth); bombs are made of the thousands.
pub const MAX_RATIO: u64 = 200;
/// Archives inflating to no more than this are not judged by their ratio.
pub const RATIO_FREE: u64 = 8 << 20;

/// Why an archive is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a zip archive by inflating it, entry by entry, into nothing,
/// stopping as soon as a limit is passed. Not an archive at all is the
/// reader's to say, so it passes here.
pub fn check(bytes: &[u8]) -> Result<(), Refused> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else { return Ok(()) };
    if archive.len() > MAX_ENTRIES {
        return Err(Refused(format!("the archive has {} entries; at most {MAX_ENTRIES} are accepted", archive.len())));
    }
    let budget = MAX_INFLATED.min(RATIO_FREE.max(bytes.len() as u64 * MAX_RATIO));
    let mut inflated: u64 = 0;
    let mut buffer = vec![0u8; 64 << 10];
    for index in 0..archive.len() {
        let Ok(mut entry) = archive.by_index(index) else { continue };
        loop {
            let read = match entry.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                // A damaged entry is the reader's to report.
                Err(_) => break,
            };
            inflated += read as u64;
            if inflated > budget {
                return Err(Refused(format!(
                    "the archive inflates to more than {} MiB from {} KiB: refused as a possible zip bomb",
                    budget >> 20,
                    bytes.len() >> 10
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn archive(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn a_bomb_is_refused_and_a_document_passes() {
        let bomb = archive(&[("word/document.xml", vec![b'a'; 200 << 20])]);
        assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
        assert!(check(&bomb).is_err());
        let document = archive(&[("word/document.xml", b"<w:document>\xe5\x8e\xbf</w:document>".repeat(1000))]);
        assert_eq!(check(&document), Ok(()));
        assert_eq!(check(b"not an archive"), Ok(()));
    }
}
