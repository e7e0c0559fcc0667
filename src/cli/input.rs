//! Reading the files named on the command line.

use std::io::Read;
use std::path::Path;

use crate::source::{MAX_LEN, Source};

/// Why a file could not be read (exit status 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ReadError {
    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(code(ipt::input::unreadable), help("check the path and its permissions; `-` reads standard input"))]
    Unreadable { path: String, reason: String },

    #[error("`{path}` is {size} bytes: ipt reads files up to 4 GiB")]
    #[diagnostic(code(ipt::input::too_large), help("split the dump into several files"))]
    TooLarge { path: String, size: u64 },
}

/// Reads a file (or standard input for `-`) into a [`Source`]. Bytes that are not UTF-8 become
/// U+FFFD, which the loader reports.
pub fn read_source(path: &Path) -> Result<Source, ReadError> {
    let stdin = path == Path::new("-");
    let name = if stdin { "<stdin>".to_string() } else { path.display().to_string() };
    let unreadable = |e: std::io::Error| ReadError::Unreadable { path: name.clone(), reason: e.to_string() };
    let mut bytes = Vec::new();
    if stdin {
        std::io::stdin().lock().read_to_end(&mut bytes).map_err(unreadable)?;
    } else {
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        if meta.is_dir() {
            return Err(ReadError::Unreadable { path: name, reason: "it is a directory".into() });
        }
        if meta.len() > MAX_LEN as u64 {
            return Err(ReadError::TooLarge { path: name, size: meta.len() });
        }
        let mut file = std::fs::File::open(path).map_err(unreadable)?;
        bytes = Vec::with_capacity(meta.len() as usize + 1);
        crate::memory::huge_room(&mut bytes);
        file.read_to_end(&mut bytes).map_err(unreadable)?;
    }
    if bytes.len() > MAX_LEN {
        return Err(ReadError::TooLarge { path: name, size: bytes.len() as u64 });
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Ok(Source::new(name, text))
}
