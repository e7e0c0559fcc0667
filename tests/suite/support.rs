//! Running the `ipt` binary and finding fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(path: &str) -> PathBuf {
    root().join("fixtures").join(path)
}

/// The result of one `ipt` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr in one text, for snapshots.
    pub fn transcript(&self) -> String {
        let mut out = format!("exit: {}\n", self.code);
        if !self.stdout.is_empty() {
            out.push_str("--- stdout\n");
            out.push_str(&self.stdout);
        }
        if !self.stderr.is_empty() {
            out.push_str("--- stderr\n");
            out.push_str(&self.stderr);
        }
        out
    }
}

/// Runs `ipt` with arguments (and optional standard input), from the repository root, without
/// colour and at a fixed width.
pub fn ipt(args: &[&str], stdin: Option<&str>) -> Run {
    ipt_with(args, stdin, &[])
}

/// [`ipt`] with more variables in its environment.
pub fn ipt_with(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipt"));
    cmd.args(args).current_dir(root()).env("COLUMNS", "100").env("NO_COLOR", "1").envs(env.iter().copied());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("ipt runs");
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().expect("piped").write_all(text.as_bytes()).expect("stdin written");
    }
    let Output { status, stdout, stderr } = child.wait_with_output().expect("ipt finishes");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}
