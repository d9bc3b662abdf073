//! Resolving the unit names a document writes into the units and groups of
//! a county's roster: aliases (县政府办 = 县政府办公室), collective phrases
//! (各行政执法单位), and names the roster does not know yet.

use std::collections::BTreeMap;

use duban_dto::UnitKind;
use serde::Serialize;

use crate::knowledge::RegionKnowledge;
use crate::seed::RosterSeed;

/// What a written name stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "resolves_to", rename_all = "snake_case")]
pub enum Resolved {
    /// A unit of the roster, by its canonical name.
    Unit { name: String },
    /// A collective group of the roster, by its phrase.
    Group { phrase: String },
    /// A unit the roster does not know; an import creates it with the
    /// guessed kind and reports it.
    NewUnit { name: String, kind: UnitKind },
    /// A collective phrase the roster does not know; an import creates it
    /// with no members and reports that its members must be defined.
    NewGroup { phrase: String },
}

/// One party of a task as the document writes it and what it resolves to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    pub as_written: String,
    pub resolved: Resolved,
    /// Resolved through the built-in names (`knowledge`), not the roster.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub by_builtin_names: bool,
}

/// Looks up names in a roster: canonical names, aliases and group phrases;
/// then, for names the roster does not know, in the built-in knowledge of
/// how county units are named, if it is given.
#[derive(Debug, Clone, Default)]
pub struct RosterIndex {
    units: BTreeMap<String, String>,
    groups: BTreeMap<String, ()>,
    knowledge: Option<RegionKnowledge>,
}

impl RosterIndex {
    pub fn new(roster: &RosterSeed) -> Self {
        let mut index = RosterIndex::default();
        for unit in &roster.units {
            index.add_unit(&unit.name, unit.aliases.iter().map(String::as_str));
        }
        for group in &roster.groups {
            index.add_group(&group.phrase);
        }
        index
    }

    pub fn add_unit<'a>(&mut self, name: &str, aliases: impl IntoIterator<Item = &'a str>) {
        self.units.insert(name.to_owned(), name.to_owned());
        for alias in aliases {
            self.units.insert(alias.to_owned(), name.to_owned());
        }
    }

    pub fn add_group(&mut self, phrase: &str) {
        self.groups.insert(phrase.to_owned(), ());
    }

    /// Resolves names the roster lacks through the built-in knowledge.
    pub fn set_knowledge(&mut self, knowledge: RegionKnowledge) {
        self.knowledge = Some(knowledge);
    }

    pub fn knowledge(&self) -> Option<&RegionKnowledge> {
        self.knowledge.as_ref()
    }

    fn in_roster(&self, written: &str) -> Option<Resolved> {
        if let Some(name) = self.units.get(written) {
            return Some(Resolved::Unit { name: name.clone() });
        }
        self.groups.contains_key(written).then(|| Resolved::Group { phrase: written.to_owned() })
    }

    /// What a written name stands for, and whether the built-in names told:
    /// the roster first; then the knowledge, which finds the organ or phrase
    /// under the roster's own spelling if the roster has it in any form,
    /// and names it as the knowledge files it otherwise.
    fn lookup(&self, written: &str) -> Option<(Resolved, bool)> {
        if let Some(resolved) = self.in_roster(written) {
            return Some((resolved, false));
        }
        let knowledge = self.knowledge.as_ref()?;
        if let Some(resolved) = self.in_roster(&knowledge.normalise(written)) {
            return Some((resolved, true));
        }
        if let Some(organ) = knowledge.organ(written) {
            let known = std::iter::once(&organ.name).chain(&organ.forms).find_map(|form| self.units.get(form));
            let resolved = match known {
                Some(name) => Resolved::Unit { name: name.clone() },
                None => Resolved::NewUnit { name: organ.name.clone(), kind: organ.kind },
            };
            return Some((resolved, true));
        }
        let rule = knowledge.phrase(written)?;
        let known = std::iter::once(&rule.phrase).chain(&rule.forms).find(|form| self.groups.contains_key(*form));
        let resolved = match known {
            Some(phrase) => Resolved::Group { phrase: phrase.clone() },
            None => Resolved::NewGroup { phrase: rule.phrase.clone() },
        };
        Some((resolved, true))
    }

    /// Resolves a name, creating a new unit or group for an unknown one.
    fn resolve_one(&self, written: &str) -> Party {
        let (resolved, by_builtin_names) = self.lookup(written).unwrap_or_else(|| {
            let resolved = if is_collective(written) {
                Resolved::NewGroup { phrase: written.to_owned() }
            } else {
                Resolved::NewUnit { name: written.to_owned(), kind: guess_kind(written) }
            };
            (resolved, false)
        });
        Party { as_written: written.to_owned(), resolved, by_builtin_names }
    }

    /// Resolves the lines of a 牵头单位 cell, one unit per line. Two lines
    /// that only together name a known unit were one name wrapped in the cell.
    pub fn resolve_leads(&self, lines: &[String]) -> Vec<Party> {
        let mut parties = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            if self.lookup(&lines[i]).is_none()
                && let Some(next) = lines.get(i + 1)
            {
                let joined = format!("{}{}", lines[i], next);
                if let Some((resolved, by_builtin_names)) = self.lookup(&joined) {
                    parties.push(Party { as_written: joined, resolved, by_builtin_names });
                    i += 2;
                    continue;
                }
            }
            parties.push(self.resolve_one(&lines[i]));
            i += 1;
        }
        parties
    }

    /// Resolves a 责任单位 phrase. A known unit or group stands for itself;
    /// otherwise the phrase is a list (县司法局、县财政局) when every piece is
    /// known, a new collective group when it reads as one (各…), and a list
    /// with new units otherwise.
    pub fn resolve_responsible(&self, phrase: &str) -> Vec<Party> {
        if let Some((resolved, by_builtin_names)) = self.lookup(phrase) {
            return vec![Party { as_written: phrase.to_owned(), resolved, by_builtin_names }];
        }
        let pieces: Vec<&str> = phrase.split(['、', '，', ',', '；', ';', '\n']).map(str::trim).filter(|piece| !piece.is_empty()).collect();
        let all_known = pieces.iter().all(|piece| self.lookup(piece).is_some());
        if !all_known && is_collective(phrase) {
            return vec![Party {
                as_written: phrase.to_owned(),
                resolved: Resolved::NewGroup { phrase: phrase.to_owned() },
                by_builtin_names: false,
            }];
        }
        pieces.into_iter().map(|piece| self.resolve_one(piece)).collect()
    }
}

