//! The breakdown table as meaning: indicators, tasks, who leads and who is
//! responsible — still with unit names exactly as the document writes them.

use std::collections::BTreeMap;

use duban_dto::TaskList;

use crate::numerals;
use crate::report::Normalisation;

/// A level-1 indicator (一级指标), e.g. 一、政府职能依法全面履行.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level1 {
    /// 1-based; the code is its Chinese numeral.
    pub number: u32,
    pub title: String,
    pub line: u32,
}

impl Level1 {
    pub fn code(&self) -> String {
        level1_code(self.number)
    }
}

/// A level-2 indicator (二级指标), e.g. (一)加大简政放权力度. Numbered
/// through the whole table, not within its level-1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level2 {
    pub number: u32,
    /// Number of the level-1 indicator it belongs to.
    pub parent: u32,
    pub title: String,
    pub line: u32,
}

impl Level2 {
    pub fn code(&self) -> String {
        level2_code(self.number)
    }
}

/// The code of a level-1 indicator: 一, 二 …
pub fn level1_code(number: u32) -> String {
    numerals::format(number)
}

/// The code of a level-2 indicator: (一), (二) … with half-width brackets.
pub fn level2_code(number: u32) -> String {
    format!("({})", numerals::format(number))
}

/// One task (a row of the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub list: TaskList,
    /// 序号 within its list, from 1.
    pub number: u32,
    /// The level-2 indicator, for basic tasks only.
    pub level2: Option<u32>,
    pub text: String,
    /// The lead units (牵头单位) as written, one per line of the cell, in order.
    pub leads: Vec<String>,
    /// The responsible units (责任单位) as written; `None` for a blank cell.
    pub responsible: Option<String>,
    pub line: u32,
}

impl Task {
    pub fn code(&self) -> String {
        self.list.task_code(self.number)
    }
}

/// Totals the document states about itself, e.g. 共229项，含基础任务清单155项….
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatedTotals {
    pub all: Option<u32>,
    pub per_list: BTreeMap<TaskList, u32>,
    /// Line of the sentence that states them.
    pub line: Option<u32>,
}

/// A whole breakdown table, interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The document's title, e.g. 罗平县法治政府建设示范创建指标任务分解表.
    pub title: Option<String>,
    /// The county the title names, e.g. 罗平县.
    pub region: Option<String>,
    pub stated: StatedTotals,
    pub level1: Vec<Level1>,
    pub level2: Vec<Level2>,
    pub tasks: Vec<Task>,
    pub normalisations: Vec<Normalisation>,
    /// Whether the `line`s are lines of a text dump, which the database
    /// keeps as each task's source line. For Word, workbooks and flat rows
    /// they are table rows, which locate errors but are not kept.
    pub lines_are_source_lines: bool,
}

impl Document {
    pub fn count(&self, list: TaskList) -> usize {
        self.tasks.iter().filter(|task| task.list == list).count()
    }

    pub fn task(&self, code: &str) -> Option<&Task> {
        self.tasks.iter().find(|task| task.code() == code)
    }
}
