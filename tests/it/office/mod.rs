//! The breakdown table through Word, Excel and the flat format: every
//! format reads to the same table as the text dump, exports open with
//! merged cells, and an exported file imports without changes.

pub(crate) mod fixtures;

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use diesel::PgConnection;
use duban::audit::Actor;
use duban::authz::Operator;
use duban::export::{self, BreakdownFile};
use duban::import::{self, ChangeAction, Entity, ImportError, ImportReport, Source};
use duban_breakdown::seed::CampaignSeed;
use duban_breakdown::{Document, Format, NormalisationKind, read_document, read_text_dump, text_dump};
use duban_tests::{TestDb, TestServer};

use crate::support::{document, seed_file, snapshot};

/// What a table means, without where each part was found: equal for the
/// same content in any format.
fn meaning(document: &Document) -> String {
    let level1: Vec<_> = document.level1.iter().map(|l| (l.number, &l.title)).collect();
    let level2: Vec<_> = document.level2.iter().map(|l| (l.number, l.parent, &l.title)).collect();
    let tasks: Vec<_> = document.tasks.iter().map(|t| (t.list, t.number, t.level2, &t.text, &t.leads, &t.responsible)).collect();
    format!(
        "{:?}\n{:?}\n{:?} {:?}\n{level1:?}\n{level2:?}\n{tasks:#?}",
        document.title, document.region, document.stated.all, document.stated.per_list
    )
}

fn import(conn: &mut PgConnection, bytes: &[u8], name: &str, campaign: Option<&str>, dry_run: bool) -> Result<ImportReport, ImportError> {
    let source = Source::from_bytes(bytes, Some(name), campaign.map(str::to_owned))?;
    run(conn, &source, name, dry_run)
}

fn run(conn: &mut PgConnection, source: &Source, name: &str, dry_run: bool) -> Result<ImportReport, ImportError> {
    import::run(conn, &Operator::for_tests().import_data(), &Actor::command_line(), &source, name, dry_run)
}

fn exported(conn: &mut PgConnection, code: &str, file: BreakdownFile) -> Vec<u8> {
    let operator = Operator::for_tests();
    export::breakdown_file(conn, &operator.read_catalog(), &operator.read_progress(), &Actor::command_line(), code, file).unwrap().bytes
}

/// A campaign as data, leaving out the text dump's line numbers, which
/// only a text dump has.
fn campaign_data(conn: &mut PgConnection, code: &str) -> CampaignSeed {
    let mut seed = export::campaign_seed(conn, code).unwrap();
    for task in &mut seed.tasks {
        task.source_line = None;
    }
    seed
}

#[test]
fn word_and_excel_copies_of_the_luoping_table_read_as_the_text_dump() {
    let dump = document();
    let expected = read_text_dump(&dump).unwrap();
    let raw = text_dump::read(&dump).unwrap();

    let from_word = read_document(Format::Docx, &fixtures::docx(&raw)).unwrap();
    let from_excel = read_document(Format::Workbook, &fixtures::xlsx(&raw)).unwrap();
    assert_eq!(meaning(&from_word), meaning(&expected));
    assert_eq!(meaning(&from_excel), meaning(&expected));
    assert_eq!(expected.tasks.len(), 229);

    // The same normalisations apply whatever the format: the document's
    // full-width brackets and Word bookmarks are cleaned in the .docx too.
    for kind in [NormalisationKind::FullWidthNormalised, NormalisationKind::WordArtifactRemoved] {
        assert!(from_word.normalisations.iter().any(|n| n.kind == kind), "{kind:?}");
    }
    // Locations name the Word table or the sheet.
    let located = from_excel.normalisations.iter().find(|n| n.at.row.is_some()).unwrap();
    assert!(located.at.to_string().starts_with("sheet 附件2, row "), "{}", located.at);
}

