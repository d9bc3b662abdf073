//! Authorization in one place: who the caller is ([`Caller`]) and what the
//! caller may do (capabilities). Pure policy: this module reads no request
//! and no database. The HTTP layer identifies the caller (`http::caller`,
//! with `auth::credentials`); the database lookups of what access depends
//! on are in `db::lookups`.
//!
//! A capability is a value only this module can make. Every function that
//! changes data takes the capability it needs as an argument, so a handler
//! cannot reach a write without first asking the caller for it — the
//! compiler enforces the check, and this file is the whole policy.
//! Capabilities for one assignment ([`WorkOn`], [`ReadEvidence`],
//! [`TakeStep`], [`EditAssignment`]) carry the assignment they were
//! granted for, and the functions that take them check it.
//!
//! | capability        | who holds it                                                         |
//! |-------------------|----------------------------------------------------------------------|
//! | [`ReadCatalog`]   | every signed-in user; API keys with `tasks:read`                     |
//! | [`ReadProgress`]  | every signed-in user; API keys with `progress:read`                  |
//! | [`ManageCatalog`] | system admin, lead office (units and groups)                         |
//! | [`Assign`]        | lead office (assign units, set due dates, remove assignments)        |
//! | [`WorkOn`]        | unit manager and unit staff, for their own unit's assignments only   |
//! | [`EditAssignment`]| the lead office (due dates) or the assignment's unit (its progress)  |
//! | [`TakeStep`]      | a user who stands towards the assignment as its own unit, a lead     |
//! |                   | unit of the task, or the lead office; the steps each may take are    |
//! |                   | the rulebook's (`duban_rules::workflow`)                             |
//! | [`ReadAccounts`]  | system and security admins, lead office, inspector: all; unit        |
//! |                   | manager: own unit                                                    |
//! | [`ManageAccounts`]| system admin: the campaign's accounts (no administrators); security  |
//! |                   | admin: the administrators' accounts; unit manager: its own staff     |
//! | [`AssignRoles`]   | security admin (changing an account's role)                          |
//! | [`UnlockAccounts`]| security admin                                                       |
//! | [`ManageSessions`]| system and security admins (every user's sessions)                   |
//! | [`OwnAccount`]    | every signed-in user, for its own account, sessions, second factor,  |
//! |                   | inbox                                                                |
//! | [`ManageApiClients`] | security admin                                                    |
//! | [`ReadAudit`]     | audit admin, lead office, inspector; API keys with `audit:read`      |
//! | [`ImportData`]    | lead office; API keys with `import:write`; from the checklist        |
//! |                   | template only (`start_campaigns`): also the area office              |
//! | [`ReadEvidence`]  | the assignment's unit, the task's lead units, lead office, system    |
//! |                   | admin, inspector, area office; API keys with `evidence:read`         |
//! | [`ListEvidence`]  | the same, across a campaign; a unit sees its own and its led tasks'  |
//! | [`ManageCalendar`]| system admin                                                         |
//! | [`ManagePolicy`]  | security admin                                                       |
//! | [`ManageScoring`], [`IssueBulletins`] | lead office (scoring scheme, bulletins)          |
//! | [`Supervise`]     | lead office (督办: notices, urging, decisions, rules, units' leaders) |
//! | [`ActOnNotice`]   | the addressed unit's users and the lead office; the steps each may   |
//! |                   | take are the rulebook's (`duban_rules::supervision`)                 |
//! | [`ManageEndpoints`]| system admin (webhooks, group robots, deliveries)                   |
//! | [`ManageContacts`]| the user, the manager of the user's unit, system admin (others: 404) |
//! | [`ReadLeader`]    | lead office, system admin, the unit's manager                        |
//! | [`ReportNegative`]| a unit's users for their unit; the lead office for any unit          |
//! | [`ConfirmNegative`], [`SetReference`] | lead office                                      |
//! | [`Operator`]      | the server's command line only (`duban …`)                           |
//!
//! The three administrators are separate (三员分立, 等保 2.0 8.1.5): each has
//! only its own functions, and the audit administrator reads the audit log
//! (every action of the other two included) and changes nothing. A user
//! with a [`Restriction`] (a password to change, a second factor to enrol)
//! may do nothing else first: see [`restriction`].
//!
//! Policy on other units' data: the breakdown and every unit's progress are
//! open to every signed-in user of the county (the campaign is run in the
//! open); writing another unit's assignment is refused with 403. Accounts
//! of another unit are not shown to a unit manager: 404, as if absent.
//!
//! Policy on other regions (areas): every user belongs to a region and
//! sees only its [`Area`], that region and the regions below it: a
//! county's users their county, a province's or city's office (the area
//! office) every county in it. Anything of another region is answered as
//! if absent (404) — by the `Caller` extractor for resources named in the
//! path or query (`http::area`), and by the read functions, which take the
//! area with [`ReadCatalog`], [`ReadProgress`], [`ReadAccounts`],
//! [`ReadNotices`], [`ReadAudit`] and [`ImportData`], for lists. The area office reads, lists evidence, and
//! starts campaigns from the checklist; it changes nothing else.

