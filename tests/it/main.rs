//! Integration tests on a real PostgreSQL: one database per test.

mod api;
mod audit_log;
mod auth;
mod browser;
mod cli;
mod evidence;
mod import;
mod matrix;
mod schema;
mod support;
mod tidy;
