//! The review workflow of an assignment, as pure rules: which step may be
//! taken from which status, by whom. The database and the HTTP layer only
//! apply what [`next`] decides.
//!
//! ```text
//! not started / in progress / returned --submit (the unit)--> submitted
//! submitted --accept (lead unit, or lead office)--> accepted
//! submitted --return (lead unit, or lead office)--> returned
//! accepted --approve (lead office)--> approved
//! accepted --return (lead office)--> returned
//! ```
//!
//! A lead unit reviews the responsible units' submissions of the tasks it
//! leads, never its own; the lead units' own assignments are reviewed by
//! the lead office at both stages. A return needs a reason. Approved is
//! final: it seals the evidence it covered.

use duban_dto::{AssignmentStatus, PartyRole};

/// A step of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Submit,
    Accept,
    Return,
    Approve,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Submit, Step::Accept, Step::Return, Step::Approve];

    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Submit => "submit",
            Step::Accept => "accept",
            Step::Return => "return",
            Step::Approve => "approve",
        }
    }
}

/// Who the caller is to this assignment.
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller may not take this step on this assignment (403).
    NotYours(String),
    /// The step does not apply to the assignment's current status (409).
    WrongStatus(String),
}

/// The status after `step`, or why it cannot be taken.
pub fn next(status: AssignmentStatus, step: Step, standing: Standing, role: PartyRole) -> Result<AssignmentStatus, Refusal> {
    use AssignmentStatus::*;
    let allowed: &[Standing] = match (step, role) {
        (Step::Submit, _) => &[Standing::OwnUnit],
        (Step::Accept | Step::Return, PartyRole::Responsible) if status == Submitted => &[Standing::LeadUnit, Standing::LeadOffice],
        (Step::Accept | Step::Return, _) => &[Standing::LeadOffice],
        (Step::Approve, _) => &[Standing::LeadOffice],
    };
    if !allowed.contains(&standing) {
        let who = match step {
            Step::Submit => "only the assignment's own unit submits it",
            Step::Accept => "a submission is accepted by a lead unit of the task (the lead office for the lead units' own work)",
            Step::Return if status == Accepted => "after acceptance, only the lead office returns a submission",
            Step::Return => "a submission is returned by a lead unit of the task or the lead office",
            Step::Approve => "only the lead office gives final approval",
        };
        return Err(Refusal::NotYours(who.to_owned()));
    }
    let to = match (step, status) {
        (Step::Submit, NotStarted | InProgress | Returned) => Submitted,
        (Step::Accept, Submitted) => Accepted,
        (Step::Return, Submitted | Accepted) => Returned,
        (Step::Approve, Accepted) => Approved,
        _ => {
            return Err(Refusal::WrongStatus(format!(
                "an assignment that is {status} cannot be {}ed",
                step.as_str().trim_end_matches('e')
            )));
        }
    };
    Ok(to)
}

/// Whether evidence may be added, replaced or withdrawn: not while a
/// submission is under review, and never after approval.
pub fn evidence_editable(status: AssignmentStatus) -> bool {
    matches!(status, AssignmentStatus::NotStarted | AssignmentStatus::InProgress | AssignmentStatus::Returned)
}

#[cfg(test)]
mod tests {
    use super::*;

    use AssignmentStatus::*;

    /// Every allowed (from, step, standing, role) and where it leads,
    /// written out independently of the rules above.
    fn allowed() -> Vec<(AssignmentStatus, Step, Standing, PartyRole, AssignmentStatus)> {
        let mut rows = Vec::new();
        for role in [PartyRole::Lead, PartyRole::Responsible] {
            for from in [NotStarted, InProgress, Returned] {
                rows.push((from, Step::Submit, Standing::OwnUnit, role, Submitted));
            }
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
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 6 * 4 * 4 * 2);
    }

    #[test]
    fn refusals_say_whether_it_is_who_or_when() {
        assert!(matches!(next(Submitted, Step::Approve, Standing::LeadUnit, PartyRole::Responsible), Err(Refusal::NotYours(_))));
        assert!(matches!(next(Approved, Step::Submit, Standing::OwnUnit, PartyRole::Responsible), Err(Refusal::WrongStatus(_))));
        assert!(matches!(next(Submitted, Step::Accept, Standing::LeadUnit, PartyRole::Lead), Err(Refusal::NotYours(_))));
        assert!(matches!(next(Accepted, Step::Return, Standing::LeadUnit, PartyRole::Responsible), Err(Refusal::NotYours(_))));
    }

    #[test]
    fn evidence_is_frozen_under_review_and_sealed_on_approval() {
        assert!(evidence_editable(NotStarted) && evidence_editable(InProgress) && evidence_editable(Returned));
        assert!(!evidence_editable(Submitted) && !evidence_editable(Accepted) && !evidence_editable(Approved));
    }
}
