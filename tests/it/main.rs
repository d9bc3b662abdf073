//! Integration tests on a real PostgreSQL: one database per test.

mod api;
mod audit_log;
mod auth;
mod backup;
mod browser;
mod bulletins;
mod cli;
mod contract;
mod dashboard;
mod e2e;
mod evidence;
mod generate;
mod import;
mod imports;
mod large_upload;
mod matrix;
mod office;
mod probe;
mod progress;
mod schema;
mod scores;
mod storage_s3;
mod supervision;
mod support;
mod tidy;
mod workflow;