#[test]
fn a_word_table_imports_to_exactly_the_text_dumps_data() {
    let raw = text_dump::read(&document()).unwrap();
    // Onto the demo data, which came from the text dump: nothing changes.
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    let before = snapshot(&mut conn);
    for (name, bytes) in [("附件2.docx", fixtures::docx(&raw)), ("附件2.xlsx", fixtures::xlsx(&raw))] {
        let report = import(&mut conn, &bytes, name, None, false).unwrap();
        assert!(report.is_unchanged(), "{name}: {report}");
    }
    assert_eq!(snapshot(&mut conn), before);

    // Into a database with only the roster: the same tasks, indicators and
    // parties as the text dump gives.
    let fresh = TestDb::new();
    let mut conn = fresh.conn();
    let roster = Source::from_json(&seed_file("luoping.units.json")).unwrap();
    import::run(&mut conn, &Operator::for_tests().import_data(), &Actor::command_line(), &roster, "roster", false).unwrap();
    import(&mut conn, &fixtures::docx(&raw), "附件2.docx", Some("luoping"), false).unwrap();
    let from_word = campaign_data(&mut conn, "luoping");
    // The text dump over it adds only its line numbers.
    let report = import(&mut conn, document().as_bytes(), "附件2.txt", Some("luoping"), false).unwrap();
    assert!(!report.changes.is_empty());
    for change in &report.changes {
        assert_eq!(
            (change.entity, change.action, change.fields.as_slice()),
            (Entity::Task, ChangeAction::Updated, ["source_line"].as_slice())
        );
    }
    assert_eq!(campaign_data(&mut conn, "luoping"), from_word);
}

/// A county other than Luoping: other lead units, a table written by hand.
fn qingshan() -> duban_breakdown::table::RawTable {
    fixtures::table(
        &["附件", "青山县法治政府建设示范创建指标任务分解表", "共7项，含基础任务清单4项、量化任务清单1项、延伸任务清单1项、负面清单1项。"],
        &[
            ["一、政府职能依法全面履行", "(一)深化行政审批制度改革", "1", "推行政务服务“一网通办”。", "县政务服务管理局", "各乡镇人民政府"],
            ["", "", "2", "规范行政审批中介服务。", "县发展和改革局\n县市场监督管理局", ""],
            ["", "（二）优化营商环境", "3", "清理妨碍统一市场和公平竞争的政策措施。", "县市场监督管理局", "各有关部门"],
            ["二、依法行政制度体系完善", "(三)加强规范性文件监督管理", "4", "规范性文件全部纳入备案审查。", "县司法局", "县人民政府办公室"],
            ["", "量化任务清单(1项)", "1", "行政复议决定纠错率逐年下降。", "县司法局", ""],
            ["", "延伸任务清单(1项)", "1", "建成县级法治文化公园。", "县委宣传部\n县司法局", "各乡镇人民政府"],
            ["", "负面清单(1项)", "1", "不发生因行政不作为引发的重大群体性事件。", "县人民政府", "各乡镇人民政府、各有关部门"],
        ],
    )
}

