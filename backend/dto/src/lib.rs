//! Types that cross the wire between duban's API and its clients.
//!
//! This crate compiles for the server and for `wasm32-unknown-unknown`, so the
//! browser client and the server cannot disagree about a field. It holds no
//! logic beyond naming: parsing, validation and storage live in the server.

pub mod api;
pub mod limits;
pub mod vocab;

pub use vocab::*;
