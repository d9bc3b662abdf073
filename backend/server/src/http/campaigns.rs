use std::collections::BTreeMap;

use actix_web::{get, web};
use diesel::dsl::count_star;
use diesel::prelude::*;
use duban_dto::TaskList;
use duban_dto::api::{CampaignSummary, ListCount};

use super::{ApiError, AppState};
use crate::db::models::Campaign;
use crate::db::schema::{campaigns, indicators, regions, tasks};

/// Every campaign with its task counts per list.
#[utoipa::path(
    tag = "campaigns",
    responses((status = 200, description = "All campaigns, oldest first", body = Vec<CampaignSummary>))
)]
#[get("/campaigns")]
pub async fn list_campaigns(state: web::Data<AppState>) -> Result<web::Json<Vec<CampaignSummary>>, ApiError> {
    let summaries = state
        .db(|conn| {
            let rows: Vec<(Campaign, String)> = campaigns::table
                .inner_join(regions::table)
                .order(campaigns::id)
                .select((Campaign::as_select(), regions::name))
                .load(conn)?;
            let task_counts: Vec<(i64, String, i64)> = tasks::table
                .group_by((tasks::campaign_id, tasks::list))
                .select((tasks::campaign_id, tasks::list, count_star()))
                .load(conn)?;
            let indicator_counts: BTreeMap<(i64, i16), i64> = indicators::table
                .group_by((indicators::campaign_id, indicators::level))
                .select((indicators::campaign_id, indicators::level, count_star()))
                .load::<(i64, i16, i64)>(conn)?
                .into_iter()
                .map(|(campaign, level, count)| ((campaign, level), count))
                .collect();
            Ok(rows
                .into_iter()
                .map(|(campaign, region)| CampaignSummary {
                    id: campaign.id,
                    level1_indicators: indicator_counts.get(&(campaign.id, 1)).copied().unwrap_or(0),
                    level2_indicators: indicator_counts.get(&(campaign.id, 2)).copied().unwrap_or(0),
                    task_counts: TaskList::ALL
                        .iter()
                        .map(|&list| ListCount {
                            list,
                            tasks: task_counts
                                .iter()
                                .find(|(id, l, _)| *id == campaign.id && l == list.as_str())
                                .map_or(0, |(_, _, count)| *count),
                        })
                        .collect(),
                    code: campaign.code,
                    name: campaign.name,
                    region,
                    period_start: campaign.period_start.map(|date| date.to_string()),
                    period_end: campaign.period_end.map(|date| date.to_string()),
                })
                .collect())
        })
        .await?;
    Ok(web::Json(summaries))
}
