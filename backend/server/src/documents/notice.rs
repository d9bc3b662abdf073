//! The supervision notice (督办单) as a document: the issuing organ in red
//! with the red rule, the document number, the level, the title, the units
//! addressed, the requirement, the items supervised, the reply date, the
//! attachments, and the issuing organ and date at the end.

use chrono::{Datelike, NaiveDate};
use duban_dto::api::Notice;

use super::docx::{Align, Document, Paragraph, Run};

const RED: &str = "E60012";
/// The fonts of official documents; a reader without them substitutes its own.
const HEADING: &str = "方正小标宋简体";
const BODY: &str = "仿宋_GB2312";
const EMPHASIS: &str = "黑体";

/// A date as official documents write it: 2026年12月3日.
pub fn chinese_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// The document of `notice`, issued by `organ` on `issued` (local date).
pub fn document(notice: &Notice, organ: &str, issued: NaiveDate) -> Document {
    let mut document = Document::new(format!("{} {}", notice.doc_number, notice.title));
    let body = |text: String| Paragraph::new(Align::Both).indent_first_line(2).run(Run::new(text, BODY, 16.0));
    document.push(Paragraph::new(Align::Left).space_after(12).run(Run::new(
        format!("督办等级：{}（{}）", notice.level.zh_name(), notice.level.colour_zh()),
        EMPHASIS,
        16.0,
    )));
    document.push(Paragraph::new(Align::Center).space_after(12).run(Run::new(organ, HEADING, 26.0).colour(RED)));
    document.push(Paragraph::new(Align::Center).space_after(18).rule_below(RED).run(Run::new(&notice.doc_number, BODY, 16.0)));
    document.push(Paragraph::new(Align::Center).space_after(18).run(Run::new(&notice.title, HEADING, 22.0)));

    // The units addressed, each once, in the order of the notice.
    let mut addressees: Vec<&str> = Vec::new();
    for recipient in &notice.recipients {
        if !addressees.contains(&recipient.unit.name.as_str()) {
            addressees.push(&recipient.unit.name);
        }
    }
    document.push(Paragraph::new(Align::Left).run(Run::new(format!("{}：", addressees.join("、")), BODY, 16.0)));
    for line in notice.requirement.lines().map(str::trim).filter(|line| !line.is_empty()) {
        document.push(body(line.to_owned()));
    }
    document.push(Paragraph::new(Align::Left).indent_first_line(2).run(Run::new("督办事项：", EMPHASIS, 16.0)));
    for (index, recipient) in notice.recipients.iter().enumerate() {
        document.push(body(format!("{}. 任务 {} {}（{}）", index + 1, recipient.task.code, recipient.task.text, recipient.unit.name)));
    }
    let due = notice.recipients.iter().map(|recipient| recipient.reply_due).min();
    if let Some(due) = due {
        document.push(body(format!(
            "请于{}前（{}个工作日内）签收并反馈办理情况；确有困难需延期的，请说明理由申请延期。",
            chinese_date(due),
            notice.reply_working_days
        )));
    }
    if !notice.attachments.is_empty() {
        document.push(Paragraph::new(Align::Left).indent_first_line(2).run(Run::new("附件：", BODY, 16.0)));
        for (index, file) in notice.attachments.iter().enumerate() {
            document.push(body(format!("{}. {}", index + 1, file.file_name)));
        }
    }
    document.push(Paragraph::new(Align::Right).space_after(0).run(Run::new(" ", BODY, 16.0)));
    document.push(Paragraph::new(Align::Right).run(Run::new(organ, BODY, 16.0)));
    document.push(Paragraph::new(Align::Right).run(Run::new(chinese_date(issued), BODY, 16.0)));
    document
}
