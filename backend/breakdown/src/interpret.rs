//! Gives a [`RawTable`] its meaning as a breakdown table, whatever document
//! it was read from.
//!
//! The rules, which never depend on line numbers:
//! - The table starts with its header row; the same header repeats at every
//!   page break and is skipped.
//! - The row after a page header repeats the level-1 and level-2 labels the
//!   page continues under. A level-2 group belongs to exactly one level-1:
//!   the one it began under. When a repeated label names another level-1,
//!   the group keeps its parent; the label still announces that level-1,
//!   so the next new level-2 group belongs to it.
//! - Level-1 indicators are numbered 一, 二 … and level-2 indicators (一),
//!   (二) … through the whole table, each without gaps.
//! - The quantified, extended and negative lists are announced by a label in
//!   the level-2 column (量化任务清单(32项)); they have no indicators and
//!   number their tasks from 1 again.
//! - 序号 runs without gaps within each list; the totals the document states
//!   must match what the table holds.

use duban_dto::TaskList;

use crate::clean;
use crate::document::{Document, Level1, Level2, StatedTotals, Task, level1_code, level2_code};
use crate::numerals;
use crate::report::{Column, Location, Normalisation, NormalisationKind, ParseError, ParseErrors};
use crate::table::{RawCell, RawRow, RawTable};

/// Interprets a table. Collects every error it can find before giving up,
/// so one run tells the author everything that needs fixing.
pub fn interpret(table: &RawTable) -> Result<Document, ParseErrors> {
    let mut interpreter = Interpreter::new(table);
    for row in &table.rows {
        interpreter.row(row);
    }
    interpreter.finish()
}

/// A cell after cleaning: its non-blank paragraphs.
struct Cell {
    line: u32,
    paragraphs: Vec<String>,
}

impl Cell {
    fn joined(&self) -> String {
        self.paragraphs.concat()
    }
}

struct Interpreter {
    document: Document,
    errors: Vec<ParseError>,
    header_seen: bool,
    list: TaskList,
    /// Lists in the order they began, with the count their label states.
    lists: Vec<ListStart>,
    current_level1: Option<usize>,
    current_level2: Option<usize>,
    last_number: Option<u32>,
    /// The sheet or Word table of the row being read.
    place: Option<String>,
}

struct ListStart {
    list: TaskList,
    stated: Option<u32>,
    at: Location,
}

impl Interpreter {
    fn new(table: &RawTable) -> Self {
        let (title, region, stated) = read_preamble(&table.preamble);
        Interpreter {
            document: Document {
                title,
                region,
                stated,
                level1: Vec::new(),
                level2: Vec::new(),
                tasks: Vec::new(),
                normalisations: Vec::new(),
                lines_are_source_lines: false,
            },
            errors: Vec::new(),
            header_seen: false,
            list: TaskList::Basic,
            lists: vec![ListStart { list: TaskList::Basic, stated: None, at: Location { line: 1, row: None, column: None, place: None } }],
            current_level1: None,
            current_level2: None,
            last_number: None,
            place: None,
        }
    }

    /// Names the sheet or Word table of a location in the current row.
    fn placed(&self, mut at: Location) -> Location {
        if at.row.is_some() && at.place.is_none() {
            at.place.clone_from(&self.place);
        }
        at
    }

    fn note(&mut self, at: Location, kind: NormalisationKind, detail: String) {
        let at = self.placed(at);
        self.document.normalisations.push(Normalisation { at, kind, detail });
    }

    fn error(&mut self, at: Location, message: String) {
        let at = self.placed(at);
        self.errors.push(ParseError { at, message });
    }

