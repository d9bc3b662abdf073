//! The seed file formats: a campaign's breakdown (`duban.campaign/1`) and a
//! county's unit roster (`duban.roster/1`), as committed under `seeds/` and
//! exchanged by `duban import` / `duban export-seeds`.
//!
//! Both are plain JSON meant to be read and reviewed by people: tasks carry
//! their text and units by name as the document writes them, so a reviewer
//! can hold the file beside the Word table. Unknown fields are refused, so a
//! misspelt field cannot be silently ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;
use duban_dto::limits;
use duban_dto::{Comparator, TargetUnit, TaskList, UnitKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::document::{Document, level1_code, level2_code};
use crate::numerals;

pub const CAMPAIGN_FORMAT: &str = "duban.campaign/1";
/// The province's checklist without any county's units: a campaign seed
/// whose tasks name no lead or responsible units yet.
pub const CHECKLIST_FORMAT: &str = "duban.checklist/1";
pub const ROSTER_FORMAT: &str = "duban.roster/1";

/// One county's creation cycle and its breakdown table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignSeed {
    pub format: String,
    pub campaign: CampaignMeta,
    pub indicators: Vec<Level1Seed>,
    pub tasks: Vec<TaskSeed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignMeta {
    /// Stable slug: lower-case letters, digits and hyphens.
    pub code: String,
    pub name: String,
    /// The county (or district) whose units do the work, e.g. 罗平县.
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_start: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_end: Option<NaiveDate>,
    /// Title of the document the breakdown was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level1Seed {
    /// 一, 二 …
    pub code: String,
    pub title: String,
    pub children: Vec<Level2Seed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level2Seed {
    /// (一), (二) … with half-width brackets.
    pub code: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSeed {
    /// B001, Q01, E01, N1: derived from list and number, written for readers.
    pub code: String,
    pub list: TaskList,
    pub number: u32,
    /// The level-2 indicator's code, for basic tasks only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    pub text: String,
    /// Lead units as written, in the document's order.
    pub leads: Vec<String>,
    /// The responsible-units phrase as written; null for a blank cell.
    pub responsible: Option<String>,
    /// Structured targets of a quantified task. Absent means "leave the
    /// targets as they are" (a document import cannot know them); present,
    /// even empty, means "exactly these".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<TargetSeed>>,
    /// Line of the text dump the task's row starts on. Absent means "leave
    /// it as it is": Word documents and workbooks have rows, not lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_line: Option<u32>,
}

/// One measurable target of a quantified task, e.g. 网上可办率 ≥ 90 %.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSeed {
    /// What is measured, in the task's own words.
    pub metric: String,
    pub comparator: Comparator,
    /// The threshold; absent when it is a reference figure not known in
    /// advance (上一年度全国行政诉讼败诉率平均值).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "whole_numbers_plain")]
    pub value: Option<f64>,
    /// The figure compared against when there is no fixed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub unit: TargetUnit,
}

/// A county's units and the collective phrases that stand for several of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterSeed {
    pub format: String,
    pub region: String,
    pub units: Vec<UnitSeed>,
    pub groups: Vec<GroupSeed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSeed {
    pub name: String,
    pub kind: UnitKind,
    /// Holds administrative law-enforcement powers (行政执法单位).
    pub law_enforcement: bool,
    /// Other names documents use for the unit, e.g. 县政府办 for 县政府办公室.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A collective 责任单位 phrase and the rule that expands it into units:
/// every unit of the given kinds (only law-enforcement ones, if so marked),
/// plus `include`, minus `exclude`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSeed {
    pub phrase: String,
    pub member_kinds: Vec<UnitKind>,
    pub law_enforcement_only: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A problem in a seed file, with the JSON path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SeedError {
    pub path: String,
    pub message: String,
}

/// Every problem found in one seed file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SeedErrors(pub Vec<SeedError>);

impl fmt::Display for SeedErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the seed file is not valid ({} error(s)):", self.0.len())?;
        for error in &self.0 {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}

/// Parses JSON into `T`, naming the path of the first field that does not fit.
fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, SeedErrors> {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("not valid JSON at line {}, column {}: {inner}", inner.line(), inner.column())
        } else {
            inner.to_string()
        };
        SeedErrors(vec![SeedError { path, message }])
    })
}

