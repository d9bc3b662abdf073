//! The audit log: who did what, when, from where, with the before and after
//! of what changed.
//!
//! - [`chain`]: appending rows to the hash chain and verifying it;
//! - [`anchor`]: signed checkpoints of the chain's head, kept outside the
//!   database, that show a rewritten or truncated chain;
//! - [`archive`]: retention, and signed archives of rows older than it;
//! - [`query`]: filters, pages and exports;
//! - [`csv`]: the CSV of an export.

pub mod anchor;
pub mod archive;
pub mod chain;
pub mod csv;
pub mod query;

pub use chain::{Actor, ActorKind, ChainHash, Event, GENESIS, Row, Verdict, changed_fields, record, verify};
pub(crate) use chain::{CHAIN_LOCK, COPY_COLUMNS, Content};
pub use query::Filter;
