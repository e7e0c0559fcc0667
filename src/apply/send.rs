//! One netlink transaction: the batch sent in one `sendmsg`, and the kernel's answers read back.
//!
//! nfnetlink handles a batch inside the `sendmsg` call, so when it returns every answer is
//! queued on the socket. Messages ask for no ack (errors are reported anyway); only the batch end
//! does, and the kernel acks it only when it committed: that ack, not the absence of errors, is
//! what says "applied". A receive buffer that overflowed (`ENOBUFS`) means answers were lost;
//! since a committed batch answers with one ack, lost answers mean errors, and errors mean the
//! kernel rolled the batch back.

use std::collections::BTreeMap;
use std::os::fd::AsRawFd;

use nftnl::Batch;

use super::sys;
use crate::nft::ir::Origin;

/// What the kernel did with a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Committed (the batch end was acked).
    Applied,
    /// `--check`: every message was valid; the kernel aborted the batch as asked.
    Checked,
}

/// Why a batch was not applied; in every case the kernel changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("cannot talk to the kernel: {0}")]
    Socket(#[source] std::io::Error),
    /// The kernel refused messages (each with its origin, when a rule sent it) and rolled back.
    #[error("the kernel refused the ruleset and changed nothing")]
    Refused { errors: Vec<KernelError>, lost: bool },
    /// The batch was built against a ruleset generation that is no longer the kernel's: something
    /// committed since (`ERESTART` on the batch begin). Nothing changed.
    #[error("the ruleset changed since ipt read it; nothing was applied")]
    Raced,
}

