//! Helpers shared by the integration tests.

use std::path::PathBuf;

use diesel::prelude::*;

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

pub fn seed_file(name: &str) -> String {
    std::fs::read_to_string(workspace().join("seeds").join(name)).unwrap()
}

pub fn document() -> String {
    seed_file("luoping-task-breakdown.txt")
}

/// Every row of every table, as text, in a stable order: equal snapshots
/// mean the import changed nothing at all.
pub fn snapshot(conn: &mut PgConnection) -> Vec<String> {
    let tables = [
        "regions",
        "campaigns",
        "indicators",
        "tasks",
        "task_targets",
        "units",
        "unit_aliases",
        "unit_groups",
        "unit_group_members",
        "task_parties",
        "assignments",
    ];
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut rows = Vec::new();
    for table in tables {
        let query = format!("SELECT t::text AS row FROM {table} t ORDER BY t::text");
        rows.extend(diesel::sql_query(query).load::<Row>(conn).unwrap().into_iter().map(|r| format!("{table}: {}", r.row)));
    }
    rows
}

pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("({sql})"))).get_result(conn).unwrap()
}
