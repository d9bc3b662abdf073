//! Regenerates the structured campaign seed from the source document.

use anyhow::{Context, bail};
use duban_breakdown::seed::{CampaignSeed, to_pretty_json};

use crate::workspace_root;

pub fn regenerate(check: bool) -> anyhow::Result<()> {
    let seeds = workspace_root().join("seeds");
    let document_path = seeds.join("luoping-task-breakdown.txt");
    let seed_path = seeds.join("luoping.campaign.json");

    let text = std::fs::read_to_string(&document_path).with_context(|| format!("reading {}", document_path.display()))?;
    let document = duban_breakdown::read_text_dump(&text)?;
    let committed = std::fs::read_to_string(&seed_path).with_context(|| format!("reading {}", seed_path.display()))?;
    let previous = CampaignSeed::from_json(&committed)?;

    let mut seed = CampaignSeed::from_document(&document, previous.campaign.clone());
    seed.carry_curation_from(&previous);
    seed.validate()?;
    let regenerated = to_pretty_json(&seed);

    if regenerated == committed {
        println!("{} is up to date", seed_path.display());
    } else if check {
        bail!("{} is out of date: run `cargo xtask seeds`", seed_path.display());
    } else {
        std::fs::write(&seed_path, regenerated)?;
        println!("wrote {}", seed_path.display());
    }
    Ok(())
}
