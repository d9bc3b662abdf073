//! Authorization in one place: who the caller is ([`Caller`], extracted
//! from the request) and what the caller may do (capabilities).
//!
//! A capability is a value only this module can make. Functions that change
//! data take the capability they need as an argument, so a handler cannot
//! reach a write without first asking the caller for it — the compiler
//! enforces the check, and this file is the whole policy:
//!
//! | capability        | who holds it                                                         |
//! |-------------------|----------------------------------------------------------------------|
//! | [`ReadCatalog`]   | every signed-in user; API keys with `tasks:read`                     |
//! | [`ReadProgress`]  | every signed-in user; API keys with `progress:read`                  |
//! | [`ManageCatalog`] | admin, lead office (units and groups)                                |
//! | [`Assign`]        | lead office (assign units, set due dates, remove assignments)        |
//! | [`WorkOn`]        | unit manager and unit staff, for their own unit's assignments only   |
//! | [`ReadAccounts`]  | admin, lead office, inspector: all; unit manager: own unit           |
//! | [`ManageAccounts`]| admin: all; unit manager: the staff accounts of its own unit         |
//! | [`ManageApiClients`] | admin                                                             |
//! | [`ReadAudit`]     | admin, lead office, inspector; API keys with `audit:read`            |
//! | [`ImportData`]    | lead office; API keys with `import:write`                            |
//! | [`ReadEvidence`]  | the assignment's unit, the task's lead units, lead office, admin,    |
//! |                   | inspector; API keys with `evidence:read`                             |
//! | [`ManageCalendar`]| admin                                                                |
//! | [`ReportNegative`]| a unit's users for their unit; the lead office for any unit          |
//! | [`ConfirmNegative`], [`SetReference`] | lead office                                      |
//! | review standing   | see [`crate::workflow`]: own unit submits, lead unit and lead office |
//! |                   | review                                                               |
//!
//! Policy on other units' data: the breakdown and every unit's progress are
//! open to every signed-in user of the county (the campaign is run in the
//! open); writing another unit's assignment is refused with 403. Accounts
//! of another unit are not shown to a unit manager: 404, as if absent.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::Utc;
use diesel::prelude::*;
use duban_dto::{Role, Scope};
use uuid::Uuid;

use crate::audit::{self, ActorKind};
use crate::auth::{api_keys, secrets};
use crate::db::schema::{api_clients, api_keys as keys, sessions, users};
use crate::http::request_context::RequestId;
use crate::http::{ApiError, AppState};

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct UserActor {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub session_id: Uuid,
}

/// A portal or script calling with an API key.
#[derive(Debug, Clone)]
pub struct ClientActor {
    pub client_id: i64,
    pub key_id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Clone)]
pub enum Actor {
    User(UserActor),
    ApiClient(ClientActor),
}

/// The authenticated caller of a request, with the request's context.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub request_id: String,
    pub address: Option<String>,
}

/// The request context of a caller who is not (yet) authenticated.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub request_id: String,
    pub address: Option<String>,
}

impl RequestInfo {
    pub fn of(request: &HttpRequest) -> RequestInfo {
        RequestInfo {
            request_id: request.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default(),
            address: request.peer_addr().map(|address| address.ip().to_string()),
        }
    }

    /// The audit actor for someone not signed in.
    pub fn anonymous(&self, claimed_name: Option<&str>) -> audit::Actor {
        audit::Actor {
            kind: ActorKind::Anonymous,
            id: None,
            name: claimed_name.map(str::to_owned),
            unit_id: None,
            request_id: Some(self.request_id.clone()),
            client_address: self.address.clone(),
        }
    }

    /// The audit actor for a user in this request (at login, before a token exists).
    pub fn user(&self, id: i64, username: &str, unit_id: Option<i64>) -> audit::Actor {
        audit::Actor {
            kind: ActorKind::User,
            id: Some(id),
            name: Some(username.to_owned()),
            unit_id,
            request_id: Some(self.request_id.clone()),
            client_address: self.address.clone(),
        }
    }
}

