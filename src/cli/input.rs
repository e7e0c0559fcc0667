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
        let file = std::fs::File::open(path).map_err(unreadable)?;
        bytes = read_file(file, meta.len() as usize).map_err(unreadable)?;
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

/// From this size on (8 MiB) a file is read in two halves side by side.
const SIDE_BY_SIDE: usize = 8 << 20;

/// Reads a whole file, `len` bytes long when asked. A big one is read in two halves side by side
/// (the kernel copies from its page cache a 4 KiB page at a time: two cores take some 30 % less
/// time); one that changed size meanwhile is read again, from the start and in one piece.
fn read_file(mut file: std::fs::File, len: usize) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    if len >= SIDE_BY_SIDE && crate::threads::count() > 1 {
        // zeroed pages the kernel maps in only as the reads write them
        let mut bytes = vec![0u8; len];
        crate::memory::huge_pages(&mut bytes);
        let (first, second) = bytes.split_at_mut(len / 2);
        let file = &file;
        let read = std::thread::scope(|scope| {
            let other = scope.spawn(move || file.read_exact_at(second, (len / 2) as u64));
            let mine = file.read_exact_at(first, 0);
            mine.and(other.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        });
        // the whole file, unless it grew
        if read.is_ok() && file.read_at(&mut [0], len as u64)? == 0 {
            return Ok(bytes);
        }
    }
    // (positional reads leave the file's offset at the start)
    let mut bytes = Vec::with_capacity(len + 1);
    crate::memory::huge_room(&mut bytes);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}