/// Collective phrases name units by a common trait: 各有关部门, 各行政执法单位.
pub fn is_collective(written: &str) -> bool {
    written.starts_with('各') || written.starts_with("全县") || written.starts_with("相关")
}

/// Guesses what kind of unit an unknown name is, from how Chinese county
/// units are named. The import reports the guess so an administrator can
/// correct it.
pub fn guess_kind(name: &str) -> UnitKind {
    if name.ends_with("法院") || name.ends_with("检察院") {
        UnitKind::CourtOrProcuratorate
    } else if name.ends_with('乡') || name.ends_with('镇') || name.ends_with("街道") {
        UnitKind::Township
    } else if name.contains("县委") || name.contains("纪委") || name.contains("党校") || name.contains("依法治") {
        UnitKind::PartyOrgan
    } else if name.ends_with('局') || name.ends_with("办公室") || name.ends_with('办') || name.starts_with("县政府") {
        UnitKind::GovernmentDepartment
    } else {
        UnitKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> RosterIndex {
        let mut index = RosterIndex::default();
        index.add_unit("县政府办公室", ["县政府办"]);
        index.add_unit("县司法局", []);
        index.add_unit("县人大常委会办公室", []);
        index.add_group("各有关部门、各乡镇(街道)按职责分工分别负责");
        index.add_group("各行政执法单位");
        index
    }

    fn names(parties: &[Party]) -> Vec<Resolved> {
        parties.iter().map(|p| p.resolved.clone()).collect()
    }

    #[test]
    fn resolves_aliases_to_the_canonical_unit() {
        let parties = index().resolve_leads(&["县政府办".to_owned()]);
        assert_eq!(parties[0].as_written, "县政府办");
        assert_eq!(parties[0].resolved, Resolved::Unit { name: "县政府办公室".to_owned() });
    }

    #[test]
    fn joins_a_name_wrapped_over_two_lines() {
        let parties = index().resolve_leads(&["县人大常委会".to_owned(), "办公室".to_owned(), "县司法局".to_owned()]);
        assert_eq!(
            names(&parties),
            [Resolved::Unit { name: "县人大常委会办公室".to_owned() }, Resolved::Unit { name: "县司法局".to_owned() }]
        );
    }

    #[test]
    fn resolves_collective_leads_to_groups() {
        let parties = index().resolve_leads(&["各行政执法单位".to_owned()]);
        assert_eq!(names(&parties), [Resolved::Group { phrase: "各行政执法单位".to_owned() }]);
    }

    #[test]
    fn resolves_responsible_phrases() {
        let index = index();
        assert_eq!(
            names(&index.resolve_responsible("各有关部门、各乡镇(街道)按职责分工分别负责")),
            [Resolved::Group { phrase: "各有关部门、各乡镇(街道)按职责分工分别负责".to_owned() }]
        );
        assert_eq!(
            names(&index.resolve_responsible("县司法局、县政府办")),
            [Resolved::Unit { name: "县司法局".to_owned() }, Resolved::Unit { name: "县政府办公室".to_owned() }]
        );
        assert_eq!(
            names(&index.resolve_responsible("各有关单位、各村(社区)")),
            [Resolved::NewGroup { phrase: "各有关单位、各村(社区)".to_owned() }]
        );
        assert_eq!(
            names(&index.resolve_responsible("县司法局、县档案馆")),
            [Resolved::Unit { name: "县司法局".to_owned() }, Resolved::NewUnit { name: "县档案馆".to_owned(), kind: UnitKind::Other }]
        );
    }

    #[test]
    fn guesses_kinds_from_names() {
        assert_eq!(guess_kind("县交通运输局"), UnitKind::GovernmentDepartment);
        assert_eq!(guess_kind("县委统战部"), UnitKind::PartyOrgan);
        assert_eq!(guess_kind("罗雄街道"), UnitKind::Township);
        assert_eq!(guess_kind("长底布依族乡"), UnitKind::Township);
        assert_eq!(guess_kind("县人民法院"), UnitKind::CourtOrProcuratorate);
        assert_eq!(guess_kind("县档案馆"), UnitKind::Other);
    }
}
