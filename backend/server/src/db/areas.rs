//! Where things lie: the regions below a region (a caller's area), and the
//! region of each kind of resource a request can name, so that the one
//! check in `http::area` can answer anything outside the caller's area as
//! absent.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};

use crate::authz::Area;

/// A resource a request names by id or code, whose region decides who may
/// see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Campaign(String),
    Region(String),
    Task(i64),
    Assignment(i64),
    Evidence(i64),
    EvidenceVersion(i64),
    Unit(i64),
    Group(i64),
    Notice(i64),
    NoticeRecipient(i64),
    Bulletin(i64),
    NegativeReport(i64),
    ImportJob(i64),
    User(i64),
}

/// Where a resource lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// There is no such resource; the handler answers that itself.
    Missing,
    /// In this region.
    Region(i64),
    /// In no region: an account or job of the whole installation, which
    /// only callers of the whole installation see.
    Installation,
}

impl Placement {
    /// Whether a caller of `area` may see what lies here (a missing
    /// resource is the handler's to answer).
    pub fn visible_in(self, area: &Area) -> bool {
        match self {
            Placement::Missing => true,
            Placement::Region(region) => area.contains(region),
            Placement::Installation => *area == Area::Everywhere,
        }
    }
}

#[derive(QueryableByName)]
struct RegionRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    region_id: Option<i64>,
}

/// The regions of an account's area — its region and every region below
/// it — as a column of the query that reads the account (`users`), so that
/// identifying a caller stays one round trip. NULL for an account of the
/// whole installation; see [`area_of`].
pub fn account_area_column() -> diesel::expression::SqlLiteral<Nullable<Array<BigInt>>> {
    diesel::dsl::sql(
        "CASE WHEN users.region_id IS NULL THEN NULL ELSE ARRAY(
             WITH RECURSIVE below (id) AS (
                 SELECT users.region_id
                 UNION
                 SELECT regions.id FROM regions JOIN below ON regions.parent_id = below.id
             )
             SELECT id FROM below) END",
    )
}

/// The area of an account whose region is `region`, from the regions
/// [`account_area_column`] read.
pub fn area_of(region: Option<i64>, regions: Option<Vec<i64>>) -> Area {
    match region {
        Some(root) => Area::within(root, regions.unwrap_or_default()),
        None => Area::Everywhere,
    }
}

/// Where `resource` lies.
pub fn placement(conn: &mut PgConnection, resource: &Resource) -> QueryResult<Placement> {
    let by_id = |sql: &str, id: i64, conn: &mut PgConnection| diesel::sql_query(sql).bind::<BigInt, _>(id).load::<RegionRow>(conn);
    let by_name = |sql: &str, name: &str, conn: &mut PgConnection| diesel::sql_query(sql).bind::<Text, _>(name).load::<RegionRow>(conn);
    let rows = match resource {
        Resource::Campaign(code) => by_name("SELECT region_id FROM campaigns WHERE code = $1", code, conn)?,
        Resource::Region(name) => by_name("SELECT id AS region_id FROM regions WHERE name = $1", name, conn)?,
        Resource::Task(id) => by_id("SELECT c.region_id FROM tasks t JOIN campaigns c ON c.id = t.campaign_id WHERE t.id = $1", *id, conn)?,
        Resource::Assignment(id) => {
            by_id("SELECT u.region_id FROM assignments a JOIN units u ON u.id = a.unit_id WHERE a.id = $1", *id, conn)?
        }
        Resource::Evidence(id) => by_id(
            "SELECT u.region_id FROM evidence e JOIN assignments a ON a.id = e.assignment_id \
             JOIN units u ON u.id = a.unit_id WHERE e.id = $1",
            *id,
            conn,
        )?,
        Resource::EvidenceVersion(id) => by_id(
            "SELECT u.region_id FROM evidence_versions v JOIN evidence e ON e.id = v.evidence_id \
             JOIN assignments a ON a.id = e.assignment_id JOIN units u ON u.id = a.unit_id WHERE v.id = $1",
            *id,
            conn,
        )?,
        Resource::Unit(id) => by_id("SELECT region_id FROM units WHERE id = $1", *id, conn)?,
        Resource::Group(id) => by_id("SELECT region_id FROM unit_groups WHERE id = $1", *id, conn)?,
        Resource::Notice(id) => {
            by_id("SELECT c.region_id FROM notices n JOIN campaigns c ON c.id = n.campaign_id WHERE n.id = $1", *id, conn)?
        }
        Resource::NoticeRecipient(id) => by_id(
            "SELECT c.region_id FROM notice_recipients r JOIN notices n ON n.id = r.notice_id \
             JOIN campaigns c ON c.id = n.campaign_id WHERE r.id = $1",
            *id,
            conn,
        )?,
        Resource::Bulletin(id) => {
            by_id("SELECT c.region_id FROM bulletins b JOIN campaigns c ON c.id = b.campaign_id WHERE b.id = $1", *id, conn)?
        }
        Resource::NegativeReport(id) => by_id(
            "SELECT c.region_id FROM negative_reports r JOIN tasks t ON t.id = r.task_id \
             JOIN campaigns c ON c.id = t.campaign_id WHERE r.id = $1",
            *id,
            conn,
        )?,
        Resource::ImportJob(id) => {
            by_id("SELECT u.region_id FROM import_jobs j LEFT JOIN users u ON u.id = j.user_id WHERE j.id = $1", *id, conn)?
        }
        Resource::User(id) => by_id("SELECT region_id FROM users WHERE id = $1", *id, conn)?,
    };
    Ok(match rows.first() {
        None => Placement::Missing,
        Some(RegionRow { region_id: Some(region) }) => Placement::Region(*region),
        Some(RegionRow { region_id: None }) => Placement::Installation,
    })
}
