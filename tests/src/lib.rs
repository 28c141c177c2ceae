//! Test support shared by HotHour's black-box tests: a PostgreSQL harness
//! that gives each test a fresh database, and the storage-adapter
//! conformance suite, written once against the domain's ports, and the
//! check of every live frame against the AsyncAPI document.

pub mod app;
pub mod asyncapi;
pub mod cluster;
pub mod conformance;
pub mod fixtures;
pub mod pg;
pub mod ws;
