//! `ipt apply --confirm`'s rollback, held by a process of its own: a watchdog that sends the
//! rollback batch unless ipt tells it the operator confirmed. So a rollback happens even when
//! ipt cannot do it: killed (SIGKILL, the OOM killer), stopped, or its terminal gone.
//!
//! ipt starts the watchdog (`ipt __rollback-watchdog FILE MS`, its own executable) once the new
//! ruleset is applied. The watchdog reads the rollback batch from FILE (written by ipt, mode
//! 0600, removed once read), runs in a process group of its own (so the terminal's SIGINT and
//! SIGHUP reach ipt, not it) and waits on its standard input, a pipe from ipt:
//! - `confirm`: it exits without sending anything;
//! - `rollback`, the pipe closing (ipt is gone), SIGHUP, SIGINT or SIGTERM, or MS milliseconds
//!   passing: it sends the batch (three tries) and says how it went on its standard output, for
//!   ipt to report.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{send_rollback, sys};

/// The hidden subcommand that runs a watchdog.
pub const SUBCOMMAND: &str = "__rollback-watchdog";

/// How much longer than ipt's own wait the watchdog waits: ipt decides when it can.
pub const MARGIN: Duration = Duration::from_secs(5);

/// ipt's side: a running watchdog.
pub struct Watchdog {
    child: Child,
}

/// What the watchdog did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    /// Confirmed in time: nothing sent.
    Kept,
    /// The rollback batch was committed.
    RolledBack,
    /// The rollback failed: the watchdog's words.
    Failed(String),
}

impl Watchdog {
    /// Starts a watchdog holding `batch`, which it sends after `limit` unless told otherwise.
    pub fn start(batch: &[u8], limit: Duration) -> io::Result<Watchdog> {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::process::CommandExt;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let file = std::env::temp_dir().join(format!("ipt-rollback-{}-{nanos}", std::process::id()));
        let mut out = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&file)?;
        out.write_all(batch)?;
        drop(out);
        let child = Command::new(std::env::current_exe()?)
            .arg(SUBCOMMAND)
            .arg(&file)
            .arg(limit.as_millis().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        match child {
            Ok(child) => Ok(Watchdog { child }),
            Err(e) => {
                let _ = std::fs::remove_file(&file);
                Err(e)
            }
        }
    }

    /// Tells the watchdog the outcome (`confirmed`: keep the new ruleset; otherwise roll back
    /// now) and waits for its report.
    pub fn finish(mut self, confirmed: bool) -> Report {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(if confirmed { b"confirm\n" } else { b"rollback\n" });
        }
        let mut said = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut said);
        }
        let status = self.child.wait();
        match said.trim() {
            "kept" => Report::Kept,
            "rolled back" if status.as_ref().is_ok_and(|s| s.success()) => Report::RolledBack,
            "" => Report::Failed(format!("the watchdog said nothing ({status:?})")),
            other => Report::Failed(other.to_string()),
        }
    }
}

/// The watchdog's side: returns its exit status (0 kept or rolled back, 1 the rollback failed).
pub fn run(file: &Path, limit_ms: u64) -> i32 {
    let batch = std::fs::read(file);
    let _ = std::fs::remove_file(file);
    let mut out = io::stdout().lock();
    let batch = match batch {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(out, "cannot read the rollback batch {}: {e}", file.display());
            return 1;
        }
    };
    if wait_for_confirm(Duration::from_millis(limit_ms)) {
        let _ = writeln!(out, "kept");
        return 0;
    }
    match send_rollback(&batch) {
        Ok(_) => {
            let _ = writeln!(out, "rolled back");
            0
        }
        Err(e) => {
            let _ = writeln!(out, "{}", e.detail());
            1
        }
    }
}

/// Whether `confirm` comes on standard input within `limit`; anything else, the pipe closing, a
/// signal or the time running out is no.
fn wait_for_confirm(limit: Duration) -> bool {
    let Ok(signals) = sys::catch_signals() else { return false };
    let deadline = Instant::now() + limit;
    let mut line = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let ms = i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX);
        let Ok(ready) = sys::wait_readable(&[0, signals], ms) else { return false };
        if ready[1] {
            return false;
        }
        if ready[0] {
            match sys::read_fd(0, &mut buf) {
                Ok(0) | Err(_) => return false,
                Ok(n) => line.extend_from_slice(&buf[..n]),
            }
            if line.contains(&b'\n') {
                return line.starts_with(b"confirm\n");
            }
        }
    }
}
