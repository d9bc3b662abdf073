//! The workflow of an assignment: which step may be taken from which status,
//! by whom. This is the one transition table of duban; the server applies
//! what [`next`] decides and the browser client offers only the steps it
//! allows.
//!
//! ```text
//! not started / returned --start (the unit)--> in progress
//! in progress --unstart (the unit)--> not started
//! not started / in progress / returned --submit (the unit)--> submitted
//! submitted --accept (lead unit, or lead office)--> accepted
//! submitted --return (lead unit, or lead office)--> returned
//! accepted --approve (lead office)--> approved
//! accepted --return (lead office)--> returned
//! ```
//!
//! A lead unit reviews the responsible units' submissions of the tasks it
//! leads, never its own; the lead units' own assignments are reviewed by
//! the lead office at both stages. A return needs a reason (checked where
//! the reason is read). Approved is final: it seals the evidence it covered.

use duban_dto::{AssignmentStatus, PartyRole, ReviewDecision, Role};

/// A step of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// The unit starts work (also taken when it first uploads evidence).
    Start,
    /// The unit puts work it started back to not started.
    Unstart,
    Submit,
    Accept,
    Return,
    Approve,
}

impl Step {
    pub const ALL: [Step; 6] = [Step::Start, Step::Unstart, Step::Submit, Step::Accept, Step::Return, Step::Approve];

    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Start => "start",
            Step::Unstart => "unstart",
            Step::Submit => "submit",
            Step::Accept => "accept",
            Step::Return => "return",
            Step::Approve => "approve",
        }
    }

    /// Whether this step decides on a submission (and so is a review).
    pub const fn is_review(self) -> bool {
        matches!(self, Step::Accept | Step::Return | Step::Approve)
    }
}

impl From<ReviewDecision> for Step {
    fn from(decision: ReviewDecision) -> Step {
        match decision {
            ReviewDecision::Accept => Step::Accept,
            ReviewDecision::Return => Step::Return,
            ReviewDecision::Approve => Step::Approve,
        }
    }
}

/// What standing towards an assignment depends on: its unit and the units
/// that lead its task (with a lead assignment, or named as lead in the table).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssignmentFacts {
    pub unit_id: i64,
    pub lead_unit_ids: Vec<i64>,
}

/// Who a user is to an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standing {
    /// A user of the assignment's own unit.
    OwnUnit,
    /// A user of a unit that leads the task (and is not the assignment's unit).
    LeadUnit,
    LeadOffice,
    /// Anyone else.
    Outsider,
}

impl Standing {
    pub const ALL: [Standing; 4] = [Standing::OwnUnit, Standing::LeadUnit, Standing::LeadOffice, Standing::Outsider];