macro_rules! capability {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name {
            _only_authz_makes_this: (),
        }
        impl $name {
            fn granted() -> Self {
                $name { _only_authz_makes_this: () }
            }
        }
    };
}

capability!(
    /// Read campaigns, indicators, tasks, units and groups.
    ReadCatalog
);
capability!(
    /// Read assignments and their progress.
    ReadProgress
);
capability!(
    /// Create, change and delete units and groups.
    ManageCatalog
);
capability!(
    /// Assign units to tasks, set due dates, remove assignments.
    Assign
);
capability!(
    /// Manage API clients and their keys.
    ManageApiClients
);
capability!(
    /// Read the audit log.
    ReadAudit
);
capability!(
    /// Import data in bulk.
    ImportData
);
capability!(
    /// Read and download the evidence of one assignment.
    ReadEvidence
);
capability!(
    /// Enter the working-day calendar's overrides.
    ManageCalendar
);
capability!(
    /// Confirm a reported negative-list occurrence, which vetoes the campaign.
    ConfirmNegative
);
capability!(
    /// Set the reference figure a relative quantified target is compared with.
    SetReference
);

/// Report on the negative list for one unit.
#[derive(Debug)]
pub struct ReportNegative {
    unit_id: i64,
}

impl ReportNegative {
    pub fn unit_id(&self) -> i64 {
        self.unit_id
    }
}

/// What access to an assignment depends on: its unit and its task's lead units.
#[derive(Debug, Clone)]
pub struct AssignmentFacts {
    pub unit_id: i64,
    pub lead_unit_ids: Vec<i64>,
}

/// Work on the assignments of one unit.
#[derive(Debug)]
pub struct WorkOn {
    unit_id: i64,
}

impl WorkOn {
    pub fn unit_id(&self) -> i64 {
        self.unit_id
    }
}

/// Read accounts: all, or one unit's.
#[derive(Debug)]
pub struct ReadAccounts {
    unit_id: Option<i64>,
}

impl ReadAccounts {
    /// `None`: every account; `Some(unit)`: that unit's only.
    pub fn unit_id(&self) -> Option<i64> {
        self.unit_id
    }
}

/// Create and change accounts: all, or the staff of one unit.
#[derive(Debug)]
pub struct ManageAccounts {
    unit_id: Option<i64>,
}

impl ManageAccounts {
    /// Whether this capability covers an account with this role and unit.
    pub fn covers(&self, role: Role, unit_id: Option<i64>) -> bool {
        match self.unit_id {
            None => true,
            Some(own) => role == Role::UnitStaff && unit_id == Some(own),
        }
    }

    pub fn unit_id(&self) -> Option<i64> {
        self.unit_id
    }
}

impl Caller {
    pub fn role(&self) -> Option<Role> {
        match &self.actor {
            Actor::User(user) => Some(user.role),
            Actor::ApiClient(_) => None,
        }
    }

    /// The API client calling, when it is one.
    pub fn api_client_id(&self) -> Option<i64> {
        match &self.actor {
            Actor::ApiClient(client) => Some(client.client_id),
            Actor::User(_) => None,
        }
    }

    pub fn user(&self) -> Option<&UserActor> {
        match &self.actor {
            Actor::User(user) => Some(user),
            Actor::ApiClient(_) => None,
        }
    }

    fn has_scope(&self, scope: Scope) -> bool {
        matches!(&self.actor, Actor::ApiClient(client) if client.scopes.contains(&scope))
    }

    fn is(&self, roles: &[Role]) -> bool {
        self.role().is_some_and(|role| roles.contains(&role))
    }

    fn refuse(&self, what: &str) -> ApiError {
        match &self.actor {
            Actor::User(user) => ApiError::forbidden(format!("a {} ({}) may not {what}", user.role.zh_name(), user.role)),
            Actor::ApiClient(_) => ApiError::forbidden(format!("this API key's scopes do not allow it to {what}")),
        }
    }

