//! Chinese numerals as the breakdown table uses them for indicator codes:
//! 一 … 九, 十, 十一 … 十九, 二十, 二十一 … 九十九.

const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

fn digit(c: char) -> Option<u32> {
    match c {
        '〇' => Some(0),
        '两' => Some(2),
        _ => DIGITS.iter().position(|&d| d == c).map(|p| p as u32),
    }
}

/// Parses a Chinese numeral from 1 to 99 (一, 十二, 三十二 …).
pub fn parse(text: &str) -> Option<u32> {
    let chars: Vec<char> = text.chars().collect();
    match chars.as_slice() {
        [d] if *d == '十' => Some(10),
        [d] => digit(*d).filter(|&n| n > 0),
        ['十', u] => digit(*u).filter(|&n| n > 0).map(|u| 10 + u),
        [t, '十'] => digit(*t).filter(|&n| n > 1).map(|t| t * 10),
        [t, '十', u] => {
            let (t, u) = (digit(*t)?, digit(*u)?);
            (t > 1 && u > 0).then_some(t * 10 + u)
        }
        _ => None,
    }
}

/// Writes 1 to 99 the way the table writes indicator codes.
pub fn format(n: u32) -> String {
    assert!((1..100).contains(&n), "indicator numbers run from 1 to 99, got {n}");
    let (tens, units) = (n / 10, n % 10);
    let mut out = String::new();
    if tens > 1 {
        out.push(DIGITS[tens as usize]);
    }
    if tens > 0 {
        out.push('十');
    }
    if units > 0 {
        out.push(DIGITS[units as usize]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_round_trips() {
        for n in 1..100 {
            assert_eq!(parse(&format(n)), Some(n), "{n} written as {}", format(n));
        }
    }

    #[test]
    fn writes_the_forms_the_table_uses() {
        assert_eq!(format(1), "一");
        assert_eq!(format(10), "十");
        assert_eq!(format(18), "十八");
        assert_eq!(format(20), "二十");
        assert_eq!(format(32), "三十二");
    }

    #[test]
    fn rejects_what_is_not_a_numeral() {
        for text in ["", "零", "一十十", "十零", "一十", "abc", "三十二三", "百"] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