    fn row(&mut self, row: &RawRow) {
        self.place.clone_from(&row.place);
        if row.cells.len() != Column::ALL.len() {
            let message = format!("a row must have {} cells, this one has {}", Column::ALL.len(), row.cells.len());
            self.error(Location { line: row.line, row: Some(row.number), column: None, place: None }, message);
            return;
        }
        if is_header(&row.cells) {
            if self.header_seen {
                self.note(
                    Location { line: row.line, row: Some(row.number), column: None, place: None },
                    NormalisationKind::PageHeaderSkipped,
                    "repeated header row at a page break skipped".to_owned(),
                );
            }
            self.header_seen = true;
            return;
        }
        if !self.header_seen {
            self.header_seen = true;
            let headings: Vec<&str> = Column::ALL.iter().map(|c| c.heading()).collect();
            self.error(
                Location { line: row.line, row: Some(row.number), column: None, place: None },
                format!("the table must begin with its header row ({})", headings.join(" | ")),
            );
        }
        let cells: Vec<Cell> = Column::ALL.iter().zip(&row.cells).map(|(&column, raw)| self.clean_cell(row, column, raw)).collect();
        let at = |column: Column| Location { line: cells[column as usize].line, row: Some(row.number), column: Some(column), place: None };

        let level1_label = self.level1_label(&cells[Column::Level1 as usize], at(Column::Level1));
        let level2_text = cells[Column::Level2 as usize].joined();
        if let Some((list, stated)) = parse_list_label(&level2_text) {
            self.list_label(list, stated, at(Column::Level2));
            if let Some((number, _)) = level1_label {
                self.label_outside_indicators(number, at(Column::Level1));
            }
        } else if self.list != TaskList::Basic {
            if !level2_text.is_empty() {
                let message =
                    format!("a level-2 indicator ({level2_text}) cannot stand inside the {}, which has no indicators", self.list.zh_name());
                self.error(at(Column::Level2), message);
            }
            if let Some((number, _)) = level1_label {
                self.label_outside_indicators(number, at(Column::Level1));
            }
        } else {
            self.indicators(level1_label, &level2_text, at(Column::Level1), at(Column::Level2));
        }

        let number = self.task_number(&cells[Column::Number as usize], at(Column::Number));
        let text = cells[Column::Task as usize].joined();
        if text.is_empty() {
            self.error(at(Column::Task), "the task text is empty".to_owned());
        }
        let leads = cells[Column::Lead as usize].paragraphs.clone();
        if leads.is_empty() {
            self.error(at(Column::Lead), "no lead unit is named".to_owned());
        }
        let responsible = Some(cells[Column::Responsible as usize].joined()).filter(|text| !text.is_empty());

        let level2 = match self.list {
            TaskList::Basic => self.current_level2.map(|index| self.document.level2[index].number),
            _ => None,
        };
        self.document.tasks.push(Task { list: self.list, number, level2, text, leads, responsible, line: row.line });
    }

    /// Cleans every paragraph of a cell and drops blank ones, reporting
    /// each change. Lead cells keep one paragraph per unit; other cells are
    /// joined by the caller, which is reported here.
    fn clean_cell(&mut self, row: &RawRow, column: Column, raw: &RawCell) -> Cell {
        let at = Location { line: raw.line, row: Some(row.number), column: Some(column), place: None };
        let mut paragraphs = Vec::new();
        let mut blank_lines = 0;
        for paragraph in &raw.paragraphs {
            let mut text = paragraph.clone();
            for artifact in clean::remove_word_artifacts(&mut text) {
                self.note(at.clone(), NormalisationKind::WordArtifactRemoved, format!("Word artefact {artifact} removed"));
            }
            if clean::half_width_brackets(&mut text) {
                self.note(
                    at.clone(),
                    NormalisationKind::FullWidthNormalised,
                    format!("full-width brackets made half-width in {paragraph:?}"),
                );
            }
            if column == Column::Number && clean::half_width_digits(&mut text) {
                self.note(at.clone(), NormalisationKind::FullWidthNormalised, format!("full-width digits in {paragraph:?}"));
            }
            let before_trim = text.clone();
            if clean::trim(&mut text) && !text.is_empty() {
                self.note(at.clone(), NormalisationKind::WhitespaceTrimmed, format!("spaces trimmed around {before_trim:?}"));
            }
            if text.is_empty() {
                blank_lines += 1;
            } else {
                paragraphs.push(text);
            }
        }
        // A cell that is a single tab is simply empty; blank lines beside
        // content are what Word leaves behind and worth mentioning.
        if blank_lines > 0 && !paragraphs.is_empty() {
            self.note(at.clone(), NormalisationKind::BlankLinesDropped, format!("{blank_lines} blank line(s) inside the cell dropped"));
        }
        if paragraphs.len() > 1 && column != Column::Lead {
            self.note(
                at.clone(),
                NormalisationKind::CellLinesJoined,
                format!("cell written over {} lines joined into {:?}", paragraphs.len(), paragraphs.concat()),
            );
        }
        Cell { line: raw.line, paragraphs }
    }

