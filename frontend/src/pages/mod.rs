//! One module per page of the app.

pub mod account;
pub mod admin;
pub mod bulletins;
pub mod channels;
pub mod dashboard;
pub mod inbox;
pub mod my_unit;
pub mod new_county;
pub mod notices;
pub mod province;
pub mod reviews;
pub mod scores;
pub mod task;
pub mod tasks;
