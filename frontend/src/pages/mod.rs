//! One module per page of the app.

pub mod admin;
pub mod dashboard;
pub mod my_unit;
pub mod reviews;
pub mod task;
pub mod tasks;
