//! The progress bulletin (工作进展通报) as a document in the layout of GB/T
//! 9704: the issuing organ in red over the red rule, the document number,
//! the title, the addressees, the office's summary, then the figures —
//! progress per indicator and list (with a chart), the units' scores and
//! ranks, the units named for late work, the negative list — the office's
//! requirements, the issuing organ and date, and an appendix listing every
//! late assignment the figures count.
//!
//! Everything it shows comes from [`BulletinText`] and the frozen
//! [`BulletinInputs`], so the same inputs always give the same bytes.

use chrono::NaiveDate;
use duban_dto::UnitKind;
use duban_dto::api::{BulletinInputs, Rate};

use super::chart;
use super::docx::{Align, Document, Image, Paragraph, Run, Table};
use super::notice::chinese_date;

const RED: &str = "E60012";
const HEADING: &str = "方正小标宋简体";
const BODY: &str = "仿宋_GB2312";
const EMPHASIS: &str = "黑体";
const SUBHEADING: &str = "楷体_GB2312";

/// The words of a bulletin: what the office wrote and what the issue gave.
#[derive(Debug, Clone)]
pub struct BulletinText<'a> {
    pub organ: &'a str,
    /// `None` while a draft: the number is given when it is issued.
    pub doc_number: Option<&'a str>,
    /// The date it is signed; a draft shows the day it is previewed.
    pub dated: NaiveDate,
    pub title: &'a str,
    pub addressees: &'a str,
    pub summary: &'a str,
    pub requirements: &'a str,
    pub from: NaiveDate,
    pub as_of: NaiveDate,
}

fn percent(rate: &Rate) -> String {
    match rate.value {
        Some(value) => format!("{:.1}%", value * 100.0),
        None => "—".to_owned(),
    }
}

fn number(value: f64) -> String {
    format!("{value:.1}")
}