use chrono::{DateTime, Utc};
use duban_dto::api::SecurityPolicy;
use duban_dto::{Restriction, Role, Scope};
use duban_rules::workflow::{AssignmentFacts, Standing};
use uuid::Uuid;

use crate::audit::{self, ActorKind};
use crate::db::lookups::AssignmentState;
use crate::error::Error;

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct UserActor {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub session_id: Uuid,
    /// What the user must do before anything else, if anything.
    pub restriction: Option<Restriction>,
    /// The regions whose campaigns the user may see.
    pub area: Area,
}

/// The regions a caller may see. A county's users see their county; a
/// province's or city's office sees every region below its own; the
/// administrators, API keys and the operator see the whole installation.
/// Everything outside the area is answered as if it did not exist (404).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Area {
    Everywhere,
    /// `root` and every region below it (`regions`, sorted, `root` included).
    Within {
        root: i64,
        regions: std::sync::Arc<[i64]>,
    },
}

impl Area {
    /// An area of `root` and the regions below it.
    pub fn within(root: i64, mut regions: Vec<i64>) -> Area {
        if !regions.contains(&root) {
            regions.push(root);
        }
        regions.sort_unstable();
        regions.dedup();
        Area::Within { root, regions: regions.into() }
    }

    pub fn contains(&self, region_id: i64) -> bool {
        match self {
            Area::Everywhere => true,
            Area::Within { regions, .. } => regions.binary_search(&region_id).is_ok(),
        }
    }

    /// The regions of a bounded area, for filtering lists; `None` when the
    /// area is the whole installation.
    pub fn region_ids(&self) -> Option<&[i64]> {
        match self {
            Area::Everywhere => None,
            Area::Within { regions, .. } => Some(regions),
        }
    }

    /// The region at the top of a bounded area.
    pub fn root(&self) -> Option<i64> {
        match self {
            Area::Everywhere => None,
            Area::Within { root, .. } => Some(*root),
        }
    }
}

/// Whether the policy requires a second factor of a role: always of the
/// administrators, of everyone when the policy says so.
pub fn mfa_required(role: Role, policy: &SecurityPolicy) -> bool {
    role.is_administrator() || policy.mfa_required_for_all
}

/// What a user must do before anything else: change a password someone
/// else set or that has expired, then enrol a second factor the policy
/// requires.
pub fn restriction(
    role: Role,
    must_change_password: bool,
    password_changed_at: DateTime<Utc>,
    mfa_enabled: bool,
    policy: &SecurityPolicy,
    now: DateTime<Utc>,
) -> Option<Restriction> {
    let max_age = i64::from(policy.password_max_age_days);
    let expired = max_age > 0 && password_changed_at + chrono::Duration::days(max_age) <= now;
    if must_change_password || expired {
        Some(Restriction::PasswordChangeRequired)
    } else if mfa_required(role, policy) && !mfa_enabled {
        Some(Restriction::MfaEnrolmentRequired)
    } else {
        None
    }
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
    /// The browser or program, as it names itself (for the session list).
    pub user_agent: Option<String>,
}

impl RequestInfo {
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

/// A capability that holds only within the caller's [`Area`]: the
/// functions that take it filter what they read, or refuse what they
/// write, by [`area`](ReadCatalog::area).
macro_rules! area_capability {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name {
            area: Area,
        }
        impl $name {
            fn granted(area: Area) -> Self {
                $name { area }
            }

            /// Where it holds.
            pub fn area(&self) -> &Area {
                &self.area
            }
        }
    };
}