    pub fn read_catalog(&self) -> Result<ReadCatalog, ApiError> {
        if self.user().is_some() || self.has_scope(Scope::TasksRead) {
            Ok(ReadCatalog::granted())
        } else {
            Err(self.refuse("read tasks (scope tasks:read)"))
        }
    }

    pub fn read_progress(&self) -> Result<ReadProgress, ApiError> {
        if self.user().is_some() || self.has_scope(Scope::ProgressRead) {
            Ok(ReadProgress::granted())
        } else {
            Err(self.refuse("read progress (scope progress:read)"))
        }
    }

    pub fn manage_catalog(&self) -> Result<ManageCatalog, ApiError> {
        if self.is(&[Role::Admin, Role::LeadOffice]) { Ok(ManageCatalog::granted()) } else { Err(self.refuse("change units or groups")) }
    }

    pub fn assign(&self) -> Result<Assign, ApiError> {
        if self.is(&[Role::LeadOffice]) { Ok(Assign::granted()) } else { Err(self.refuse("assign work or set due dates")) }
    }

    /// Work on an assignment of `unit_id`: only that unit's own users.
    pub fn work_on(&self, unit_id: i64) -> Result<WorkOn, ApiError> {
        match self.user() {
            Some(user) if user.role.is_unit_role() && user.unit_id == Some(unit_id) => Ok(WorkOn { unit_id }),
            Some(user) if user.role.is_unit_role() => Err(ApiError::forbidden("this assignment belongs to another unit")),
            _ => Err(self.refuse("report progress on a unit's assignment")),
        }
    }

    pub fn read_accounts(&self) -> Result<ReadAccounts, ApiError> {
        match self.user() {
            Some(user) if matches!(user.role, Role::Admin | Role::LeadOffice | Role::Inspector) => Ok(ReadAccounts { unit_id: None }),
            Some(user) if user.role == Role::UnitManager => Ok(ReadAccounts { unit_id: user.unit_id }),
            _ => Err(self.refuse("see accounts")),
        }
    }

    pub fn manage_accounts(&self) -> Result<ManageAccounts, ApiError> {
        match self.user() {
            Some(user) if user.role == Role::Admin => Ok(ManageAccounts { unit_id: None }),
            Some(user) if user.role == Role::UnitManager => Ok(ManageAccounts { unit_id: user.unit_id }),
            _ => Err(self.refuse("manage accounts")),
        }
    }

    pub fn manage_api_clients(&self) -> Result<ManageApiClients, ApiError> {
        if self.is(&[Role::Admin]) { Ok(ManageApiClients::granted()) } else { Err(self.refuse("manage API clients")) }
    }

    pub fn read_audit(&self) -> Result<ReadAudit, ApiError> {
        if self.is(&[Role::Admin, Role::LeadOffice, Role::Inspector]) || self.has_scope(Scope::AuditRead) {
            Ok(ReadAudit::granted())
        } else {
            Err(self.refuse("read the audit log"))
        }
    }

    pub fn import_data(&self) -> Result<ImportData, ApiError> {
        if self.is(&[Role::LeadOffice]) || self.has_scope(Scope::ImportWrite) {
            Ok(ImportData::granted())
        } else {
            Err(self.refuse("import data (lead office, or scope import:write)"))
        }
    }

    /// Evidence is private to the assignment's unit, the task's lead units
    /// and those who oversee the campaign.
    pub fn read_evidence(&self, facts: &AssignmentFacts) -> Result<ReadEvidence, ApiError> {
        let allowed = match &self.actor {
            Actor::ApiClient(client) => client.scopes.contains(&Scope::EvidenceRead),
            Actor::User(user) => match user.role {
                Role::Admin | Role::LeadOffice | Role::Inspector => true,
                Role::UnitManager | Role::UnitStaff => {
                    user.unit_id.is_some_and(|unit| unit == facts.unit_id || facts.lead_unit_ids.contains(&unit))
                }
            },
        };
        if allowed { Ok(ReadEvidence::granted()) } else { Err(self.refuse("see another unit's evidence")) }
    }

