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
        huge_pages(&mut bytes);
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

/// Asks the kernel to back a large buffer's room with 2 MiB pages where it can (one page fault
/// per 2 MiB instead of one per 4 KiB: for a 16 MB dump, some 4000 faults fewer). Only a hint:
/// the kernel may keep small pages, and nothing changes but the time taken.
fn huge_pages(buffer: &mut Vec<u8>) {
    const HUGE: usize = 2 << 20;
    let spare = buffer.spare_capacity_mut();
    let (start, len) = (spare.as_mut_ptr() as usize, spare.len());
    let first = start.next_multiple_of(HUGE);
    let end = (start + len) / HUGE * HUGE;
    if end > first {
        // SAFETY: the range lies within the vector's own allocation, which nothing reads yet;
        // MADV_HUGEPAGE changes how its pages are backed, not what they hold
        unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
    }
}
