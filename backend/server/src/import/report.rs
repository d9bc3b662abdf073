//! What an import did, or would do in a dry run: the normalisations applied
//! to the document, every change to the database, and what an operator
//! should look at.

use std::collections::BTreeMap;
use std::fmt;

use duban_breakdown::Normalisation;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Region,
    Campaign,
    Indicator,
    Task,
    Unit,
    UnitGroup,
    Assignment,
}

impl Entity {
    /// The entity's name as JSON spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Entity::Region => "region",
            Entity::Campaign => "campaign",
            Entity::Indicator => "indicator",
            Entity::Task => "task",
            Entity::Unit => "unit",
            Entity::UnitGroup => "unit_group",
            Entity::Assignment => "assignment",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Entity::Region => "regions",
            Entity::Campaign => "campaigns",
            Entity::Indicator => "indicators",
            Entity::Task => "tasks",
            Entity::Unit => "units",
            Entity::UnitGroup => "unit groups",
            Entity::Assignment => "assignments",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Created,
    Updated,
    Deleted,
}

/// One row created, updated or deleted, by its natural key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub entity: Entity,
    /// The natural key: task code, indicator code, unit name …
    pub key: String,
    pub action: ChangeAction,
    /// For updates, the fields that changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<&'static str>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// What was imported: a file name or a description.
    pub source: String,
    pub dry_run: bool,
    pub normalisations: Vec<Normalisation>,
    pub changes: Vec<Change>,
    /// Things an operator should check: units created with a guessed kind,
    /// groups without members, rows kept because work has started on them.
    pub warnings: Vec<String>,
    /// Names the roster did not know, resolved through the built-in names
    /// of county units: "县政府办 → 县政府办公室".
    pub resolved_by_builtin_names: Vec<String>,
}

impl ImportReport {
    pub fn new(source: impl Into<String>, dry_run: bool) -> Self {
        ImportReport { source: source.into(), dry_run, ..ImportReport::default() }
    }

    pub fn is_unchanged(&self) -> bool {
        self.changes.is_empty()
    }

    pub(crate) fn record(&mut self, entity: Entity, key: impl Into<String>, action: ChangeAction) {
        self.changes.push(Change { entity, key: key.into(), action, fields: Vec::new() });
    }

    pub(crate) fn record_update(&mut self, entity: Entity, key: impl Into<String>, fields: Vec<&'static str>) {
        if !fields.is_empty() {
            self.changes.push(Change { entity, key: key.into(), action: ChangeAction::Updated, fields });
        }
    }

    pub(crate) fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// How many rows of each entity were created, updated and deleted.
    pub fn counts(&self) -> BTreeMap<(Entity, ChangeAction), usize> {
        let mut counts = BTreeMap::new();
        for change in &self.changes {
            *counts.entry((change.entity, change.action)).or_default() += 1;
        }
        counts
    }

    pub fn count(&self, entity: Entity, action: ChangeAction) -> usize {
        self.counts().get(&(entity, action)).copied().unwrap_or(0)
    }
}

impl fmt::Display for ImportReport {
    /// The report as the CLI prints it: normalisations, warnings, then the
    /// changes — every update and deletion by name, creations counted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}{}", self.source, if self.dry_run { " (dry run: nothing was written)" } else { "" })?;
        if !self.normalisations.is_empty() {
            writeln!(f, "\nnormalisations applied to the document ({}):", self.normalisations.len())?;
            for normalisation in &self.normalisations {
                writeln!(f, "  {normalisation}")?;
            }
        }
        if !self.resolved_by_builtin_names.is_empty() {
            writeln!(f, "\nresolved through the built-in unit names ({}):", self.resolved_by_builtin_names.len())?;
            for line in &self.resolved_by_builtin_names {
                writeln!(f, "  {line}")?;
            }
        }
        if !self.warnings.is_empty() {
            writeln!(f, "\nwarnings ({}):", self.warnings.len())?;
            for warning in &self.warnings {
                writeln!(f, "  {warning}")?;
            }
        }
        for change in self.changes.iter().filter(|change| change.action != ChangeAction::Created) {
            let action = if change.action == ChangeAction::Updated { "updated" } else { "deleted" };
            write!(f, "\n  {action} {:?} {}", change.entity, change.key)?;
            if !change.fields.is_empty() {
                write!(f, " ({})", change.fields.join(", "))?;
            }
        }
        if self.changes.is_empty() {
            return writeln!(f, "\nno changes");
        }
        let summary: Vec<String> = self
            .counts()
            .into_iter()
            .map(|((entity, action), count)| {
                let action = match action {
                    ChangeAction::Created => "created",
                    ChangeAction::Updated => "updated",
                    ChangeAction::Deleted => "deleted",
                };
                format!("{count} {} {action}", entity.plural())
            })
            .collect();
        let heading = if self.dry_run { "would change" } else { "changed" };
        writeln!(f, "\n{heading}: {}", summary.join(", "))
    }
}