    /// The standing of a user with `role` in unit `unit_id` (none for roles
    /// outside the units); `None` for a caller that is no user (an API key).
    pub fn of(role: Option<Role>, unit_id: Option<i64>, facts: &AssignmentFacts) -> Standing {
        match role {
            Some(Role::LeadOffice) => Standing::LeadOffice,
            Some(role) if role.is_unit_role() && unit_id == Some(facts.unit_id) => Standing::OwnUnit,
            Some(role) if role.is_unit_role() && unit_id.is_some_and(|unit| facts.lead_unit_ids.contains(&unit)) => Standing::LeadUnit,
            _ => Standing::Outsider,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller may not take this step on this assignment.
    NotYours(String),
    /// The step does not apply to the assignment's current status.
    WrongStatus(String),
}

impl Refusal {
    pub fn detail(&self) -> &str {
        match self {
            Refusal::NotYours(detail) | Refusal::WrongStatus(detail) => detail,
        }
    }
}

/// Who may take `step` on an assignment in `status` with `role`.
fn takers(step: Step, status: AssignmentStatus, role: PartyRole) -> &'static [Standing] {
    match (step, role) {
        (Step::Start | Step::Unstart | Step::Submit, _) => &[Standing::OwnUnit],
        (Step::Accept | Step::Return, PartyRole::Responsible) if status == AssignmentStatus::Submitted => {
            &[Standing::LeadUnit, Standing::LeadOffice]
        }
        (Step::Accept | Step::Return, _) => &[Standing::LeadOffice],
        (Step::Approve, _) => &[Standing::LeadOffice],
    }
}

/// Where `step` leads from `status`, whoever takes it.
fn target(step: Step, status: AssignmentStatus) -> Option<AssignmentStatus> {
    use AssignmentStatus::*;
    match (step, status) {
        (Step::Start, NotStarted | Returned) => Some(InProgress),
        (Step::Unstart, InProgress) => Some(NotStarted),
        (Step::Submit, NotStarted | InProgress | Returned) => Some(Submitted),
        (Step::Accept, Submitted) => Some(Accepted),
        (Step::Return, Submitted | Accepted) => Some(Returned),
        (Step::Approve, Accepted) => Some(Approved),
        _ => None,
    }
}

/// The status after `step`, or why it cannot be taken.
pub fn next(status: AssignmentStatus, step: Step, standing: Standing, role: PartyRole) -> Result<AssignmentStatus, Refusal> {
    if !takers(step, status, role).contains(&standing) {
        let who = match step {
            Step::Start | Step::Unstart => "only the assignment's own unit reports its progress",
            Step::Submit => "only the assignment's own unit submits it",
            Step::Accept => "a submission is accepted by a lead unit of the task (the lead office for the lead units' own work)",
            Step::Return if status == AssignmentStatus::Accepted => "after acceptance, only the lead office returns a submission",
            Step::Return => "a submission is returned by a lead unit of the task or the lead office",
            Step::Approve => "only the lead office gives final approval",
        };
        return Err(Refusal::NotYours(who.to_owned()));
    }
    target(step, status).ok_or_else(|| {
        let done = match step {
            Step::Start => "started",
            Step::Unstart => "put back to not started",
            Step::Submit => "submitted",
            Step::Accept => "accepted",
            Step::Return => "returned",
            Step::Approve => "approved",
        };
        Refusal::WrongStatus(format!("an assignment that is {status} cannot be {done}"))
    })
}

/// The step a unit takes when it sets its own assignment's status to `to`
/// (start work, or put it back to not started); `None` when nothing changes.
/// Submitting and reviewing have their own requests.
pub fn step_toward(from: AssignmentStatus, to: AssignmentStatus) -> Result<Option<Step>, Refusal> {
    match to {
        _ if from == to => Ok(None),
        AssignmentStatus::InProgress => Ok(Some(Step::Start)),
        AssignmentStatus::NotStarted => Ok(Some(Step::Unstart)),
        _ => Err(Refusal::WrongStatus(format!("an assignment cannot go from {from} to {to} here"))),
    }
}

/// Who took a step: the user and the unit it acted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taker {
    pub user_id: i64,
    pub unit_id: Option<i64>,
}

impl Taker {
    /// The same account, or a user of the same unit.
    fn same_as(&self, other: &Taker) -> bool {
        self.user_id == other.user_id || (self.unit_id.is_some() && self.unit_id == other.unit_id)
    }
}

/// Who submitted the work under review and who accepted it, in this round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub submitted_by: Option<Taker>,
    pub accepted_by: Option<Taker>,
}

/// Separation of duties: nobody — no account, and no user of the unit —
/// reviews work it submitted, and the final approval is given by another
/// account than the one that accepted it (the lead office's staff check,
/// its head approves). A county office too small for this may switch it
/// off; the server records who did.
pub fn separated(step: Step, by: &Taker, round: &Round) -> Result<(), Refusal> {
    let submitted = round.submitted_by.is_some_and(|submitter| by.same_as(&submitter));
    let accepted = round.accepted_by.is_some_and(|accepter| by.user_id == accepter.user_id);
    let refusal = match step {
        Step::Accept | Step::Approve if submitted => {
            "the same account or unit may not both submit work and review it (separation of duties)"
        }
        Step::Approve if accepted => "the same account or unit may not both accept work and give it final approval (separation of duties)",
        _ => return Ok(()),
    };
    Err(Refusal::NotYours(refusal.to_owned()))
}

/// Every step `standing` may take now, in the order of [`Step::ALL`].
pub fn open_steps(status: AssignmentStatus, standing: Standing, role: PartyRole) -> Vec<Step> {
    Step::ALL.into_iter().filter(|step| next(status, *step, standing, role).is_ok()).collect()
}