    /// Reads a level-1 label such as 一、政府职能依法全面履行.
    fn level1_label(&mut self, cell: &Cell, at: Location) -> Option<(u32, String)> {
        let text = cell.joined();
        if text.is_empty() {
            return None;
        }
        let parsed = text
            .split_once('、')
            .and_then(|(numeral, title)| Some((numerals::parse(numeral)?, title.to_owned())))
            .filter(|(_, title)| !title.is_empty());
        if parsed.is_none() {
            self.error(at.clone(), format!("expected a level-1 indicator such as 一、政府职能依法全面履行, found {text:?}"));
        }
        parsed.map(|(number, title)| (number, self.clean_title(title, &at)))
    }

    fn clean_title(&mut self, mut title: String, at: &Location) -> String {
        let written = title.clone();
        clean::trim(&mut title);
        if clean::drop_title_punctuation(&mut title) {
            self.note(at.clone(), NormalisationKind::TitlePunctuationDropped, format!("punctuation after the title {written:?} dropped"));
        }
        title
    }

    fn label_outside_indicators(&mut self, number: u32, at: Location) {
        let detail =
            format!("level-1 label {} beside the {} ignored: that list has no indicators", level1_code(number), self.list.zh_name());
        self.note(at, NormalisationKind::Level1LabelBesideList, detail);
    }

    fn list_label(&mut self, list: TaskList, stated: Option<u32>, at: Location) {
        if list == self.list {
            // A page header repeating the list it continues.
            return;
        }
        if self.lists.iter().any(|start| start.list == list) {
            let message = format!("the {} began earlier and cannot begin again here", list.zh_name());
            self.error(at, message);
            return;
        }
        self.list = list;
        self.last_number = None;
        self.current_level2 = None;
        self.lists.push(ListStart { list, stated, at });
    }

    /// Applies the level-1 and level-2 labels of a basic-list row.
    fn indicators(&mut self, level1_label: Option<(u32, String)>, level2_text: &str, at1: Location, at2: Location) {
        let announced = level1_label.as_ref().map(|(number, title)| (*number, self.announce_level1(*number, title, &at1)));
        let stale_label = |interpreter: &mut Self| {
            if let Some((number, Announced::Stale { current })) = announced {
                let detail = format!("level-1 label {} repeated after {} began; ignored", level1_code(number), level1_code(current));
                interpreter.note(at1.clone(), NormalisationKind::StaleLevel1Label, detail);
            }
        };

        if level2_text.is_empty() {
            if let Some((number, Announced::Began)) = announced {
                let message = format!("level-1 indicator {} begins here, but the row names no level-2 indicator", level1_code(number));
                self.error(at2, message);
            } else if self.current_level2.is_none() {
                self.error(at2, "the task has no level-2 indicator above it".to_owned());
            }
            stale_label(self);
            return;
        }
        let Some((number, title)) = parse_level2(level2_text) else {
            let message = format!("expected a level-2 indicator such as (一)加大简政放权力度, found {level2_text:?}");
            self.error(at2, message);
            return;
        };
        let title = self.clean_title(title, &at2);
        let current = self.current_level2.map(|index| self.document.level2[index].number);

        if let (Some(current), Some(index)) = (current, self.current_level2)
            && current == number
        {
            self.reconcile_title(TitleOf::Level2(index), title, &at2);
            let group = &self.document.level2[index];
            let (parent, began_at) = (group.parent, group.line);
            if let Some((label, _)) = announced
                && label != parent
            {
                let (code, label, parent) = (level2_code(number), level1_code(label), level1_code(parent));
                let detail = format!(
                    "the page header places {code} under {label}, but {code} began under {parent} at line {began_at}; \
                     the group stays under {parent}"
                );
                self.note(at1, NormalisationKind::WrongLevel1Label, detail);
            }
            return;
        }

        stale_label(self);
        if let Some(current) = current
            && number < current
        {
            let message = format!(
                "level-2 indicator {} appears again after {} began; a level-2 group must be contiguous",
                level2_code(number),
                level2_code(current)
            );
            self.error(at2, message);
            return;
        }
        let expected = current.map_or(1, |n| n + 1);
        if number != expected {
            let message = format!(
                "level-2 indicator {} where {} was expected: an indicator is missing or misnumbered",
                level2_code(number),
                level2_code(expected)
            );
            self.error(at2.clone(), message);
        }
        let Some(parent_index) = self.current_level1 else {
            self.error(at2, format!("level-2 indicator {} has no level-1 indicator above it", level2_code(number)));
            return;
        };
        let parent = self.document.level1[parent_index].number;
        self.document.level2.push(Level2 { number, parent, title, line: at2.line });
        self.current_level2 = Some(self.document.level2.len() - 1);
    }

