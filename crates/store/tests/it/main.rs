//! Storage tests. One binary; every `store_test!` runs on SQLite and on PostgreSQL (see
//! `common`).

#[macro_use]
mod common;

mod assignments;
mod audit;
mod framework;
mod guards;
mod jobs;
mod measures;
mod round_facts;
mod sessions;
mod shared;
mod units;
mod uploads;
mod users;
mod work;
