//! duban (督办): the platform a county government uses to run its
//! rule-of-law government demonstration campaign.
//!
//! See ARCHITECTURE.md at the repository root for the codemap and the
//! invariants each module keeps.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod backup;
pub mod bulletins;
pub mod calendar;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod dashboard;
pub mod db;
pub mod dispatch;
pub mod documents;
pub mod endpoints;
pub mod error;
pub mod evidence;
pub mod export;
pub mod generate;
pub mod http;
pub mod import;
pub mod kept;
pub mod limits;
pub mod messages;
pub mod negative;
pub mod notifications;
pub mod pagination;
pub mod policy;
pub mod quantified;
pub mod reminders;
pub mod review;
pub mod rollup;
pub mod scores;
pub mod seeds;
pub mod storage;
pub mod supervision;
pub mod telemetry;
pub mod templates;
pub mod units;
pub mod work;