    fn current_level1_number(&self) -> Option<u32> {
        self.current_level1.map(|index| self.document.level1[index].number)
    }

    /// A level-1 label makes its indicator current if it is the next one;
    /// the current one repeated confirms it; an older one is stale and left
    /// for the caller to report.
    fn announce_level1(&mut self, number: u32, title: &str, at: &Location) -> Announced {
        let current = self.current_level1_number();
        if current == Some(number) {
            let index = self.current_level1.expect("the current level-1 exists");
            self.reconcile_title(TitleOf::Level1(index), title.to_owned(), at);
            return Announced::Current;
        }
        if let Some(current) = current
            && number < current
        {
            return Announced::Stale { current };
        }
        let expected = current.map_or(1, |n| n + 1);
        if number != expected {
            let message = format!(
                "level-1 indicator {} where {} was expected: an indicator is missing or misnumbered",
                level1_code(number),
                level1_code(expected)
            );
            self.error(at.clone(), message);
        }
        self.document.level1.push(Level1 { number, title: title.to_owned(), line: at.line });
        self.current_level1 = Some(self.document.level1.len() - 1);
        Announced::Began
    }

    /// Two occurrences of one indicator's title must agree; where one is a
    /// prefix of the other (a title cut short), the longer one is kept.
    fn reconcile_title(&mut self, of: TitleOf, title: String, at: &Location) {
        let (stored, code) = match of {
            TitleOf::Level1(i) => {
                let level1 = &mut self.document.level1[i];
                (&mut level1.title, level1_code(level1.number))
            }
            TitleOf::Level2(i) => {
                let level2 = &mut self.document.level2[i];
                (&mut level2.title, level2_code(level2.number))
            }
        };
        if *stored == title {
            return;
        }
        if title.starts_with(stored.as_str()) {
            let detail = format!("title of {code} completed from {stored:?} to {title:?}");
            *stored = title;
            self.note(at.clone(), NormalisationKind::TruncatedTitleCompleted, detail);
        } else if stored.starts_with(title.as_str()) {
            let detail = format!("shortened title {title:?} of {code} read as {stored:?}");
            self.note(at.clone(), NormalisationKind::TruncatedTitleCompleted, detail);
        } else {
            let message = format!("{code} is titled {title:?} here but {stored:?} earlier");
            self.error(at.clone(), message);
        }
    }

