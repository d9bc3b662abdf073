//! Importing the Luoping breakdown into a real database.

use diesel::prelude::*;
use duban::audit::Actor;
use duban::authz::Operator;
use duban::import::{self, ChangeAction, Entity, ImportError, Source};
use duban_breakdown::seed::{CampaignSeed, to_pretty_json};
use duban_tests::TestDb;

use crate::support::{count, document, seed_file, snapshot};

fn operator() -> Operator {
    Operator::for_tests()
}

/// Leads as written and the responsible phrase of a task, from the database.
fn task_row(conn: &mut PgConnection, code: &str) -> (String, Vec<String>, Option<String>) {
    use duban::db::schema::{task_parties, tasks};
    let (id, text, responsible): (i64, String, Option<String>) =
        tasks::table.filter(tasks::code.eq(code)).select((tasks::id, tasks::text, tasks::responsible_text)).first(conn).unwrap();
    let leads = task_parties::table
        .filter(task_parties::task_id.eq(id))
        .filter(task_parties::role.eq("lead"))
        .order(task_parties::position)
        .select(task_parties::as_written)
        .load(conn)
        .unwrap();
    (text, leads, responsible)
}

#[test]
fn demo_data_holds_the_documents_totals() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM tasks"), 229);
    for (list, expected) in [("basic", 155), ("quantified", 32), ("extended", 35), ("negative", 7)] {
        assert_eq!(count(&mut conn, &format!("SELECT count(*) FROM tasks WHERE list = '{list}'")), expected, "{list}");
    }
    assert_eq!(count(&mut conn, "SELECT count(*) FROM indicators WHERE level = 1"), 9);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM indicators WHERE level = 2"), 32);
    // Only basic tasks have an indicator.
    assert_eq!(count(&mut conn, "SELECT count(*) FROM tasks WHERE indicator_id IS NOT NULL"), 155);
    // Every quantified task has at least one structured target.
    assert_eq!(count(&mut conn, "SELECT count(DISTINCT task_id) FROM task_targets"), 32);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM units WHERE kind = 'township'"), 13);
}

#[test]
fn every_level2_indicator_is_under_its_level1() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    #[derive(QueryableByName, Debug)]
    struct Pair {
        #[diesel(sql_type = diesel::sql_types::Text)]
        parent: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        children: String,
    }
    let pairs: Vec<Pair> = diesel::sql_query(
        "SELECT p.code AS parent, string_agg(c.code, '' ORDER BY c.ordinal) AS children
         FROM indicators c JOIN indicators p ON p.id = c.parent_id GROUP BY p.code, p.ordinal ORDER BY p.ordinal",
    )
    .load(&mut conn)
    .unwrap();
    let got: Vec<(&str, &str)> = pairs.iter().map(|p| (p.parent.as_str(), p.children.as_str())).collect();
    assert_eq!(
        got,
        [
            ("一", "(一)(二)(三)(四)(五)"),
            ("二", "(六)(七)(八)(九)"),
            ("三", "(十)(十一)(十二)(十三)(十四)(十五)"),
            ("四", "(十六)(十七)(十八)(十九)(二十)(二十一)"),
            ("五", "(二十二)(二十三)(二十四)"),
            ("六", "(二十五)(二十六)"),
            ("七", "(二十七)(二十八)"),
            ("八", "(二十九)(三十)"),
            ("九", "(三十一)(三十二)"),
        ]
    );
}

#[test]
fn sample_tasks_are_stored_verbatim() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    let (text, leads, responsible) = task_row(&mut conn, "B014");
    assert!(text.starts_with("进一步压缩企业开办时间，实际办理时限不超过5个工作日"));
    assert_eq!(leads, ["县政务局", "县市场监管局", "县税务局", "县人社局"]);
    assert_eq!(responsible.as_deref(), Some("各有关部门、各乡镇(街道)按职责分工分别负责"));

    let (text, leads, responsible) = task_row(&mut conn, "B077");
    assert_eq!(text, "严格贯彻落实《中华人民共和国行政处罚法》。");
    assert_eq!(leads, ["各行政执法单位"]);
    assert_eq!(responsible, None);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM task_parties p JOIN tasks t ON t.id = p.task_id WHERE t.code = 'B077' AND role = 'responsible'"
        ),
        0
    );

    let (text, leads, _) = task_row(&mut conn, "Q29");
    assert!(text.contains("5小时内发布权威信息，在24小时内举行新闻发布会"));
    assert_eq!(leads, ["县委宣传部", "县政府办公室", "县融媒体中心"]);
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM task_targets g JOIN tasks t ON t.id = g.task_id WHERE t.code = 'Q29' AND g.unit = '小时'"),
        2
    );

    let (_, leads, responsible) = task_row(&mut conn, "E20");
    assert_eq!(leads, ["县应急管理局", "县公安局"]);
    assert_eq!(responsible.as_deref(), Some("各有关部门、各乡镇(街道)按职责分工分别负责"));

    let (text, leads, _) = task_row(&mut conn, "N7");
    assert_eq!(text, "在示范创建工作申报材料中,故意编造、虚构有关数据、资料、文件等，或者隐瞒事实真相。");
    assert_eq!(leads, ["县司法局"]);

    // The alias 县政府办 resolves to the unit 县政府办公室 and keeps its spelling.
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM task_parties p JOIN tasks t ON t.id = p.task_id JOIN units u ON u.id = p.unit_id
             WHERE t.code = 'E27' AND p.as_written = '县政府办' AND u.name = '县政府办公室'"
        ),
        1
    );
    // A concrete lead unit gets a lead assignment; a collective lead does not.
    assert_eq!(count(&mut conn, "SELECT count(*) FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE t.code = 'B014'"), 4);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE t.code = 'B077'"), 0);
}

