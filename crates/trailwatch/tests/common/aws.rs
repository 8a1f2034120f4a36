//! The stock `aws` CLI (v1, from PyPI) run against a test server: every invocation with
//! the test's credentials and region, no config file, no pager, no retries, JSON output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `aws` executable: `TRAILWATCH_AWS_CLI`, or `<workspace>/.venv/bin/aws`.
pub fn aws_cli() -> PathBuf {
    let path = match std::env::var_os("TRAILWATCH_AWS_CLI") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/aws"),
    };
    assert!(
        path.is_file(),
        "the aws CLI is not installed at {}: run the README's test command, `./scripts/test` from the workspace root, \
         which installs it into .venv (or point TRAILWATCH_AWS_CLI at an `aws` executable)",
        path.display()
    );
    path
}

/// Runs the `aws` CLI against one server with one key pair, from one working directory.
pub struct Aws {
    cli: PathBuf,
    endpoint: String,
    access_key: String,
    secret_key: String,
    /// Working directory, where `file://` arguments are written.
    pub dir: PathBuf,
}

impl Aws {
    pub fn new(server: &super::Server) -> Aws {
        Self::with_keys(server, super::ACCESS_KEY, super::SECRET_KEY)
    }

    pub fn with_keys(server: &super::Server, access_key: &str, secret_key: &str) -> Aws {
        Aws {
            cli: aws_cli(),
            endpoint: server.endpoint.clone(),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            dir: super::fresh_dir("cli"),
        }
    }

    /// Writes a file into the working directory, for `file://NAME`.
    pub fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.dir.join(name), contents).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, &[])
    }

    /// Runs with extra environment variables (such as `AWS_ENDPOINT_URL_S3`).
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(&self.cli);
        // Nothing of the developer's AWS setup may leak in.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().to_ascii_uppercase().starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        let missing = self.dir.join("no-such-dir");
        cmd.env("AWS_ACCESS_KEY_ID", &self.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret_key)
            .env("AWS_DEFAULT_REGION", super::REGION)
            .env("AWS_CONFIG_FILE", missing.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", missing.join("credentials"))
            .env("AWS_PAGER", "")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .envs(env.iter().copied())
            .args(args)
            .args(["--endpoint-url", &self.endpoint, "--output", "json", "--cli-read-timeout", "30", "--cli-connect-timeout", "10"])
            .current_dir(&self.dir);
        cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", self.cli.display()))
    }

    /// Runs a command that must succeed; its JSON output (`Null` when it prints nothing).
    pub fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "aws {args:?} failed with {}:\n{}{stdout}", out.status, String::from_utf8_lossy(&out.stderr));
        if stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("aws {args:?} printed non-JSON ({e}):\n{stdout}"))
    }

    /// Runs a command that must fail with the service error `code` and exactly `message`.
    pub fn fails(&self, args: &[&str], code: &str, operation: &str, message: &str) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(254 | 255)),
            "aws {args:?} should fail with exit code 254 or 255, got {}; stdout:\n{}\nstderr:\n{stderr}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        );
        let expected = format!("An error occurred ({code}) when calling the {operation} operation: {message}");
        assert!(stderr.lines().any(|l| l.trim_end() == expected), "aws {args:?}: expected the line\n{expected}\nin stderr:\n{stderr}");
    }

    /// Runs a command that must fail with the service error `code`, whatever its message
    /// (for errors whose wording is the parser's account of what it could not read).
    pub fn fails_with_code(&self, args: &[&str], code: &str, operation: &str) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(out.status.code(), Some(254 | 255)), "aws {args:?} should fail, got {}; stderr:\n{stderr}", out.status);
        let expected = format!("An error occurred ({code}) when calling the {operation} operation: ");
        assert!(
            stderr.lines().any(|l| l.starts_with(&expected)),
            "aws {args:?}: expected a line starting\n{expected}\nin stderr:\n{stderr}"
        );
    }
}

impl Drop for Aws {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