    /// The caller's standing towards an assignment, for the review workflow.
    pub fn standing(&self, facts: &AssignmentFacts) -> crate::workflow::Standing {
        use crate::workflow::Standing;
        match self.user() {
            Some(user) if user.role == Role::LeadOffice => Standing::LeadOffice,
            Some(user) if user.role.is_unit_role() && user.unit_id == Some(facts.unit_id) => Standing::OwnUnit,
            Some(user) if user.role.is_unit_role() && user.unit_id.is_some_and(|unit| facts.lead_unit_ids.contains(&unit)) => {
                Standing::LeadUnit
            }
            _ => Standing::Outsider,
        }
    }

    /// A unit reports for itself; the lead office for any unit.
    pub fn report_negative(&self, unit_id: Option<i64>) -> Result<ReportNegative, ApiError> {
        match (self.user(), unit_id) {
            (Some(user), Some(unit)) if user.role == Role::LeadOffice => Ok(ReportNegative { unit_id: unit }),
            (Some(user), None) if user.role == Role::LeadOffice => {
                Err(ApiError::unprocessable("unit_required", "the lead office names the unit it reports for: give unit_id"))
            }
            (Some(user), unit) if user.role.is_unit_role() => match user.unit_id {
                Some(own) if unit.is_none_or(|unit| unit == own) => Ok(ReportNegative { unit_id: own }),
                _ => Err(ApiError::forbidden("a unit reports on the negative list for itself only")),
            },
            _ => Err(self.refuse("report on the negative list")),
        }
    }

    pub fn confirm_negative(&self) -> Result<ConfirmNegative, ApiError> {
        if self.is(&[Role::LeadOffice]) { Ok(ConfirmNegative::granted()) } else { Err(self.refuse("confirm a negative-list occurrence")) }
    }

    pub fn set_reference(&self) -> Result<SetReference, ApiError> {
        if self.is(&[Role::LeadOffice]) { Ok(SetReference::granted()) } else { Err(self.refuse("set the reference figure of a target")) }
    }

    pub fn manage_calendar(&self) -> Result<ManageCalendar, ApiError> {
        if self.is(&[Role::Admin]) { Ok(ManageCalendar::granted()) } else { Err(self.refuse("change the working-day calendar")) }
    }

    /// The audit actor of this caller.
    pub fn audit_actor(&self) -> audit::Actor {
        let (kind, id, name, unit_id) = match &self.actor {
            Actor::User(user) => (ActorKind::User, Some(user.id), user.username.clone(), user.unit_id),
            Actor::ApiClient(client) => {
                (ActorKind::ApiClient, Some(client.client_id), format!("{} (key {})", client.name, client.key_id), None)
            }
        };
        audit::Actor {
            kind,
            id,
            name: Some(name),
            unit_id,
            request_id: Some(self.request_id.clone()),
            client_address: self.address.clone(),
        }
    }
}

fn unauthenticated(detail: &str) -> ApiError {
    ApiError::Unauthenticated { detail: detail.to_owned() }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let credential = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(|token| token.trim().to_owned());
        let info = RequestInfo::of(request);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState is not configured")))?;
            let Some(credential) = credential else {
                return Err(unauthenticated("sign in first: send `Authorization: Bearer <token or API key>`"));
            };
            let actor = if credential.starts_with(api_keys::KEY_PREFIX) {
                let key = credential.clone();
                state.db(move |conn| api_key_actor(conn, &key)).await?
            } else {
                let claims = state.jwt.verify(&credential).ok_or_else(|| unauthenticated("the access token is invalid or has expired"))?;
                state.db(move |conn| user_actor(conn, &claims)).await?
            };
            Ok(Caller { actor, request_id: info.request_id, address: info.address })
        })
    }
}

