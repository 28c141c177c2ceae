//! NATS for the tests of the relay's JetStream announcements: the machine's
//! server (`NATS_URL`, 127.0.0.1:4222 in CI) with a stream and subjects of
//! the test's own (a unique `NATS_PREFIX`, the stream deleted afterwards),
//! and a `nats-server` of a test's own on a free port for tests that stop
//! and restart it (never the machine's shared one).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hothour_infra_postgres::NatsConfig;

/// The machine's NATS server, from `NATS_URL`. Without it a test is skipped,
/// loudly, outside CI; under `CI=true` it fails (CI sets `NATS_URL`).
pub fn machine_nats_url() -> Option<String> {
    match std::env::var("NATS_URL").ok().filter(|url| !url.is_empty()) {
        Some(url) => Some(url),
        None if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("NATS_URL is not set under CI=true: .ci/run sets it (the machines run NATS on 127.0.0.1:4222)")
        }
        None => {
            eprintln!(
                "\n*** SKIPPED: NATS_URL is not set; the NATS tests need a NATS server with JetStream \
                 (NATS_URL=nats://127.0.0.1:4222) ***\n"
            );
            None
        }
    }
}

/// A NATS deployment of one test's own: a unique prefix on a server.
#[derive(Debug)]
pub struct NatsSpace {
    pub config: NatsConfig,
}

impl NatsSpace {
    /// A fresh prefix on the server at `url`.
    pub fn on(url: &str) -> NatsSpace {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let prefix = format!("t{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), nanos % 1_000_000);
        NatsSpace { config: NatsConfig { url: url.to_owned(), prefix } }
    }

    /// The configuration variables an instance needs to use it.
    pub fn vars(&self) -> [(&str, &str); 2] {
        [("NATS_URL", self.config.url.as_str()), ("NATS_PREFIX", self.config.prefix.as_str())]
    }

    /// A client of the test's own.
    pub async fn client(&self) -> async_nats::jetstream::Context {
        let client = async_nats::connect(self.config.url.as_str()).await.expect("a NATS client of the test's own");
        async_nats::jetstream::new(client)
    }
}

impl Drop for NatsSpace {
    /// Deletes the test's stream (best effort: a server that is gone keeps nothing anyway).
    fn drop(&mut self) {
        let (url, stream) = (self.config.url.clone(), self.config.stream());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let connect = async_nats::connect(url.as_str());
                let client = tokio::time::timeout(Duration::from_secs(2), connect).await.ok()?.ok()?;
                let delete = async_nats::jetstream::new(client).delete_stream(&stream).await;
                delete.ok()
            })
        })
        .join();
    }
}

/// A `nats-server` with JetStream of a test's own, on a free port, with its
/// storage in a temporary directory (kept across a restart); killed when dropped.
pub struct NatsServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    pub fn start() -> NatsServer {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let dir = std::env::temp_dir().join(format!("hothour-nats-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a storage directory");
        let mut server = NatsServer { port, dir, child: None };
        server.resume();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the stopped server on its port and storage, waiting until it accepts connections.
    pub fn resume(&mut self) {
        let binary = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
            .expect("nats-server is installed (Debian's nats-server package)");
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "nats-server never listened on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server: its connections die without a goodbye.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