area_capability!(
    /// Read campaigns, indicators, tasks, units and groups of the area.
    ReadCatalog
);
area_capability!(
    /// Read assignments and their progress in the area.
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
    /// Edit a campaign's scoring scheme and write bulletins (通报) in draft.
    ManageScoring
);
capability!(
    /// Sign and issue (签发) a bulletin, which freezes it.
    IssueBulletins
);
capability!(
    /// Manage API clients and their keys.
    ManageApiClients
);
area_capability!(
    /// Read the audit log: all of it for the whole installation, else what
    /// the accounts of the area did.
    ReadAudit
);
/// Import data in bulk into the regions of the caller's area.
#[derive(Debug)]
pub struct ImportData {
    area: Area,
    /// Whether a region the data names that does not exist yet may be
    /// created: anywhere for the whole installation, below the area's top
    /// for an area office; a county's lead office adds no counties.
    places_regions: bool,
}

impl ImportData {
    fn granted(area: Area) -> Self {
        let places_regions = area == Area::Everywhere;
        ImportData { area, places_regions }
    }

    /// Where it holds.
    pub fn area(&self) -> &Area {
        &self.area
    }

    /// Where a new region goes: `Ok(None)` at the top, `Ok(Some(parent))`
    /// below the area's top; `Err` when the caller adds no regions.
    pub fn new_region_parent(&self) -> Result<Option<i64>, ()> {
        match (self.places_regions, self.area.root()) {
            (false, _) => Err(()),
            (true, root) => Ok(root),
        }
    }
}
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
capability!(
    /// Re-read every stored object to check it (`duban evidence verify`).
    VerifyStore
);
capability!(
    /// Sign the audit chain's head, and archive and prune rows past the
    /// retention: the operator's, on the server, with the signing key.
    KeepAudit
);
capability!(
    /// Read and change the security policy.
    ManagePolicy
);
capability!(
    /// Supervise (督办): issue notices, urge, decide on extensions, return
    /// and close replies, set the reminder rules and the units' leaders.
    Supervise
);
capability!(
    /// Register webhooks and group robots, see and repeat deliveries.
    ManageEndpoints
);

/// Write units and groups: managing the catalog, or importing it.
pub trait WritesUnits {}
impl WritesUnits for ManageCatalog {}
impl WritesUnits for ImportData {}

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

/// Work on one assignment of the caller's own unit: report progress,
/// upload and withdraw evidence, report measured values.
#[derive(Debug)]
pub struct WorkOn {
    assignment_id: i64,
    unit_id: i64,
}

impl WorkOn {
    pub fn assignment_id(&self) -> i64 {
        self.assignment_id
    }

    pub fn unit_id(&self) -> i64 {
        self.unit_id
    }

    /// Refuses use on another assignment than the one it was granted for.
    pub fn check(&self, assignment_id: i64) -> Result<(), Error> {
        if assignment_id == self.assignment_id {
            Ok(())
        } else {
            Err(Error::internal(anyhow::anyhow!(
                "a capability for assignment {} was used on assignment {assignment_id}",
                self.assignment_id
            )))
        }
    }
}

/// List the evidence of a whole campaign: everything for those who
/// oversee it, else what the caller's unit handed in and the evidence of
/// the tasks it leads.
#[derive(Debug)]
pub struct ListEvidence {
    unit_id: Option<i64>,
}

impl ListEvidence {
    /// The unit whose view this is; `None` for the whole campaign.
    pub fn unit_id(&self) -> Option<i64> {
        self.unit_id
    }
}

/// Read and download the evidence (and history) of one assignment, or of
/// every assignment for a caller who oversees the campaign.
#[derive(Debug)]
pub struct ReadEvidence {
    assignment_id: i64,
}

impl ReadEvidence {
    pub fn assignment_id(&self) -> i64 {
        self.assignment_id
    }

    /// Refuses use on another assignment than the one it was granted for.
    pub fn check(&self, assignment_id: i64) -> Result<(), Error> {
        if assignment_id == self.assignment_id {
            Ok(())
        } else {
            Err(Error::internal(anyhow::anyhow!(
                "a capability for the evidence of assignment {} was used on assignment {assignment_id}",
                self.assignment_id
            )))
        }
    }
}

/// Take a step of the workflow on one assignment, with the standing the
/// rulebook judges the step by.
#[derive(Debug)]
pub struct TakeStep {
    assignment_id: i64,
    standing: Standing,
    user_id: i64,
    unit_id: Option<i64>,
}

impl TakeStep {
    pub fn assignment_id(&self) -> i64 {
        self.assignment_id
    }

