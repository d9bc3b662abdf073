//! The longest text each field of a request takes, in characters. The
//! server refuses longer text with 422 (`too_long`) before it reaches the
//! database; the OpenAPI document states each as `maxLength`, and the
//! browser client sets the same `maxlength` on its inputs.

/// Usernames (also checked for their characters).
pub const USERNAME: usize = 64;
/// Passwords.
pub const PASSWORD: usize = 256;
/// Names: units and their aliases, collective phrases, people's display
/// names, API clients, counties.
pub const NAME: usize = 100;
/// Longer free text: notes, descriptions, reasons, progress reports.
pub const NOTE: usize = 4_000;
/// A task's text in an imported table.
pub const TASK_TEXT: usize = 4_000;
/// Short codes and keys: campaign codes, negative-list items, periods,
/// refresh tokens, audit filter values.
pub const CODE: usize = 64;
/// Search terms.
pub const SEARCH: usize = 100;
/// How many aliases a unit may have.
pub const ALIASES: usize = 30;
/// File names of evidence, in bytes of UTF-8 (what file systems allow).
pub const FILE_NAME_BYTES: usize = 255;

// utoipa takes only literals in `#[schema(max_length = …)]`; the request
// types write these numbers out, and this fails to compile when they drift.
const _: () = assert!(USERNAME == 64 && PASSWORD == 256 && NAME == 100 && NOTE == 4_000 && CODE == 64);
