//! Bulk imports of units, accounts and assignments, one row at a time,
//! matched by natural keys: a unit by county and name, an account by
//! username, an assignment by task code, unit and role.
//!
//! Every row is checked and applied in order inside one transaction, so a
//! row sees the rows before it. Every row's outcome is reported, and a
//! file with any invalid row writes nothing: the caller rolls back.
//! Importing the same file again leaves every row unchanged.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use duban_dto::api::{FieldError, RowOutcome};
use duban_dto::{NotificationKind, PartyRole, Role, RowAction, UnitKind};

use super::rows::{Columns, Row};
use crate::auth::password;
use crate::authz::ImportData;
use crate::db::schema::{assignments, campaigns, regions, tasks, unit_aliases, units, users};
use crate::error::Error;
use crate::units::UnitFields;
use crate::{accounts, notifications, rollup};
use duban_dto::limits;

/// A failure that is not the file's fault: the job fails, nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("{0}")]
    Internal(String),
}

/// The domain functions an import calls refuse nothing it has not checked
/// row by row already; what they still fail at is the job's failure.
impl From<Error> for BulkError {
    fn from(error: Error) -> Self {
        BulkError::Internal(error.to_string())
    }
}

/// Where rows that do not say so belong.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    pub region: Option<String>,
    pub campaign: Option<String>,
}

pub const UNIT_COLUMNS: Columns = Columns(&[
    ("region", &["县区", "县(区)", "所属县区"]),
    ("name", &["单位名称", "单位"]),
    ("kind", &["类型", "单位类型"]),
    ("law_enforcement", &["行政执法单位", "执法单位"]),
    ("aliases", &["别名", "简称"]),
    ("note", &["备注"]),
]);

pub const USER_COLUMNS: Columns = Columns(&[
    ("username", &["用户名", "账号"]),
    ("display_name", &["姓名", "显示名称"]),
    ("role", &["角色"]),
    ("region", &["县区", "县(区)"]),
    ("unit", &["单位", "所属单位"]),
    ("password", &["初始密码", "密码"]),
]);

pub const ASSIGNMENT_COLUMNS: Columns = Columns(&[
    ("campaign", &["创建活动"]),
    ("task", &["任务编码", "任务"]),
    ("unit", &["单位"]),
    ("role", &["角色"]),
    ("due_date", &["截止日期"]),
]);

/// A row's outcome while it is being worked out.
struct Outcome {
    key: Option<String>,
    errors: Vec<FieldError>,
}

impl Outcome {
    fn new() -> Outcome {
        Outcome { key: None, errors: Vec::new() }
    }

    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: Some(field.to_owned()), message: message.into() });
    }

    /// Refuses the row when these fields are longer than their limits.
    fn limits(&mut self, row: &Row, fields: &[(&str, usize)]) {
        for (field, max) in fields {
            if let Some(value) = row.get(field) {
                let length = value.chars().count();
                if length > *max {
                    self.error(field, format!("{field} may have at most {max} characters; it has {length}"));
                }
            }
        }
    }

    fn required<'a>(&mut self, row: &'a Row, field: &str) -> Option<&'a str> {
        let value = row.get(field).map(str::trim).filter(|value| !value.is_empty());
        if value.is_none() {
            self.error(field, format!("{field} is required"));
        }
        value
    }

    fn finish(self, row: &Row, action: RowAction, fields: Vec<&str>) -> RowOutcome {
        let invalid = !self.errors.is_empty();
        RowOutcome {
            row: row.number,
            place: row.place.clone(),
            key: self.key,
            action: if invalid { RowAction::Invalid } else { action },
            fields: if invalid { Vec::new() } else { fields.into_iter().map(str::to_owned).collect() },
            errors: self.errors,
        }
    }
}

/// A refusal from the domain functions is the row's problem; anything
/// else (the database, a bug) is the job's.
fn refusal(error: Error) -> Result<String, BulkError> {
    match error {
        Error::Internal(error) => Err(BulkError::Internal(format!("{error:#}"))),
        Error::Unavailable(detail) => Err(BulkError::Internal(detail)),
        other => Ok(other.detail().unwrap_or_default().to_owned()),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "1" | "是" | "y" => Some(true),
        "false" | "no" | "0" | "否" | "n" => Some(false),
        _ => None,
    }
}

