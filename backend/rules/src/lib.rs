//! duban's rulebook: every rule the server applies and the browser client
//! shows, written once as pure functions.
//!
//! - [`workflow`]: which step an assignment may take, from which status, by
//!   whom (including a unit's own steps), and what may be edited when;
//! - [`rollup`]: a task's status from its assignments;
//! - [`schedule`]: the share of a campaign's period elapsed and the
//!   schedule light (进度灯) of a task;
//! - [`quantified`]: measured values against structured targets;
//! - [`calendar`]: the Chinese working-day calendar with its 调休 days;
//! - [`period`]: the reporting periods of the negative list;
//! - [`supervision`]: supervision notices (督办单), reminders and escalation;
//! - [`scoring`]: unit and campaign scores, the veto, and ranking with ties.
//!
//! Nothing here reads a database or a request. The server applies these
//! rules to what it stores; the SPA uses them to show only the actions the
//! server would accept (the server decides either way).

pub mod calendar;
pub mod period;
pub mod quantified;
pub mod rollup;
pub mod schedule;
pub mod scoring;
pub mod supervision;
pub mod workflow;
