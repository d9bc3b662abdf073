//! Pagination: `limit` and an opaque `cursor`, with the total count.
//!
//! A cursor encodes the offset of the next page and a fingerprint of the
//! filters it was made for. A cursor that is not one of ours, or that was
//! made for other filters, is refused (400 `invalid_cursor`) rather than
//! silently giving a page of something else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use duban_dto::api::Page;
use serde::Serialize;

use crate::error::Error;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub offset: i64,
    pub limit: i64,
    fingerprint: u64,
}

fn fingerprint(filter: &impl Serialize) -> u64 {
    duban_pgcluster::stable_hash(&serde_json::to_vec(filter).expect("filters serialise"))
}

impl Cursor {
    /// Reads `cursor` and `limit` from a query for these filters.
    pub fn from_query(cursor: Option<&str>, limit: Option<i64>, filter: &impl Serialize) -> Result<Cursor, Error> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::bad_parameter("invalid_limit", format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        let fingerprint = fingerprint(filter);
        let offset = match cursor {
            None => 0,
            Some(cursor) => Self::decode(cursor, fingerprint)
                .ok_or_else(|| Error::bad_parameter("invalid_cursor", "the cursor is not valid for this query; start again without it"))?,
        };
        Ok(Cursor { offset, limit, fingerprint })
    }

    /// Everything, for lists embedded in another resource.
    pub fn all() -> Cursor {
        Cursor { offset: 0, limit: 100_000, fingerprint: 0 }
    }

    /// The total of a list whose page here has `fetched` rows: told by the
    /// page itself when it is shorter than the limit (the last one), unless
    /// it is empty past the start (the total may then be below the offset);
    /// else `count`ed.
    pub fn total<E>(&self, fetched: usize, count: impl FnOnce() -> Result<i64, E>) -> Result<i64, E> {
        match i64::try_from(fetched) {
            Ok(fetched) if fetched < self.limit && (fetched > 0 || self.offset == 0) => Ok(self.offset + fetched),
            _ => count(),
        }
    }

    fn decode(cursor: &str, fingerprint: u64) -> Option<i64> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (offset, print) = text.strip_prefix("o=")?.split_once(";f=")?;
        let offset: i64 = offset.parse().ok().filter(|offset| *offset >= 0)?;
        (u64::from_str_radix(print, 16).ok()? == fingerprint).then_some(offset)
    }

    /// A cursor for these filters that points at `offset`.
    pub fn encode_at(&self, offset: i64) -> String {
        URL_SAFE_NO_PAD.encode(format!("o={offset};f={:016x}", self.fingerprint))
    }

    /// A page of `items` (this cursor's slice) out of `total`.
    pub fn page<T>(&self, items: Vec<T>, total: i64) -> Page<T> {
        let next = self.offset + items.len() as i64;
        Page { next_cursor: (next < total && !items.is_empty()).then(|| self.encode_at(next)), items, total, limit: self.limit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_for_the_same_filters_only() {
        let first = Cursor::from_query(None, Some(2), &("basic", 1)).unwrap();
        let page = first.page(vec![1, 2], 5);
        let next = page.next_cursor.unwrap();
        let second = Cursor::from_query(Some(&next), Some(2), &("basic", 1)).unwrap();
        assert_eq!(second.offset, 2);
        assert!(Cursor::from_query(Some(&next), Some(2), &("quantified", 1)).is_err(), "other filters");
        assert!(Cursor::from_query(Some("not-a-cursor"), None, &()).is_err());
        assert!(Cursor::from_query(None, Some(0), &()).is_err());
        assert!(Cursor::from_query(None, Some(201), &()).is_err());
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        let cursor = Cursor::from_query(None, Some(10), &()).unwrap();
        assert!(cursor.page(vec![1, 2, 3], 3).next_cursor.is_none());
        assert!(cursor.page(Vec::<i32>::new(), 0).next_cursor.is_none());
    }
}
