//! The province's checklist as a template: a county's campaign started
//! from another campaign's indicators, tasks and targets, without that
//! county's lead and responsible units, which the new county adds (by
//! importing its own breakdown table into the campaign, or assigning).

use diesel::prelude::*;
use duban_breakdown::seed::CampaignMeta;
use duban_dto::api::{CampaignSummary, NewCampaign};

use crate::authz::{Caller, ImportData};
use crate::db::schema::campaigns;
use crate::error::Error;
use crate::import::{self, ImportError, Source};
use crate::{catalog, export};

fn refused(error: ImportError) -> Error {
    match error {
        ImportError::Database(error) => error.into(),
        other => Error::invalid("template_refused", other.to_string()),
    }
}

/// Creates campaign `new.code` for `new.region` from the checklist of
/// `new.template`; audited like an import.
pub fn create_campaign(conn: &mut PgConnection, can: &ImportData, caller: &Caller, new: &NewCampaign) -> Result<CampaignSummary, Error> {
    crate::limits::at_most("name", &new.name, duban_dto::limits::NAME)?;
    crate::limits::at_most("region", &new.region, duban_dto::limits::NAME)?;
    crate::limits::at_most("code", &new.code, duban_dto::limits::CODE)?;
    let taken: bool = diesel::select(diesel::dsl::exists(campaigns::table.filter(campaigns::code.eq(&new.code)))).get_result(conn)?;
    if taken {
        return Err(Error::conflict("campaign_exists", format!("there is already a campaign {:?}", new.code)));
    }
    let mut seed = export::campaign_seed(conn, &new.template)?;
    seed.format = duban_breakdown::seed::CHECKLIST_FORMAT.to_owned();
    seed.campaign = CampaignMeta {
        code: new.code.clone(),
        name: new.name.clone(),
        region: new.region.clone(),
        period_start: new.period_start,
        period_end: new.period_end,
        source_title: Some(format!("{}（清单模板）", seed.campaign.source_title.as_deref().unwrap_or(&seed.campaign.name))),
    };
    for task in &mut seed.tasks {
        task.leads.clear();
        task.responsible = None;
        task.source_line = None;
    }
    let label = format!("the checklist of {} for {}", new.template, new.region);
    import::run(conn, can, &caller.audit_actor(), &Source::Campaign(Box::new(seed)), &label, false).map_err(refused)?;
    catalog::started_campaign(conn, can, &new.code)
}