#[test]
fn another_countys_table_imports_the_same_from_every_format() {
    let raw = qingshan();
    let dump = fixtures::text_dump(&raw);
    let files = [
        ("青山县.txt", dump.clone().into_bytes()),
        ("青山县.docx", fixtures::docx(&raw)),
        ("青山县.xlsx", fixtures::xlsx(&raw)),
        ("青山县.csv", flat_csv().into_bytes()),
        ("青山县.json", flat_json().into_bytes()),
    ];
    let mut results = Vec::new();
    for (name, bytes) in &files {
        let db = TestDb::new();
        let mut conn = db.conn();
        let mut source = Source::from_bytes(bytes, Some(name), Some("qingshan".to_owned())).unwrap();
        // Flat rows have no title to name the county; the importer is told.
        source.set_region("青山县").unwrap();
        let report = run(&mut conn, &source, name, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.count(Entity::Task, ChangeAction::Created), 7, "{name}");
        // Units the county has no roster for yet are created and reported.
        assert!(report.warnings.iter().any(|w| w.contains("县政务服务管理局")), "{name}: {report}");
        let campaign = campaign_data(&mut conn, "qingshan");
        let roster = export::roster_seed(&mut conn, "青山县").unwrap();
        results.push((name, campaign, roster));
    }
    let (_, campaign, roster) = &results[0];
    assert_eq!(campaign.tasks[1].leads, ["县发展和改革局", "县市场监督管理局"]);
    assert_eq!(campaign.indicators[0].children[1].title, "优化营商环境");
    for (name, other_campaign, other_roster) in &results[1..] {
        assert_eq!(other_campaign.indicators, campaign.indicators, "{name}");
        assert_eq!(other_campaign.tasks, campaign.tasks, "{name}");
        assert_eq!(other_roster, roster, "{name}");
        // Word and Excel carry the title; flat rows do not.
        if name.ends_with(".docx") || name.ends_with(".xlsx") {
            assert_eq!(other_campaign.campaign, campaign.campaign, "{name}");
        } else {
            assert_eq!(other_campaign.campaign.name, campaign.campaign.name, "{name}");
        }
    }
}

fn flat_csv() -> String {
    "code,list,number,level1,level2,text,leads,responsible\n\
     B001,basic,1,一、政府职能依法全面履行,(一)深化行政审批制度改革,推行政务服务“一网通办”。,县政务服务管理局,各乡镇人民政府\n\
     B002,basic,2,一、政府职能依法全面履行,(一)深化行政审批制度改革,规范行政审批中介服务。,\"县发展和改革局\n县市场监督管理局\",\n\
     B003,basic,3,一、政府职能依法全面履行,（二）优化营商环境,清理妨碍统一市场和公平竞争的政策措施。,县市场监督管理局,各有关部门\n\
     B004,basic,4,二、依法行政制度体系完善,(三)加强规范性文件监督管理,规范性文件全部纳入备案审查。,县司法局,县人民政府办公室\n\
     Q01,quantified,1,,,行政复议决定纠错率逐年下降。,县司法局,\n\
     E01,extended,1,,,建成县级法治文化公园。,县委宣传部；县司法局,各乡镇人民政府\n\
     N1,negative,1,,,不发生因行政不作为引发的重大群体性事件。,县人民政府,各乡镇人民政府、各有关部门\n"
        .to_owned()
}

fn flat_json() -> String {
    serde_json::json!([
        {"list": "basic", "number": 1, "level1": "一、政府职能依法全面履行", "level2": "(一)深化行政审批制度改革", "text": "推行政务服务“一网通办”。", "leads": ["县政务服务管理局"], "responsible": "各乡镇人民政府"},
        {"list": "basic", "number": 2, "level1": "一、政府职能依法全面履行", "level2": "(一)深化行政审批制度改革", "text": "规范行政审批中介服务。", "leads": ["县发展和改革局", "县市场监督管理局"]},
        {"list": "basic", "number": 3, "level1": "一、政府职能依法全面履行", "level2": "(二)优化营商环境", "text": "清理妨碍统一市场和公平竞争的政策措施。", "leads": "县市场监督管理局", "responsible": "各有关部门"},
        {"list": "basic", "number": 4, "level1": "二、依法行政制度体系完善", "level2": "(三)加强规范性文件监督管理", "text": "规范性文件全部纳入备案审查。", "leads": ["县司法局"], "responsible": "县人民政府办公室"},
        {"code": "Q01", "list": "quantified", "number": 1, "text": "行政复议决定纠错率逐年下降。", "leads": ["县司法局"]},
        {"list": "extended", "number": "1", "text": "建成县级法治文化公园。", "leads": ["县委宣传部", "县司法局"], "responsible": "各乡镇人民政府"},
        {"list": "负面清单", "number": 1, "text": "不发生因行政不作为引发的重大群体性事件。", "leads": ["县人民政府"], "responsible": "各乡镇人民政府、各有关部门"}
    ])
    .to_string()
}

