//! The breakdown table as county offices report it upward: the province's
//! layout (title, header, merged 一级/二级 cells, 序号, task, lead and
//! responsible units) with where the work stands beside every task, and a
//! per-unit task list (单位任务清单). As a workbook, one sheet per list; as
//! CSV, the flat format with the same extra columns.
//!
//! Invariant: reading an exported workbook or CSV back gives the same
//! breakdown table, so importing it changes nothing. Rows are keyed by the
//! stable task code (任务编码), which the readers check.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use duban_breakdown::Column;
use duban_breakdown::cells;
use duban_breakdown::seed::{CampaignSeed, TaskSeed};
use duban_breakdown::xlsx::CODE_HEADING;
use duban_dto::{AssignmentStatus, PartyRole, TaskList, TaskStatus};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use super::{ExportError, campaign_seed};
use crate::clock;
use crate::db::schema::{assignments, campaigns, decisions, evidence, tasks, units, users};

/// Where the work on one task stands.
#[derive(Debug, Clone, Default)]
pub struct TaskProgress {
    /// As shown today: overdue when an open assignment's due date has passed,
    /// as the API and the pages show it.
    pub status: Option<TaskStatus>,
    /// The earliest due date of the task's open assignments.
    pub next_due: Option<NaiveDate>,
    /// Each unit's latest progress note: `unit：note`, one per line.
    pub progress: String,
    /// Evidence items not withdrawn, over all the task's assignments.
    pub evidence: i64,
    pub last_update: Option<DateTime<Utc>>,
    /// Who made the latest review decision on the task.
    pub reviewer: Option<String>,
}

/// One row of the per-unit task list.
#[derive(Debug, Clone)]
pub struct UnitTask {
    pub unit: String,
    pub code: String,
    pub role: PartyRole,
    pub text: String,
    pub status: AssignmentStatus,
    pub due_date: Option<NaiveDate>,
    pub overdue: bool,
    pub progress: Option<String>,
    pub evidence: i64,
    pub last_update: DateTime<Utc>,
}

/// Everything an export needs, read in one go.
pub struct Breakdown {
    pub seed: CampaignSeed,
    pub progress: BTreeMap<String, TaskProgress>,
    pub unit_tasks: Vec<UnitTask>,
}

/// The extra columns after the table's six.
const PROGRESS_HEADINGS: [&str; 8] = [CODE_HEADING, "状态", "截止日期", "是否逾期", "进展", "佐证材料数", "最后更新", "审核人"];

/// An assignment with its unit's name, as the per-unit list needs it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = assignments, check_for_backend(diesel::pg::Pg))]
struct AssignmentRow {
    id: i64,
    task_id: i64,
    #[diesel(select_expression = units::id)]
    unit_id: i64,
    #[diesel(select_expression = units::name)]
    unit: String,
    role: PartyRole,
    status: AssignmentStatus,
    due_date: Option<NaiveDate>,
    progress_note: Option<String>,
    updated_at: DateTime<Utc>,
}

