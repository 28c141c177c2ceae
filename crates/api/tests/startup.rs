//! The `hothour` binary refuses to start where its development JWT secret
//! would let anyone mint tokens, and compose never exposes it that way.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `hothour serve` with only the given variables, in an empty directory
/// (so no `.env` file fills in anything), and expects it to exit.
fn serve_with(vars: &[(&str, &str)]) -> Output {
    let dir = std::env::temp_dir().join(format!("hothour-startup-{}-{}", std::process::id(), vars.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_hothour"));
    command.arg("serve").current_dir(&dir).env_clear().env("DATABASE_URL", "sqlite://never-created.db");
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().expect("the binary runs");
    assert!(!dir.join("never-created.db").exists(), "configuration is checked before the database is touched");
    output
}

fn refused_for_jwt_secret(vars: &[(&str, &str)]) {
    let output = serve_with(vars);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{vars:?} must not start");
    assert!(stderr.contains("JWT_SECRET"), "{vars:?}: the message names the variable: {stderr}");
}

#[test]
fn the_development_secret_is_refused_unless_development_or_test() {
    for app_env in ["production", "prod", "Production", "staging"] {
        refused_for_jwt_secret(&[("APP_ENV", app_env), ("BIND", "127.0.0.1:0")]);
    }
}

#[test]
fn the_development_secret_is_refused_on_a_public_address_even_in_development() {
    refused_for_jwt_secret(&[("BIND", "0.0.0.0:0")]);
    refused_for_jwt_secret(&[("APP_ENV", "test"), ("BIND", "[::]:0")]);
}

#[test]
fn compose_requires_a_secret_and_publishes_on_loopback_only() {
    let compose =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../compose.yaml")).unwrap();
    assert!(compose.contains("JWT_SECRET: ${JWT_SECRET:?"), "compose refuses to start without JWT_SECRET");
    assert!(!compose.contains("hothour-development-secret"), "no default secret in compose");
    let published: Vec<&str> = compose
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("- \"") && line.matches(':').count() >= 1)
        .collect();
    assert!(!published.is_empty());
    for port in published {
        assert!(port.starts_with("- \"127.0.0.1:"), "published on loopback only: {port}");
    }
}