/// Writes a seed as stable, reviewable JSON: two-space indents, fields in
/// declaration order, a final newline. Exporting the same data twice gives
/// the same bytes.
pub fn to_pretty_json<T: Serialize>(seed: &T) -> String {
    let mut json = serde_json::to_string_pretty(seed).expect("seed types always serialise");
    json.push('\n');
    json
}

/// Peeks at a JSON document's `format` field.
pub fn format_of(json: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Tagged {
        format: String,
    }
    serde_json::from_str::<Tagged>(json).ok().map(|tagged| tagged.format)
}

struct Problems(Vec<SeedError>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(SeedError { path: path.into(), message: message.into() });
    }

    fn non_blank(&mut self, path: &str, text: &str) {
        if text.trim().is_empty() {
            self.add(path, "must not be blank");
        } else if text.trim() != text {
            self.add(path, "must not start or end with spaces");
        }
    }

    /// Refuses text longer than duban keeps (`duban_dto::limits`).
    fn at_most(&mut self, path: &str, text: &str, max: usize) {
        let length = text.chars().count();
        if length > max {
            self.add(path, format!("may have at most {max} characters; it has {length}"));
        }
    }

    fn finish(self) -> Result<(), SeedErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(SeedErrors(self.0)) }
    }
}

impl CampaignSeed {
    /// Parses and validates a `duban.campaign/1` file.
    pub fn from_json(json: &str) -> Result<Self, SeedErrors> {
        let seed: CampaignSeed = from_json(json)?;
        seed.validate()?;
        Ok(seed)
    }

    /// The seed of a document read from a file: no targets (a document
    /// cannot state them in structured form) and the given campaign.
    pub fn from_document(document: &Document, campaign: CampaignMeta) -> Self {
        let indicators = document
            .level1
            .iter()
            .map(|level1| Level1Seed {
                code: level1.code(),
                title: level1.title.clone(),
                children: document
                    .level2
                    .iter()
                    .filter(|level2| level2.parent == level1.number)
                    .map(|level2| Level2Seed { code: level2.code(), title: level2.title.clone() })
                    .collect(),
            })
            .collect();
        let tasks = document
            .tasks
            .iter()
            .map(|task| TaskSeed {
                code: task.code(),
                list: task.list,
                number: task.number,
                indicator: task.level2.map(level2_code),
                text: task.text.clone(),
                leads: task.leads.clone(),
                responsible: task.responsible.clone(),
                targets: None,
                source_line: document.lines_are_source_lines.then_some(task.line),
            })
            .collect();
        CampaignSeed { format: CAMPAIGN_FORMAT.to_owned(), campaign, indicators, tasks }
    }

    /// Keeps what people curated in an earlier version of the seed — the
    /// campaign's description and the quantified targets — when the seed is
    /// regenerated from the document.
    pub fn carry_curation_from(&mut self, previous: &CampaignSeed) {
        self.campaign = previous.campaign.clone();
        let targets: BTreeMap<&str, &Option<Vec<TargetSeed>>> =
            previous.tasks.iter().map(|task| (task.code.as_str(), &task.targets)).collect();
        for task in &mut self.tasks {
            if let Some(previous_targets) = targets.get(task.code.as_str()) {
                task.targets = (*previous_targets).clone();
            }
        }
    }

    pub fn count(&self, list: TaskList) -> usize {
        self.tasks.iter().filter(|task| task.list == list).count()
    }