impl SendError {
    /// The error, with the kernel's first refusals on lines of their own.
    pub fn detail(&self) -> String {
        let mut out = self.to_string();
        if let SendError::Refused { errors, lost } = self {
            if *lost {
                out.push_str("\n  some of the kernel's answers were lost");
            }
            for k in errors.iter().take(5) {
                out.push_str(&format!("\n  the kernel refused message {}: {}", k.seq, k.message()));
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct KernelError {
    pub seq: u32,
    pub errno: i32,
    pub origin: Option<Origin>,
}

impl KernelError {
    /// What the errno means for an nf_tables message, and its name.
    pub fn message(&self) -> String {
        let (name, meaning) = match self.errno {
            libc::ENOENT => ("ENOENT", "it names a chain, set, table or expression the kernel does not have"),
            libc::EOPNOTSUPP => ("EOPNOTSUPP", "this kernel does not support part of it (a module missing?)"),
            libc::EINVAL => ("EINVAL", "the kernel finds part of it invalid"),
            libc::ELOOP => ("ELOOP", "a jump in it would make a loop, or chains nest too deep"),
            libc::ERANGE => ("ERANGE", "a value in it is out of range"),
            libc::EEXIST => ("EEXIST", "it adds something that exists already"),
            libc::EBUSY => ("EBUSY", "it changes something in use"),
            libc::ENOMEM => ("ENOMEM", "the kernel ran out of memory"),
            libc::EPERM => ("EPERM", "not permitted (ipt apply needs CAP_NET_ADMIN)"),
            _ => return std::io::Error::from_raw_os_error(self.errno).to_string(),
        };
        format!("{meaning} ({name})")
    }
}

/// Whether this kernel acks the batch end (6.10 and later); `nftnl`'s `Batch` asks for the ack
/// on the batch begin only then, and so numbers its messages from 2 instead of 1.
pub fn kernel_acks_batch_end() -> bool {
    let probe = Batch::new().finalize();
    !probe.sequence_numbers().is_empty()
}

/// Socket buffers: big enough for a batch of any size ipt makes, as nft raises them.
const BUFFER: i32 = 1 << 30;

/// Sends `batch`; with `generation`, the kernel applies it only if the ruleset is still at that
/// generation.
pub fn send(
    mut batch: Batch,
    seqs: &BTreeMap<u32, Option<Origin>>,
    end_seq: u32,
    check: bool,
    generation: Option<u32>,
) -> Result<Outcome, SendError> {
    if !check {
        sys::write_end(&mut batch, end_seq);
    }
    let pages = sys::pages(&batch);
    let mut begin = Vec::new();
    let pages = match generation {
        None => pages,
        Some(generation) => {
            // a batch begin with NFNL_BATCH_GENID: header (filled from the bare one), nfgenmsg, attribute
            begin.extend_from_slice(&28u32.to_ne_bytes());
            begin.extend_from_slice(&[0; 12]);
            begin.extend_from_slice(&[0, 0]);
            begin.extend_from_slice(&(libc::NFNL_SUBSYS_NFTABLES as u16).to_be_bytes());
            begin.extend_from_slice(&8u16.to_ne_bytes());
            begin.extend_from_slice(&(libc::NFNL_BATCH_GENID as u16).to_ne_bytes());
            begin.extend_from_slice(&generation.to_be_bytes());
            sys::replace_begin(&pages, &mut begin)
                .ok_or_else(|| SendError::Socket(std::io::Error::other("unexpected batch begin")))?
        }
    };
    exchange(&pages, seqs, end_seq, check)
}

/// Sends a batch written as bytes (begin to end, the end asking for an ack).
pub fn send_bytes(batch: &[u8], end_seq: u32) -> Result<Outcome, SendError> {
    let page = libc::iovec { iov_base: batch.as_ptr().cast_mut().cast(), iov_len: batch.len() };
    exchange(&[page], &BTreeMap::new(), end_seq, false)
}

fn exchange(
    pages: &[libc::iovec],
    seqs: &BTreeMap<u32, Option<Origin>>,
    end_seq: u32,
    check: bool,
) -> Result<Outcome, SendError> {
    let socket = mnl::Socket::new(mnl::Bus::Netfilter).map_err(SendError::Socket)?;
    let fd = socket.as_raw_fd();
    let acked_end = kernel_acks_batch_end();
    let size: usize = pages.iter().map(|p| p.iov_len).sum();
    let snd = i32::try_from(size).unwrap_or(i32::MAX).saturating_mul(2).min(BUFFER);
    sys::set_option(fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, snd.max(1 << 20)).map_err(SendError::Socket)?;
    sys::set_option(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 1 << 24).map_err(SendError::Socket)?;
    // one sendmsg: the kernel reads a batch from one message, a page alone is rolled back
    let sent = sys::send_pages(fd, pages).map_err(SendError::Socket)?;
    if sent != size {
        return Err(SendError::Socket(std::io::Error::other(format!("sent {sent} of {size} bytes"))));
    }
    let mut errors = Vec::new();
    let mut end_acked = false;
    let mut lost = false;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match sys::recv_now(fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                lost = true;
                continue;
            }
            Err(e) => return Err(SendError::Socket(e)),
        };
        for (seq, errno) in acks(&buf[..n]) {
            if errno == 0 {
                if seq == end_seq {
                    end_acked = true;
                }
            } else {
                errors.push(KernelError { seq, errno, origin: seqs.get(&seq).copied().flatten() });
            }
        }
    }
    // the generation check answers on the batch begin, which is no rule's message
    if errors.iter().any(|e| e.errno == libc::ERESTART && !seqs.contains_key(&e.seq)) {
        return Err(SendError::Raced);
    }
    if !errors.is_empty() || lost {
        return Err(SendError::Refused { errors, lost });
    }
    if check {
        return Ok(Outcome::Checked);
    }
    // an old kernel (before 6.10) never acks the batch end: no error is then the only answer
    if end_acked || !acked_end { Ok(Outcome::Applied) } else { Err(SendError::Refused { errors, lost: true }) }
}

/// The `NLMSG_ERROR` answers in a buffer: the sequence number each answers, and its errno
/// (0: an ack).
fn acks(mut buf: &[u8]) -> Vec<(u32, i32)> {
    let mut out = Vec::new();
    let u32_at = |b: &[u8], i: usize| b.get(i..i + 4).map(|x| u32::from_ne_bytes([x[0], x[1], x[2], x[3]]));
    while let Some(len) = u32_at(buf, 0) {
        let len = len as usize;
        if len < 16 || len > buf.len() {
            break;
        }
        let kind = u16::from_ne_bytes([buf[4], buf[5]]);
        if kind == libc::NLMSG_ERROR as u16
            && let (Some(errno), Some(seq)) = (u32_at(buf, 16), u32_at(buf, 16 + 4 + 8))
        {
            out.push((seq, -(errno as i32)));
        }
        buf = &buf[len.div_ceil(4) * 4..];
        if buf.len() < 16 {
            break;
        }
    }
    out
}