#[test]
fn database_computes_the_same_task_codes() {
    let db = TestDb::with_demo();
    use duban::db::schema::tasks;
    let rows: Vec<(String, i32, String)> = tasks::table.select((tasks::list, tasks::number, tasks::code)).load(&mut db.conn()).unwrap();
    assert_eq!(rows.len(), 229);
    for (list, number, code) in rows {
        let list = duban_dto::TaskList::parse(&list).unwrap();
        assert_eq!(list.task_code(number as u32), code);
    }
    // Beyond the table's own sizes too.
    let mut conn = db.conn();
    let code: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
        "(SELECT 'B' || lpad(1234::text, greatest(3, length(1234::text)), '0'))",
    ))
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(code, duban_dto::TaskList::Basic.task_code(1234));
}

#[test]
fn importing_again_changes_nothing() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    let before = snapshot(&mut conn);

    let reports = duban::seeds::load_demo(&mut conn, &duban::authz::Operator::for_tests()).unwrap();
    assert!(reports.iter().all(|report| report.is_unchanged()), "{:#?}", reports.iter().map(|r| &r.changes).collect::<Vec<_>>());
    // The document itself, on top of the seed generated from it.
    let source = Source::from_text_dump(&document(), None).unwrap();
    let report =
        import::run(&mut conn, &operator().import_data(), &Actor::command_line(), &source, "luoping-task-breakdown.txt", false).unwrap();
    assert!(report.is_unchanged(), "{report}");
    assert!(report.to_string().contains("no changes"));
    assert!(!report.normalisations.is_empty(), "the document's normalisations are reported");
    assert_eq!(snapshot(&mut conn), before);
}

#[test]
fn a_corrupted_document_writes_nothing_and_names_the_row() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    let before = snapshot(&mut conn);
    let corrupted = document().replacen("\t88\n", "\t八十八\n", 1).replacen("严格贯彻落实", "严格执行", 1);
    let error = Source::from_text_dump(&corrupted, None).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("line 747") && message.contains("cell 序号") && message.contains("八十八"), "{message}");
    assert_eq!(snapshot(&mut conn), before);
}

#[test]
fn a_refused_import_rolls_back_what_it_had_done() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    // Work has started on B155 …
    diesel::sql_query("UPDATE assignments SET status = 'in_progress' WHERE task_id = (SELECT id FROM tasks WHERE code = 'B155')")
        .execute(&mut conn)
        .unwrap();
    let before = snapshot(&mut conn);
    // … and a seed without B155 (and with another task changed first) arrives.
    let mut seed = CampaignSeed::from_json(&seed_file("luoping.campaign.json")).unwrap();
    seed.tasks.retain(|task| task.code != "B155");
    seed.tasks[0].text.push_str("（修订）");
    let error =
        import::run(&mut conn, &operator().import_data(), &Actor::command_line(), &Source::Campaign(Box::new(seed)), "edited seed", false)
            .unwrap_err();
    assert!(matches!(error, ImportError::Refused(_)), "{error}");
    assert!(error.to_string().contains("B155") && error.to_string().contains("in_progress"), "{error}");
    assert_eq!(snapshot(&mut conn), before);
}

#[test]
fn a_dry_run_reports_and_writes_nothing() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let before = snapshot(&mut conn);
    let roster = Source::from_json(&seed_file("luoping.units.json")).unwrap();
    let report = import::run(&mut conn, &operator().import_data(), &Actor::command_line(), &roster, "roster", true).unwrap();
    assert_eq!(report.count(Entity::Unit, ChangeAction::Created), 57);
    assert!(report.to_string().contains("dry run"), "{report}");
    assert_eq!(snapshot(&mut conn), before);
}

