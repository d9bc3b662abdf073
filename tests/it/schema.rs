//! The database refuses what the data model forbids, whatever the code does.

use diesel::prelude::*;
use diesel_migrations::MigrationHarness;
use duban_tests::TestDb;

use crate::support::count;

fn refused(conn: &mut PgConnection, sql: &str) -> String {
    match diesel::sql_query(sql).execute(conn) {
        Ok(_) => panic!("the database accepted: {sql}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn constraints_hold() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    // Targets only on quantified tasks.
    let error = refused(
        &mut conn,
        "INSERT INTO task_targets (task_id, task_list, position, metric, comparator, value, unit)
         SELECT id, list, 9, 'x', '>=', 1, '%' FROM tasks WHERE code = 'B001'",
    );
    assert!(error.contains("task_list"), "{error}");
    // Basic tasks need an indicator; other lists have none.
    refused(&mut conn, "UPDATE tasks SET indicator_id = NULL WHERE code = 'B001'");
    refused(&mut conn, "UPDATE tasks SET indicator_id = (SELECT indicator_id FROM tasks WHERE code = 'B001') WHERE code = 'Q01'");
    // A basic task's indicator is a level-2 one.
    refused(&mut conn, "UPDATE tasks SET indicator_id = (SELECT id FROM indicators WHERE level = 1 LIMIT 1) WHERE code = 'B001'");
    // (campaign, list, number) is unique.
    refused(&mut conn, "UPDATE tasks SET number = 2 WHERE code = 'B001'");
    // Closed vocabularies.
    refused(&mut conn, "UPDATE units SET kind = 'bureau' WHERE name = '县司法局'");
    refused(&mut conn, "UPDATE assignments SET status = 'done' WHERE id = (SELECT min(id) FROM assignments)");
    // A party is a unit or a group, never both or neither.
    refused(&mut conn, "UPDATE task_parties SET group_id = (SELECT min(id) FROM unit_groups) WHERE unit_id IS NOT NULL");
    // Assignments keep their task.
    refused(&mut conn, "DELETE FROM tasks WHERE code = 'B001'");
}

#[test]
fn migrations_are_reversible() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let tables =
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'";
    let migrated = count(&mut conn, tables);
    assert!(migrated >= 11);
    conn.revert_all_migrations(duban::db::MIGRATIONS).unwrap();
    assert_eq!(count(&mut conn, tables), 0);
    duban::db::migrate(&mut conn).unwrap();
    assert_eq!(count(&mut conn, tables), migrated);
}

fn expansion(conn: &mut PgConnection, phrase: &str) -> Vec<String> {
    use duban::db::schema::unit_groups;
    let id: i64 = unit_groups::table.filter(unit_groups::phrase.eq(phrase)).select(unit_groups::id).first(conn).unwrap();
    duban::db::groups::expand(conn, id).unwrap().into_iter().map(|unit| unit.name).collect()
}

#[test]
fn groups_expand_by_their_rules() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    let townships = expansion(&mut conn, "各乡镇(街道)");
    assert_eq!(townships.len(), 13);
    assert_eq!(townships[0], "罗雄街道");

    let enforcers = expansion(&mut conn, "各行政执法单位");
    assert!(enforcers.contains(&"县市场监管局".to_owned()) && enforcers.contains(&"罗雄街道".to_owned()));
    assert!(!enforcers.contains(&"县政务局".to_owned()), "the government service bureau does not enforce");
    assert_eq!(enforcers.len() as i64, count(&mut conn, "SELECT count(*) FROM units WHERE law_enforcement"));

    let all = expansion(&mut conn, "各有关部门、各乡镇(街道)按职责分工分别负责");
    let departments = expansion(&mut conn, "各有关部门按职责分工分别负责");
    assert_eq!(all.len(), departments.len() + 13);
    assert!(!all.contains(&"县委组织部".to_owned()), "party organs are not government departments");

    // Explicit lists: include a party organ, exclude a department.
    diesel::sql_query(
        "INSERT INTO unit_group_members (group_id, unit_id, region_id, inclusion)
         SELECT g.id, u.id, u.region_id, x.inclusion
         FROM unit_groups g, units u, (VALUES ('县委宣传部', 'include'), ('县税务局', 'exclude')) AS x(name, inclusion)
         WHERE g.phrase = '各有关部门按职责分工分别负责' AND u.name = x.name",
    )
    .execute(&mut conn)
    .unwrap();
    let adjusted = expansion(&mut conn, "各有关部门按职责分工分别负责");
    assert!(adjusted.contains(&"县委宣传部".to_owned()) && !adjusted.contains(&"县税务局".to_owned()));
    assert_eq!(adjusted.len(), departments.len());
}

/// The migration that added the stored lights is followed by filling them
/// for the tasks already there, by the rulebook.
#[test]
fn upgrading_fills_the_stored_lights_of_existing_tasks() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    let lit = "SELECT count(*) FROM tasks WHERE red_from IS NOT NULL";
    let before = count(&mut conn, lit);
    assert!(before > 0);
    let mut reverted = Vec::new();
    while !reverted.iter().any(|version: &String| version == "20261205000009") {
        reverted.push(conn.revert_last_migration(duban::db::MIGRATIONS).unwrap().to_string());
    }
    duban::db::migrate(&mut conn).unwrap();
    assert_eq!(count(&mut conn, lit), before);
}