/// The user of a valid token, if the user and the session are still live.
fn user_actor(conn: &mut PgConnection, claims: &crate::auth::tokens::Claims) -> Result<Actor, ApiError> {
    let user_id: i64 = claims.sub.parse().map_err(|_| unauthenticated("the access token is invalid"))?;
    let now = Utc::now();
    let row: Option<(i64, String, String, Option<i64>)> = users::table
        .inner_join(sessions::table)
        .filter(users::id.eq(user_id))
        .filter(sessions::id.eq(claims.sid))
        .filter(users::disabled_at.is_null())
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((users::id, users::username, users::role, users::unit_id))
        .first(conn)
        .optional()?;
    let (id, username, role, unit_id) = row.ok_or_else(|| unauthenticated("the session has ended; sign in again"))?;
    let role = Role::parse(&role).expect("the CHECK constraint admits only known roles");
    Ok(Actor::User(UserActor { id, username, role, unit_id, session_id: claims.sid }))
}

/// The client of a valid API key. Marks the key used, at most once a minute.
fn api_key_actor(conn: &mut PgConnection, key: &str) -> Result<Actor, ApiError> {
    let invalid = || unauthenticated("the API key is invalid, revoked or expired");
    let (prefix, secret) = api_keys::parse(key).ok_or_else(invalid)?;
    let now = Utc::now();
    let row: Option<(i64, Vec<u8>, Vec<String>, Option<chrono::DateTime<Utc>>, i64, String)> = keys::table
        .inner_join(api_clients::table)
        .filter(keys::prefix.eq(prefix))
        .filter(keys::revoked_at.is_null())
        .filter(keys::expires_at.is_null().or(keys::expires_at.gt(now)))
        .filter(api_clients::disabled_at.is_null())
        .select((keys::id, keys::secret_hash, keys::scopes, keys::last_used_at, api_clients::id, api_clients::name))
        .first(conn)
        .optional()?;
    let (key_id, stored, scopes, last_used, client_id, name) = row.ok_or_else(invalid)?;
    if !secrets::same_digest(&stored, &secrets::digest(secret)) {
        return Err(invalid());
    }
    if last_used.is_none_or(|at| now - at > chrono::Duration::minutes(1)) {
        diesel::update(keys::table.find(key_id)).set(keys::last_used_at.eq(now)).execute(conn)?;
    }
    let scopes = scopes.iter().filter_map(|scope| Scope::parse(scope)).collect();
    Ok(Actor::ApiClient(ClientActor { client_id, key_id, name, scopes }))
}

/// The operator at the server's command line (`duban user create`,
/// `duban import`), who holds the database itself and so every power the
/// API guards; what the operator does is still audited.
#[derive(Debug)]
pub struct Operator {
    _only_authz_makes_this: (),
}

impl Operator {
    /// Only the command line and first-start seeding call this.
    pub fn at_command_line() -> Operator {
        Operator { _only_authz_makes_this: () }
    }

    pub fn manage_accounts(&self) -> ManageAccounts {
        ManageAccounts { unit_id: None }
    }

    pub fn import_data(&self) -> ImportData {
        ImportData::granted()
    }

    /// `duban export` reads the table and its progress.
    pub fn read_catalog(&self) -> ReadCatalog {
        ReadCatalog::granted()
    }

    pub fn read_progress(&self) -> ReadProgress {
        ReadProgress::granted()
    }

    pub fn read_audit(&self) -> ReadAudit {
        ReadAudit::granted()
    }

    pub fn read_accounts(&self) -> ReadAccounts {
        ReadAccounts { unit_id: None }
    }

    /// `duban evidence verify` re-reads every stored object.
    pub fn read_all_evidence(&self) -> ReadEvidence {
        ReadEvidence::granted()
    }
}
