//! Test support shared by HotHour's black-box tests: the app on a random port
//! over a fresh PostgreSQL database or SQLite file (every test runs on both),
//! shared fixtures and WebSocket client, the storage-adapter conformance
//! suite, written once against the domain's ports, and the check of every
//! live frame against the AsyncAPI document.

pub mod app;
pub mod asyncapi;
pub mod cluster;
pub mod conformance;
pub mod fixtures;
pub mod localstripe;
pub mod nats;
pub mod pg;
pub mod smtp;
pub mod test_tools;
pub mod ws;