    pub fn standing(&self) -> Standing {
        self.standing
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    pub fn unit_id(&self) -> Option<i64> {
        self.unit_id
    }
}

/// Change one assignment: the lead office sets its due date, its unit
/// reports its progress.
#[derive(Debug)]
pub enum EditAssignment {
    LeadOffice { assignment_id: i64, assign: Assign },
    Unit(WorkOn),
}

impl EditAssignment {
    pub fn assignment_id(&self) -> i64 {
        match self {
            EditAssignment::LeadOffice { assignment_id, .. } => *assignment_id,
            EditAssignment::Unit(work_on) => work_on.assignment_id(),
        }
    }
}

/// Take a step on a supervision notice for one addressed unit, as the
/// party the rulebook judges the step by (`duban_rules::supervision`).
#[derive(Debug)]
pub struct ActOnNotice {
    recipient_id: i64,
    party: duban_rules::supervision::Party,
    user_id: i64,
    unit_id: Option<i64>,
}

impl ActOnNotice {
    pub fn recipient_id(&self) -> i64 {
        self.recipient_id
    }

    pub fn party(&self) -> duban_rules::supervision::Party {
        self.party
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    pub fn unit_id(&self) -> Option<i64> {
        self.unit_id
    }
}

/// Read supervision notices: all of them, or (for a unit's users) those
/// addressed to the unit.
#[derive(Debug)]
pub struct ReadNotices {
    unit_id: Option<i64>,
    area: Area,
}

impl ReadNotices {
    /// The only unit whose notices may be read, when the reader is a unit's.
    pub fn unit_id(&self) -> Option<i64> {
        self.unit_id
    }

    /// The campaigns whose notices may be read.
    pub fn area(&self) -> &Area {
        &self.area
    }
}

/// See and change one user's contacts and channels (personal data).
#[derive(Debug)]
pub struct ManageContacts {
    user_id: i64,
}

impl ManageContacts {
    pub fn user_id(&self) -> i64 {
        self.user_id
    }
}

/// See a unit's leader in charge with their contacts.
#[derive(Debug)]
pub struct ReadLeader {
    unit_id: i64,
}

impl ReadLeader {
    pub fn unit_id(&self) -> i64 {
        self.unit_id
    }
}

/// Act on one's own account: sign out, change the password, read one's
/// inbox and mark it read.
#[derive(Debug)]
pub struct OwnAccount {
    user_id: i64,
    session_id: Uuid,
}

impl OwnAccount {
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    pub fn session_id(&self) -> Uuid {
        self.session_id
    }
}

/// Read accounts: all, or one unit's.
#[derive(Debug)]
pub struct ReadAccounts {
    unit_id: Option<i64>,
    area: Area,
}

impl ReadAccounts {
    /// `None`: every account; `Some(unit)`: that unit's only.
    pub fn unit_id(&self) -> Option<i64> {
        self.unit_id
    }

    /// The accounts of the area's regions only (and, for the whole
    /// installation, those without a region too).
    pub fn area(&self) -> &Area {
        &self.area
    }
}

/// Whose accounts a [`ManageAccounts`] covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AccountScope {
    /// The operator at the command line: every account.
    All,
    /// The system administrator: every account but the administrators'.
    Campaign,
    /// The security administrator: the administrators' accounts.
    Administrators,
    /// A unit manager: its unit's staff.
    Staff(i64),
}

/// Create and change accounts, reset their passwords, end their sessions.
#[derive(Debug)]
pub struct ManageAccounts {
    scope: AccountScope,
}

impl ManageAccounts {
    /// Whether this capability covers an account with this role and unit.
    pub fn covers(&self, role: Role, unit_id: Option<i64>) -> bool {
        match self.scope {
            AccountScope::All => true,
            AccountScope::Campaign => !role.is_administrator(),
            AccountScope::Administrators => role.is_administrator(),
            AccountScope::Staff(own) => role == Role::UnitStaff && unit_id == Some(own),
        }
    }

    /// `Some(unit)` when only that unit's accounts are visible.
    pub fn unit_id(&self) -> Option<i64> {
        match self.scope {
            AccountScope::Staff(unit) => Some(unit),
            _ => None,
        }
    }
}

capability!(
    /// Change an account's role (never an administrator's: the database
    /// refuses that).
    AssignRoles
);
capability!(
    /// Unlock an account locked after failed sign-ins.
    UnlockAccounts
);
capability!(
    /// See and end any user's sessions.
    ManageSessions
);

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