/// A list cell: one item per line, or separated by ; or ；.
fn parse_list(text: &str) -> Vec<String> {
    text.split(['\n', ';', '；']).map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

fn parse_kind(text: &str) -> Option<UnitKind> {
    let text = text.trim();
    UnitKind::parse(text).or_else(|| UnitKind::ALL.iter().copied().find(|kind| kind.zh_name() == text))
}

fn parse_role(text: &str) -> Option<Role> {
    let text = text.trim();
    Role::parse(text).or_else(|| Role::ALL.iter().copied().find(|role| role.zh_name() == text))
}

fn parse_party_role(text: &str) -> Option<PartyRole> {
    match text.trim() {
        "lead" | "牵头" | "牵头单位" => Some(PartyRole::Lead),
        "responsible" | "责任" | "责任单位" => Some(PartyRole::Responsible),
        _ => None,
    }
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"].iter().find_map(|format| NaiveDate::parse_from_str(text, format).ok())
}

/// The county a row belongs to: its own column, the import's default, or
/// the only county there is (in the caller's area).
fn region_of(
    conn: &mut PgConnection,
    can: &ImportData,
    row: &Row,
    defaults: &Defaults,
    outcome: &mut Outcome,
) -> QueryResult<Option<(i64, String)>> {
    let name = match row.get("region").or(defaults.region.as_deref()) {
        Some(name) => name.trim().to_owned(),
        None => {
            // Counties only: a city or province above them holds no units.
            let counties =
                diesel::dsl::sql::<diesel::sql_types::Bool>("NOT EXISTS (SELECT 1 FROM regions below WHERE below.parent_id = regions.id)");
            let mut query = regions::table.filter(counties).select((regions::id, regions::name)).limit(2).into_boxed();
            if let Some(area) = can.area().region_ids() {
                query = query.filter(regions::id.eq_any(area.to_vec()));
            }
            let all: Vec<(i64, String)> = query.load(conn)?;
            if let [only] = all.as_slice() {
                return Ok(Some(only.clone()));
            }
            outcome.error("region", "name the county (column region, or ?region=)");
            return Ok(None);
        }
    };
    let id: Option<i64> = regions::table.filter(regions::name.eq(&name)).select(regions::id).first(conn).optional()?;
    // Another area's county is answered as if it did not exist.
    match id.filter(|id| can.area().contains(*id)) {
        Some(id) => Ok(Some((id, name))),
        None => {
            outcome.error("region", format!("there is no county {name:?}; import its roster first"));
            Ok(None)
        }
    }
}

/// A unit of the county by name or alias.
fn unit_named(conn: &mut PgConnection, region_id: i64, name: &str) -> QueryResult<Option<i64>> {
    let by_name =
        units::table.filter(units::region_id.eq(region_id)).filter(units::name.eq(name)).select(units::id).first(conn).optional()?;
    if by_name.is_some() {
        return Ok(by_name);
    }
    unit_aliases::table
        .filter(unit_aliases::region_id.eq(region_id))
        .filter(unit_aliases::alias.eq(name))
        .select(unit_aliases::unit_id)
        .first(conn)
        .optional()
}

/// Tells which rows a key appeared in first, to report repeats.
#[derive(Default)]
struct SeenKeys(BTreeMap<String, i32>);

impl SeenKeys {
    fn repeat(&mut self, key: &str, row: i32) -> Option<i32> {
        match self.0.get(key) {
            Some(first) => Some(*first),
            None => {
                self.0.insert(key.to_owned(), row);
                None
            }
        }
    }
}

pub fn units(
    conn: &mut PgConnection,
    can: &ImportData,
    rows: &[Row],
    defaults: &Defaults,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<RowOutcome>, BulkError> {
    let mut seen = SeenKeys::default();
    let mut outcomes = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        outcomes.push(unit_row(conn, can, row, defaults, &mut seen)?);
        progress(index + 1);
    }
    Ok(outcomes)
}

fn unit_row(
    conn: &mut PgConnection,
    can: &ImportData,
    row: &Row,
    defaults: &Defaults,
    seen: &mut SeenKeys,
) -> Result<RowOutcome, BulkError> {
    let mut outcome = Outcome::new();
    let region = region_of(conn, can, row, defaults, &mut outcome)?;
    outcome.limits(
        row,
        &[("name", limits::NAME), ("region", limits::NAME), ("note", limits::NOTE), ("aliases", limits::NAME * limits::ALIASES)],
    );
    let name = outcome.required(row, "name");
    let kind = row.get("kind").map(|text| (text, parse_kind(text)));
    if let Some((text, None)) = kind {
        let kinds: Vec<&str> = UnitKind::ALL.iter().map(|kind| kind.as_str()).collect();
        outcome.error("kind", format!("{text:?} is not a kind of unit ({})", kinds.join(", ")));
    }
    let law_enforcement = row.get("law_enforcement").map(|text| (text, parse_bool(text)));
    if let Some((text, None)) = law_enforcement {
        outcome.error("law_enforcement", format!("{text:?} is not true or false (是/否)"));
    }
    let (Some((region_id, region)), Some(name)) = (region, name) else {
        return Ok(outcome.finish(row, RowAction::Unchanged, Vec::new()));
    };
    outcome.key = Some(format!("{region} {name}"));
    if let Some(first) = seen.repeat(&format!("{region_id} {name}"), row.number) {
        outcome.error("name", format!("row {first} already names this unit"));
    }
    let existing: Option<(i64, UnitKind, bool, Option<String>)> = units::table
        .filter(units::region_id.eq(region_id))
        .filter(units::name.eq(name))
        .select((units::id, units::kind, units::law_enforcement, units::note))
        .first(conn)
        .optional()?;
    let stored_aliases: Vec<String> = match existing {
        Some((id, ..)) => {
            unit_aliases::table.filter(unit_aliases::unit_id.eq(id)).order(unit_aliases::alias).select(unit_aliases::alias).load(conn)?
        }
        None => Vec::new(),
    };
    let aliases = row.get("aliases").map(parse_list);
    let kind = kind.and_then(|(_, kind)| kind);
    if existing.is_none() && kind.is_none() && row.get("kind").is_none() {
        outcome.error("kind", "a new unit needs its kind");
    }
    let desired_aliases = aliases.clone().unwrap_or_else(|| stored_aliases.clone());
    if let Err(error) = crate::units::check_names(conn, region_id, existing.as_ref().map(|unit| unit.0), name, &desired_aliases) {
        outcome.error("aliases", refusal(error)?);
    }
    if !outcome.errors.is_empty() {
        return Ok(outcome.finish(row, RowAction::Unchanged, Vec::new()));
    }
    let note = row.get("note").map(str::trim).map(str::to_owned);
    let law_enforcement = law_enforcement.and_then(|(_, value)| value);
    match existing {
        None => {
            let kind = kind.expect("checked above");
            let fields = UnitFields { name, kind, law_enforcement: law_enforcement.unwrap_or(false), note: note.as_deref() };
            crate::units::insert(conn, can, region_id, &fields, &desired_aliases)?;
            Ok(outcome.finish(row, RowAction::Created, Vec::new()))
        }
        Some((id, stored_kind, stored_law_enforcement, stored_note)) => {
            let mut fields = Vec::new();
            let kind = kind.unwrap_or(stored_kind);
            if kind != stored_kind {
                fields.push("kind");
            }
            let law_enforcement = law_enforcement.unwrap_or(stored_law_enforcement);
            if law_enforcement != stored_law_enforcement {
                fields.push("law_enforcement");
            }
            let note = note.or(stored_note.clone());
            if note != stored_note {
                fields.push("note");
            }
            let mut sorted = desired_aliases.clone();
            sorted.sort();
            let aliases_changed = sorted != stored_aliases;
            if aliases_changed {
                fields.push("aliases");
            }
            if fields.is_empty() {
                return Ok(outcome.finish(row, RowAction::Unchanged, fields));
            }
            let unit = UnitFields { name, kind, law_enforcement, note: note.as_deref() };
            crate::units::write(conn, can, id, &unit, aliases_changed.then_some(desired_aliases.as_slice()))?;
            Ok(outcome.finish(row, RowAction::Updated, fields))
        }
    }
}

/// What `users` reports besides the rows.
pub struct UserImport {
    pub outcomes: Vec<RowOutcome>,
    /// Rows that named a password for an account that already exists.
    pub passwords_ignored: usize,
}

pub fn users(
    conn: &mut PgConnection,
    can: &ImportData,
    rows: &[Row],
    defaults: &Defaults,
    progress: &mut dyn FnMut(usize),
) -> Result<UserImport, BulkError> {
    let mut seen = SeenKeys::default();
    let mut import = UserImport { outcomes: Vec::with_capacity(rows.len()), passwords_ignored: 0 };
    let policy = crate::policy::current(conn)?;
    for (index, row) in rows.iter().enumerate() {
        import.outcomes.push(user_row(conn, can, row, defaults, &policy, &mut seen, &mut import.passwords_ignored)?);
        progress(index + 1);
    }
    Ok(import)
}

fn user_row(
    conn: &mut PgConnection,
    can: &ImportData,
    row: &Row,
    defaults: &Defaults,
    policy: &duban_dto::api::SecurityPolicy,
    seen: &mut SeenKeys,
    passwords_ignored: &mut usize,
) -> Result<RowOutcome, BulkError> {
    let mut outcome = Outcome::new();
    outcome.limits(
        row,
        &[("username", limits::USERNAME), ("display_name", limits::NAME), ("password", limits::PASSWORD), ("unit", limits::NAME)],
    );
    let Some(username) = outcome.required(row, "username").map(str::to_lowercase) else {
        return Ok(outcome.finish(row, RowAction::Unchanged, Vec::new()));
    };
    outcome.key = Some(username.clone());
    if let Err(error) = accounts::users::check_username(&username) {
        outcome.error("username", refusal(error)?);
    }
    if let Some(first) = seen.repeat(&username, row.number) {
        outcome.error("username", format!("row {first} already names this account"));
    }
    // Another area's account is as if absent, and its username as taken.
    let outside: bool = users::table
        .filter(users::username.eq(&username))
        .select(users::region_id)
        .first::<Option<i64>>(conn)
        .optional()?
        .is_some_and(|region| can.area().region_ids().is_some() && !region.is_some_and(|region| can.area().contains(region)));
    if outside {
        outcome.error("username", "the username is taken");
        return Ok(outcome.finish(row, RowAction::Unchanged, Vec::new()));
    }
    let existing: Option<(i64, String, String, Option<i64>)> = users::table
        .filter(users::username.eq(&username))
        .select((users::id, users::display_name, users::role, users::unit_id))
        .first(conn)
        .optional()?;
    if existing.as_ref().is_some_and(|(_, _, role, _)| Role::parse(role).is_some_and(Role::is_administrator)) {
        outcome.error("username", "administrator accounts are not changed by imports");
    }
    let role = match row.get("role") {
        Some(text) => match parse_role(text) {
            Some(role) if role.is_administrator() => {
                outcome.error("role", "administrator accounts are not created by imports; use `duban user create`");
                None
            }
            Some(Role::AreaOffice) => {
                outcome.error("role", "area office accounts are made by the system administrator, not by imports");
                None
            }
            Some(role) => Some(role),
            None => {
                let roles: Vec<&str> = Role::ALL.iter().filter(|role| !role.is_administrator()).map(|role| role.as_str()).collect();
                outcome.error("role", format!("{text:?} is not a role ({})", roles.join(", ")));
                None
            }
        },
        None if existing.is_none() => {
            outcome.error("role", "role is required for a new account");
            None
        }
        None => None,
    };
    let display_name = row.get("display_name").map(str::trim).map(str::to_owned);
    if existing.is_none() && display_name.is_none() {
        outcome.error("display_name", "display_name is required for a new account");
    }
    let unit_id = match row.get("unit") {
        Some(unit) => match region_of(conn, can, row, defaults, &mut outcome)? {
            Some((region_id, region)) => {
                let id = unit_named(conn, region_id, unit.trim())?;
                if id.is_none() {
                    outcome.error("unit", format!("{region} has no unit called {:?}", unit.trim()));
                }
                id
            }
            None => None,
        },
        None => None,
    };
    let password = row.get("password");
    if existing.is_none() {
        match password {
            None => outcome.error("password", "a new account needs an initial password"),
            Some(password) => {
                if let Err((_, why)) = password::check_strength(password, &username, policy) {
                    outcome.error("password", why);
                }
            }
        }
    } else if password.is_some() {
        *passwords_ignored += 1;
    }
    // Placement is checked for the account as it will be.
    let stored_role = existing.as_ref().and_then(|(_, _, role, _)| Role::parse(role));
    let final_role = role.or(stored_role);
    let final_unit = if row.get("unit").is_some() { unit_id } else { existing.as_ref().and_then(|(_, _, _, unit)| *unit) };
    if let Some(final_role) = final_role
        && outcome.errors.is_empty()
        && let Err(error) = accounts::users::check_placement(conn, final_role, final_unit)
    {
        outcome.error("unit", refusal(error)?);
    }
    if !outcome.errors.is_empty() {
        return Ok(outcome.finish(row, RowAction::Unchanged, Vec::new()));
    }
    let final_role = final_role.expect("a valid row has a role");
    match existing {
        None => {
            let hash = password::hash(password.expect("checked above"));
            diesel::insert_into(users::table)
                .values((
                    users::username.eq(&username),
                    users::display_name.eq(display_name.as_deref().expect("checked above")),
                    users::role.eq(final_role.as_str()),
                    users::unit_id.eq(final_unit),
                    // An account without a unit works in the importer's area
                    // (a unit's account in its unit's region, by the trigger).
                    users::region_id.eq(can.area().root()),
                    users::password_hash.eq(&hash),
                    users::is_demo.eq(false),
                    // Someone else chose this password, so its holder changes it first.
                    users::must_change_password.eq(true),
                ))
                .execute(conn)?;
            Ok(outcome.finish(row, RowAction::Created, Vec::new()))
        }
        Some((id, stored_name, stored_role, stored_unit)) => {
            let display_name = display_name.unwrap_or(stored_name.clone());
            let mut fields = Vec::new();
            if display_name != stored_name {
                fields.push("display_name");
            }
            if final_role.as_str() != stored_role {
                fields.push("role");
            }
            if final_unit != stored_unit {
                fields.push("unit");
            }
            if fields.is_empty() {
                return Ok(outcome.finish(row, RowAction::Unchanged, fields));
            }
            diesel::update(users::table.find(id))
                .set((
                    users::display_name.eq(&display_name),
                    users::role.eq(final_role.as_str()),
                    users::unit_id.eq(final_unit),
                    users::updated_at.eq(Utc::now()),
                ))
                .execute(conn)?;
            Ok(outcome.finish(row, RowAction::Updated, fields))
        }
    }
}

/// A campaign's id, region and tasks by code, loaded once per campaign.
struct CampaignTasks {
    id: i64,
    region_id: i64,
    tasks: BTreeMap<String, i64>,
}

pub fn assignments(
    conn: &mut PgConnection,
    can: &ImportData,
    rows: &[Row],
    defaults: &Defaults,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<RowOutcome>, BulkError> {
    let mut campaigns_by_code: BTreeMap<String, Option<CampaignTasks>> = BTreeMap::new();
    let mut seen = SeenKeys::default();
    let mut touched_tasks = Vec::new();
    let mut outcomes = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let mut outcome = Outcome::new();
        let code = match row.get("campaign").or(defaults.campaign.as_deref()) {
            Some(code) => Some(code.trim().to_owned()),
            None => {
                let all: Vec<String> = campaigns::table.select(campaigns::code).limit(2).load(conn)?;
                match all.as_slice() {
                    [only] => Some(only.clone()),
                    _ => {
                        outcome.error("campaign", "name the campaign (column campaign, or ?campaign=)");
                        None
                    }
                }
            }
        };
        let campaign = match code {
            Some(code) => {
                if !campaigns_by_code.contains_key(&code) {
                    let loaded = load_campaign(conn, can, &code)?;
                    campaigns_by_code.insert(code.clone(), loaded);
                }
                let campaign = campaigns_by_code[&code].as_ref();
                if campaign.is_none() {
                    outcome.error("campaign", format!("there is no campaign {code:?}"));
                }
                campaign
            }
            None => None,
        };
        outcome.limits(row, &[("task", limits::CODE), ("unit", limits::NAME), ("campaign", limits::CODE)]);
        let task_code = outcome.required(row, "task");
        let unit_name = outcome.required(row, "unit");
        let role = match row.get("role") {
            None => Some(PartyRole::Responsible),
            Some(text) => {
                let role = parse_party_role(text);
                if role.is_none() {
                    outcome.error("role", format!("{text:?} is not lead (牵头) or responsible (责任)"));
                }
                role
            }
        };
        let due_date = match row.get("due_date") {
            None => None,
            Some(text) => {
                let date = parse_date(text);
                if date.is_none() {
                    outcome.error("due_date", format!("{text:?} is not a date such as 2026-06-30"));
                }
                date
            }
        };
        let (Some(campaign), Some(task_code), Some(unit_name), Some(role)) = (campaign, task_code, unit_name, role) else {
            outcomes.push(outcome.finish(row, RowAction::Unchanged, Vec::new()));
            progress(index + 1);
            continue;
        };
        outcome.key = Some(format!("{task_code} {unit_name} {role}"));
        let task_id = campaign.tasks.get(task_code).copied();
        if task_id.is_none() {
            outcome.error("task", format!("the campaign has no task {task_code}"));
        }
        let unit_id = unit_named(conn, campaign.region_id, unit_name)?;
        if unit_id.is_none() {
            outcome.error("unit", format!("the campaign's county has no unit called {unit_name:?}"));
        }
        let (Some(task_id), Some(unit_id)) = (task_id, unit_id) else {
            outcomes.push(outcome.finish(row, RowAction::Unchanged, Vec::new()));
            progress(index + 1);
            continue;
        };
        if let Some(first) = seen.repeat(&format!("{} {task_id} {unit_id} {role}", campaign.id), row.number) {
            outcome.error("unit", format!("row {first} already assigns this unit"));
            outcomes.push(outcome.finish(row, RowAction::Unchanged, Vec::new()));
            progress(index + 1);
            continue;
        }
        let existing: Option<(i64, Option<NaiveDate>, i32)> = assignments::table
            .filter(assignments::task_id.eq(task_id))
            .filter(assignments::unit_id.eq(unit_id))
            .filter(assignments::role.eq(role.as_str()))
            .select((assignments::id, assignments::due_date, assignments::version))
            .first(conn)
            .optional()?;
        let outcome = match existing {
            None => {
                let id: i64 = diesel::insert_into(assignments::table)
                    .values((
                        assignments::task_id.eq(task_id),
                        assignments::unit_id.eq(unit_id),
                        assignments::role.eq(role.as_str()),
                        assignments::due_date.eq(due_date),
                    ))
                    .returning(assignments::id)
                    .get_result(conn)?;
                let due = due_date.map(|due| format!("，截止 {due}")).unwrap_or_default();
                notifications::send_to_unit(
                    conn,
                    unit_id,
                    NotificationKind::Assigned,
                    id,
                    &format!("您单位有新的任务：{task_code}{due}。"),
                )?;
                touched_tasks.push(task_id);
                outcome.finish(row, RowAction::Created, Vec::new())
            }
            Some((id, stored_due, version)) if due_date.is_some() && due_date != stored_due => {
                diesel::update(assignments::table.find(id))
                    .set((assignments::due_date.eq(due_date), assignments::version.eq(version + 1), assignments::updated_at.eq(Utc::now())))
                    .execute(conn)?;
                touched_tasks.push(task_id);
                outcome.finish(row, RowAction::Updated, vec!["due_date"])
            }
            Some(_) => outcome.finish(row, RowAction::Unchanged, Vec::new()),
        };
        outcomes.push(outcome);
        progress(index + 1);
    }
    touched_tasks.sort_unstable();
    touched_tasks.dedup();
    rollup::refresh(conn, &touched_tasks)?;
    Ok(outcomes)
}

/// The campaign `code` with its tasks; another area's is as if absent.
fn load_campaign(conn: &mut PgConnection, can: &ImportData, code: &str) -> QueryResult<Option<CampaignTasks>> {
    let Some((id, region_id)) = campaigns::table
        .filter(campaigns::code.eq(code))
        .select((campaigns::id, campaigns::region_id))
        .first::<(i64, i64)>(conn)
        .optional()?
        .filter(|(_, region_id)| can.area().contains(*region_id))
    else {
        return Ok(None);
    };
    let tasks =
        tasks::table.filter(tasks::campaign_id.eq(id)).select((tasks::code, tasks::id)).load::<(String, i64)>(conn)?.into_iter().collect();
    Ok(Some(CampaignTasks { id, region_id, tasks }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cells_as_county_staff_write_them() {
        assert_eq!(parse_bool("是"), Some(true));
        assert_eq!(parse_bool("FALSE"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(parse_list("县司法局；司法局\n 县法院 "), ["县司法局", "司法局", "县法院"]);
        assert_eq!(parse_kind("乡镇(街道)"), Some(UnitKind::Township));
        assert_eq!(parse_role("unit_staff"), Some(Role::UnitStaff));
        assert_eq!(parse_party_role("牵头单位"), Some(PartyRole::Lead));
        assert_eq!(parse_date("2026年6月30日"), NaiveDate::from_ymd_opt(2026, 6, 30));
        assert_eq!(parse_date("2026/06/30"), NaiveDate::from_ymd_opt(2026, 6, 30));
    }
}
