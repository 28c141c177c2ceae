//! A real SMTP server for the email tests: `aiosmtpd` (pinned in
//! `scripts/aiosmtpd-requirements.txt`), installed on first use into
//! `target/test-tools/aiosmtpd` and started on a port of the test's choosing
//! with its `Mailbox` handler, which keeps every message it accepts in a
//! Maildir the test reads back ([`SmtpServer::messages`]).
//!
//! A test stops and starts it again on the same port to play a server
//! that is down for a while.

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::app::TempDir;

pub use crate::test_tools::free_port;
use crate::test_tools::{installed, target_dir};

const REQUIREMENTS: &str = include_str!("../../scripts/aiosmtpd-requirements.txt");

/// The Maildir of each server this test binary started, by port: how a
/// [`crate::app::TestApp`] whose `SMTP_URL` names one reads what it sent.
fn maildirs() -> &'static Mutex<HashMap<u16, PathBuf>> {
    static MAILDIRS: OnceLock<Mutex<HashMap<u16, PathBuf>>> = OnceLock::new();
    MAILDIRS.get_or_init(Mutex::default)
}

/// What the server this binary started at `smtp_url` received, if it started one there.
pub fn received_at(smtp_url: &str) -> Option<Vec<Vec<u8>>> {
    let port: u16 = smtp_url.rsplit(':').next()?.trim_end_matches('/').parse().ok()?;
    let dir = maildirs().lock().expect("the registry").get(&port).cloned()?;
    Some(read_maildir(&dir))
}

/// An aiosmtpd keeping what it receives; stopped when dropped.
pub struct SmtpServer {
    pub port: u16,
    maildir: TempDir,
    child: Option<Child>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl SmtpServer {
    /// A server on a free port.
    pub fn start() -> SmtpServer {
        SmtpServer::start_on(free_port())
    }

    /// A server on `port`.
    pub fn start_on(port: u16) -> SmtpServer {
        let mut server = SmtpServer::down_on(port);
        server.restart();
        server
    }

    /// A server not yet running: mail sent to it fails until [`SmtpServer::restart`].
    pub fn down() -> SmtpServer {
        SmtpServer::down_on(free_port())
    }

    fn down_on(port: u16) -> SmtpServer {
        let server = SmtpServer { port, maildir: TempDir::new("hothour-maildir"), child: None };
        maildirs().lock().expect("the registry").insert(port, server.maildir());
        server
    }

    /// The `SMTP_URL` that reaches it.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops it; what it received stays readable.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on its port, keeping its mailbox.
    pub fn restart(&mut self) {
        self.stop();
        let python = installed("aiosmtpd", REQUIREMENTS, "bin/python");
        let log_path = target_dir().join(format!("test-tools/aiosmtpd-{}.log", self.port));
        let log = File::create(&log_path).expect("a log file");
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir())
            .stdout(Stdio::from(log.try_clone().expect("the log")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start aiosmtpd with {}: {error}", python.display()));
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "aiosmtpd did not listen on port {} within 30 s (see {})",
                self.port,
                log_path.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Where the server keeps what it receives: a Maildir it creates (it
    /// makes one only where nothing is).
    fn maildir(&self) -> PathBuf {
        self.maildir.0.join("Maildir")
    }

    /// Every message received so far, oldest first, as the server wrote it.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        read_maildir(&self.maildir())
    }

    /// The messages received once there are at least `count`, waiting up to
    /// `within` for a sender (another task) to deliver them.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Vec<u8>> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= count || started.elapsed() > within {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The messages in a Maildir's `new/` and `cur/`, by delivery time.
pub fn read_maildir(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
        .iter()
        .filter_map(|sub| fs::read_dir(dir.join(sub)).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .collect();
    files.sort();
    files.into_iter().map(|(_, path)| fs::read(path).expect("a message file")).collect()
}

/// The `.eml` files in a folder, by name.
pub fn read_eml_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
                .map(|entry| {
                    (entry.file_name().to_string_lossy().into_owned(), fs::read(entry.path()).expect("a file"))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The token of the newest link to `path` (`{PUBLIC_URL}{path}?token=…`) in
/// `messages` to `address`, read from their text parts; newest by the
/// outbox row in the `Message-ID` (`hothour-mail-<row>@…`).
pub fn newest_token(messages: &[Vec<u8>], address: &str, path: &str) -> Option<String> {
    let marker = format!("{path}?token=");
    messages
        .iter()
        .filter_map(|raw| mail_parser::MessageParser::default().parse(raw))
        .filter(|message| {
            message
                .to()
                .and_then(|to| to.first())
                .and_then(|a| a.address())
                .is_some_and(|a| a.eq_ignore_ascii_case(address))
        })
        .filter_map(|message| {
            let text = message.body_text(0)?;
            let start = text.find(&marker)? + marker.len();
            let token: String =
                text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
            let row: i64 = message.message_id()?.strip_prefix("hothour-mail-")?.split('@').next()?.parse().ok()?;
            Some((row, token))
        })
        .max_by_key(|(row, _)| *row)
        .map(|(_, token)| token)
}