    /// The signed-in user's id, if the caller is one; for recording who changed what.
    pub fn user_id(&self) -> Option<i64> {
        self.user().map(|user| user.id)
    }

    /// The regions the caller may see: a user's area; an API key's is the
    /// whole installation (its scopes limit what, not where).
    pub fn area(&self) -> Area {
        match &self.actor {
            Actor::User(user) => user.area.clone(),
            Actor::ApiClient(_) => Area::Everywhere,
        }
    }

    fn has_scope(&self, scope: Scope) -> bool {
        matches!(&self.actor, Actor::ApiClient(client) if client.scopes.contains(&scope))
    }

    fn is(&self, roles: &[Role]) -> bool {
        self.role().is_some_and(|role| roles.contains(&role))
    }

    fn refuse(&self, what: &str) -> Error {
        match &self.actor {
            Actor::User(user) => Error::forbidden(format!("a {} ({}) may not {what}", user.role.zh_name(), user.role)),
            Actor::ApiClient(_) => Error::forbidden(format!("this API key's scopes do not allow it to {what}")),
        }
    }

    pub fn read_catalog(&self) -> Result<ReadCatalog, Error> {
        if self.user().is_some() || self.has_scope(Scope::TasksRead) {
            Ok(ReadCatalog::granted(self.area()))
        } else {
            Err(self.refuse("read tasks (scope tasks:read)"))
        }
    }

    pub fn read_progress(&self) -> Result<ReadProgress, Error> {
        if self.user().is_some() || self.has_scope(Scope::ProgressRead) {
            Ok(ReadProgress::granted(self.area()))
        } else {
            Err(self.refuse("read progress (scope progress:read)"))
        }
    }

    pub fn manage_catalog(&self) -> Result<ManageCatalog, Error> {
        if self.is(&[Role::SystemAdmin, Role::LeadOffice]) {
            Ok(ManageCatalog::granted())
        } else {
            Err(self.refuse("change units or groups"))
        }
    }

    pub fn assign(&self) -> Result<Assign, Error> {
        if self.is(&[Role::LeadOffice]) { Ok(Assign::granted()) } else { Err(self.refuse("assign work or set due dates")) }
    }

    /// Work on an assignment: only its own unit's users.
    pub fn work_on(&self, assignment: &AssignmentState) -> Result<WorkOn, Error> {
        let unit_id = assignment.facts.unit_id;
        match self.user() {
            Some(user) if user.role.is_unit_role() && user.unit_id == Some(unit_id) => Ok(WorkOn { assignment_id: assignment.id, unit_id }),
            Some(user) if user.role.is_unit_role() => Err(Error::forbidden("this assignment belongs to another unit")),
            _ => Err(self.refuse("report progress on a unit's assignment")),
        }
    }

    /// Change an assignment: the lead office, or the assignment's own unit.
    pub fn edit_assignment(&self, assignment: &AssignmentState) -> Result<EditAssignment, Error> {
        match self.assign() {
            Ok(assign) => Ok(EditAssignment::LeadOffice { assignment_id: assignment.id, assign }),
            Err(_) => Ok(EditAssignment::Unit(self.work_on(assignment)?)),
        }
    }

    /// The caller's standing towards an assignment, for the workflow.
    pub fn standing(&self, facts: &AssignmentFacts) -> Standing {
        let user = self.user();
        Standing::of(user.map(|user| user.role), user.and_then(|user| user.unit_id), facts)
    }

    /// Take a step of the workflow on an assignment. Which step the
    /// standing allows is the rulebook's to say; a caller with no standing
    /// takes none, and the refusal names what it tried.
    pub fn take_step(&self, assignment: &AssignmentState, step: duban_rules::workflow::Step) -> Result<TakeStep, Error> {
        let standing = self.standing(&assignment.facts);
        match self.user() {
            Some(user) if standing != Standing::Outsider => {
                Ok(TakeStep { assignment_id: assignment.id, standing, user_id: user.id, unit_id: user.unit_id })
            }
            _ => {
                // The rulebook says who takes this step; an outsider never does.
                let refusal = duban_rules::workflow::next(assignment.status, step, Standing::Outsider, assignment.role)
                    .err()
                    .map(|refusal| refusal.detail().to_owned())
                    .unwrap_or_else(|| "only the units of the task and the lead office take part in its review".to_owned());
                Err(Error::forbidden(refusal))
            }
        }
    }

