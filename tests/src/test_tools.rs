//! The Python servers the tests run for real (aiosmtpd, localstripe): each
//! installed on first use from its pinned requirements into a venv under
//! `target/test-tools/<name>`, reinstalled when the pins change.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

/// `target/` of this build (the test binary is `target/<profile>/deps/<name>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors().nth(3).expect("target/<profile>/deps/<binary>").to_path_buf()
}

/// `entry` (e.g. `bin/python`) of the venv `name`, installing `requirements`
/// into it first if it is missing or pinned differently.
pub fn installed(name: &str, requirements: &str, entry: &str) -> PathBuf {
    let tools = target_dir().join("test-tools");
    fs::create_dir_all(&tools).expect("target/test-tools");
    let lock = File::create(tools.join(format!("{name}.lock"))).expect("the install lock");
    // Test binaries run at once; one installs while the others wait.
    lock.lock().expect("locking the install");
    let venv = tools.join(name);
    let installed = venv.join(entry);
    let pinned = venv.join("requirements.txt");
    if !installed.exists() || fs::read_to_string(&pinned).ok().as_deref() != Some(requirements) {
        let _ = fs::remove_dir_all(&venv);
        run(name, Command::new("python3").arg("-m").arg("venv").arg(&venv));
        let file = tools.join(format!("{name}-requirements.txt"));
        fs::write(&file, requirements).expect("writing the requirements");
        run(
            name,
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", "--no-deps", "-r"])
                .arg(&file),
        );
        fs::write(&pinned, requirements).expect("marking the install");
    }
    installed
}

fn run(name: &str, command: &mut Command) {
    let status = command.status().unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(status.success(), "{command:?} failed ({status}); {name} needs python3 with venv and PyPI");
}

/// A free port on this machine (nothing listens on it until someone does).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}
