//! Integration tests on a real PostgreSQL: one database per test.

mod api;
mod cli;
mod import;
mod schema;
mod support;
