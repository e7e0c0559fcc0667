//! `ipt apply --confirm SECONDS`: waiting for the operator's "yes", on standard input or from
//! `ipt confirm` run in another session (a new SSH connection that works is the best proof that
//! the new ruleset lets the operator in). `ipt confirm` writes "yes" into the FIFO each waiting
//! apply makes in the run directory (`/run/ipt`, or `IPT_RUN_DIR`): `confirm-PID`, mode 0600 in
//! a 0700 directory.
//!
//! Anything but a "yes" ends the wait at once: another answer, standard input closing, or
//! SIGHUP, SIGINT or SIGTERM (caught from the moment the wait starts, so that a closed terminal
//! or a Ctrl-C rolls back instead of leaving the new ruleset unconfirmed). SIGKILL cannot be
//! caught: a killed ipt leaves the new ruleset in place.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::sys;

/// How the wait ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// "yes" (or "y"), in any case.
    Confirmed,
    /// `ipt confirm`, from another session.
    ConfirmedElsewhere,
    /// Another answer (the line, trimmed).
    Declined(String),
    /// No answer in time.
    TimedOut,
    /// Standard input closed before a whole answer.
    Closed,
    /// A signal (its number).
    Signal(i32),
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Confirmed => f.write_str("confirmed"),
            Answer::ConfirmedElsewhere => f.write_str("confirmed by `ipt confirm`"),
            Answer::Declined(line) => write!(f, "the answer was {line:?}, not \"yes\""),
            Answer::TimedOut => f.write_str("no answer in time"),
            Answer::Closed => f.write_str("standard input closed"),
            Answer::Signal(n) => write!(f, "{} received", signal_name(*n)),
        }
    }
}

fn signal_name(n: i32) -> String {
    match n {
        libc::SIGHUP => "SIGHUP".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGTERM => "SIGTERM".into(),
        _ => format!("signal {n}"),
    }
}

/// What a whole line of input means: `None` is "yes".
fn judge(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line).trim().to_ascii_lowercase();
    if text == "yes" || text == "y" { None } else { Some(String::from_utf8_lossy(line).trim().to_string()) }
}

/// Where waiting applies put their FIFOs.
pub fn run_dir() -> PathBuf {
    std::env::var_os("IPT_RUN_DIR").map_or_else(|| PathBuf::from("/run/ipt"), PathBuf::from)
}

/// The FIFO another session confirms through, removed when dropped.
pub struct Channel {
    path: PathBuf,
    fifo: std::fs::File,
}

impl Channel {
    /// Makes this process's FIFO in the run directory.
    pub fn open() -> io::Result<Channel> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = run_dir();
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
        let path = dir.join(format!("confirm-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let fifo = sys::open_fifo(&path)?;
        Ok(Channel { path, fifo })
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `ipt confirm`: says "yes" to every apply waiting in the run directory; the process ids it
/// reached (a FIFO nobody reads any more is removed).
pub fn confirm_waiting() -> io::Result<Vec<u32>> {
    let mut reached = Vec::new();
    let entries = match std::fs::read_dir(run_dir()) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(reached),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("confirm-")).and_then(|p| p.parse().ok()) else {
            continue;
        };
        match sys::open_fifo_writer(&entry.path())? {
            Some(mut fifo) => {
                use std::io::Write;
                fifo.write_all(b"yes\n")?;
                reached.push(pid);
            }
            None => {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    reached.sort_unstable();
    Ok(reached)
}

/// Waits up to `limit` for a line on standard input, or from `channel`. Catches SIGHUP, SIGINT
/// and SIGTERM for the rest of the process.
pub fn wait(limit: Duration, channel: Option<&Channel>) -> io::Result<Answer> {
    use std::os::fd::AsRawFd;
    let signals = sys::catch_signals()?;
    let stdin = 0;
    // no channel: a descriptor poll ignores
    let fifo = channel.map_or(-1, |c| c.fifo.as_raw_fd());
    let deadline = Instant::now() + limit;
    let mut line = Vec::new();
    let mut from_fifo = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Answer::TimedOut);
        }
        let ms = i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX);
        let ready = sys::wait_readable(&[stdin, signals, fifo], ms)?;
        if ready[2] {
            let n = sys::read_fd(fifo, &mut buf).unwrap_or(0);
            from_fifo.extend_from_slice(&buf[..n]);
            if let Some(end) = from_fifo.iter().position(|&b| b == b'\n') {
                return Ok(judge(&from_fifo[..end]).map_or(Answer::ConfirmedElsewhere, Answer::Declined));
            }
        }
        if ready[1] {
            let mut signal = [0u8; 1];
            if sys::read_fd(signals, &mut signal)? == 1 {
                return Ok(Answer::Signal(i32::from(signal[0])));
            }
        }
        if ready[0] {
            let n = match sys::read_fd(stdin, &mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // a terminal gone (EIO) cannot answer
                Err(_) => return Ok(Answer::Closed),
            };
            if n == 0 {
                // `printf yes | ipt apply ...`: a last line without its newline still counts
                return Ok(match line.is_empty() {
                    true => Answer::Closed,
                    false => judge(&line).map_or(Answer::Confirmed, Answer::Declined),
                });
            }
            line.extend_from_slice(&buf[..n]);
            if let Some(end) = line.iter().position(|&b| b == b'\n') {
                return Ok(judge(&line[..end]).map_or(Answer::Confirmed, Answer::Declined));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_confirms() {
        assert_eq!(judge(b"yes"), None);
        assert_eq!(judge(b" Y \r"), None);
        assert_eq!(judge(b"YES"), None);
        assert_eq!(judge(b"no"), Some("no".into()));
        assert_eq!(judge(b""), Some(String::new()));
        assert_eq!(judge(b"yes please"), Some("yes please".into()));
    }

    #[test]
    fn answers_read_as_the_operator_is_told() {
        assert_eq!(Answer::Declined("no".into()).to_string(), "the answer was \"no\", not \"yes\"");
        assert_eq!(Answer::Signal(libc::SIGHUP).to_string(), "SIGHUP received");
        assert_eq!(Answer::TimedOut.to_string(), "no answer in time");
    }
}
