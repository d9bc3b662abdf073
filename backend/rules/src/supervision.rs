//! Supervision (督办): the rules of a supervision notice as each addressed
//! unit goes through it, and of reminders and escalation.
//!
//! ```text
//! sent --acknowledge (the unit)--> acknowledged
//! acknowledged / returned --reply (the unit)--> replied
//! acknowledged / returned --ask for an extension (the unit)--> (pending)
//! (pending) --grant / refuse (the lead office)--> (decided; granted moves the reply date)
//! replied --return (the lead office)--> returned
//! replied --close (the lead office, 销号)--> closed
//! ```
//!
//! A notice is closed when every unit it addresses is closed.

use chrono::NaiveDate;
pub use duban_dto::api::{ReminderRule, ReminderRules};
use duban_dto::{NoticeStep, RecipientState};

use crate::calendar::Calendar;

/// Who takes a step on a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// A user of the addressed unit.
    Unit,
    LeadOffice,
    /// Anyone else.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotYours(String),
    WrongState(String),
}

/// The state after `step`, or why it cannot be taken. `extension_pending`:
/// whether the unit has asked for an extension not yet decided.
pub fn next(state: RecipientState, step: NoticeStep, by: Party, extension_pending: bool) -> Result<RecipientState, Refusal> {
    use NoticeStep::*;
    use RecipientState::*;
    let taker = match step {
        Acknowledge | Reply | RequestExtension => Party::Unit,
        GrantExtension | RefuseExtension | Return | Close => Party::LeadOffice,
    };
    if by != taker {
        let who = if taker == Party::Unit {
            "only the addressed unit acknowledges, replies or asks for more time"
        } else {
            "only the lead office decides on extensions, returns replies and closes notices"
        };
        return Err(Refusal::NotYours(who.to_owned()));
    }
    let to = match (step, state) {
        (Acknowledge, Sent) => Some(Acknowledged),
        (Reply, Acknowledged | Returned) => Some(Replied),
        (RequestExtension, Acknowledged | Returned) if !extension_pending => Some(state),
        (GrantExtension | RefuseExtension, Acknowledged | Returned | Replied) if extension_pending => Some(state),
        (Return, Replied) => Some(Returned),
        (Close, Replied) => Some(Closed),
        _ => None,
    };
    to.ok_or_else(|| {
        let why = match (step, state) {
            (Reply | RequestExtension, Sent) => "acknowledge receipt (签收) first".to_owned(),
            (RequestExtension, _) if extension_pending => "an extension asked for is still to be decided".to_owned(),
            (GrantExtension | RefuseExtension, _) if !extension_pending => "no extension has been asked for".to_owned(),
            _ => format!("a notice that is {state} for this unit cannot be {}", step.past_tense()),
        };
        Refusal::WrongState(why)
    })
}

/// The reply date of a notice issued on `issued` with `working_days` to reply.
pub fn reply_due(issued: NaiveDate, working_days: u32, calendar: &Calendar) -> NaiveDate {
    calendar.add_working_days(issued, working_days)
}

/// A reminder due today: what it is about, keyed so that it is sent once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reminder {
    /// `working_days` before the due date (0: the day itself).
    Before { working_days: u32 },
    /// Overdue, the `period`th time (0: the first working day overdue).
    Overdue { period: u32 },
    /// An unacknowledged notice escalated to the unit's manager.
    EscalateToManager,
    /// … to the county leader in charge of the unit.
    EscalateToLeader,
}

impl Reminder {
    /// A stable key: the same reminder on the same subject is sent once.
    pub fn key(&self) -> String {
        match self {
            Reminder::Before { working_days } => format!("before:{working_days}"),
            Reminder::Overdue { period } => format!("overdue:{period}"),
            Reminder::EscalateToManager => "escalate:manager".to_owned(),
            Reminder::EscalateToLeader => "escalate:leader".to_owned(),
        }
    }
}

/// The deadline reminders due on `today` for something due on `due`: the
/// last "before" point passed (so that a reminder missed on its exact day
/// still goes out once), and the current overdue period.
pub fn deadline_reminder(rule: &ReminderRule, due: NaiveDate, today: NaiveDate, calendar: &Calendar) -> Option<Reminder> {
    if today > due {
        let overdue = calendar.working_days_between(due, today).max(1) as u32;
        return Some(Reminder::Overdue { period: (overdue - 1) / rule.overdue_every.max(1) });
    }
    let left = calendar.working_days_between(today, due) as u32;
    rule.before.iter().copied().filter(|before| left <= *before).min().map(|working_days| Reminder::Before { working_days })
}