#[test]
fn updates_are_reported_field_by_field() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    let mut seed = CampaignSeed::from_json(&seed_file("luoping.campaign.json")).unwrap();
    let task = seed.tasks.iter_mut().find(|task| task.code == "B012").unwrap();
    task.text = "积极推行证明事项告知承诺制。".to_owned();
    task.leads = vec!["县司法局".to_owned(), "县政务局".to_owned()];
    let report =
        import::run(&mut conn, &operator().import_data(), &Actor::command_line(), &Source::Campaign(Box::new(seed)), "edited", false)
            .unwrap();
    let change = report.changes.iter().find(|change| change.key == "B012").unwrap();
    assert_eq!(change.action, ChangeAction::Updated);
    assert_eq!(change.fields, ["text", "leads"]);
    // The new lead unit got its assignment.
    assert_eq!(report.count(Entity::Assignment, ChangeAction::Created), 1);
    let (text, leads, _) = task_row(&mut conn, "B012");
    assert_eq!(text, "积极推行证明事项告知承诺制。");
    assert_eq!(leads, ["县司法局", "县政务局"]);
}

#[test]
fn the_document_imports_like_the_seed_generated_from_it() {
    let db = TestDb::new();
    let mut conn = db.conn();
    import::run(
        &mut conn,
        &operator().import_data(),
        &Actor::command_line(),
        &Source::from_json(&seed_file("luoping.units.json")).unwrap(),
        "roster",
        false,
    )
    .unwrap();
    let source = Source::from_text_dump(&document(), Some("luoping".to_owned())).unwrap();
    let report = import::run(&mut conn, &operator().import_data(), &Actor::command_line(), &source, "document", false).unwrap();
    assert_eq!(report.count(Entity::Task, ChangeAction::Created), 229);
    assert!(report.warnings.is_empty(), "every unit of the document is in the roster: {:#?}", report.warnings);

    let exported = duban::export::campaign_seed(&mut conn, "luoping").unwrap();
    let committed = CampaignSeed::from_json(&seed_file("luoping.campaign.json")).unwrap();
    assert_eq!(exported.campaign.name, committed.campaign.name);
    assert_eq!(exported.campaign.source_title, committed.campaign.source_title);
    assert_eq!(exported.indicators, committed.indicators);
    for (got, want) in exported.tasks.iter().zip(&committed.tasks) {
        // Targets are curated: a document cannot carry them.
        assert_eq!(
            (&got.code, &got.text, &got.leads, &got.responsible, &got.indicator),
            (&want.code, &want.text, &want.leads, &want.responsible, &want.indicator)
        );
    }
}

#[test]
fn export_then_import_reproduces_the_data() {
    let first = TestDb::with_demo();
    let mut conn = first.conn();
    let campaign = to_pretty_json(&duban::export::campaign_seed(&mut conn, "luoping").unwrap());
    let roster = to_pretty_json(&duban::export::roster_seed(&mut conn, "罗平县").unwrap());
    // The export of the demo data is the committed seed files, byte for byte.
    assert!(campaign == seed_file("luoping.campaign.json"), "export differs from seeds/luoping.campaign.json");
    assert!(roster == seed_file("luoping.units.json"), "export differs from seeds/luoping.units.json");

    let second = TestDb::new();
    let mut other = second.conn();
    import::run(&mut other, &operator().import_data(), &Actor::command_line(), &Source::from_json(&roster).unwrap(), "roster", false)
        .unwrap();
    import::run(&mut other, &operator().import_data(), &Actor::command_line(), &Source::from_json(&campaign).unwrap(), "campaign", false)
        .unwrap();
    assert_eq!(to_pretty_json(&duban::export::campaign_seed(&mut other, "luoping").unwrap()), campaign);
    assert_eq!(to_pretty_json(&duban::export::roster_seed(&mut other, "罗平县").unwrap()), roster);
}

#[test]
fn unknown_units_are_created_and_reported() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    let mut seed = CampaignSeed::from_json(&seed_file("luoping.campaign.json")).unwrap();
    seed.tasks[0].leads.push("县档案馆".to_owned());
    seed.tasks[1].responsible = Some("各村(社区)".to_owned());
    let report =
        import::run(&mut conn, &operator().import_data(), &Actor::command_line(), &Source::Campaign(Box::new(seed)), "edited", false)
            .unwrap();
    assert_eq!(report.count(Entity::Unit, ChangeAction::Created), 1);
    assert_eq!(report.count(Entity::UnitGroup, ChangeAction::Created), 1);
    assert_eq!(report.warnings.len(), 2, "{:#?}", report.warnings);
    assert!(report.warnings[0].contains("县档案馆") && report.warnings[0].contains("other"), "{}", report.warnings[0]);
}