pub fn document(text: &BulletinText<'_>, inputs: &BulletinInputs) -> Document {
    let number_line = match text.doc_number {
        Some(number) => number.to_owned(),
        None => "（送审稿，签发时编号）".to_owned(),
    };
    let mut document = Document::new(format!("{number_line} {}", text.title));
    let body = |line: String| Paragraph::new(Align::Both).indent_first_line(2).run(Run::new(line, BODY, 16.0));
    let heading = |line: &str| Paragraph::new(Align::Left).indent_first_line(2).run(Run::new(line, EMPHASIS, 16.0));
    let caption = |line: String| Paragraph::new(Align::Center).run(Run::new(line, SUBHEADING, 14.0));

    document.push(Paragraph::new(Align::Center).space_after(12).run(Run::new(text.organ, HEADING, 26.0).colour(RED)));
    document.push(Paragraph::new(Align::Center).space_after(18).rule_below(RED).run(Run::new(number_line, BODY, 16.0)));
    document.push(Paragraph::new(Align::Center).space_after(18).run(Run::new(text.title, HEADING, 22.0)));
    document.push(Paragraph::new(Align::Left).run(Run::new(format!("{}：", text.addressees.trim_end_matches('：')), BODY, 16.0)));
    for line in text.summary.lines().map(str::trim).filter(|line| !line.is_empty()) {
        document.push(body(line.to_owned()));
    }

    let scores = &inputs.scores;
    let lists: Vec<_> = inputs.progress.iter().filter(|line| line.list).collect();
    let tasks: i64 = lists.iter().map(|line| line.tasks).sum();
    let approved: i64 = lists.iter().map(|line| line.approved).sum();
    let overdue: i64 = lists.iter().map(|line| line.overdue).sum();
    document.push(heading("一、总体进展"));
    document.push(body(format!(
        "{}至{}，全县{}项任务中已审核通过{}项（{}），逾期未完成{}项。按考核评分方案，全县得分{}分（满分{}分）{}。",
        chinese_date(text.from),
        chinese_date(text.as_of),
        tasks,
        approved,
        percent(&duban_rules::scoring::rate(approved, tasks)),
        overdue,
        number(scores.score),
        number(scores.max_score),
        if scores.vetoed { "，因负面清单事项经确认发生，实行一票否决" } else { "" },
    )));
    document.push(caption("表1 各指标和清单进展".to_owned()));
    let mut table = Table::new(BODY, 12.0, &[("指标或清单", 16), ("任务数", 5), ("已通过", 5), ("完成率", 6), ("逾期", 4)]);
    for line in &inputs.progress {
        table.row(vec![
            line.label.clone(),
            line.tasks.to_string(),
            line.approved.to_string(),
            percent(&duban_rules::scoring::rate(line.approved, line.tasks)),
            line.overdue.to_string(),
        ]);
    }
    document.table(table);
    let shares: Vec<f64> = scores.indicators.iter().map(|indicator| indicator.approved.value.unwrap_or(0.0)).collect();
    let (png, width, height) = chart::share_bars(&shares);
    document.image(Image::png(png, width, height, 150.0, "各一级指标基本任务完成率"));
    document.push(caption("图1 各一级指标基本任务完成率（自上而下依次为指标一至九）".to_owned()));

    document.push(heading("二、单位得分和排名"));
    document.push(body(
        "单位得分由任务完成率、按时报送率、一次通过率和督办按时反馈率加权计算，按部门、乡镇（街道）等类别分别排名；得分相同的名次并列。"
            .to_owned(),
    ));
    let mut table_number = 2;
    for kind in UnitKind::ALL {
        let units: Vec<_> = scores.units.iter().filter(|unit| unit.kind == *kind && unit.score.is_some()).collect();
        if units.is_empty() {
            continue;
        }
        document.push(caption(format!("表{table_number} {}得分排名", kind.zh_name())));
        table_number += 1;
        let mut table = Table::new(
            BODY,
            10.5,
            &[("名次", 4), ("单位", 14), ("得分", 5), ("完成率", 6), ("按时率", 6), ("一次通过率", 6), ("督办反馈", 6)],
        );
        for unit in units {
            table.row(vec![
                unit.rank.map(|rank| rank.to_string()).unwrap_or_default(),
                if unit.vetoed { format!("{}（否决）", unit.unit.name) } else { unit.unit.name.clone() },
                unit.score.map(number).unwrap_or_default(),
                percent(&unit.completion),
                percent(&unit.on_time),
                percent(&unit.first_pass),
                percent(&unit.notices),
            ]);
        }
        document.table(table);
    }

    document.push(heading("三、点名通报"));
    if inputs.late.is_empty() {
        document.push(body("本期没有逾期未完成任务的单位。".to_owned()));
    } else {
        let names: Vec<&str> = inputs.late.iter().map(|late| late.unit.name.as_str()).collect();
        document.push(body(format!("以下{}个单位有逾期未完成的任务，予以点名通报：{}。", names.len(), names.join("、"))));
        document.push(caption(format!("表{table_number} 逾期单位")));
        table_number += 1;
        let mut table = Table::new(BODY, 12.0, &[("单位", 16), ("逾期任务数", 6), ("最长逾期天数", 7)]);
        for late in &inputs.late {
            table.row(vec![late.unit.name.clone(), late.late.to_string(), late.most_days.to_string()]);
        }
        document.table(table);
    }

    document.push(heading("四、负面清单"));
    let occurred: Vec<_> = inputs.negative.iter().filter(|line| !line.occurred_in.is_empty()).collect();
    document.push(body(if occurred.is_empty() {
        format!("截至{}，负面清单{}项事项均未发生。", chinese_date(text.as_of), inputs.negative.len())
    } else {
        format!("截至{}，负面清单中有{}项事项经确认发生，实行一票否决。", chinese_date(text.as_of), occurred.len())
    }));
    document.push(caption(format!("表{table_number} 负面清单情况")));
    let mut table = Table::new(BODY, 10.5, &[("序号", 4), ("事项", 24), ("情况", 10)]);
    for line in &inputs.negative {
        let state =
            if line.occurred_in.is_empty() { "未发生".to_owned() } else { format!("已发生：{}", line.occurred_in.join("、")) };
        table.row(vec![line.code.clone(), line.text.clone(), state]);
    }
    document.table(table);

    document.push(heading("五、下步工作要求"));
    for line in text.requirements.lines().map(str::trim).filter(|line| !line.is_empty()) {
        document.push(body(line.to_owned()));
    }
    if !inputs.late_assignments.is_empty() {
        document.push(body("附件：逾期任务明细".to_owned()));
    }
    document.push(Paragraph::new(Align::Right).run(Run::new(text.organ, BODY, 16.0)));
    document.push(Paragraph::new(Align::Right).space_after(18).run(Run::new(chinese_date(text.dated), BODY, 16.0)));

    if !inputs.late_assignments.is_empty() {
        document.push(Paragraph::new(Align::Left).run(Run::new("附件", EMPHASIS, 16.0)));
        document.push(Paragraph::new(Align::Center).run(Run::new("逾期任务明细", HEADING, 18.0)));
        let mut table = Table::new(BODY, 10.5, &[("分工编号", 6), ("单位", 14), ("任务", 6), ("到期日", 9), ("逾期天数", 6)]);
        for late in &inputs.late_assignments {
            table.row(vec![
                late.assignment_id.to_string(),
                late.unit.clone(),
                late.task_code.clone(),
                late.due_date.to_string(),
                late.days.to_string(),
            ]);
        }
        document.table(table);
    }
    document
}
