//! Bar charts as PNG pictures for documents: one horizontal bar per item,
//! its number on the left and its percentage on the right, drawn with a
//! small built-in digit font so that no font file is needed. The same
//! figures always give the same bytes.

use std::io::Write;

const WHITE: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [51, 51, 51];
const TRACK: [u8; 3] = [230, 230, 230];
const BAR: [u8; 3] = [192, 0, 18];

/// Digits, '%' and '.', 3×5 pixels each, one row per byte (bit 2 is the left column).
fn glyph(c: char) -> [u8; 5] {
    match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '%' => [5, 1, 2, 4, 5],
        '.' => [0, 0, 0, 0, 2],
        _ => [0; 5],
    }
}

struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Canvas {
        Canvas { width, height, pixels: WHITE.repeat((width * height) as usize) }
    }

    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32, colour: [u8; 3]) {
        for row in y..(y + h).min(self.height) {
            for column in x..(x + w).min(self.width) {
                let at = ((row * self.width + column) * 3) as usize;
                self.pixels[at..at + 3].copy_from_slice(&colour);
            }
        }
    }

    /// Text of digits at (x, y), each pixel of the font `scale` pixels wide.
    fn text(&mut self, x: u32, y: u32, text: &str, scale: u32) {
        for (index, c) in text.chars().enumerate() {
            let left = x + index as u32 * 4 * scale;
            for (row, bits) in glyph(c).iter().enumerate() {
                for column in 0..3 {
                    if bits & (4 >> column) != 0 {
                        self.fill(left + column * scale, y + row as u32 * scale, scale, scale, INK);
                    }
                }
            }
        }
    }

    fn png(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(((self.width * 3 + 1) * self.height) as usize);
        for row in self.pixels.chunks((self.width * 3) as usize) {
            raw.push(0); // no filter
            raw.extend_from_slice(row);
        }
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&raw).expect("writing to memory");
        let data = encoder.finish().expect("writing to memory");
        let mut header = Vec::with_capacity(13);
        header.extend_from_slice(&self.width.to_be_bytes());
        header.extend_from_slice(&self.height.to_be_bytes());
        header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, body) in [(b"IHDR", header.as_slice()), (b"IDAT", data.as_slice()), (b"IEND", &[][..])] {
            png.extend_from_slice(&(body.len() as u32).to_be_bytes());
            png.extend_from_slice(kind);
            png.extend_from_slice(body);
            let mut crc = crc32fast::Hasher::new();
            crc.update(kind);
            crc.update(body);
            png.extend_from_slice(&crc.finalize().to_be_bytes());
        }
        png
    }
}

/// A horizontal bar chart of shares (0 to 1), numbered from 1 in order.
/// Returns the PNG and its size in pixels.
pub fn share_bars(shares: &[f64]) -> (Vec<u8>, u32, u32) {
    const WIDTH: u32 = 900;
    const ROW: u32 = 40;
    const SCALE: u32 = 4;
    let height = ROW * shares.len().max(1) as u32 + 20;
    let mut canvas = Canvas::new(WIDTH, height);
    let (left, right) = (80, WIDTH - 140);
    for (index, share) in shares.iter().enumerate() {
        let share = share.clamp(0.0, 1.0);
        let top = 10 + index as u32 * ROW;
        canvas.text(10, top + 8, &(index + 1).to_string(), SCALE);
        canvas.fill(left, top + 6, right - left, ROW - 14, TRACK);
        canvas.fill(left, top + 6, ((right - left) as f64 * share).round() as u32, ROW - 14, BAR);
        canvas.text(right + 12, top + 8, &format!("{:.1}%", share * 100.0), SCALE);
    }
    let png = canvas.png();
    (png, WIDTH, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_same_png_for_the_same_shares() {
        let (png, width, height) = share_bars(&[0.5, 1.0, 0.0]);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!((width, height), (900, 140));
        assert_eq!(share_bars(&[0.5, 1.0, 0.0]).0, png);
        assert_ne!(share_bars(&[0.6, 1.0, 0.0]).0, png);
    }
}
