//! The Luoping breakdown table, read exactly as the county wrote it.

use duban_breakdown::{Column, Document, NormalisationKind, read_text_dump};
use duban_dto::TaskList;

const LUOPING: &str = include_str!("../../../seeds/luoping-task-breakdown.txt");

fn luoping() -> Document {
    read_text_dump(LUOPING).unwrap_or_else(|errors| panic!("{errors}"))
}

#[test]
fn holds_the_totals_the_document_states() {
    let document = luoping();
    assert_eq!(document.tasks.len(), 229);
    assert_eq!(document.count(TaskList::Basic), 155);
    assert_eq!(document.count(TaskList::Quantified), 32);
    assert_eq!(document.count(TaskList::Extended), 35);
    assert_eq!(document.count(TaskList::Negative), 7);
    assert_eq!(document.level1.len(), 9);
    assert_eq!(document.level2.len(), 32);
    assert_eq!(document.title.as_deref(), Some("罗平县法治政府建设示范创建指标任务分解表"));
    assert_eq!(document.region.as_deref(), Some("罗平县"));
}

#[test]
fn places_every_level2_group_under_its_level1() {
    let document = luoping();
    let parents: Vec<(String, String)> = document
        .level2
        .iter()
        .map(|level2| {
            let parent = document.level1.iter().find(|l1| l1.number == level2.parent).unwrap();
            (level2.code(), parent.code())
        })
        .collect();
    let expected_children: [(&str, std::ops::RangeInclusive<u32>); 9] = [
        ("一", 1..=5),
        ("二", 6..=9),
        ("三", 10..=15),
        ("四", 16..=21),
        ("五", 22..=24),
        ("六", 25..=26),
        ("七", 27..=28),
        ("八", 29..=30),
        ("九", 31..=32),
    ];
    for (level1, range) in expected_children {
        for number in range {
            let code = duban_breakdown::document::level2_code(number);
            assert!(parents.contains(&(code.clone(), level1.to_owned())), "{code} should be under {level1}");
        }
    }
    // The page header at (五)'s continuation names 二; (五) stays under 一.
    let wrong = document.normalisations.iter().filter(|n| n.kind == NormalisationKind::WrongLevel1Label).collect::<Vec<_>>();
    assert_eq!(wrong.len(), 1, "{wrong:#?}");
    assert!(wrong[0].detail.contains("(五)"));
}

#[test]
fn reads_indicator_titles_as_written() {
    let document = luoping();
    let titles: Vec<(String, &str)> = document.level1.iter().map(|l| (l.code(), l.title.as_str())).collect();
    assert_eq!(titles[0], ("一".to_owned(), "政府职能依法全面履行"));
    // A title written over two lines in its cell.
    assert_eq!(titles[7], ("八".to_owned(), "政府工作人员法治思维和依法行政能力全面提高"));
    let level2 = |n: u32| document.level2.iter().find(|l| l.number == n).unwrap().title.as_str();
    assert_eq!(level2(1), "加大简政放权力度");
    // Full-width brackets in the source, trailing 。 in the source.
    assert_eq!(level2(18), "全面推行执法全过程记录制度");
    assert_eq!(level2(19), "全面推行重大执法决定法制审核制度");
    assert_eq!(level2(29), "树立重视法治素养和法治能力用人导向");
    assert_eq!(level2(32), "强化考核评价和督促落实");
}

#[test]
fn reads_sample_tasks_verbatim_from_every_list() {
    let document = luoping();
    let task = |code: &str| document.task(code).unwrap_or_else(|| panic!("no task {code}"));

    let first = task("B001");
    assert_eq!(first.text, "全面普及行政审批服务“马上办、网上办、就近办、一次办、自助办”。");
    assert_eq!(first.leads, ["县政务局"]);
    assert_eq!(first.responsible.as_deref(), Some("各有关部门、各乡镇(街道)按职责分工分别负责"));
    assert_eq!(first.level2, Some(1));

    // Several lead units, one per line, in the document's order.
    let multi = task("B014");
    assert_eq!(multi.leads, ["县政务局", "县市场监管局", "县税务局", "县人社局"]);
    assert!(multi.text.starts_with("进一步压缩企业开办时间，实际办理时限不超过5个工作日"));

    // A blank 责任单位 cell, a collective lead and a Word bookmark in the text.
    let blank = task("B077");
    assert_eq!(blank.text, "严格贯彻落实《中华人民共和国行政处罚法》。");
    assert_eq!(blank.leads, ["各行政执法单位"]);
    assert_eq!(blank.responsible, None);
    assert_eq!(blank.level2, Some(16));

    // A lead cell that starts with a blank line; a responsible cell with a blank line before it.
    assert_eq!(task("B026").leads, ["县市场监管局"]);
    assert_eq!(task("B041").leads, ["县政务局"]);
    // A responsible phrase written over two lines.
    assert_eq!(task("B135").responsible.as_deref(), Some("各有关部门、各乡镇(街道)按职责分工分别负责"));
    // Full-width brackets in a responsible phrase.
    assert_eq!(task("B144").responsible.as_deref(), Some("各有关部门、各乡镇(街道)按职责分工分别负责"));
    assert_eq!(task("B155").text, "每年对法治政府建设情况开展督察考评，对工作不力、问题较多的单位开展约谈整改。");

    let quantified = task("Q29");
    assert_eq!(quantified.list, TaskList::Quantified);
    assert_eq!(quantified.level2, None);
    assert_eq!(quantified.leads, ["县委宣传部", "县政府办公室", "县融媒体中心"]);
    assert!(quantified.text.contains("5小时内") && quantified.text.contains("24小时内"));
    assert_eq!(task("Q01").text, "企业开办实际办理时限不超过5个工作日。");

    // 序号 20 of the extended list is written on the line after its tab.
    let extended = task("E20");
    assert_eq!(extended.number, 20);
    assert_eq!(extended.leads, ["县应急管理局", "县公安局"]);
    assert_eq!(task("E27").leads, ["县政府办"]);
    assert_eq!(task("E35").leads, ["县司法局", "县融媒体中心"]);

    let negative = task("N7");
    assert_eq!(negative.list, TaskList::Negative);
    assert_eq!(negative.text, "在示范创建工作申报材料中,故意编造、虚构有关数据、资料、文件等，或者隐瞒事实真相。");
    assert_eq!(negative.leads, ["县司法局"]);
}