#[test]
fn the_exported_workbook_has_the_provinces_layout_with_merged_cells() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let client = server.login("yfzxb");
    let response = client.get("/api/v1/campaigns/luoping/export.xlsx");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''luoping-"));
    let bytes = response.bytes().unwrap().to_vec();

    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(workbook.sheet_names(), ["基础任务清单", "量化任务清单", "延伸任务清单", "负面清单", "单位任务清单"]);
    let merges = workbook.merge_cells_by_sheet_name("基础任务清单").unwrap();
    let in_column = |column: u32| merges.iter().filter(|d| d.start.1 == column && d.end.1 == column && d.end.0 > d.start.0).count();
    // Every level-1 indicator spans several tasks; so do 30 of the 32
    // level-2 indicators (two have a single task each).
    assert_eq!(in_column(0), 9);
    let single_task_level2 = {
        let mut conn = db.conn();
        crate::support::count(
            &mut conn,
            "SELECT count(*) FROM (SELECT indicator_id FROM tasks WHERE indicator_id IS NOT NULL GROUP BY indicator_id HAVING count(*) = 1) AS single",
        ) as usize
    };
    assert_eq!(in_column(1), 32 - single_task_level2);
    // The title spans the table.
    assert!(merges.iter().any(|d| d.start == (0, 0) && d.start.0 == d.end.0 && d.end.1 >= 5));

    let basic = workbook.worksheet_range("基础任务清单").unwrap();
    let header: Vec<String> = basic.rows().nth(2).unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        header,
        [
            "一级指标",
            "二级指标",
            "序号",
            "三级指标(具体任务事项)",
            "牵头单位",
            "责任单位",
            "任务编码",
            "状态",
            "截止日期",
            "是否逾期",
            "进展",
            "佐证材料数",
            "最后更新",
            "审核人"
        ]
    );
    let first = basic.rows().nth(3).unwrap();
    assert_eq!(first[0].to_string(), "一、政府职能依法全面履行");
    assert_eq!(first[1].to_string(), "(一)加大简政放权力度");
    assert_eq!(first[6].to_string(), "B001");
    assert_eq!(first[7].to_string(), "未开始");
    let quantified = workbook.worksheet_range("量化任务清单").unwrap();
    assert_eq!(quantified.rows().nth(3).unwrap()[1].to_string(), "量化任务清单(32项)");
    assert_eq!(quantified.rows().count(), 3 + 32);
    // The per-unit list has a row per assignment.
    let assignments = crate::support::count(&mut db.conn(), "SELECT count(*) FROM assignments") as usize;
    assert_eq!(workbook.worksheet_range("单位任务清单").unwrap().rows().count(), 3 + assignments);

    // Imported again, the workbook changes nothing.
    let mut conn = db.conn();
    let before = snapshot(&mut conn);
    let report = import(&mut conn, &bytes, "luoping-任务分解表.xlsx", None, false).unwrap();
    assert!(report.is_unchanged(), "{report}");
    assert_eq!(snapshot(&mut conn), before);
}

#[test]
fn exported_csv_imports_without_changes_after_work_has_started() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    // Progress on a task shows in the export and does not disturb the round trip.
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE assignments SET progress_note = '已完成自查', status = 'in_progress' WHERE id = (SELECT min(id) FROM assignments WHERE task_id = 1)"),
        &mut conn,
    )
    .unwrap();
    duban::rollup::refresh(&mut conn, &[1]).unwrap();
    let before = snapshot(&mut conn);
    let csv = exported(&mut conn, "luoping", BreakdownFile::TasksCsv);
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.starts_with("\u{feff}任务编码,清单,序号,一级指标"), "{}", &text[..80]);
    assert!(text.contains("已完成自查"));
    let report = import(&mut conn, &csv, "luoping.csv", None, false).unwrap();
    assert!(report.is_unchanged(), "{report}");

    let workbook = exported(&mut conn, "luoping", BreakdownFile::Workbook);
    let report = import(&mut conn, &workbook, "luoping.xlsx", None, false).unwrap();
    assert!(report.is_unchanged(), "{report}");

    let units = String::from_utf8(exported(&mut conn, "luoping", BreakdownFile::UnitTasksCsv)).unwrap();
    assert!(units.starts_with("\u{feff}单位,任务编码,角色,任务,状态"));
    // Exports are audited; nothing else changed.
    let after = snapshot(&mut conn);
    let changed: Vec<&String> = after.iter().filter(|row| !before.contains(row)).collect();
    assert!(changed.iter().all(|row| row.starts_with("audit_log")), "{changed:#?}");
}