    /// Checks what the types alone cannot: codes, numbering, references.
    pub fn validate(&self) -> Result<(), SeedErrors> {
        let mut problems = Problems(Vec::new());
        let checklist = self.format == CHECKLIST_FORMAT;
        if self.format != CAMPAIGN_FORMAT && !checklist {
            problems.add("format", format!("expected {CAMPAIGN_FORMAT:?} or {CHECKLIST_FORMAT:?}, found {:?}", self.format));
        }
        let meta = &self.campaign;
        if !is_slug(&meta.code) {
            problems.add("campaign.code", "must be lower-case letters, digits and hyphens, starting with a letter or digit");
        }
        problems.non_blank("campaign.name", &meta.name);
        problems.at_most("campaign.name", &meta.name, limits::NOTE);
        problems.non_blank("campaign.region", &meta.region);
        problems.at_most("campaign.region", &meta.region, limits::NAME);
        problems.at_most("campaign.code", &meta.code, limits::CODE);
        if let (Some(start), Some(end)) = (meta.period_start, meta.period_end)
            && start > end
        {
            problems.add("campaign.period_end", format!("{end} is before period_start {start}"));
        }

        let mut level2_codes = BTreeSet::new();
        let mut next_level2 = 1;
        for (i, level1) in self.indicators.iter().enumerate() {
            let path = format!("indicators[{i}]");
            let expected = level1_code(i as u32 + 1);
            if level1.code != expected {
                problems.add(format!("{path}.code"), format!("expected {expected:?}, found {:?}", level1.code));
            }
            problems.non_blank(&format!("{path}.title"), &level1.title);
            if level1.children.is_empty() {
                problems.add(format!("{path}.children"), "a level-1 indicator needs at least one level-2 indicator");
            }
            for (j, level2) in level1.children.iter().enumerate() {
                let child = format!("{path}.children[{j}]");
                let expected = level2_code(next_level2);
                if level2.code != expected {
                    problems.add(format!("{child}.code"), format!("expected {expected:?}, found {:?}", level2.code));
                }
                problems.non_blank(&format!("{child}.title"), &level2.title);
                level2_codes.insert(level2.code.clone());
                next_level2 += 1;
            }
        }

        let mut next_number: BTreeMap<TaskList, u32> = BTreeMap::new();
        for (i, task) in self.tasks.iter().enumerate() {
            let path = format!("tasks[{i}]");
            let expected_number = next_number.entry(task.list).or_insert(1);
            if task.number != *expected_number {
                problems
                    .add(format!("{path}.number"), format!("{} task {} where {} was expected", task.list, task.number, expected_number));
            }
            *expected_number = task.number + 1;
            let code = task.list.task_code(task.number);
            if task.code != code {
                problems.add(format!("{path}.code"), format!("expected {code:?} for {} task {}", task.list, task.number));
            }
            match (&task.indicator, task.list) {
                (None, TaskList::Basic) => problems.add(format!("{path}.indicator"), "a basic task needs its level-2 indicator"),
                (Some(code), TaskList::Basic) => {
                    if !level2_codes.contains(code) {
                        problems.add(format!("{path}.indicator"), format!("no level-2 indicator {code:?}"));
                    }
                }
                (Some(_), list) => problems.add(format!("{path}.indicator"), format!("a {list} task has no indicator")),
                (None, _) => {}
            }
            problems.non_blank(&format!("{path}.text"), &task.text);
            problems.at_most(&format!("{path}.text"), &task.text, limits::TASK_TEXT);
            if task.leads.is_empty() && !checklist {
                problems.add(format!("{path}.leads"), "at least one lead unit is needed");
            }
            for (j, lead) in task.leads.iter().enumerate() {
                problems.non_blank(&format!("{path}.leads[{j}]"), lead);
                problems.at_most(&format!("{path}.leads[{j}]"), lead, limits::NAME);
            }
            if let Some(responsible) = &task.responsible {
                problems.non_blank(&format!("{path}.responsible"), responsible);
                problems.at_most(&format!("{path}.responsible"), responsible, limits::NOTE);
            }
            if let Some(targets) = &task.targets {
                if task.list != TaskList::Quantified && !targets.is_empty() {
                    problems.add(format!("{path}.targets"), "only quantified tasks have targets");
                }
                for (j, target) in targets.iter().enumerate() {
                    let target_path = format!("{path}.targets[{j}]");
                    problems.non_blank(&format!("{target_path}.metric"), &target.metric);
                    match (target.value, &target.reference) {
                        (None, None) => problems.add(target_path, "a target needs a value or a reference"),
                        (Some(value), _) if !value.is_finite() || value < 0.0 => {
                            problems.add(format!("{target_path}.value"), "must be a finite number, not negative");
                        }
                        (_, Some(reference)) => problems.non_blank(&format!("{target_path}.reference"), reference),
                        _ => {}
                    }
                }
            }
        }
        problems.finish()
    }
}

impl RosterSeed {
    /// Parses and validates a `duban.roster/1` file.
    pub fn from_json(json: &str) -> Result<Self, SeedErrors> {
        let seed: RosterSeed = from_json(json)?;
        seed.validate()?;
        Ok(seed)
    }

