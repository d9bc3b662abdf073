//! Cleaning of cell text: what a Word document leaves in its text that is
//! not content. Every change is reported by the caller.

/// Removes Word bookmarks such as `[bookmark: _GoBack]`, which a text dump
/// writes where the author's cursor last was. Returns the removed pieces.
pub fn remove_word_artifacts(text: &mut String) -> Vec<String> {
    const OPEN: &str = "[bookmark:";
    let mut removed = Vec::new();
    while let Some(start) = text.find(OPEN) {
        let Some(length) = text[start..].find(']') else { break };
        let end = start + length + 1;
        removed.push(text[start..end].to_owned());
        text.replace_range(start..end, "");
    }
    removed
}

/// Makes full-width brackets half-width, as most of the table writes them,
/// so that （十八） and (十八) are the same indicator and
/// 各乡镇（街道） the same group as 各乡镇(街道). Returns whether anything changed.
pub fn half_width_brackets(text: &mut String) -> bool {
    if !text.contains(['（', '）']) {
        return false;
    }
    *text = text.replace('（', "(").replace('）', ")");
    true
}

/// Makes full-width digits half-width (for 序号). Returns whether anything changed.
pub fn half_width_digits(text: &mut String) -> bool {
    if !text.chars().any(|c| ('０'..='９').contains(&c)) {
        return false;
    }
    *text = text
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).expect("an ASCII digit"),
            other => other,
        })
        .collect();
    true
}

/// Whitespace as Chinese documents have it: ASCII, the ideographic space
/// U+3000 and no-break spaces.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}' || c == '\u{a0}'
}

/// Trims whitespace at both ends. Returns whether anything was trimmed.
pub fn trim(text: &mut String) -> bool {
    let trimmed = text.trim_matches(is_space);
    if trimmed.len() == text.len() {
        return false;
    }
    *text = trimmed.to_owned();
    true
}

/// Drops sentence punctuation after an indicator title: (十九)…制度。
pub fn drop_title_punctuation(text: &mut String) -> bool {
    let trimmed = text.trim_end_matches(['。', '.', '；', ';', '，', ',']);
    if trimmed.len() == text.len() {
        return false;
    }
    *text = trimmed.to_owned();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_bookmarks_anywhere() {
        let mut text = "[bookmark: _GoBack]严格贯彻[bookmark: x]落实".to_owned();
        assert_eq!(remove_word_artifacts(&mut text), ["[bookmark: _GoBack]", "[bookmark: x]"]);
        assert_eq!(text, "严格贯彻落实");
    }

    #[test]
    fn leaves_ordinary_brackets_alone() {
        let mut text = "[不是书签]".to_owned();
        assert!(remove_word_artifacts(&mut text).is_empty());
        assert!(!half_width_brackets(&mut text));
    }

    #[test]
    fn normalises_width() {
        let mut text = "（十八）".to_owned();
        assert!(half_width_brackets(&mut text));
        assert_eq!(text, "(十八)");
        let mut number = "２０".to_owned();
        assert!(half_width_digits(&mut number));
        assert_eq!(number, "20");
    }

    #[test]
    fn trims_ideographic_space() {
        let mut text = "\u{3000}县司法局 ".to_owned();
        assert!(trim(&mut text));
        assert_eq!(text, "县司法局");
    }
}