#[test]
fn a_workbook_with_bad_rows_names_each_and_writes_nothing() {
    let mut raw = qingshan();
    // Row 3 loses its lead units, row 4 its task text; the negative list's
    // row says 序号 2 where 1 belongs.
    raw.rows[2].cells[4].paragraphs.clear();
    raw.rows[3].cells[3].paragraphs.clear();
    raw.rows[7].cells[2].paragraphs = vec!["2".to_owned()];
    let db = TestDb::new();
    let mut conn = db.conn();
    let before = snapshot(&mut conn);
    let error = import(&mut conn, &fixtures::xlsx(&raw), "青山县.xlsx", Some("qingshan"), true).unwrap_err();
    let ImportError::Document(errors) = error else { panic!("{error}") };
    let messages: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(messages[0].starts_with("sheet 附件2, row 7, cell 牵头单位: no lead unit is named"), "{messages:#?}");
    assert!(messages[1].starts_with("sheet 附件2, row 8, cell 三级指标(具体任务事项): the task text is empty"), "{messages:#?}");
    assert!(messages[2].starts_with("sheet 附件2, row 12, cell 序号:"), "{messages:#?}");
    assert_eq!(snapshot(&mut conn), before);
}

/// Every item of a paged list, following the cursor.
fn all_items(client: &duban_tests::Client, path: &str) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let separator = if path.contains('?') { '&' } else { '?' };
        let page_path = match &cursor {
            Some(cursor) => format!("{path}{separator}limit=200&cursor={cursor}"),
            None => format!("{path}{separator}limit=200"),
        };
        let page = client.get_json(&page_path);
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

#[test]
fn exports_and_the_api_agree_on_every_tasks_status_with_late_work() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    // Some work is late: due yesterday, not approved.
    let yesterday = duban::clock::today().pred_opt().unwrap();
    let assignments = all_items(&office, "/api/v1/assignments");
    for assignment in assignments.iter().step_by(23) {
        let response = office
            .request(reqwest::Method::PATCH, &format!("/api/v1/assignments/{}", assignment["id"]))
            .header("If-Match", "*")
            .json(&serde_json::json!({"due_date": yesterday}))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let status_name = |value: &serde_json::Value| serde_json::from_value::<duban_dto::TaskStatus>(value.clone()).unwrap().zh_name();
    let api: std::collections::BTreeMap<String, &str> = all_items(&office, "/api/v1/tasks")
        .iter()
        .map(|task| (task["code"].as_str().unwrap().to_owned(), status_name(&task["status"])))
        .collect();
    assert_eq!(api.len(), 229);
    assert!(api.values().filter(|status| **status == "已逾期").count() >= 5, "the test has late tasks");

    // The workbook's list sheets: code, status, due date and the overdue mark.
    let bytes = office.get("/api/v1/campaigns/luoping/export.xlsx").bytes().unwrap();
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let mut in_workbook = std::collections::BTreeMap::new();
    for sheet in ["基础任务清单", "量化任务清单", "延伸任务清单", "负面清单"] {
        let range = workbook.worksheet_range(sheet).unwrap();
        for row in range.rows().skip(3) {
            let (code, status, overdue) = (row[6].to_string(), row[7].to_string(), row[9].to_string());
            assert_eq!(overdue == "是", status == "已逾期", "{code}: the overdue column agrees with the status");
            in_workbook.insert(code, status);
        }
    }
    let api_owned: std::collections::BTreeMap<String, String> =
        api.iter().map(|(code, status)| (code.clone(), status.to_string())).collect();
    assert_eq!(in_workbook, api_owned, "the workbook shows each task's status as the API does");

    // The CSV of the tasks, likewise.
    let csv = office.get("/api/v1/campaigns/luoping/export.csv?table=tasks").text().unwrap();
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|heading| heading == name).unwrap();
    let (code, status) = (column("任务编码"), column("状态"));
    let in_csv: std::collections::BTreeMap<String, String> =
        reader.records().map(|record| record.unwrap()).map(|record| (record[code].to_owned(), record[status].to_owned())).collect();
    assert_eq!(in_csv, api_owned, "the CSV shows each task's status as the API does");

    // The per-unit list marks exactly the late assignments.
    let late = all_items(&office, "/api/v1/assignments").iter().filter(|assignment| assignment["overdue"] == true).count();
    let units = workbook.worksheet_range("单位任务清单").unwrap();
    let marked = units.rows().skip(3).filter(|row| row[6].to_string() == "是").count();
    assert_eq!(marked, late);
}

