//! Every `unsafe` of `ipt apply`, in one place: libnftnl objects (expressions, anonymous sets and
//! their elements) built from the safe descriptions in [`super::low`], the batch's raw pages,
//! and the socket calls the `mnl` crate has no safe form for.
//!
//! The invariants relied on, once:
//! - A pointer returned by a libnftnl `*_alloc` is checked for null before use, and freed once,
//!   by the owner that allocated it (an expression is owned by the rule it is added to).
//! - The `nftnl_*_set*` calls copy the bytes they are given (libnftnl 1.2.4 `memcpy`s or
//!   `strdup`s every attribute), so the Rust buffers may be dropped after the call.
//! - A message is written at the start of a buffer with room for `nft_nlmsg_maxsize()` bytes:
//!   that is what [`nftnl::NlMsg::write`]'s caller (`Batch::add`) guarantees, and a message's
//!   `nlmsghdr` is at the start of that buffer (`nftnl_nlmsg_build_hdr(buf, ...)` writes it there).
//! - The iovecs of a batch point into the batch's own pages, which live as long as the batch.

use std::ffi::{CString, c_void};
use std::io;
use std::os::fd::RawFd;
use std::ptr::NonNull;

use nftnl::expr::Expression;
use nftnl::nftnl_sys as sys;
use nftnl::{Batch, MsgType, NlMsg, Rule};

use super::low::{Attr, Low, SET_ANONYMOUS, SET_CONCAT, SetSpec};

/// Aborts as the `nftnl` crate does when libnftnl cannot allocate a few bytes.
fn alloc<T>(ptr: *mut T) -> NonNull<T> {
    match NonNull::new(ptr) {
        Some(p) => p,
        None => std::process::abort(),
    }
}

fn cstring(s: &str) -> CString {
    // names and strings come from the IR, which holds no NUL; one would be cut at the NUL
    CString::new(s.split('\0').next().unwrap_or_default()).unwrap_or_default()
}

impl Expression for Low {
    fn to_expr(&self, _rule: &Rule) -> NonNull<sys::nftnl_expr> {
        let name = cstring(self.name);
        let expr = alloc(unsafe { sys::nftnl_expr_alloc(name.as_ptr()) });
        for (attr, value) in &self.attrs {
            let (e, a) = (expr.as_ptr(), *attr as u16);
            unsafe {
                match value {
                    Attr::U8(v) => sys::nftnl_expr_set_u8(e, a, *v),
                    Attr::U32(v) => sys::nftnl_expr_set_u32(e, a, *v),
                    Attr::U64(v) => sys::nftnl_expr_set_u64(e, a, *v),
                    Attr::Data(v) => {
                        sys::nftnl_expr_set(e, a, v.as_ptr().cast::<c_void>(), v.len() as u32);
                    }
                    Attr::Str(v) => {
                        let s = cstring(v);
                        sys::nftnl_expr_set_str(e, a, s.as_ptr());
                    }
                }
            }
        }
        expr
    }
}

/// Sets the comment of a rule (its user data, as nft writes it).
pub fn set_comment(rule: &mut Rule, comment: &str) -> Result<(), &'static str> {
    rule.set_comment(cstring(comment))
}

/// A message written without `NLM_F_ACK`: the kernel reports errors whatever the flag, and acks
/// for every message of a big batch overflow the receive buffer. Only the batch end asks for one.
pub struct NoAck<'a, T: NlMsg>(pub &'a T);

unsafe impl<T: NlMsg> NlMsg for NoAck<'_, T> {
    unsafe fn write(&self, buf: *mut c_void, seq: u32, msg_type: MsgType) {
        unsafe {
            self.0.write(buf, seq, msg_type);
            let header = &mut *buf.cast::<libc::nlmsghdr>();
            header.nlmsg_flags &= !(libc::NLM_F_ACK as u16);
        }
    }
}

/// `NEWSET` of an anonymous set, or `NEWSETELEM` of some of its elements.
pub struct SetMsg<'a> {
    pub spec: &'a SetSpec,
    pub family: u16,
    pub table: &'a str,
    /// `None`: the set itself; `Some(range)`: those elements.
    pub elements: Option<std::ops::Range<usize>>,
}

