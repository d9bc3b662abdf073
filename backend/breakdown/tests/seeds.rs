//! The committed seed files agree with the document and with each other.

use duban_breakdown::resolve::{Resolved, RosterIndex};
use duban_breakdown::seed::{CampaignSeed, RosterSeed, to_pretty_json};
use duban_dto::{Comparator, TargetUnit, TaskList};

const DOCUMENT: &str = include_str!("../../../seeds/luoping-task-breakdown.txt");
const CAMPAIGN: &str = include_str!("../../../seeds/luoping.campaign.json");
const ROSTER: &str = include_str!("../../../seeds/luoping.units.json");

fn campaign() -> CampaignSeed {
    CampaignSeed::from_json(CAMPAIGN).unwrap_or_else(|errors| panic!("{errors}"))
}

fn roster() -> RosterSeed {
    RosterSeed::from_json(ROSTER).unwrap_or_else(|errors| panic!("{errors}"))
}

#[test]
fn campaign_seed_is_generated_from_the_document() {
    let committed = campaign();
    let document = duban_breakdown::read_text_dump(DOCUMENT).unwrap();
    let mut regenerated = CampaignSeed::from_document(&document, committed.campaign.clone());
    regenerated.carry_curation_from(&committed);
    assert!(to_pretty_json(&regenerated) == CAMPAIGN, "seeds/luoping.campaign.json differs from the document: run `cargo xtask seeds`");
}

#[test]
fn roster_files_are_in_their_canonical_form() {
    assert_eq!(to_pretty_json(&roster()), ROSTER, "rewrite seeds/luoping.units.json with to_pretty_json");
}

#[test]
fn every_quantified_task_has_targets_that_its_text_states() {
    let seed = campaign();
    let mut units_used = std::collections::BTreeSet::new();
    let mut comparators_used = std::collections::BTreeSet::new();
    for task in &seed.tasks {
        let targets = task.targets.as_deref().unwrap_or_default();
        if task.list != TaskList::Quantified {
            assert!(targets.is_empty(), "{} is not quantified but has targets", task.code);
            continue;
        }
        assert!(!targets.is_empty(), "{} has no targets", task.code);
        for target in targets {
            units_used.insert(target.unit);
            comparators_used.insert(target.comparator);
            let unit = target.unit.as_str();
            match (target.value, &target.reference) {
                (Some(value), _) => {
                    let arabic = format!("{value}");
                    let chinese = (1.0..100.0).contains(&value).then(|| duban_breakdown::numerals::format(value as u32));
                    assert!(
                        task.text.contains(&format!("{arabic}{unit}"))
                            || task.text.contains(&format!("{arabic}个{unit}"))
                            || chinese.is_some_and(|chinese| task.text.contains(&format!("{chinese}{unit}"))),
                        "{}: {value}{unit} is not in {:?}",
                        task.code,
                        task.text
                    );
                }
                (None, Some(reference)) => {
                    assert!(task.text.contains(reference.as_str()), "{}: {reference} not in the text", task.code)
                }
                (None, None) => unreachable!("validation requires one"),
            }
        }
    }
    assert_eq!(seed.count(TaskList::Quantified), 32);
    // Every unit the issue names occurs in the seed data.
    for unit in ["%", "工作日", "日", "小时", "学时", "次", "期", "名"] {
        assert!(units_used.contains(&TargetUnit::parse(unit).unwrap()), "no target in {unit}");
    }
    assert!(comparators_used.contains(&Comparator::AtLeast) && comparators_used.contains(&Comparator::AtMost));
}

#[test]
fn roster_knows_every_unit_and_phrase_of_the_document() {
    let index = RosterIndex::new(&roster());
    let seed = campaign();
    for task in &seed.tasks {
        let parties = index
            .resolve_leads(&task.leads)
            .into_iter()
            .chain(task.responsible.iter().flat_map(|phrase| index.resolve_responsible(phrase)));
        for party in parties {
            assert!(
                matches!(party.resolved, Resolved::Unit { .. } | Resolved::Group { .. }),
                "{}: {:?} is not in seeds/luoping.units.json",
                task.code,
                party.as_written
            );
        }
    }
}

#[test]
fn roster_holds_the_thirteen_townships() {
    let roster = roster();
    let townships: Vec<&str> =
        roster.units.iter().filter(|unit| unit.kind == duban_dto::UnitKind::Township).map(|unit| unit.name.as_str()).collect();
    assert_eq!(townships.len(), 13, "{townships:?}");
    for name in ["罗雄街道", "鲁布革布依族苗族乡", "旧屋基彝族乡", "长底布依族乡"] {
        assert!(townships.contains(&name), "{name}");
    }
}
