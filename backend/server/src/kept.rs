//! What an instance keeps between requests: pages computed from the
//! database, each with the version of its campaign and the day it was
//! computed for. A campaign's version (`campaign_versions`) moves in the
//! transaction of every change to what its pages show (triggers, whatever
//! the code path; migrations `000013` and `000014`), so a kept page is
//! served only while it is exactly what the database would give.
//!
//! Everything here is safe to lose: a miss computes the page again. Each
//! instance keeps its own; nothing here is shared or needs to be.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use diesel::prelude::*;
use duban_dto::api::{Dashboard, TaskDetail};

/// The pages kept, one shelf per kind.
pub struct Kept {
    /// Each campaign's grouped task counts for the province dashboard.
    pub(crate) province_counts: Shelf<i64, Arc<Vec<crate::dashboard::ProvinceRow>>>,
    /// Each campaign's dashboard.
    pub(crate) dashboards: Shelf<i64, Arc<Dashboard>>,
    /// Each task's page, per area root of the reader (`None`: everywhere).
    pub(crate) tasks: Shelf<(i64, Option<i64>), Arc<TaskDetail>>,
}

impl Default for Kept {
    fn default() -> Self {
        // Bounds on memory: a province has some 130 campaigns and 30,000
        // tasks; a task's page is one to a few KB.
        Kept { province_counts: Shelf::new(4096), dashboards: Shelf::new(1024), tasks: Shelf::new(8192) }
    }
}

/// Values by key, each valid for one version and day.
pub(crate) struct Shelf<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
    capacity: usize,
}

struct Entry<V> {
    version: i64,
    day: NaiveDate,
    value: V,
}

impl<K: Eq + Hash, V: Clone> Shelf<K, V> {
    fn new(capacity: usize) -> Shelf<K, V> {
        Shelf { entries: Mutex::new(HashMap::new()), capacity }
    }

    /// The value kept for `key` at this version and day.
    pub(crate) fn get(&self, key: &K, version: i64, day: NaiveDate) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.get(key).filter(|entry| entry.version == version && entry.day == day).map(|entry| entry.value.clone())
    }

    /// Keeps `value` for `key` at this version and day. A full shelf is
    /// emptied first: simpler than tracking use, and a miss costs only
    /// one computation.
    pub(crate) fn put(&self, key: K, version: i64, day: NaiveDate, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, Entry { version, day, value });
    }
}

impl<K: Eq + Hash + Clone, T> Shelf<K, Arc<T>> {
    /// The page that `lookup` names (its key and its campaign's version,
    /// or `None` when there is no such thing): the one kept for this
    /// version and day, else `compute`d and kept. A computed page and the
    /// version it is kept with are read in one repeatable-read snapshot,
    /// so what is kept matches its version exactly.
    pub(crate) fn page<E: From<diesel::result::Error>>(
        &self,
        conn: &mut PgConnection,
        day: NaiveDate,
        lookup: impl Fn(&mut PgConnection) -> QueryResult<Option<(K, i64)>>,
        absent: impl FnOnce() -> E,
        compute: impl FnOnce(&mut PgConnection, &K) -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        if let Some((key, version)) = lookup(conn)?
            && let Some(page) = self.get(&key, version, day)
        {
            return Ok(page);
        }
        conn.build_transaction().read_only().repeatable_read().run(|conn| {
            let (key, version) = lookup(conn)?.ok_or_else(absent)?;
            let page = Arc::new(compute(conn, &key)?);
            self.put(key, version, day, page.clone());
            Ok(page)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Shelf;
    use chrono::NaiveDate;

    #[test]
    fn a_value_is_given_only_for_its_version_and_day_and_a_full_shelf_starts_again() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let shelf: Shelf<i64, &str> = Shelf::new(2);
        shelf.put(1, 7, day, "seven");
        assert_eq!(shelf.get(&1, 7, day), Some("seven"));
        assert_eq!(shelf.get(&1, 8, day), None);
        assert_eq!(shelf.get(&1, 7, day.succ_opt().unwrap()), None);
        shelf.put(2, 1, day, "two");
        shelf.put(3, 1, day, "three");
        assert_eq!(shelf.get(&1, 7, day), None, "emptied when full");
        assert_eq!(shelf.get(&3, 1, day), Some("three"));
    }
}