    /// Act on one's own account; an API key has none.
    pub fn own_account(&self) -> Result<OwnAccount, Error> {
        match self.user() {
            Some(user) => Ok(OwnAccount { user_id: user.id, session_id: user.session_id }),
            None => Err(Error::forbidden("an API key is not a user account")),
        }
    }

    pub fn read_accounts(&self) -> Result<ReadAccounts, Error> {
        match self.user() {
            Some(user) if matches!(user.role, Role::SystemAdmin | Role::SecurityAdmin | Role::LeadOffice | Role::Inspector) => {
                Ok(ReadAccounts { unit_id: None, area: user.area.clone() })
            }
            Some(user) if user.role == Role::UnitManager => Ok(ReadAccounts { unit_id: user.unit_id, area: user.area.clone() }),
            _ => Err(self.refuse("see accounts")),
        }
    }

    pub fn manage_accounts(&self) -> Result<ManageAccounts, Error> {
        match self.user() {
            Some(user) if user.role == Role::SystemAdmin => Ok(ManageAccounts { scope: AccountScope::Campaign }),
            Some(user) if user.role == Role::SecurityAdmin => Ok(ManageAccounts { scope: AccountScope::Administrators }),
            Some(user) if user.role == Role::UnitManager => match user.unit_id {
                Some(unit) => Ok(ManageAccounts { scope: AccountScope::Staff(unit) }),
                None => Err(self.refuse("manage accounts without a unit")),
            },
            _ => Err(self.refuse("manage accounts")),
        }
    }

    pub fn assign_roles(&self) -> Result<AssignRoles, Error> {
        if self.is(&[Role::SecurityAdmin]) {
            Ok(AssignRoles::granted())
        } else {
            Err(self.refuse("assign roles (the security administrator does)"))
        }
    }

    pub fn unlock_accounts(&self) -> Result<UnlockAccounts, Error> {
        if self.is(&[Role::SecurityAdmin]) { Ok(UnlockAccounts::granted()) } else { Err(self.refuse("unlock accounts")) }
    }

    pub fn manage_sessions(&self) -> Result<ManageSessions, Error> {
        if self.is(&[Role::SystemAdmin, Role::SecurityAdmin]) {
            Ok(ManageSessions::granted())
        } else {
            Err(self.refuse("see others' sessions"))
        }
    }

    pub fn manage_api_clients(&self) -> Result<ManageApiClients, Error> {
        if self.is(&[Role::SecurityAdmin]) { Ok(ManageApiClients::granted()) } else { Err(self.refuse("manage API clients")) }
    }

    pub fn read_audit(&self) -> Result<ReadAudit, Error> {
        if self.is(&[Role::AuditAdmin, Role::LeadOffice, Role::Inspector]) || self.has_scope(Scope::AuditRead) {
            Ok(ReadAudit::granted(self.area()))
        } else {
            Err(self.refuse("read the audit log"))
        }
    }

    pub fn import_data(&self) -> Result<ImportData, Error> {
        if self.is(&[Role::LeadOffice]) || self.has_scope(Scope::ImportWrite) {
            Ok(ImportData::granted(self.area()))
        } else {
            Err(self.refuse("import data (lead office, or scope import:write)"))
        }
    }

    /// Start a county's campaign from the checklist: the county's lead
    /// office for its county, a province's or city's office for a county
    /// in its area (a new county is placed below the office's region).
    pub fn start_campaigns(&self) -> Result<ImportData, Error> {
        if self.is(&[Role::AreaOffice]) {
            Ok(ImportData { area: self.area(), places_regions: true })
        } else if self.is(&[Role::LeadOffice]) || self.has_scope(Scope::ImportWrite) {
            Ok(ImportData::granted(self.area()))
        } else {
            Err(self.refuse("start a campaign from the checklist"))
        }
    }

    /// Evidence is private to the assignment's unit, the task's lead units
    /// and those who oversee the campaign.
    pub fn read_evidence(&self, assignment_id: i64, facts: &AssignmentFacts) -> Result<ReadEvidence, Error> {
        let allowed = match &self.actor {
            Actor::ApiClient(client) => client.scopes.contains(&Scope::EvidenceRead),
            Actor::User(user) => match user.role {
                Role::SystemAdmin | Role::LeadOffice | Role::Inspector | Role::AreaOffice => true,
                Role::SecurityAdmin | Role::AuditAdmin => false,
                Role::UnitManager | Role::UnitStaff => {
                    user.unit_id.is_some_and(|unit| unit == facts.unit_id || facts.lead_unit_ids.contains(&unit))
                }
            },
        };
        if allowed { Ok(ReadEvidence { assignment_id }) } else { Err(self.refuse("see another unit's evidence")) }
    }