    fn task_number(&mut self, cell: &Cell, at: Location) -> u32 {
        let text: String = cell.joined().chars().filter(|&c| !clean::is_space(c)).collect();
        let expected = self.last_number.map_or(1, |n| n + 1);
        let Ok(number) = text.parse::<u32>() else {
            let message = format!("序号 must be a whole number, found {text:?}");
            self.error(at, message);
            // Go on as if the expected number were there, so one bad cell
            // does not turn every later row into an error too.
            self.last_number = Some(expected);
            return expected;
        };
        if number != expected {
            let message = format!(
                "序号 {number} on the {} where {expected} was expected: a row is missing, repeated or misnumbered",
                self.list.zh_name()
            );
            self.error(at, message);
        }
        self.last_number = Some(number);
        number
    }

    fn finish(mut self) -> Result<Document, ParseErrors> {
        if !self.header_seen {
            self.error(Location { line: 1, row: None, column: None, place: None }, "the document holds no table".to_owned());
        }
        let stated_line = self.document.stated.line.unwrap_or(1);
        let stated_at = Location { line: stated_line, row: None, column: None, place: None };
        let counts: Vec<(TaskList, usize)> = TaskList::ALL.iter().map(|&list| (list, self.document.count(list))).collect();

        for (list, stated) in self.document.stated.per_list.clone() {
            let found = counts.iter().find(|(l, _)| *l == list).map_or(0, |(_, n)| *n);
            if found != stated as usize {
                let message = format!("the document states {stated} tasks on the {} but the table holds {found}", list.zh_name());
                self.error(stated_at.clone(), message);
            }
        }
        if let Some(all) = self.document.stated.all {
            let found = self.document.tasks.len();
            if found != all as usize {
                self.error(stated_at.clone(), format!("the document states {all} tasks in all but the table holds {found}"));
            }
        }
        for start in std::mem::take(&mut self.lists) {
            let found = counts.iter().find(|(l, _)| *l == start.list).map_or(0, |(_, n)| *n);
            if let Some(stated) = start.stated
                && found != stated as usize
            {
                let message = format!("the label states {stated} tasks on the {} but the list holds {found}", start.list.zh_name());
                self.error(start.at, message);
            }
        }
        for level1 in &self.document.level1 {
            if !self.document.level2.iter().any(|level2| level2.parent == level1.number) {
                let message = format!("level-1 indicator {} has no level-2 indicators", level1.code());
                self.errors
                    .push(ParseError { at: Location { line: level1.line, row: None, column: Some(Column::Level1), place: None }, message });
            }
        }
        for level2 in &self.document.level2 {
            if !self.document.tasks.iter().any(|task| task.level2 == Some(level2.number)) {
                let message = format!("level-2 indicator {} has no tasks", level2.code());
                self.errors
                    .push(ParseError { at: Location { line: level2.line, row: None, column: Some(Column::Level2), place: None }, message });
            }
        }
        if self.document.tasks.is_empty() && self.errors.is_empty() {
            self.error(Location { line: 1, row: None, column: None, place: None }, "the table holds no tasks".to_owned());
        }
        if self.errors.is_empty() {
            Ok(self.document)
        } else {
            self.errors.sort_by_key(|error| error.at.line);
            Err(ParseErrors(self.errors))
        }
    }
}

/// What a level-1 label did.
#[derive(Clone, Copy)]
enum Announced {
    /// It repeated the current level-1 indicator.
    Current,
    /// It began the next level-1 indicator.
    Began,
    /// It named an indicator the table had already left behind.
    Stale { current: u32 },
}

enum TitleOf {
    Level1(usize),
    Level2(usize),
}

/// Whether a row is the table's header, however its cells wrap.
fn is_header(cells: &[RawCell]) -> bool {
    let squeezed = |cell: &RawCell| -> String { cell.paragraphs.concat().chars().filter(|&c| !clean::is_space(c)).collect() };
    squeezed(&cells[0]) == "一级指标"
        && squeezed(&cells[1]) == "二级指标"
        && squeezed(&cells[2]) == "序号"
        && squeezed(&cells[3]).starts_with("三级指标")
        && squeezed(&cells[4]) == "牵头单位"
        && squeezed(&cells[5]) == "责任单位"
}