unsafe impl NlMsg for SetMsg<'_> {
    unsafe fn write(&self, buf: *mut c_void, seq: u32, _msg_type: MsgType) {
        let spec = self.spec;
        let set = alloc(unsafe { sys::nftnl_set_alloc() });
        let s = set.as_ptr();
        let table = cstring(self.table);
        let name = cstring(&spec.name);
        unsafe {
            sys::nftnl_set_set_str(s, sys::NFTNL_SET_TABLE as u16, table.as_ptr());
            sys::nftnl_set_set_str(s, sys::NFTNL_SET_NAME as u16, name.as_ptr());
            sys::nftnl_set_set_u32(s, sys::NFTNL_SET_FAMILY as u16, u32::from(self.family));
            sys::nftnl_set_set_u32(s, sys::NFTNL_SET_ID as u16, spec.id);
        }
        let (kind, flags) = match &self.elements {
            None => {
                unsafe {
                    sys::nftnl_set_set_u32(s, sys::NFTNL_SET_FLAGS as u16, spec.flags);
                    sys::nftnl_set_set_u32(s, sys::NFTNL_SET_KEY_TYPE as u16, spec.key_type);
                    sys::nftnl_set_set_u32(s, sys::NFTNL_SET_KEY_LEN as u16, spec.key_len);
                    if let Some(data_type) = spec.data_type {
                        sys::nftnl_set_set_u32(s, sys::NFTNL_SET_DATA_TYPE as u16, data_type);
                        sys::nftnl_set_set_u32(s, sys::NFTNL_SET_DATA_LEN as u16, 0);
                    }
                    // nft gives an anonymous set its size; a named map has none (none declared)
                    if spec.flags & SET_ANONYMOUS != 0 {
                        sys::nftnl_set_set_u32(s, sys::NFTNL_SET_DESC_SIZE as u16, spec.elements.len() as u32);
                    }
                    // the kernel takes field lengths only for a concatenation of ranges
                    if !spec.fields.is_empty() && spec.flags & SET_CONCAT != 0 {
                        sys::nftnl_set_set_data(
                            s,
                            sys::NFTNL_SET_DESC_CONCAT as u16,
                            spec.fields.as_ptr().cast::<c_void>(),
                            spec.fields.len() as u32,
                        );
                    }
                    if !spec.udata.is_empty() {
                        sys::nftnl_set_set_data(
                            s,
                            sys::NFTNL_SET_USERDATA as u16,
                            spec.udata.as_ptr().cast::<c_void>(),
                            spec.udata.len() as u32,
                        );
                    }
                }
                (libc::NFT_MSG_NEWSET, libc::NLM_F_CREATE)
            }
            Some(range) => {
                for element in &spec.elements[range.clone()] {
                    let e = alloc(unsafe { sys::nftnl_set_elem_alloc() }).as_ptr();
                    unsafe {
                        let key = &element.key;
                        sys::nftnl_set_elem_set(
                            e,
                            sys::NFTNL_SET_ELEM_KEY as u16,
                            key.as_ptr().cast::<c_void>(),
                            key.len() as u32,
                        );
                        if let Some(end) = &element.key_end {
                            sys::nftnl_set_elem_set(
                                e,
                                sys::NFTNL_SET_ELEM_KEY_END as u16,
                                end.as_ptr().cast::<c_void>(),
                                end.len() as u32,
                            );
                        }
                        if element.flags != 0 {
                            sys::nftnl_set_elem_set_u32(e, sys::NFTNL_SET_ELEM_FLAGS as u16, element.flags);
                        }
                        if let Some((verdict, chain)) = &element.verdict {
                            sys::nftnl_set_elem_set_u32(e, sys::NFTNL_SET_ELEM_VERDICT as u16, *verdict as u32);
                            if let Some(chain) = chain {
                                let chain = cstring(chain);
                                sys::nftnl_set_elem_set_str(e, sys::NFTNL_SET_ELEM_CHAIN as u16, chain.as_ptr());
                            }
                        }
                        if !element.udata.is_empty() {
                            sys::nftnl_set_elem_set(
                                e,
                                sys::NFTNL_SET_ELEM_USERDATA as u16,
                                element.udata.as_ptr().cast::<c_void>(),
                                element.udata.len() as u32,
                            );
                        }
                        sys::nftnl_set_elem_add(s, e);
                    }
                }
                (libc::NFT_MSG_NEWSETELEM, libc::NLM_F_CREATE | libc::NLM_F_EXCL)
            }
        };
        unsafe {
            let header =
                sys::nftnl_nlmsg_build_hdr(buf.cast::<libc::c_char>(), kind as u16, self.family, flags as u16, seq);
            match self.elements {
                None => sys::nftnl_set_nlmsg_build_payload(header, s),
                Some(_) => sys::nftnl_set_elems_nlmsg_build_payload(header, s),
            }
            sys::nftnl_set_free(s);
        }
    }
}