/// Reads the campaign's table, its tasks' progress and the per-unit list.
pub fn breakdown(conn: &mut PgConnection, code: &str) -> Result<Breakdown, ExportError> {
    let seed = campaign_seed(conn, code)?;
    let campaign_id: i64 = campaigns::table.filter(campaigns::code.eq(code)).select(campaigns::id).first(conn)?;

    let today = clock::today();
    let task_rows: Vec<(i64, String, TaskStatus, Option<NaiveDate>, String)> = tasks::table
        .filter(tasks::campaign_id.eq(campaign_id))
        .select((tasks::id, tasks::code, tasks::rollup_status, tasks::next_due, tasks::text))
        .load(conn)?;
    let mut progress: BTreeMap<i64, TaskProgress> = task_rows
        .iter()
        .map(|(id, _, status, next_due, _)| {
            let shown = duban_rules::rollup::shown(duban_rules::rollup::Stored { status: *status, next_due: *next_due }, today);
            (*id, TaskProgress { status: Some(shown), next_due: *next_due, ..TaskProgress::default() })
        })
        .collect();
    let task_ids: Vec<i64> = task_rows.iter().map(|(id, ..)| *id).collect();

    let evidence_counts: BTreeMap<i64, i64> = evidence::table
        .inner_join(assignments::table)
        .filter(assignments::task_id.eq_any(&task_ids))
        .filter(evidence::withdrawn_at.is_null())
        .group_by(evidence::assignment_id)
        .select((evidence::assignment_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();

    let assignment_rows: Vec<AssignmentRow> = assignments::table
        .inner_join(units::table)
        .filter(assignments::task_id.eq_any(&task_ids))
        .select(AssignmentRow::as_select())
        .load(conn)?;
    let tasks_by_id: BTreeMap<i64, (&String, &String)> = task_rows.iter().map(|(id, code, _, _, text)| (*id, (code, text))).collect();
    let mut unit_tasks = Vec::with_capacity(assignment_rows.len());
    for AssignmentRow { id, task_id, unit_id, unit, role, status, due_date, progress_note: note, updated_at } in assignment_rows {
        let evidence = evidence_counts.get(&id).copied().unwrap_or(0);
        let task = progress.get_mut(&task_id).expect("assignments belong to the campaign's tasks");
        task.evidence += evidence;
        task.last_update = task.last_update.max(Some(updated_at));
        if let Some(note) = note.as_deref().map(str::trim).filter(|note| !note.is_empty()) {
            if !task.progress.is_empty() {
                task.progress.push('\n');
            }
            task.progress.push_str(&format!("{unit}：{note}"));
        }
        let (code, text) = tasks_by_id[&task_id];
        let order = (unit_id, task_order(code));
        unit_tasks.push((
            order,
            UnitTask {
                unit,
                code: code.clone(),
                role,
                text: text.clone(),
                status,
                due_date,
                overdue: duban_rules::rollup::assignment_overdue(status, due_date, today),
                progress: note,
                evidence,
                last_update: updated_at,
            },
        ));
    }
    // Units in the roster's order, each unit's tasks in the table's order.
    unit_tasks.sort_by_key(|(order, _)| *order);
    let unit_tasks = unit_tasks.into_iter().map(|(_, row)| row).collect();

    // The latest decision on each task names its reviewer.
    let decided: Vec<(i64, DateTime<Utc>, Option<String>)> = decisions::table
        .inner_join(assignments::table)
        .left_join(users::table.on(users::id.nullable().eq(decisions::actor_id)))
        .filter(assignments::task_id.eq_any(&task_ids))
        .order(decisions::at)
        .select((assignments::task_id, decisions::at, users::display_name.nullable()))
        .load(conn)?;
    for (task_id, at, reviewer) in decided {
        let task = progress.get_mut(&task_id).expect("decisions belong to the campaign's tasks");
        task.reviewer = reviewer;
        task.last_update = task.last_update.max(Some(at));
    }

    let codes: BTreeMap<i64, String> = task_rows.into_iter().map(|(id, code, ..)| (id, code)).collect();
    let progress = progress.into_iter().map(|(id, task)| (codes[&id].clone(), task)).collect();
    Ok(Breakdown { seed, progress, unit_tasks })
}

/// Task codes sort by list, then number: B001 … B155, Q01 …, E01 …, N1 ….
fn task_order(code: &str) -> (usize, u32) {
    let list = ["B", "Q", "E", "N"].iter().position(|prefix| code.starts_with(prefix)).unwrap_or(4);
    (list, code[1..].parse().unwrap_or(0))
}

fn local_time(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.with_timezone(&clock::china()).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

impl Breakdown {
    /// The document's title: the source document's, or the campaign's name.
    fn title(&self) -> &str {
        self.seed.campaign.source_title.as_deref().unwrap_or(&self.seed.campaign.name)
    }

    /// The sentence stating the totals, which a reader checks against the
    /// rows: 共229项，含基础任务清单155项、….
    fn totals(&self) -> String {
        let parts: Vec<String> = TaskList::ALL.iter().map(|&list| format!("{}{}项", list.zh_name(), self.count(list))).collect();
        format!("共{}项，含{}。", self.seed.tasks.len(), parts.join("、"))
    }

    fn count(&self, list: TaskList) -> usize {
        self.seed.tasks.iter().filter(|task| task.list == list).count()
    }

    fn tasks(&self, list: TaskList) -> impl Iterator<Item = &TaskSeed> {
        self.seed.tasks.iter().filter(move |task| task.list == list)
    }

    /// The 一级指标 and 二级指标 labels of a basic task, as the table writes
    /// them: 一、政府职能依法全面履行 and (一)加大简政放权力度.
    fn labels(&self, task: &TaskSeed) -> (String, String) {
        let Some(level2_code) = &task.indicator else {
            return (String::new(), String::new());
        };
        for level1 in &self.seed.indicators {
            if let Some(level2) = level1.children.iter().find(|level2| &level2.code == level2_code) {
                return (format!("{}、{}", level1.code, level1.title), format!("{}{}", level2.code, level2.title));
            }
        }
        (String::new(), String::new())
    }

    fn progress_cells(&self, task: &TaskSeed) -> [String; 8] {
        let progress = self.progress.get(&task.code).cloned().unwrap_or_default();
        let overdue = progress.status == Some(TaskStatus::Overdue);
        [
            task.code.clone(),
            progress.status.map(|status| status.zh_name().to_owned()).unwrap_or_default(),
            progress.next_due.map(|due| due.to_string()).unwrap_or_default(),
            (if overdue { "是" } else { "" }).to_owned(),
            progress.progress,
            progress.evidence.to_string(),
            local_time(progress.last_update),
            progress.reviewer.unwrap_or_default(),
        ]
    }

    /// The workbook: a sheet per list in the province's layout, then the
    /// per-unit task list.
    pub fn workbook(&self) -> Result<Vec<u8>, XlsxError> {
        let mut workbook = Workbook::new();
        let styles = Styles::new();
        for &list in TaskList::ALL {
            let sheet = workbook.add_worksheet();
            sheet.set_name(list.zh_name())?;
            self.list_sheet(sheet, list, &styles)?;
        }
        let sheet = workbook.add_worksheet();
        sheet.set_name(UNIT_SHEET)?;
        self.unit_sheet(sheet, &styles)?;
        workbook.save_to_buffer()
    }

    fn list_sheet(&self, sheet: &mut Worksheet, list: TaskList, styles: &Styles) -> Result<(), XlsxError> {
        let headings: Vec<&str> = Column::ALL.iter().map(|column| column.heading()).chain(PROGRESS_HEADINGS).collect();
        let last_column = headings.len() as u16 - 1;
        sheet.merge_range(0, 0, 0, last_column, self.title(), &styles.title)?;
        sheet.merge_range(1, 0, 1, last_column, &self.totals(), &styles.note)?;
        for (column, heading) in headings.iter().enumerate() {
            sheet.write_string_with_format(HEADER_ROW, column as u16, *heading, &styles.header)?;
        }
        // Printed, the header repeats on every page, as in the Word original.
        sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
        sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
        for (column, width) in [10, 16, 6, 48, 22, 28, 10, 10, 12, 8, 30, 10, 17, 10].into_iter().enumerate() {
            sheet.set_column_width(column as u16, width)?;
        }

        let tasks: Vec<&TaskSeed> = self.tasks(list).collect();
        let first = HEADER_ROW + 1;
        for (offset, task) in tasks.iter().enumerate() {
            let row = first + offset as u32;
            let cells = [task.number.to_string(), task.text.clone(), task.leads.join("\n"), task.responsible.clone().unwrap_or_default()];
            for (column, text) in cells.iter().enumerate() {
                sheet.write_string_with_format(row, column as u16 + 2, cells::fit_workbook_cell(text), &styles.cell)?;
            }
            for (column, text) in self.progress_cells(task).iter().enumerate() {
                sheet.write_string_with_format(row, column as u16 + 6, cells::fit_workbook_cell(text), &styles.cell)?;
            }
        }
        if tasks.is_empty() {
            return Ok(());
        }
        if list == TaskList::Basic {
            // Merge each run of rows under one indicator, as the original does.
            for column in [0u16, 1] {
                let label = |task: &&TaskSeed| {
                    let (level1, level2) = self.labels(task);
                    if column == 0 { level1 } else { level2 }
                };
                let mut start = 0;
                while start < tasks.len() {
                    let text = label(&tasks[start]);
                    let end = (start..tasks.len()).take_while(|&i| label(&tasks[i]) == text).last().unwrap_or(start);
                    merge(sheet, first + start as u32, first + end as u32, column, &text, &styles.indicator)?;
                    start = end + 1;
                }
            }
        } else {
            let label = format!("{}({}项)", list.zh_name(), tasks.len());
            merge(sheet, first, first + tasks.len() as u32 - 1, 0, "", &styles.indicator)?;
            merge(sheet, first, first + tasks.len() as u32 - 1, 1, &label, &styles.indicator)?;
        }
        Ok(())
    }

    fn unit_sheet(&self, sheet: &mut Worksheet, styles: &Styles) -> Result<(), XlsxError> {
        let last_column = UNIT_HEADINGS.len() as u16 - 1;
        sheet.merge_range(0, 0, 0, last_column, &format!("{}（{}）", self.title(), UNIT_SHEET), &styles.title)?;
        sheet.merge_range(
            1,
            0,
            1,
            last_column,
            &format!("共{}个单位、{}项分工", self.unit_count(), self.unit_tasks.len()),
            &styles.note,
        )?;
        for (column, heading) in UNIT_HEADINGS.iter().enumerate() {
            sheet.write_string_with_format(HEADER_ROW, column as u16, *heading, &styles.header)?;
        }
        sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
        sheet.set_freeze_panes(HEADER_ROW + 1, 1)?;
        for (column, width) in [24, 10, 8, 48, 14, 12, 8, 30, 10, 17].into_iter().enumerate() {
            sheet.set_column_width(column as u16, width)?;
        }
        let first = HEADER_ROW + 1;
        for (offset, cells) in self.unit_rows().iter().enumerate() {
            for (column, text) in cells.iter().enumerate().skip(1) {
                sheet.write_string_with_format(first + offset as u32, column as u16, cells::fit_workbook_cell(text), &styles.cell)?;
            }
        }
        let mut start = 0;
        while start < self.unit_tasks.len() {
            let unit = &self.unit_tasks[start].unit;
            let end = (start..self.unit_tasks.len()).take_while(|&i| &self.unit_tasks[i].unit == unit).last().unwrap_or(start);
            merge(sheet, first + start as u32, first + end as u32, 0, unit, &styles.indicator)?;
            start = end + 1;
        }
        Ok(())
    }

    fn unit_count(&self) -> usize {
        let mut units: Vec<&str> = self.unit_tasks.iter().map(|row| row.unit.as_str()).collect();
        units.dedup();
        units.len()
    }

    /// The per-unit list's rows, as text.
    fn unit_rows(&self) -> Vec<[String; 10]> {
        self.unit_tasks
            .iter()
            .map(|row| {
                [
                    row.unit.clone(),
                    row.code.clone(),
                    (if row.role == PartyRole::Lead { "牵头" } else { "责任" }).to_owned(),
                    row.text.clone(),
                    row.status.zh_name().to_owned(),
                    row.due_date.map(|due| due.to_string()).unwrap_or_default(),
                    (if row.overdue { "是" } else { "" }).to_owned(),
                    row.progress.clone().unwrap_or_default(),
                    row.evidence.to_string(),
                    local_time(Some(row.last_update)),
                ]
            })
            .collect()
    }

    /// The table as CSV in the flat format (Chinese headings, a BOM so
    /// spreadsheet programs read UTF-8), with the progress columns.
    pub fn tasks_csv(&self) -> Vec<u8> {
        let mut headings = vec![CODE_HEADING, "清单", "序号", "一级指标", "二级指标", Column::Task.heading(), "牵头单位", "责任单位"];
        headings.extend(&PROGRESS_HEADINGS[1..]);
        csv_with_bom(
            &headings,
            self.seed.tasks.iter().map(|task| {
                let (level1, level2) = self.labels(task);
                let progress = self.progress_cells(task);
                let mut row = vec![
                    task.code.clone(),
                    task.list.zh_name().to_owned(),
                    task.number.to_string(),
                    level1,
                    level2,
                    task.text.clone(),
                    task.leads.join("\n"),
                    task.responsible.clone().unwrap_or_default(),
                ];
                row.extend(progress.into_iter().skip(1));
                row
            }),
        )
    }

    /// The per-unit task list as CSV.
    pub fn unit_tasks_csv(&self) -> Vec<u8> {
        csv_with_bom(&UNIT_HEADINGS, self.unit_rows().into_iter().map(Vec::from))
    }
}

const UNIT_SHEET: &str = "单位任务清单";
const UNIT_HEADINGS: [&str; 10] = ["单位", CODE_HEADING, "角色", "任务", "状态", "截止日期", "是否逾期", "进展", "佐证材料数", "最后更新"];
/// Rows 0 and 1 hold the title and the totals.
const HEADER_ROW: u32 = 2;

fn csv_with_bom(headings: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    const IN_MEMORY: &str = "writing CSV into memory cannot fail";
    let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    writer.write_record(headings).expect(IN_MEMORY);
    for row in rows {
        writer.write_record(row.iter().map(|cell| cells::neutralise(cell).into_owned())).expect(IN_MEMORY);
    }
    writer.into_inner().expect(IN_MEMORY)
}

/// Merges rows `first..=last` of a column; a single row is simply written,
/// since a one-cell merge is not a merge.
fn merge(sheet: &mut Worksheet, first: u32, last: u32, column: u16, text: &str, format: &Format) -> Result<(), XlsxError> {
    let text = cells::fit_workbook_cell(text);
    if first == last {
        sheet.write_string_with_format(first, column, text, format)?;
    } else {
        sheet.merge_range(first, column, last, column, &text, format)?;
    }
    Ok(())
}

struct Styles {
    title: Format,
    note: Format,
    header: Format,
    indicator: Format,
    cell: Format,
}

impl Styles {
    fn new() -> Styles {
        let cell = Format::new().set_text_wrap().set_align(FormatAlign::VerticalCenter).set_border(FormatBorder::Thin);
        Styles {
            title: Format::new().set_bold().set_font_size(16).set_align(FormatAlign::Center),
            note: Format::new().set_align(FormatAlign::Left),
            header: cell.clone().set_bold().set_align(FormatAlign::Center),
            indicator: cell.clone().set_align(FormatAlign::Center),
            cell,
        }
    }
}