    pub fn validate(&self) -> Result<(), SeedErrors> {
        let mut problems = Problems(Vec::new());
        if self.format != ROSTER_FORMAT {
            problems.add("format", format!("expected {ROSTER_FORMAT:?}, found {:?}", self.format));
        }
        problems.non_blank("region", &self.region);
        problems.at_most("region", &self.region, limits::NAME);
        // Every name and alias identifies exactly one unit.
        let mut names: BTreeMap<&str, String> = BTreeMap::new();
        for (i, unit) in self.units.iter().enumerate() {
            let path = format!("units[{i}]");
            problems.non_blank(&format!("{path}.name"), &unit.name);
            let spellings = std::iter::once((format!("{path}.name"), &unit.name))
                .chain(unit.aliases.iter().enumerate().map(|(j, alias)| (format!("{path}.aliases[{j}]"), alias)));
            for (field, spelling) in spellings {
                problems.non_blank(&field, spelling);
                problems.at_most(&field, spelling, limits::NAME);
                if let Some(first) = names.get(spelling.as_str()) {
                    problems.add(field, format!("{spelling:?} already names the unit at {first}"));
                } else {
                    names.insert(spelling, path.clone());
                }
            }
        }
        let mut phrases = BTreeSet::new();
        for (i, group) in self.groups.iter().enumerate() {
            let path = format!("groups[{i}]");
            problems.non_blank(&format!("{path}.phrase"), &group.phrase);
            problems.at_most(&format!("{path}.phrase"), &group.phrase, limits::NAME);
            if !phrases.insert(group.phrase.as_str()) {
                problems.add(format!("{path}.phrase"), format!("{:?} is listed twice", group.phrase));
            }
            if names.contains_key(group.phrase.as_str()) {
                problems.add(format!("{path}.phrase"), format!("{:?} is also a unit's name", group.phrase));
            }
            for (field, list) in [("include", &group.include), ("exclude", &group.exclude)] {
                for (j, name) in list.iter().enumerate() {
                    if !self.units.iter().any(|unit| &unit.name == name) {
                        problems.add(format!("{path}.{field}[{j}]"), format!("no unit named {name:?} (use the unit's name, not an alias)"));
                    }
                }
            }
        }
        problems.finish()
    }
}

/// Writes 90.0 as 90, as a person would, and 0.5 as 0.5.
fn whole_numbers_plain<S: serde::Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;
    match value {
        Some(v) if v.fract() == 0.0 && v.abs() < EXACT_INTEGERS => serializer.serialize_i64(*v as i64),
        Some(v) => serializer.serialize_f64(*v),
        None => serializer.serialize_none(),
    }
}

fn is_slug(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Parses a level-2 code such as (十八) to its number.
pub fn level2_number(code: &str) -> Option<u32> {
    numerals::parse(code.strip_prefix('(')?.strip_suffix(')')?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_path_of_an_unknown_field() {
        let json = r#"{"format":"duban.roster/1","region":"罗平县","units":[{"name":"县司法局","kind":"government_department","law_enforcement":true,"colour":"red"}],"groups":[]}"#;
        let errors = RosterSeed::from_json(json).unwrap_err();
        assert!(errors.0[0].path.starts_with("units[0]"), "{errors}");
        assert!(errors.0[0].message.contains("colour"), "{errors}");
    }

    #[test]
    fn names_the_path_of_a_wrong_value() {
        let json = r#"{"format":"duban.roster/1","region":"罗平县","units":[{"name":"县司法局","kind":"bureau","law_enforcement":true}],"groups":[]}"#;
        let errors = RosterSeed::from_json(json).unwrap_err();
        assert_eq!(errors.0[0].path, "units[0].kind", "{errors}");
    }

    #[test]
    fn refuses_an_alias_that_names_two_units() {
        let json = r#"{"format":"duban.roster/1","region":"罗平县","units":[
            {"name":"县政府办公室","kind":"government_department","law_enforcement":false,"aliases":["县政府办"]},
            {"name":"县政府办","kind":"government_department","law_enforcement":false}],"groups":[]}"#;
        let errors = RosterSeed::from_json(json).unwrap_err();
        assert_eq!(errors.0[0].path, "units[1].name", "{errors}");
    }

    #[test]
    fn reports_syntax_errors_with_their_position() {
        let errors = CampaignSeed::from_json("{\"format\": ").unwrap_err();
        assert!(errors.0[0].message.contains("line 1"), "{errors}");
    }

    #[test]
    fn slugs() {
        assert!(is_slug("luoping"));
        assert!(is_slug("luoping-2025"));
        assert!(!is_slug("-x"));
        assert!(!is_slug("罗平"));
        assert!(!is_slug("Luoping"));
        assert!(!is_slug(""));
    }
}