/// The batch's pages, as iovecs (for one `sendmsg`), with or without the batch end: `Batch`
/// always starts with a batch begin; `finalize` adds the end, which `--check` leaves out so that
/// the kernel validates every message and then aborts, as `nft -c` does.
pub fn pages(batch: &Batch) -> Vec<libc::iovec> {
    let raw = batch.as_raw_batch().as_ptr();
    let n = unsafe { sys::nftnl_batch_iovec_len(raw) } as usize;
    let mut iov = vec![libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; n];
    unsafe { sys::nftnl_batch_iovec(raw, iov.as_mut_ptr().cast(), n as u32) };
    iov
}

/// Writes the batch end into `batch` (what `Batch::finalize` does), asking for an ack: that ack
/// is how the kernel says it committed.
pub fn write_end(batch: &mut Batch, seq: u32) {
    let raw = batch.as_raw_batch().as_ptr();
    unsafe {
        let buf = sys::nftnl_batch_buffer(raw).cast::<libc::c_char>();
        let header = sys::nftnl_batch_end(buf, seq);
        (*header).nlmsg_flags |= libc::NLM_F_ACK as u16;
        if sys::nftnl_batch_update(raw) < 0 {
            std::process::abort();
        }
    }
}

/// One `sendmsg` of all the pages: the kernel reads one batch from one message.
pub fn send_pages(fd: RawFd, pages: &[libc::iovec]) -> io::Result<usize> {
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&raw mut addr).cast::<c_void>();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_nl>() as u32;
    msg.msg_iov = pages.as_ptr().cast_mut();
    msg.msg_iovlen = pages.len() as _;
    let n = unsafe { libc::sendmsg(fd, &msg, 0) };
    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
}

/// Sets an integer socket option (`SO_SNDBUFFORCE`, `SO_RCVBUFFORCE`, `NETLINK_EXT_ACK`).
pub fn set_option(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast::<c_void>(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// One non-blocking `recv`; `Ok(0)` when nothing more is queued.
pub fn recv_now(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast::<c_void>(), buf.len(), libc::MSG_DONTWAIT) };
    if n >= 0 {
        return Ok(n as usize);
    }
    let e = io::Error::last_os_error();
    if e.kind() == io::ErrorKind::WouldBlock { Ok(0) } else { Err(e) }
}

/// One `send` of a whole request (a dump request, or a batch built as bytes).
pub fn send_bytes(fd: RawFd, bytes: &[u8]) -> io::Result<()> {
    let page = libc::iovec { iov_base: bytes.as_ptr().cast_mut().cast::<c_void>(), iov_len: bytes.len() };
    let sent = send_pages(fd, &[page])?;
    if sent == bytes.len() { Ok(()) } else { Err(io::Error::other(format!("sent {sent} of {} bytes", bytes.len()))) }
}