/// Whether evidence may be added, replaced or withdrawn: not while a
/// submission is under review, and never after approval.
pub fn evidence_editable(status: AssignmentStatus) -> bool {
    matches!(status, AssignmentStatus::NotStarted | AssignmentStatus::InProgress | AssignmentStatus::Returned)
}

/// Whether the unit has handed its work in and it awaits a review, the
/// first or the final one.
pub fn awaiting_review(status: AssignmentStatus) -> bool {
    matches!(status, AssignmentStatus::Submitted | AssignmentStatus::Accepted)
}

/// Why evidence cannot change now, if it cannot.
pub fn evidence_frozen(status: AssignmentStatus) -> Option<String> {
    (!evidence_editable(status)).then(|| format!("the assignment is {status}: its evidence cannot change now"))
}

#[cfg(test)]
mod tests {
    use super::*;

    use AssignmentStatus::*;

    #[test]
    fn work_awaits_review_from_submission_to_the_final_decision() {
        let waiting: Vec<AssignmentStatus> = AssignmentStatus::ALL.iter().copied().filter(|status| awaiting_review(*status)).collect();
        assert_eq!(waiting, [Submitted, Accepted]);
    }

    /// Every allowed (from, step, standing, role) and where it leads,
    /// written out independently of the rules above.
    fn allowed() -> Vec<(AssignmentStatus, Step, Standing, PartyRole, AssignmentStatus)> {
        let mut rows = Vec::new();
        for role in [PartyRole::Lead, PartyRole::Responsible] {
            for from in [NotStarted, InProgress, Returned] {
                rows.push((from, Step::Submit, Standing::OwnUnit, role, Submitted));
            }
            rows.push((NotStarted, Step::Start, Standing::OwnUnit, role, InProgress));
            rows.push((Returned, Step::Start, Standing::OwnUnit, role, InProgress));
            rows.push((InProgress, Step::Unstart, Standing::OwnUnit, role, NotStarted));
            rows.push((Submitted, Step::Accept, Standing::LeadOffice, role, Accepted));
            rows.push((Submitted, Step::Return, Standing::LeadOffice, role, Returned));
            rows.push((Accepted, Step::Approve, Standing::LeadOffice, role, Approved));
            rows.push((Accepted, Step::Return, Standing::LeadOffice, role, Returned));
        }
        rows.push((Submitted, Step::Accept, Standing::LeadUnit, PartyRole::Responsible, Accepted));
        rows.push((Submitted, Step::Return, Standing::LeadUnit, PartyRole::Responsible, Returned));
        rows
    }