/// The escalation due on `today` for a notice issued on `issued` that the
/// unit has not acknowledged.
pub fn escalation(rule: &ReminderRule, issued: NaiveDate, today: NaiveDate, calendar: &Calendar) -> Option<Reminder> {
    let waited = calendar.working_days_between(issued, today) as u32;
    if rule.escalate_to_leader_after.is_some_and(|after| waited >= after) {
        Some(Reminder::EscalateToLeader)
    } else if rule.escalate_to_manager_after.is_some_and(|after| waited >= after) {
        Some(Reminder::EscalateToManager)
    } else {
        None
    }
}

/// A notice's document number in the county's pattern: 罗法治办督〔2026〕3号.
pub fn document_number(prefix: &str, year: i32, number: u32) -> String {
    format!("{prefix}〔{year}〕{number}号")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn the_full_cycle_and_who_takes_each_step() {
        use NoticeStep::*;
        use RecipientState::*;
        let mut state = Sent;
        assert!(matches!(next(state, Reply, Party::Unit, false), Err(Refusal::WrongState(_))), "acknowledge first");
        state = next(state, Acknowledge, Party::Unit, false).unwrap();
        assert_eq!(next(state, RequestExtension, Party::Unit, false), Ok(Acknowledged));
        assert!(matches!(next(state, RequestExtension, Party::Unit, true), Err(Refusal::WrongState(_))), "one at a time");
        assert!(matches!(next(state, GrantExtension, Party::Unit, true), Err(Refusal::NotYours(_))));
        assert_eq!(next(state, GrantExtension, Party::LeadOffice, true), Ok(Acknowledged));
        state = next(state, Reply, Party::Unit, false).unwrap();
        state = next(state, Return, Party::LeadOffice, false).unwrap();
        assert_eq!(state, Returned);
        state = next(state, Reply, Party::Unit, false).unwrap();
        assert!(matches!(next(state, Close, Party::Unit, false), Err(Refusal::NotYours(_))));
        assert!(matches!(next(state, Close, Party::Other, false), Err(Refusal::NotYours(_))));
        assert_eq!(next(state, Close, Party::LeadOffice, false), Ok(Closed));
        assert!(next(Closed, Reply, Party::Unit, false).is_err());
    }

    #[test]
    fn reminders_count_working_days_across_the_spring_festival() {
        let calendar = Calendar::default();
        let rule = ReminderRules::default().deadlines;
        // Due Thursday 26 February 2026, after the Spring Festival holiday.
        let due = day(2, 26);
        assert_eq!(deadline_reminder(&rule, due, day(2, 12), &calendar), None, "five working days before");
        assert_eq!(deadline_reminder(&rule, due, day(2, 13), &calendar), None, "four");
        // Saturday 14 February is a working day (调休): three before.
        assert_eq!(deadline_reminder(&rule, due, day(2, 14), &calendar), Some(Reminder::Before { working_days: 3 }));
        assert_eq!(
            deadline_reminder(&rule, due, day(2, 18), &calendar),
            Some(Reminder::Before { working_days: 3 }),
            "a holiday: still three"
        );
        assert_eq!(deadline_reminder(&rule, due, day(2, 26), &calendar), Some(Reminder::Before { working_days: 0 }));
        assert_eq!(deadline_reminder(&rule, due, day(2, 27), &calendar), Some(Reminder::Overdue { period: 0 }));
        // Saturday 28 February works too (调休): two working days overdue.
        assert_eq!(deadline_reminder(&rule, due, day(2, 28), &calendar), Some(Reminder::Overdue { period: 0 }));
        assert_eq!(deadline_reminder(&rule, due, day(3, 2), &calendar), Some(Reminder::Overdue { period: 1 }));
    }

    #[test]
    fn unacknowledged_notices_escalate_by_working_days() {
        let calendar = Calendar::default();
        let rule = ReminderRules::default().general;
        // Issued Friday 13 February 2026; the next working day is Saturday 14 (调休).
        let issued = day(2, 13);
        assert_eq!(escalation(&rule, issued, day(2, 13), &calendar), None);
        assert_eq!(escalation(&rule, issued, day(2, 14), &calendar), Some(Reminder::EscalateToManager));
        assert_eq!(escalation(&rule, issued, day(2, 23), &calendar), Some(Reminder::EscalateToManager), "the holiday does not count");
        assert_eq!(escalation(&rule, issued, day(2, 25), &calendar), Some(Reminder::EscalateToLeader));
        assert_eq!(document_number("罗法治办督", 2026, 3), "罗法治办督〔2026〕3号");
        assert!(ReminderRules::default().check().is_ok());
    }
}
