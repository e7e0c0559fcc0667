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
/// U+FFFD, which the loader reports. A big file is mapped into memory rather than copied:
/// it must not be written while the source lives ([`read_source_to_rewrite`] copies it).
pub fn read_source(path: &Path) -> Result<Source, ReadError> {
    read(path, true)
}

/// [`read_source`] for a file that will be written while its source lives (`ipt fmt --write`):
/// always a copy.
pub fn read_source_to_rewrite(path: &Path) -> Result<Source, ReadError> {
    read(path, false)
}

/// From this size on (8 MiB) a file is mapped into memory: the page cache's own pages, where a
/// copy would be as many new pages for the kernel to zero and then fill (on the 10k kube dump,
/// 16 MB, about a tenth of `ipt check`'s time).
const MAP_FROM: usize = 8 << 20;

fn read(path: &Path, may_map: bool) -> Result<Source, ReadError> {
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
        let len = meta.len() as usize;
        if may_map && len >= MAP_FROM && meta.is_file() {
            // a file system that cannot map files is read as any other
            if let Some(map) = map(path, &file, len) {
                return Ok(match Source::mapped(name.clone(), map) {
                    Ok(source) => source,
                    Err(map) => Source::new(name, String::from_utf8_lossy(&map).into_owned()),
                });
            }
        }
        bytes.reserve_exact(len + 1);
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

/// Maps `len` bytes of a file, read-only, every page mapped in at once; `None` when the file
/// cannot be mapped, or has grown past `MAX_LEN`.
fn map(path: &Path, file: &std::fs::File, len: usize) -> Option<memmap2::Mmap> {
    exit_on_bus_error();
    // SAFETY: what this needs, that the file is not changed while the mapping lives, is the
    // promise of `read_source`'s callers; a file cut short meanwhile makes its pages past the
    // new end a bus error, which `exit_on_bus_error` turns into a message and status 2
    let map = unsafe { memmap2::MmapOptions::new().len(len).populate().map(file) }.ok()?;
    if std::env::var_os("IPT_INPUT_FAULT").is_some_and(|f| f == "shrink") {
        // a test's file cut short as it is read
        let _ = std::fs::OpenOptions::new().write(true).open(path).and_then(|f| f.set_len(len as u64 / 2));
    }
    Some(map)
}

/// From the first file mapped on, a bus error (SIGBUS: a mapped file was cut short, the only
/// way ipt meets one) ends ipt with a message and status 2, as a file that cannot be read.
fn exit_on_bus_error() {
    extern "C" fn bus_error(_: libc::c_int) {
        const MESSAGE: &str = "ipt::input::cut_short\n\n  \u{d7} an input file was cut short while ipt read it (a bus \
                               error)\n  help: run ipt again once the file is written\n";
        // SAFETY: `write` and `_exit` are async-signal-safe; nothing else runs here
        unsafe {
            libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::_exit(2);
        }
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the handler only calls async-signal-safe functions
        unsafe { libc::signal(libc::SIGBUS, bus_error as extern "C" fn(libc::c_int) as libc::sighandler_t) };
    });
}