    #[test]
    fn every_combination_follows_the_table() {
        let allowed = allowed();
        let mut checked = 0;
        for &from in AssignmentStatus::ALL {
            for step in Step::ALL {
                for standing in Standing::ALL {
                    for role in [PartyRole::Lead, PartyRole::Responsible] {
                        let expected =
                            allowed.iter().find(|row| (row.0, row.1, row.2, row.3) == (from, step, standing, role)).map(|row| row.4);
                        let got = next(from, step, standing, role);
                        match expected {
                            Some(to) => assert_eq!(got, Ok(to), "{from} {step:?} by {standing:?} on a {role} assignment"),
                            None => {
                                assert!(got.is_err(), "{from} {step:?} by {standing:?} on a {role} assignment must be refused, got {got:?}")
                            }
                        }
                        let open = open_steps(from, standing, role).contains(&step);
                        assert_eq!(open, expected.is_some(), "open_steps agrees with next for {from} {step:?} {standing:?} {role}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 6 * 6 * 4 * 2);
    }

    #[test]
    fn refusals_say_whether_it_is_who_or_when() {
        assert!(matches!(next(Submitted, Step::Approve, Standing::LeadUnit, PartyRole::Responsible), Err(Refusal::NotYours(_))));
        assert!(matches!(next(Approved, Step::Submit, Standing::OwnUnit, PartyRole::Responsible), Err(Refusal::WrongStatus(_))));
        assert!(matches!(next(Submitted, Step::Accept, Standing::LeadUnit, PartyRole::Lead), Err(Refusal::NotYours(_))));
        assert!(matches!(next(Accepted, Step::Return, Standing::LeadUnit, PartyRole::Responsible), Err(Refusal::NotYours(_))));
    }

    #[test]
    fn units_move_only_between_not_started_and_in_progress() {
        let unit = |from, to| {
            step_toward(from, to).and_then(|step| match step {
                None => Ok(from),
                Some(step) => next(from, step, Standing::OwnUnit, PartyRole::Responsible),
            })
        };
        assert_eq!(unit(NotStarted, InProgress), Ok(InProgress));
        assert_eq!(unit(InProgress, NotStarted), Ok(NotStarted));
        assert_eq!(unit(Returned, InProgress), Ok(InProgress));
        assert_eq!(unit(Submitted, Submitted), Ok(Submitted), "the same status is no change");
        assert!(unit(InProgress, Approved).is_err());
        assert!(unit(Submitted, InProgress).is_err());
        assert!(unit(NotStarted, Submitted).is_err());
    }

    #[test]
    fn standing_follows_role_unit_and_lead_units() {
        let facts = AssignmentFacts { unit_id: 7, lead_unit_ids: vec![3] };
        assert_eq!(Standing::of(Some(Role::LeadOffice), None, &facts), Standing::LeadOffice);
        assert_eq!(Standing::of(Some(Role::UnitStaff), Some(7), &facts), Standing::OwnUnit);
        assert_eq!(Standing::of(Some(Role::UnitManager), Some(3), &facts), Standing::LeadUnit);
        assert_eq!(Standing::of(Some(Role::UnitManager), Some(9), &facts), Standing::Outsider);
        assert_eq!(Standing::of(Some(Role::Inspector), None, &facts), Standing::Outsider);
        assert_eq!(Standing::of(None, None, &facts), Standing::Outsider, "an API key");
        let own_lead = AssignmentFacts { unit_id: 3, lead_unit_ids: vec![3] };
        assert_eq!(Standing::of(Some(Role::UnitStaff), Some(3), &own_lead), Standing::OwnUnit, "a lead unit's own work is its own");
    }

    #[test]
    fn reviewers_are_not_who_submitted_or_accepted() {
        let office = Taker { user_id: 1, unit_id: Some(10) };
        let colleague = Taker { user_id: 2, unit_id: Some(10) };
        let lead_unit = Taker { user_id: 3, unit_id: Some(20) };
        let unit = Taker { user_id: 4, unit_id: Some(30) };
        let submitted_by_unit = Round { submitted_by: Some(unit), accepted_by: None };
        assert!(separated(Step::Accept, &lead_unit, &submitted_by_unit).is_ok());
        let accepted = Round { submitted_by: Some(unit), accepted_by: Some(lead_unit) };
        assert!(separated(Step::Approve, &office, &accepted).is_ok());
        assert!(separated(Step::Approve, &lead_unit, &accepted).is_err(), "accepted, then approved");
        let own_unit = Round { submitted_by: Some(colleague), accepted_by: Some(office) };
        assert!(separated(Step::Approve, &office, &own_unit).is_err(), "accepted and approved by one account");
        let head = Taker { user_id: 7, unit_id: Some(10) };
        let staff_checked = Round { submitted_by: Some(unit), accepted_by: Some(office) };
        assert!(separated(Step::Approve, &head, &staff_checked).is_ok(), "a colleague of the same office approves what another accepted");
        assert!(separated(Step::Accept, &office, &Round { submitted_by: Some(colleague), accepted_by: None }).is_err(), "own unit's work");
        assert!(separated(Step::Return, &office, &own_unit).is_ok(), "returning is never refused");
        let without_unit = Taker { user_id: 5, unit_id: None };
        assert!(
            separated(
                Step::Approve,
                &without_unit,
                &Round { submitted_by: Some(unit), accepted_by: Some(Taker { user_id: 6, unit_id: None }) }
            )
            .is_ok()
        );
    }

    #[test]
    fn evidence_is_frozen_under_review_and_sealed_on_approval() {
        assert!(evidence_editable(NotStarted) && evidence_editable(InProgress) && evidence_editable(Returned));
        assert!(!evidence_editable(Submitted) && !evidence_editable(Accepted) && !evidence_editable(Approved));
        assert!(evidence_frozen(Submitted).is_some_and(|why| why.contains("submitted")));
        assert_eq!(evidence_frozen(Returned), None);
    }
}
