//! Built-in knowledge of how Chinese county units are named
//! (`seeds/unit-names.json`): the standard organs with their usual written
//! forms and abbreviations, their kinds and law-enforcement defaults, and
//! the collective phrases with the rule that says who belongs to them. An
//! import resolves names a county's roster does not know through it, so that
//! 县政府办 and 县人民政府办公室 become one unit and 各乡镇人民政府 a group of
//! every township rather than a group without members.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use duban_dto::UnitKind;
use serde::Deserialize;

use crate::clean::half_width_brackets;

/// A name with half-width brackets, as the knowledge files names.
fn normalise_brackets(text: &str) -> String {
    let mut text = text.to_owned();
    half_width_brackets(&mut text);
    text
}

/// One standard organ of a county.
#[derive(Debug, Clone, Deserialize)]
pub struct Organ {
    /// The name duban files it under.
    pub name: String,
    pub kind: UnitKind,
    /// Whether it enforces the law by default (行政执法单位).
    pub law_enforcement: bool,
    /// Other ways tables write it.
    #[serde(default)]
    pub forms: Vec<String>,
}

/// A collective phrase and who belongs to it.
#[derive(Debug, Clone, Deserialize)]
pub struct PhraseRule {
    pub phrase: String,
    pub member_kinds: Vec<UnitKind>,
    pub law_enforcement_only: bool,
    #[serde(default)]
    pub forms: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct KnowledgeFile {
    format: String,
    organs: Vec<Organ>,
    phrases: Vec<PhraseRule>,
}

/// The knowledge, with every name and form indexed.
#[derive(Debug)]
pub struct Knowledge {
    organs: Vec<Organ>,
    phrases: Vec<PhraseRule>,
    organ_by_form: BTreeMap<String, usize>,
    phrase_by_form: BTreeMap<String, usize>,
}

impl Knowledge {
    /// The knowledge compiled into duban from `seeds/unit-names.json`.
    pub fn builtin() -> &'static Knowledge {
        static BUILTIN: OnceLock<Knowledge> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Knowledge::parse(include_str!("../../../seeds/unit-names.json")).expect("seeds/unit-names.json is valid (tested)")
        })
    }

    pub fn parse(json: &str) -> Result<Knowledge, String> {
        let file: KnowledgeFile = serde_json::from_str(json).map_err(|error| format!("unit names: {error}"))?;
        if file.format != "duban.unit-names/1" {
            return Err(format!("unit names: format {:?} is not duban.unit-names/1", file.format));
        }
        let mut organ_by_form = BTreeMap::new();
        for (index, organ) in file.organs.iter().enumerate() {
            for form in std::iter::once(&organ.name).chain(&organ.forms) {
                if let Some(other) = organ_by_form.insert(normalise_brackets(form), index) {
                    return Err(format!("unit names: {form:?} names both {} and {}", file.organs[other].name, organ.name));
                }
            }
        }
        let mut phrase_by_form = BTreeMap::new();
        for (index, rule) in file.phrases.iter().enumerate() {
            for form in std::iter::once(&rule.phrase).chain(&rule.forms) {
                if let Some(other) = phrase_by_form.insert(normalise_brackets(form), index) {
                    return Err(format!("unit names: {form:?} is both {} and {}", file.phrases[other].phrase, rule.phrase));
                }
            }
        }
        Ok(Knowledge { organs: file.organs, phrases: file.phrases, organ_by_form, phrase_by_form })
    }

    /// The knowledge as it reads the names of `region` (罗平县): the
    /// county's own name in a unit's name stands for 县.
    pub fn for_region(&'static self, region: &str) -> RegionKnowledge {
        let short = region.strip_suffix(['县', '区', '市', '旗']).filter(|short| !short.is_empty()).map(str::to_owned);
        RegionKnowledge { knowledge: self, region: region.to_owned(), short }
    }
}

/// The knowledge for one county.
#[derive(Debug, Clone)]
pub struct RegionKnowledge {
    knowledge: &'static Knowledge,
    region: String,
    short: Option<String>,
}

impl RegionKnowledge {
    /// A written name as the knowledge files it: half-width brackets, no
    /// leading 中共, the county's own name as 县 (罗平县公安局 → 县公安局).
    pub fn normalise(&self, written: &str) -> String {
        let mut name = normalise_brackets(written.trim());
        if let Some(rest) = name.strip_prefix("中共") {
            name = rest.to_owned();
        }
        if let Some(at) = name.find(&self.region) {
            name.replace_range(at..at + self.region.len(), "县");
        } else if let Some(short) = &self.short
            && let Some(rest) = name.strip_prefix(short.as_str())
        {
            name = if rest.starts_with('县') { rest.to_owned() } else { format!("县{rest}") };
        }
        name
    }

    pub fn organ(&self, written: &str) -> Option<&'static Organ> {
        let knowledge = self.knowledge;
        knowledge.organ_by_form.get(&self.normalise(written)).map(|index| &knowledge.organs[*index])
    }

    pub fn phrase(&self, written: &str) -> Option<&'static PhraseRule> {
        let knowledge = self.knowledge;
        knowledge.phrase_by_form.get(&normalise_brackets(written.trim())).map(|index| &knowledge.phrases[*index])
    }

    /// The organ filed under `name`, to create it with its defaults.
    pub fn organ_named(&self, name: &str) -> Option<&'static Organ> {
        self.knowledge.organs.iter().find(|organ| organ.name == name)
    }

    pub fn phrase_named(&self, phrase: &str) -> Option<&'static PhraseRule> {
        self.knowledge.phrases.iter().find(|rule| rule.phrase == phrase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_names_are_valid_and_read_a_countys_own_forms() {
        let luoping = Knowledge::builtin().for_region("罗平县");
        let name = |written: &str| luoping.organ(written).map(|organ| organ.name.as_str());
        assert_eq!(name("县政府办"), Some("县政府办公室"));
        assert_eq!(name("罗平县人民政府办公室"), Some("县政府办公室"));
        assert_eq!(name("中共罗平县委办公室"), Some("县委办公室"));
        assert_eq!(name("罗平县公安局"), Some("县公安局"));
        assert_eq!(name("县法院"), Some("县人民法院"));
        assert_eq!(luoping.organ("县人大常委会办公室").map(|organ| organ.kind), Some(UnitKind::Other));
        assert_eq!(name("县某某中心"), None);
        let phrase = |written: &str| luoping.phrase(written).map(|rule| rule.phrase.as_str());
        assert_eq!(phrase("各乡镇（街道）"), Some("各乡镇(街道)"));
        assert_eq!(phrase("各乡镇人民政府"), Some("各乡镇(街道)"));
        assert_eq!(luoping.phrase("各行政执法部门").map(|rule| rule.law_enforcement_only), Some(true));
    }
}