/// Reads a level-2 label such as (一)加大简政放权力度.
fn parse_level2(text: &str) -> Option<(u32, String)> {
    let rest = text.strip_prefix('(')?;
    let (numeral, title) = rest.split_once(')')?;
    let number = numerals::parse(numeral.trim())?;
    (!title.trim().is_empty()).then(|| (number, title.to_owned()))
}

/// Reads a list label such as 量化任务清单(32项).
fn parse_list_label(text: &str) -> Option<(TaskList, Option<u32>)> {
    let squeezed: String = text.chars().filter(|&c| !clean::is_space(c)).collect();
    TaskList::ALL.iter().find_map(|&list| {
        let rest = squeezed.strip_prefix(list.zh_name())?;
        if rest.is_empty() {
            return Some((list, None));
        }
        let count = rest.strip_prefix('(')?.strip_suffix("项)")?.parse().ok()?;
        Some((list, Some(count)))
    })
}

/// Finds the title, the county and the stated totals in the preamble.
fn read_preamble(preamble: &[(u32, String)]) -> (Option<String>, Option<String>, StatedTotals) {
    let mut stated = StatedTotals::default();
    let mut title = None;
    for (line, raw) in preamble {
        let text: String = raw.chars().filter(|&c| !clean::is_space(c)).collect();
        if let Some(all) = number_before(&text, "项", "共") {
            stated.all = Some(all);
            stated.line = Some(*line);
            for &list in TaskList::ALL {
                if let Some(count) = number_before(&text, "项", list.zh_name()) {
                    stated.per_list.insert(list, count);
                }
            }
        } else if title.is_none() && !text.starts_with("附件") && !text.is_empty() {
            title = Some(text);
        }
    }
    let region = title.as_deref().and_then(region_of);
    (title, region, stated)
}

/// The digits between `prefix` and the next `suffix`: 共229项 → 229.
fn number_before(text: &str, suffix: &str, prefix: &str) -> Option<u32> {
    let start = text.find(prefix)? + prefix.len();
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
    let rest = &text[start + digits.len()..];
    if digits.is_empty() || !rest.starts_with(suffix) {
        return None;
    }
    digits.parse().ok()
}

/// The county or district a title names: 罗平县法治政府… → 罗平县.
fn region_of(title: &str) -> Option<String> {
    let end = title.find("法治")?;
    let region = &title[..end];
    region.ends_with(['县', '市', '区', '旗']).then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_list_labels() {
        assert_eq!(parse_list_label("量化任务清单(32项)"), Some((TaskList::Quantified, Some(32))));
        assert_eq!(parse_list_label("负面清单 (7项)"), Some((TaskList::Negative, Some(7))));
        assert_eq!(parse_list_label("延伸任务清单"), Some((TaskList::Extended, None)));
        assert_eq!(parse_list_label("(一)加大简政放权力度"), None);
    }

    #[test]
    fn reads_level2_labels() {
        assert_eq!(parse_level2("(三十二)强化考核评价和督促落实"), Some((32, "强化考核评价和督促落实".to_owned())));
        assert_eq!(parse_level2("(一)"), None);
        assert_eq!(parse_level2("一、政府"), None);
    }

    #[test]
    fn reads_the_preamble() {
        let preamble = vec![
            (1, "附件2".to_owned()),
            (2, "罗平县法治政府建设示范创建指标任务分解表".to_owned()),
            (4, "根据要求，共229项，含基础任务清单155项、量化任务清单32项、延伸任务清单35项、负面清单7项。".to_owned()),
        ];
        let (title, region, stated) = read_preamble(&preamble);
        assert_eq!(title.as_deref(), Some("罗平县法治政府建设示范创建指标任务分解表"));
        assert_eq!(region.as_deref(), Some("罗平县"));
        assert_eq!(stated.all, Some(229));
        assert_eq!(stated.per_list[&TaskList::Negative], 7);
        assert_eq!(stated.line, Some(4));
    }
}