/// 师宗县's own Word table: the same organs written in several ways (县政府办
/// and 县人民政府办公室, 县发改局 and 县发展和改革局, its own name before some),
/// offices the demo roster lacks, collective phrases in their local forms,
/// and two of its townships.
pub(crate) fn shizong() -> duban_breakdown::table::RawTable {
    fixtures::table(
        &["附件2", "师宗县法治政府建设示范创建指标任务分解表"],
        &[
            [
                "一、政府职能依法全面履行",
                "(一)深化行政审批制度改革",
                "1",
                "推行政务服务“一网通办”。",
                "县政务服务管理局\n县政府办",
                "各乡镇人民政府",
            ],
            ["", "", "2", "规范行政审批中介服务。", "县发改局\n师宗县市场监督管理局", "各有关部门"],
            ["", "（二）优化营商环境", "3", "清理妨碍统一市场和公平竞争的政策措施。", "县发展和改革局", "各部门、各乡镇（街道）"],
            [
                "二、依法行政制度体系完善",
                "(三)加强规范性文件监督管理",
                "4",
                "规范性文件全部纳入备案审查。",
                "县人民政府办公室\n县司法局",
                "县人大常委会办公室",
            ],
            ["", "(四)推进严格规范公正文明执法", "5", "全面推行行政执法三项制度。", "师宗县公安局", "各行政执法部门"],
            ["", "", "6", "加强行政执法与刑事司法衔接。", "县法院\n县检察院", "丹凤街道、葵山镇"],
            ["", "量化任务清单(1项)", "1", "行政复议决定纠错率逐年下降。", "县司法局", "各乡（镇）、街道"],
            ["", "负面清单(1项)", "1", "不发生因行政不作为引发的重大群体性事件。", "县人民政府", "各有关部门、各乡镇(街道)"],
        ],
    )
}

/// 富源县's table as a workbook, with other abbreviations again.
fn fuyuan() -> duban_breakdown::table::RawTable {
    fixtures::table(
        &["附件2", "富源县法治政府建设示范创建指标任务分解表"],
        &[
            ["一、政府职能依法全面履行", "(一)深化行政审批制度改革", "1", "推行政务服务“一网通办”。", "县政务局", "各乡镇、街道"],
            ["", "", "2", "规范行政审批中介服务。", "中共富源县委办公室\n县委办", "各相关部门"],
            [
                "二、依法行政制度体系完善",
                "(二)加强规范性文件监督管理",
                "3",
                "规范性文件全部纳入备案审查。",
                "富源县人民法院\n县人大办",
                "各执法部门",
            ],
            ["", "量化任务清单(1项)", "1", "行政复议决定纠错率逐年下降。", "县市场监管局\n县公安局", "中安街道"],
        ],
    )
}