    /// Listing evidence across a campaign: the same people as
    /// [`Caller::read_evidence`], units limited to what they could open one
    /// assignment at a time.
    pub fn list_evidence(&self) -> Result<ListEvidence, Error> {
        match &self.actor {
            Actor::ApiClient(client) if client.scopes.contains(&Scope::EvidenceRead) => Ok(ListEvidence { unit_id: None }),
            Actor::User(user) => match (user.role, user.unit_id) {
                (Role::SystemAdmin | Role::LeadOffice | Role::Inspector | Role::AreaOffice, _) => Ok(ListEvidence { unit_id: None }),
                (Role::UnitManager | Role::UnitStaff, Some(unit)) => Ok(ListEvidence { unit_id: Some(unit) }),
                _ => Err(self.refuse("list evidence")),
            },
            Actor::ApiClient(_) => Err(self.refuse("list evidence (scope evidence:read)")),
        }
    }

    /// A unit reports for itself; the lead office for any unit.
    pub fn report_negative(&self, unit_id: Option<i64>) -> Result<ReportNegative, Error> {
        match (self.user(), unit_id) {
            (Some(user), Some(unit)) if user.role == Role::LeadOffice => Ok(ReportNegative { unit_id: unit }),
            (Some(user), None) if user.role == Role::LeadOffice => {
                Err(Error::invalid("unit_required", "the lead office names the unit it reports for: give unit_id"))
            }
            (Some(user), unit) if user.role.is_unit_role() => match user.unit_id {
                Some(own) if unit.is_none_or(|unit| unit == own) => Ok(ReportNegative { unit_id: own }),
                _ => Err(Error::forbidden("a unit reports on the negative list for itself only")),
            },
            _ => Err(self.refuse("report on the negative list")),
        }
    }

    pub fn confirm_negative(&self) -> Result<ConfirmNegative, Error> {
        if self.is(&[Role::LeadOffice]) { Ok(ConfirmNegative::granted()) } else { Err(self.refuse("confirm a negative-list occurrence")) }
    }

    pub fn set_reference(&self) -> Result<SetReference, Error> {
        if self.is(&[Role::LeadOffice]) { Ok(SetReference::granted()) } else { Err(self.refuse("set the reference figure of a target")) }
    }

    pub fn manage_scoring(&self) -> Result<ManageScoring, Error> {
        if self.is(&[Role::LeadOffice]) {
            Ok(ManageScoring::granted())
        } else {
            Err(self.refuse("edit the scoring scheme or write bulletins (lead office)"))
        }
    }

    pub fn issue_bulletins(&self) -> Result<IssueBulletins, Error> {
        if self.is(&[Role::LeadOffice]) {
            Ok(IssueBulletins::granted())
        } else {
            Err(self.refuse("sign and issue bulletins (lead office)"))
        }
    }

    pub fn supervise(&self) -> Result<Supervise, Error> {
        if self.is(&[Role::LeadOffice]) { Ok(Supervise::granted()) } else { Err(self.refuse("supervise (issue notices, urge, decide)")) }
    }

    /// Notices: the lead office, administrators, inspectors and portals
    /// with `progress:read` read all; a unit's users those addressed to it.
    pub fn read_notices(&self) -> Result<ReadNotices, Error> {
        match self.user() {
            Some(user) if user.role.is_unit_role() => match user.unit_id {
                Some(unit) => Ok(ReadNotices { unit_id: Some(unit), area: self.area() }),
                None => Err(self.refuse("read notices without belonging to a unit")),
            },
            Some(_) => Ok(ReadNotices { unit_id: None, area: self.area() }),
            None if self.has_scope(Scope::ProgressRead) => Ok(ReadNotices { unit_id: None, area: Area::Everywhere }),
            None => Err(self.refuse("read notices (scope progress:read)")),
        }
    }

    pub fn manage_endpoints(&self) -> Result<ManageEndpoints, Error> {
        if self.is(&[Role::SystemAdmin]) { Ok(ManageEndpoints::granted()) } else { Err(self.refuse("manage webhooks and robots")) }
    }