#[test]
fn reports_every_kind_of_normalisation_it_applied() {
    let document = luoping();
    let count = |kind| document.normalisations.iter().filter(|n| n.kind == kind).count();
    assert_eq!(count(NormalisationKind::PageHeaderSkipped), 23);
    assert_eq!(count(NormalisationKind::WordArtifactRemoved), 1);
    assert_eq!(count(NormalisationKind::TitlePunctuationDropped), 1);
    assert!(count(NormalisationKind::FullWidthNormalised) >= 4);
    assert!(count(NormalisationKind::BlankLinesDropped) >= 5);
    // The level-1 label 九 repeats beside the three special lists' page headers.
    assert_eq!(count(NormalisationKind::Level1LabelBesideList), 7);
    assert_eq!(count(NormalisationKind::StaleLevel1Label), 0);
    assert_eq!(count(NormalisationKind::CellLinesJoined), 2);
    let bookmark = document.normalisations.iter().find(|n| n.kind == NormalisationKind::WordArtifactRemoved).unwrap();
    assert_eq!(bookmark.at.line, 658);
    assert_eq!(bookmark.at.column, Some(Column::Task));
}

/// Replaces the `nth` (0-based) occurrence of `from` in the document.
fn corrupt(from: &str, to: &str, nth: usize) -> String {
    let (index, _) = LUOPING.match_indices(from).nth(nth).unwrap_or_else(|| panic!("{from:?} #{nth} not in the document"));
    format!("{}{}{}", &LUOPING[..index], to, &LUOPING[index + from.len()..])
}

fn errors_of(text: &str) -> Vec<String> {
    match read_text_dump(text) {
        Ok(_) => panic!("a corrupted document was accepted"),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn names_the_row_and_cell_of_a_bad_task_number() {
    let errors = errors_of(&corrupt("\t12\n", "\t1２a\n", 0));
    assert_eq!(errors, ["line 107 (table row 14, cell 序号): 序号 must be a whole number, found \"12a\""]);
}

#[test]
fn names_a_missing_row() {
    // Delete the row of basic task 3 (four lines of cells plus the row end).
    let without_task_3 = corrupt("\t\n\t\n\t3\n\t依法实施行政许可。\n\t县政务局\n\t各有关部门、各乡镇(街道)按职责分工分别负责\n\n", "", 0);
    let errors = errors_of(&without_task_3);
    assert!(errors.iter().any(|e| e.contains("cell 序号") && e.contains("序号 4") && e.contains("3 was expected")), "{errors:#?}");
    assert!(errors.iter().any(|e| e.contains("states 155 tasks on the 基础任务清单 but the table holds 154")), "{errors:#?}");
}

#[test]
fn names_a_row_that_lost_a_cell() {
    let errors = errors_of(&corrupt("\t依法实施行政许可。\n", "", 0));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("line 28 (table row 4)"), "{errors:#?}");
}

#[test]
fn names_an_indicator_out_of_order() {
    let errors = errors_of(&corrupt("(三)加强事中事后监管", "(四)加强事中事后监管", 0));
    assert!(errors.iter().any(|e| e.contains("cell 二级指标") && e.contains("(三) was expected")), "{errors:#?}");
}

#[test]
fn names_a_title_that_contradicts_itself() {
    let errors = errors_of(&corrupt("(二)全面落实权责清单、负面清单制度", "(二)全面落实其他制度", 1));
    assert!(errors.iter().any(|e| e.contains("(二) is titled")), "{errors:#?}");
}

#[test]
fn refuses_a_list_that_begins_twice() {
    let errors = errors_of(&corrupt("负面清单(7项)", "量化任务清单(32项)", 0));
    assert!(errors.iter().any(|e| e.contains("began earlier")), "{errors:#?}");
}