#[test]
fn another_countys_own_tables_give_one_unit_per_organ_and_groups_with_members() {
    type Expected<'a> = &'a [(&'a str, duban_dto::UnitKind, bool)];
    use duban_dto::UnitKind::*;
    let cases: [(&str, &str, Vec<u8>, Expected<'_>); 2] = [
        (
            "师宗县.docx",
            "shizong",
            fixtures::docx(&shizong()),
            &[
                ("县政务服务管理局", GovernmentDepartment, false),
                ("县政府办公室", GovernmentDepartment, false),
                ("县发展和改革局", GovernmentDepartment, true),
                ("县市场监督管理局", GovernmentDepartment, true),
                ("县司法局", GovernmentDepartment, true),
                ("县人大常委会办公室", Other, false),
                ("县公安局", GovernmentDepartment, true),
                ("县人民法院", CourtOrProcuratorate, false),
                ("县人民检察院", CourtOrProcuratorate, false),
                ("丹凤街道", Township, false),
                ("葵山镇", Township, false),
                ("县人民政府", GovernmentDepartment, false),
            ],
        ),
        (
            "富源县.xlsx",
            "fuyuan",
            fixtures::xlsx(&fuyuan()),
            &[
                ("县政务服务管理局", GovernmentDepartment, false),
                ("县委办公室", PartyOrgan, false),
                ("县人民法院", CourtOrProcuratorate, false),
                ("县人大常委会办公室", Other, false),
                ("县市场监督管理局", GovernmentDepartment, true),
                ("县公安局", GovernmentDepartment, true),
                ("中安街道", Township, false),
            ],
        ),
    ];
    for (file, code, bytes, expected) in cases {
        let db = TestDb::new();
        let mut conn = db.conn();
        let report = import(&mut conn, &bytes, file, Some(code), false).unwrap_or_else(|e| panic!("{file}: {e}"));
        let region = if code == "shizong" { "师宗县" } else { "富源县" };
        let roster = export::roster_seed(&mut conn, region).unwrap();
        let mut units: Vec<(&str, duban_dto::UnitKind, bool)> =
            roster.units.iter().map(|unit| (unit.name.as_str(), unit.kind, unit.law_enforcement)).collect();
        units.sort();
        let mut wanted = expected.to_vec();
        wanted.sort();
        assert_eq!(units, wanted, "{file}: one unit per organ, with its kind and law-enforcement default\n{report}");
        // Every collective phrase became a group with members.
        for group in &roster.groups {
            let id: i64 = {
                use diesel::prelude::*;
                use duban::db::schema::unit_groups;
                unit_groups::table.filter(unit_groups::phrase.eq(&group.phrase)).select(unit_groups::id).first(&mut conn).unwrap()
            };
            let members = duban::db::groups::expand(&mut conn, id).unwrap();
            assert!(!members.is_empty(), "{file}: group {:?} has no members\n{report}", group.phrase);
        }
        assert!(!roster.groups.is_empty());
        assert!(!report.resolved_by_builtin_names.is_empty(), "{file}: the report lists what the built-in names resolved");
        if code == "shizong" {
            for line in
                ["县政府办 → 县政府办公室", "县发改局 → 县发展和改革局", "各乡镇人民政府 → 各乡镇(街道)", "各乡(镇)、街道 → 各乡镇(街道)"]
            {
                assert!(
                    report.resolved_by_builtin_names.iter().any(|l| l == line),
                    "{file}: {line:?} in {:?}",
                    report.resolved_by_builtin_names
                );
            }
            let office = roster.units.iter().find(|unit| unit.name == "县政府办公室").unwrap();
            assert!(
                office.aliases.contains(&"县政府办".to_owned()) && office.aliases.contains(&"县人民政府办公室".to_owned()),
                "{office:?}"
            );
            let phrases: Vec<&str> = roster.groups.iter().map(|group| group.phrase.as_str()).collect();
            assert!(phrases.contains(&"各乡镇(街道)") && phrases.contains(&"各行政执法单位"), "{phrases:?}");
        }
    }
}