    /// Act on a notice addressed to `unit_id`: the lead office, or a user of
    /// that unit. Which steps each may take is the rulebook's.
    pub fn act_on_notice(&self, recipient_id: i64, unit_id: i64) -> Result<ActOnNotice, Error> {
        use duban_rules::supervision::Party;
        match self.user() {
            Some(user) if user.role == Role::LeadOffice => {
                Ok(ActOnNotice { recipient_id, party: Party::LeadOffice, user_id: user.id, unit_id: user.unit_id })
            }
            Some(user) if user.role.is_unit_role() && user.unit_id == Some(unit_id) => {
                Ok(ActOnNotice { recipient_id, party: Party::Unit, user_id: user.id, unit_id: user.unit_id })
            }
            Some(user) if user.role.is_unit_role() => Err(Error::forbidden("this notice is addressed to another unit")),
            _ => Err(self.refuse("act on a supervision notice")),
        }
    }

    /// A user's contacts: the user, an administrator, or the manager of the
    /// user's unit.
    pub fn manage_contacts(&self, user_id: i64, unit_id: Option<i64>) -> Result<ManageContacts, Error> {
        match self.user() {
            Some(user) if user.id == user_id || user.role == Role::SystemAdmin => Ok(ManageContacts { user_id }),
            Some(user) if user.role == Role::UnitManager && unit_id.is_some() && user.unit_id == unit_id => Ok(ManageContacts { user_id }),
            _ => Err(Error::not_found(format!("no user {user_id}"))),
        }
    }

    /// A unit's leader in charge: the lead office (who keeps them), the
    /// unit's manager, administrators.
    pub fn read_leader(&self, unit_id: i64) -> Result<ReadLeader, Error> {
        match self.user() {
            Some(user) if matches!(user.role, Role::LeadOffice | Role::SystemAdmin) => Ok(ReadLeader { unit_id }),
            Some(user) if user.role == Role::UnitManager && user.unit_id == Some(unit_id) => Ok(ReadLeader { unit_id }),
            _ => Err(self.refuse("see a unit's leader in charge and their contacts")),
        }
    }

    pub fn manage_policy(&self) -> Result<ManagePolicy, Error> {
        if self.is(&[Role::SecurityAdmin]) { Ok(ManagePolicy::granted()) } else { Err(self.refuse("see or change the security policy")) }
    }

    pub fn manage_calendar(&self) -> Result<ManageCalendar, Error> {
        if self.is(&[Role::SystemAdmin]) { Ok(ManageCalendar::granted()) } else { Err(self.refuse("change the working-day calendar")) }
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

/// The operator at the server's command line (`duban user create`,
/// `duban import`), who holds the database itself and so every power the
/// API guards; what the operator does is still audited.
#[derive(Debug)]
pub struct Operator {
    _only_authz_makes_this: (),
}

impl Operator {
    /// Only the command line (and first-start seeding and `gen-data`, which
    /// it runs) makes an operator.
    pub(crate) fn at_command_line() -> Operator {
        Operator { _only_authz_makes_this: () }
    }

    /// The integration tests act as the operator to set up their data.
    #[cfg(feature = "test-support")]
    pub fn for_tests() -> Operator {
        Operator::at_command_line()
    }

    pub fn manage_accounts(&self) -> ManageAccounts {
        ManageAccounts { scope: AccountScope::All }
    }

    pub fn assign_roles(&self) -> AssignRoles {
        AssignRoles::granted()
    }

    pub fn unlock_accounts(&self) -> UnlockAccounts {
        UnlockAccounts::granted()
    }

    pub fn import_data(&self) -> ImportData {
        ImportData::granted(Area::Everywhere)
    }

    /// `duban export` reads the table and its progress.
    pub fn read_catalog(&self) -> ReadCatalog {
        ReadCatalog::granted(Area::Everywhere)
    }

    pub fn read_progress(&self) -> ReadProgress {
        ReadProgress::granted(Area::Everywhere)
    }

    pub fn read_audit(&self) -> ReadAudit {
        ReadAudit::granted(Area::Everywhere)
    }

    pub fn read_accounts(&self) -> ReadAccounts {
        ReadAccounts { unit_id: None, area: Area::Everywhere }
    }

    /// `duban evidence verify` re-reads every stored object.
    pub fn verify_store(&self) -> VerifyStore {
        VerifyStore::granted()
    }

    /// Checkpoints (hourly in `serve`, at `audit verify`, before a backup)
    /// and `duban audit archive`.
    pub fn keep_audit(&self) -> KeepAudit {
        KeepAudit::granted()
    }
}