/// One blocking `recv` (a dump's answers come as the reader asks for them).
pub fn recv_wait(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast::<c_void>(), buf.len(), 0) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The batch's pages with its batch begin replaced by `begin` (one that carries the ruleset
/// generation the batch was built against). `Batch` writes a bare begin (`nlmsghdr` and
/// `nfgenmsg`, 20 bytes) at the start of its first page; the returned iovecs point at `begin`,
/// then at the rest of that page, then at the other pages.
pub fn replace_begin(pages: &[libc::iovec], begin: &mut Vec<u8>) -> Option<Vec<libc::iovec>> {
    const BARE: usize = 20;
    let first = pages.first()?;
    if first.iov_len < BARE || begin.len() < BARE {
        return None;
    }
    // the bare begin's header (length, type, flags, sequence number, port) is kept but for its length
    let bare = unsafe { std::slice::from_raw_parts(first.iov_base.cast::<u8>(), BARE) };
    if u32::from_ne_bytes([bare[0], bare[1], bare[2], bare[3]]) as usize != BARE
        || u16::from_ne_bytes([bare[4], bare[5]]) != libc::NFNL_MSG_BATCH_BEGIN as u16
    {
        return None;
    }
    begin[4..16].copy_from_slice(&bare[4..16]);
    let mut out = vec![
        libc::iovec { iov_base: begin.as_mut_ptr().cast::<c_void>(), iov_len: begin.len() },
        libc::iovec { iov_base: first.iov_base.wrapping_byte_add(BARE), iov_len: first.iov_len - BARE },
    ];
    out.extend_from_slice(&pages[1..]);
    Some(out)
}

/// The write end of the pipe [`catch_signals`] makes; -1 before.
static SIGNAL_PIPE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

extern "C" fn note_signal(signal: libc::c_int) {
    let fd = SIGNAL_PIPE.load(std::sync::atomic::Ordering::Relaxed);
    let byte = signal as u8;
    // write(2) is async-signal-safe; a full pipe already holds a signal
    unsafe { libc::write(fd, (&raw const byte).cast::<c_void>(), 1) };
}

/// From now on SIGHUP, SIGINT and SIGTERM no longer end the process: each writes its number into
/// a pipe, whose read end is returned (for [`wait_readable`]).
pub fn catch_signals() -> io::Result<RawFd> {
    let mut fds = [0; 2];
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    SIGNAL_PIPE.store(fds[1], std::sync::atomic::Ordering::Relaxed);
    for signal in [libc::SIGHUP, libc::SIGINT, libc::SIGTERM] {
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = note_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        if unsafe { libc::sigemptyset(&raw mut action.sa_mask) } < 0
            || unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) } < 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(fds[0])
}

/// Waits at most `timeout_ms` for any of `fds` to be readable (or closed); which ones are.
pub fn wait_readable(fds: &[RawFd], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut polled: Vec<libc::pollfd> =
        fds.iter().map(|&fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 }).collect();
    let n = unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        // a signal: its byte is in the pipe, seen at the next wait
        return if e.kind() == io::ErrorKind::Interrupted { Ok(vec![false; fds.len()]) } else { Err(e) };
    }
    Ok(polled.iter().map(|p| p.revents != 0).collect())
}

/// One `read` from a file descriptor (standard input, or the signal pipe).
pub fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast::<c_void>(), buf.len()) };
    if n >= 0 { Ok(n as usize) } else { Err(io::Error::last_os_error()) }
}

/// Makes a FIFO at `path` (mode 0600) and opens it for reading without ever seeing its end:
/// opened read-write, it always has a writer (this process), so a writer that comes and goes
/// leaves data, not a hang-up.
pub fn open_fifo(path: &std::path::Path) -> io::Result<std::fs::File> {
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } < 0 {
        return Err(io::Error::last_os_error());
    }
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).write(true).custom_flags(libc::O_NONBLOCK).open(path)
}

/// Opens a FIFO for writing if a process reads it; `Ok(None)` when none does (`ENXIO`).
pub fn open_fifo_writer(path: &std::path::Path) -> io::Result<Option<std::fs::File>> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => Ok(None),
        Err(e) => Err(e),
    }
}
