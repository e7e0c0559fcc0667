//! What the kernel refuses when it loads a table.

use crate::source::Span;

/// A rule or chain the kernel would refuse.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CheckError {
    #[error("`{target}` is not allowed in the {table} table")]
    #[diagnostic(code(ipt::check::wrong_table))]
    WrongTable {
        #[label("refused by the kernel in table `{table}`")]
        span: Span,
        target: String,
        table: &'static str,
        #[help]
        help: String,
    },

    #[error("`{target}` is not allowed in chain {hook}")]
    #[diagnostic(code(ipt::check::wrong_chain))]
    WrongChain {
        #[label("refused by the kernel on the {hook} hook")]
        span: Span,
        target: String,
        hook: &'static str,
        #[help]
        help: String,
    },

    #[error("`{target}` in chain `{chain}`, which {hook} reaches")]
    #[diagnostic(code(ipt::check::wrong_chain))]
    WrongChainVia {
        #[label("refused by the kernel on the {hook} hook")]
        span: Span,
        target: String,
        chain: String,
        hook: &'static str,
        #[label(collection, "reached through this jump")]
        path: Vec<miette::LabeledSpan>,
        #[help]
        help: String,
    },

    #[error("`{what}` needs `{proto}`")]
    #[diagnostic(code(ipt::check::needs_protocol))]
    NeedsProtocol {
        #[label("the kernel takes this only with `{proto}`")]
        span: Span,
        what: String,
        proto: String,
        #[help]
        help: String,
    },

    #[error("whether `{name}` loads depends on the host")]
    #[diagnostic(
        code(ipt::check::host_dependent),
        severity(Warning),
        help("ipt cannot see the host: make sure {what} where this file is loaded")
    )]
    HostDependent {
        #[label("{what}")]
        span: Span,
        name: String,
        what: &'static str,
    },

    #[error("the kernel has no `{name}` target since {since}")]
    #[diagnostic(code(ipt::check::gone_from_kernel))]
    GoneFromKernel {
        #[label("refused by current kernels")]
        span: Span,
        name: String,
        since: &'static str,
        #[help]
        help: String,
    },

    #[error("`--reject-with tcp-reset` needs `-p tcp`")]
    #[diagnostic(code(ipt::check::tcp_reset_needs_tcp), help("add `-p tcp` to the rule, or reject with an ICMP error"))]
    TcpResetNeedsTcp {
        #[label("only a TCP packet can be answered with a reset")]
        span: Span,
    },

    #[error("`--limit {rate}` with burst {burst} overflows the kernel's counters")]
    #[diagnostic(
        code(ipt::check::limit_overflow),
        help("lower the burst, or use a faster rate (the kernel multiplies the two in 32 bits)")
    )]
    LimitOverflow {
        #[label("refused by xt_limit")]
        span: Span,
        rate: String,
        burst: u32,
    },

    #[error("`-m limit` burst overflows on kernels with HZ {hz}")]
    #[diagnostic(
        code(ipt::check::limit_overflow_some_kernels),
        severity(Warning),
        help("whether this loads depends on the kernel's CONFIG_HZ; lower the burst to be safe")
    )]
    LimitOverflowSomeKernels {
        #[label("refused on some kernels")]
        span: Span,
        hz: String,
    },

    #[error("{message}")]
    #[diagnostic(code(ipt::check::kernel_refuses))]
    KernelRefuses {
        #[label("{why}")]
        span: Span,
        message: String,
        why: &'static str,
        #[help]
        help: String,
    },

    #[error("jump loop: {cycle}")]
    #[diagnostic(
        code(ipt::check::jump_loop),
        help("the kernel refuses a table whose jumps can come back to a chain they left; break the loop")
    )]
    Loop {
        #[label("this jump closes the loop")]
        span: Span,
        cycle: String,
        #[label(collection, "part of the loop")]
        others: Vec<miette::LabeledSpan>,
    },
}
