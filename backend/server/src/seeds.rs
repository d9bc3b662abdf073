//! The demo data compiled into the binary: Luoping county's roster and its
//! breakdown of the province's checklist, as committed under `seeds/`.

use diesel::prelude::*;

use crate::db::schema::{campaigns, units};
use crate::import::{self, ImportError, ImportReport, Source};

pub const LUOPING_ROSTER: &str = include_str!("../../../seeds/luoping.units.json");
pub const LUOPING_CAMPAIGN: &str = include_str!("../../../seeds/luoping.campaign.json");

/// Loads the roster and then the campaign, each in its own transaction.
pub fn load_demo(conn: &mut PgConnection) -> Result<Vec<ImportReport>, ImportError> {
    let roster = Source::from_json(LUOPING_ROSTER)?;
    let campaign = Source::from_json(LUOPING_CAMPAIGN)?;
    Ok(vec![
        import::run(conn, &roster, "demo roster (seeds/luoping.units.json)", false)?,
        import::run(conn, &campaign, "demo campaign (seeds/luoping.campaign.json)", false)?,
    ])
}

/// On a database with no campaigns and no units — a first start — loads
/// the demo data. Returns whether it did.
pub fn load_demo_if_empty(conn: &mut PgConnection) -> Result<bool, ImportError> {
    let campaigns: i64 = campaigns::table.count().get_result(conn)?;
    let units: i64 = units::table.count().get_result(conn)?;
    if campaigns > 0 || units > 0 {
        return Ok(false);
    }
    for report in load_demo(conn)? {
        tracing::info!(source = report.source, changes = report.changes.len(), "demo data loaded");
    }
    Ok(true)
}
