//! A PostgreSQL cluster of a test's own, for fault tests that stop and start
//! the server: never the machine's shared one. Made with the installed
//! `initdb`/`pg_ctl` on a free port under the system temp directory, and
//! removed when dropped.

use std::net::TcpListener;
use std::path::PathBuf;

use crate::pg::{command, postgres_bin_dir, run, running_as_root};

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    as_root: bool,
    pub port: u16,
}

impl Cluster {
    /// Initialises and starts a fresh cluster.
    pub fn start() -> Result<Cluster, String> {
        let bin = postgres_bin_dir().ok_or("no PostgreSQL server binaries (initdb, pg_ctl) were found")?;
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let dir = std::env::temp_dir().join(format!("hothour-fault-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let as_root = running_as_root();
        if as_root {
            // PostgreSQL refuses to run as root; its own account runs it.
            run(std::process::Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
        }
        let cluster = Cluster { dir, bin, as_root, port };
        let mut initdb = command(as_root, &cluster.bin.join("initdb"));
        initdb.args(["-U", "postgres", "--auth=trust", "--no-sync", "-D"]).arg(cluster.data());
        run(&mut initdb)?;
        cluster.resume()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Starts the stopped server (waiting until it accepts connections).
    pub fn resume(&self) -> Result<(), String> {
        let mut start = command(self.as_root, &self.bin.join("pg_ctl"));
        start
            .args(["-w", "-t", "30", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("log"))
            .arg("-o")
            .arg(format!("-p {} -c listen_addresses=127.0.0.1 -k {}", self.port, self.dir.display()))
            .arg("start");
        run(&mut start)
    }

    /// Stops the server the hard way, as a crash or a pulled cable would:
    /// open connections die without a goodbye.
    pub fn stop(&self) -> Result<(), String> {
        let mut stop = command(self.as_root, &self.bin.join("pg_ctl"));
        stop.args(["-w", "-t", "30", "-m", "immediate", "-D"]).arg(self.data()).arg("stop");
        run(&mut stop)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
