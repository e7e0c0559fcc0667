//! Problems found while giving meaning to a dump's lines: each one a reason `iptables-restore`
//! would refuse the file (errors), or something it accepts that deserves a word (warnings).

use crate::source::Span;

/// A problem found while loading.
#[derive(Clone, Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    // --- the shape of the file -------------------------------------------------------------
    #[error("{what} outside a table")]
    #[diagnostic(code(ipt::load::outside_table), help("start a table first, for example `*filter`"))]
    OutsideTable {
        #[label("this needs a table")]
        span: Span,
        what: &'static str,
    },

    #[error("table `{table}` starts before the previous table is committed")]
    #[diagnostic(code(ipt::load::nested_table), help("end the previous table with `COMMIT` first"))]
    NestedTable {
        #[label("new table here")]
        span: Span,
        table: String,
        #[label("this table has no `COMMIT` yet")]
        open: Span,
    },

    #[error("table `{table}` is never committed")]
    #[diagnostic(
        code(ipt::load::missing_commit),
        help("end the table with a `COMMIT` line; iptables-restore applies nothing without it")
    )]
    MissingCommit {
        /// The file's last line: where iptables-restore finds the `COMMIT` missing (it reads
        /// every line of the table before, and reports their errors first).
        #[label("the file ends after this line")]
        span: Span,
        table: String,
        #[label("this table has no `COMMIT`")]
        open: Span,
    },

    #[error("unknown table `{name}`")]
    #[diagnostic(
        code(ipt::load::unknown_table),
        help("the tables are `raw`, `mangle`, `nat`, `filter` and `security`")
    )]
    UnknownTable {
        #[label("no such table")]
        span: Span,
        name: String,
    },

    #[error("a `#` after blanks does not start a comment")]
    #[diagnostic(
        code(ipt::load::indented_comment),
        help("iptables-restore reads `#` as a comment only in the first column; remove the blanks before it")
    )]
    IndentedComment {
        #[label("not a comment")]
        span: Span,
    },

    #[error("counter `{text}` is past the largest, 18446744073709551615")]
    #[diagnostic(
        code(ipt::load::counter_saturates),
        severity(Warning),
        help("`iptables-restore -c` reads it as 18446744073709551615, and without `-c` ignores it; write that number")
    )]
    CounterSaturates {
        #[label("read as 18446744073709551615")]
        span: Span,
        text: String,
    },

    #[error("iptables-restore ignores these words")]
    #[diagnostic(code(ipt::load::ignored_words), severity(Warning), help("remove them"))]
    IgnoredWords {
        #[label("ignored")]
        span: Span,
    },

    #[error("blanks at the end of the line")]
    #[diagnostic(
        code(ipt::load::trailing_blanks),
        severity(Warning),
        help("remove them; ipt reads the line as if they were not there")
    )]
    TrailingBlanks {
        #[label("trailing blanks")]
        span: Span,
    },

    #[error("`COMMIT` followed by blanks: iptables-restore fails on this line")]
    #[diagnostic(
        code(ipt::load::commit_trailing_blanks),
        severity(Warning),
        help("remove the blanks after `COMMIT`; ipt accepts the line, iptables-restore does not")
    )]
    CommitTrailingBlanks {
        #[label("trailing blanks")]
        span: Span,
    },

    #[error("the file has CRLF line endings ({count} lines): iptables-restore fails on them")]
    #[diagnostic(
        code(ipt::load::crlf),
        severity(Warning),
        help("convert the file to LF line endings (`dos2unix`); ipt reads it as if it had them")
    )]
    CarriageReturns {
        #[label("first carriage return")]
        span: Span,
        count: usize,
    },

    #[error("`COMMIT` on the last line has no newline: iptables-restore fails on it")]
    #[diagnostic(code(ipt::load::no_final_newline), severity(Warning), help("end the file with a newline"))]
    NoFinalNewline {
        #[label("no newline after this")]
        span: Span,
    },

    #[error("line is {len} bytes long: iptables-restore reads at most 10239 bytes a line")]
    #[diagnostic(code(ipt::load::line_too_long), help("split the rule, for example with an ipset or several rules"))]
    LineTooLong {
        #[label("too long")]
        span: Span,
        len: usize,
    },

    #[error("argument is {len} bytes long: iptables-restore takes at most 1023")]
    #[diagnostic(
        code(ipt::load::argument_too_long),
        help("shorten it; a long comment or prefix can be split across rules")
    )]
    ArgumentTooLong {
        #[label("too long")]
        span: Span,
        len: usize,
    },

    #[error("line has {count} arguments: iptables-restore takes at most {max}")]
    #[diagnostic(
        code(ipt::load::too_many_arguments),
        help(
            "251 words, or 248 after `[p:b]` counters (which `-c` turns into three more); split the rule into a user chain of several rules, or use `-m multiport` lists or an ipset"
        )
    )]
    TooManyArguments {
        #[label("too many arguments")]
        span: Span,
        count: usize,
        max: usize,
    },

    #[error("the line is not valid UTF-8")]
    #[diagnostic(
        code(ipt::load::not_utf8),
        severity(Warning),
        help("ipt shows the bytes it cannot read as U+FFFD; iptables-restore reads them as they are")
    )]
    NotUtf8 {
        #[label("here")]
        span: Span,
    },

    #[error("NUL byte in the line")]
    #[diagnostic(
        code(ipt::load::nul_byte),
        help("iptables-restore stops reading a line at a NUL byte; this looks like binary data")
    )]
    NulByte {
        #[label("NUL")]
        span: Span,
    },

    // --- chains -----------------------------------------------------------------------------
    #[error("chain name `{name}` is {len} characters long: the most is 28")]
    #[diagnostic(code(ipt::load::chain_name_too_long), help("shorten the name"))]
    ChainNameTooLong {
        #[label("too long")]
        span: Span,
        name: String,
        len: usize,
    },

    #[error("invalid chain name `{name}`: {why}")]
    #[diagnostic(
        code(ipt::load::bad_chain_name),
        help("a chain name is 1-28 characters, none of them blank, and not an option, a target or a number")
    )]
    BadChainName {
        #[label("invalid")]
        span: Span,
        name: String,
        why: &'static str,
    },

    #[error("`{policy}` is not a policy")]
    #[diagnostic(code(ipt::load::bad_policy), help("a built-in chain's policy is `ACCEPT` or `DROP`"))]
    BadPolicy {
        #[label("not ACCEPT or DROP")]
        span: Span,
        policy: String,
    },

    #[error("policy on user chain `{chain}`")]
    #[diagnostic(
        code(ipt::load::policy_on_user_chain),
        help("only built-in chains have a policy; declare a user chain with `-`: `:{chain} - [0:0]`")
    )]
    PolicyOnUserChain {
        #[label("`{chain}` is not a built-in chain of table `{table}`")]
        span: Span,
        chain: String,
        table: &'static str,
    },

    #[error("chain `{chain}` is declared twice")]
    #[diagnostic(code(ipt::load::duplicate_chain), help("remove one of the declarations"))]
    DuplicateChain {
        #[label("declared again here")]
        span: Span,
        chain: String,
        #[label("first declared here")]
        first: Span,
    },

    #[error("chain `{chain}` does not exist")]
    #[diagnostic(code(ipt::load::no_such_chain), help("declare it before this line: `:{chain} - [0:0]`"))]
    NoSuchChain {
        #[label("no chain `{chain}` in table `{table}` at this point")]
        span: Span,
        chain: String,
        table: &'static str,
    },

    #[error("cannot delete built-in chain `{chain}`")]
    #[diagnostic(code(ipt::load::delete_builtin), help("flush it with `-F` instead; built-in chains always exist"))]
    DeleteBuiltin {
        #[label("built-in chain")]
        span: Span,
        chain: String,
    },

    #[error("cannot delete chain `{chain}`: {why}")]
    #[diagnostic(
        code(ipt::load::chain_busy),
        help("remove the rules that jump to it, and flush it with `-F`, before `-X`")
    )]
    ChainBusy {
        #[label("still in use")]
        span: Span,
        chain: String,
        why: String,
    },

    #[error("`DROP` in the nat table")]
    #[diagnostic(
        code(ipt::load::drop_in_nat),
        help("iptables refuses to filter in the nat table; drop the packet in the filter table instead")
    )]
    DropInNat {
        #[label("refused by iptables")]
        span: Span,
    },

    // --- commands and options --------------------------------------------------------------
    #[error("no command on this line")]
    #[diagnostic(code(ipt::load::no_command), help("a rule line starts with a command such as `-A CHAIN`"))]
    NoCommand {
        #[label("expected `-A`, `-I`, `-N`, ... somewhere on this line")]
        span: Span,
    },

    #[error("more than one command on a line")]
    #[diagnostic(code(ipt::load::two_commands), help("put each command on its own line"))]
    TwoCommands {
        #[label("second command")]
        span: Span,
        #[label("first command")]
        first: Span,
    },

    #[error("unexpected argument `{arg}`")]
    #[diagnostic(code(ipt::load::bad_argument))]
    BadArgument {
        #[label("not an option, nor the value of one")]
        span: Span,
        arg: String,
        #[help]
        help: Option<String>,
    },

    #[error("iptables-restore has no comments at the end of a line")]
    #[diagnostic(
        code(ipt::load::end_of_line_comment),
        help("move the text into the rule with `-m comment --comment \"...\"`, or onto a `#` line of its own")
    )]
    EndOfLineComment {
        #[label("read as arguments, which iptables-restore refuses")]
        span: Span,
    },

    #[error("unknown option `{option}`")]
    #[diagnostic(code(ipt::load::unknown_option))]
    UnknownOption {
        #[label("unknown here")]
        span: Span,
        option: String,
        #[help]
        help: Option<String>,
    },

    #[error("option `{option}` needs a value")]
    #[diagnostic(code(ipt::load::missing_value), help("write the value right after the option"))]
    MissingValue {
        #[label("no value follows")]
        span: Span,
        option: String,
    },

    #[error("option `{option}` given twice")]
    #[diagnostic(code(ipt::load::duplicate_option), help("keep one of them"))]
    DuplicateOption {
        #[label("again here")]
        span: Span,
        option: String,
        #[label("first here")]
        first: Span,
    },

    #[error("`!` cannot come before `{option}`")]
    #[diagnostic(
        code(ipt::load::cannot_invert),
        help("remove the `!`, or express the negation another way (a RETURN rule before it)")
    )]
    CannotInvert {
        #[label("this option cannot be negated")]
        span: Span,
        option: String,
    },

    #[error("two `!` in a row")]
    #[diagnostic(code(ipt::load::double_negation), help("one `!` negates; remove the other"))]
    DoubleNegation {
        #[label("second `!`")]
        span: Span,
    },

    #[error("nothing follows `!`")]
    #[diagnostic(code(ipt::load::dangling_negation), help("put `!` right before the option it negates"))]
    DanglingNegation {
        #[label("negates nothing")]
        span: Span,
    },

    #[error("`{option} ! VALUE` is the old way to negate")]
    #[diagnostic(
        code(ipt::load::old_negation),
        severity(Warning),
        help("write `! {option} VALUE`; iptables 1.4.3 and later refuse the old order")
    )]
    OldNegation {
        #[label("move this `!` before `{option}`")]
        span: Span,
        option: String,
    },

    #[error("`{option}` cannot be used with `{command}`")]
    #[diagnostic(code(ipt::load::option_not_allowed), help("remove the option from this command"))]
    OptionNotAllowed {
        #[label("not with this command")]
        span: Span,
        option: String,
        command: String,
    },

    #[error("`{option}` makes iptables-restore {does} and stop, reporting success, before this table is committed")]
    #[diagnostic(
        code(ipt::load::stops_restore),
        help("remove `{option}`: from this line on nothing loads, and the tables not committed yet are lost")
    )]
    StopsRestore {
        #[label("iptables-restore stops here")]
        span: Span,
        option: String,
        does: &'static str,
    },

    #[error("`{option}` cannot be used in chain `{chain}`")]
    #[diagnostic(
        code(ipt::load::interface_in_wrong_chain),
        help("use `-i` in PREROUTING, INPUT and FORWARD, `-o` in FORWARD, OUTPUT and POSTROUTING")
    )]
    InterfaceInWrongChain {
        #[label("{why}")]
        span: Span,
        option: String,
        chain: String,
        why: &'static str,
    },

    #[error("invalid value `{value}` for `{option}`")]
    #[diagnostic(code(ipt::load::bad_value), help("expected {expected}"))]
    BadValue {
        #[label("invalid")]
        span: Span,
        option: String,
        value: String,
        expected: String,
    },

    #[error("{message}")]
    #[diagnostic(code(ipt::load::extension))]
    Extension {
        #[label("here")]
        span: Span,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("this extension needs {needs}")]
    #[diagnostic(code(ipt::load::missing_option), help("add the option the extension needs"))]
    MissingOption {
        #[label("missing an option")]
        span: Span,
        needs: String,
    },

    #[error("unknown match `{name}`")]
    #[diagnostic(code(ipt::load::unknown_match))]
    UnknownMatch {
        #[label("iptables has no such match")]
        span: Span,
        name: String,
        #[help]
        help: Option<String>,
    },

    #[error("match `{name}` is not modelled by ipt: kept as written")]
    #[diagnostic(
        code(ipt::load::unmodelled_match),
        severity(Warning),
        help(
            "ipt checks at most the names of its options, never their values, and prints it back as written; analyses treat it as undecidable"
        )
    )]
    UnmodelledMatch {
        #[label("kept verbatim")]
        span: Span,
        name: String,
    },

    #[error("target `{name}` is not modelled by ipt: kept as written")]
    #[diagnostic(
        code(ipt::load::unmodelled_target),
        severity(Warning),
        help(
            "ipt checks at most the names of its options, never their values, and prints it back as written; analyses treat it as undecidable"
        )
    )]
    UnmodelledTarget {
        #[label("kept verbatim")]
        span: Span,
        name: String,
    },

    #[error("`{name}` is neither a chain nor a target")]
    #[diagnostic(code(ipt::load::undeclared_chain))]
    UndeclaredChain {
        #[label("no chain `{name}` is declared before this line, and iptables has no such target")]
        span: Span,
        name: String,
        #[help]
        help: Option<String>,
    },

    #[error("`-g {name}`: not a chain")]
    #[diagnostic(code(ipt::load::goto_not_chain), help("`-g` goes to a user chain; declare it with `:{name} - [0:0]`"))]
    GotoNotChain {
        #[label("no such chain")]
        span: Span,
        name: String,
    },

    #[error("cannot jump to built-in chain `{name}`")]
    #[diagnostic(
        code(ipt::load::jump_to_builtin),
        help(
            "a packet reaches a built-in chain only through its hook; move the rules you want to share into a user chain and jump to that from both"
        )
    )]
    JumpToBuiltin {
        #[label("built-in chain")]
        span: Span,
        name: String,
    },

    #[error("`-j {name}` jumps to the chain `{name}`, not to the target")]
    #[diagnostic(
        code(ipt::load::chain_shadows_target),
        severity(Warning),
        help(
            "rename the chain: after `:{name}`, iptables-restore reads `-j {name}` as a jump to the chain, never as the target"
        )
    )]
    ChainShadowsTarget {
        #[label("chain, not target")]
        span: Span,
        name: String,
    },

    #[error("`-j {name}` jumps to the chain `{name}`, which takes no options")]
    #[diagnostic(
        code(ipt::load::options_to_chain),
        help(
            "iptables-restore reads a name declared with `:{name}` as the chain, so the target's options are unknown to it; rename the chain"
        )
    )]
    OptionsToChain {
        #[label("unknown options for a jump")]
        span: Span,
        name: String,
    },

    #[error("{family} address `{value}` in an {table_family} table")]
    #[diagnostic(code(ipt::load::wrong_family_address))]
    WrongFamilyAddress {
        #[label("wrong family")]
        span: Span,
        value: String,
        family: crate::model::Family,
        table_family: crate::model::Family,
        #[help]
        help: Option<String>,
    },

    #[error("`{name}` is an {family} extension, and this table is {table_family}")]
    #[diagnostic(code(ipt::load::wrong_family_extension))]
    WrongFamilyExtension {
        #[label("not in {table_family}")]
        span: Span,
        name: String,
        family: &'static str,
        table_family: crate::model::Family,
        #[help]
        help: Option<String>,
    },

    #[error("host name `{name}` is resolved only when the rule loads")]
    #[diagnostic(
        code(ipt::load::host_name),
        severity(Warning),
        help(
            "ipt keeps the name as written and cannot say which addresses it stands for; write the addresses instead"
        )
    )]
    HostName {
        #[label("needs DNS or /etc/hosts")]
        span: Span,
        name: String,
    },

    #[error("`{value}`: iptables 1.8.9 keeps only the address, as a single host")]
    #[diagnostic(
        code(ipt::load::mask_becomes_host),
        severity(Warning),
        help("this option takes a prefix length; a mask that is not one is replaced by a full mask: write `/LEN`")
    )]
    MaskBecomesHost {
        #[label("matches this one address only")]
        span: Span,
        value: String,
    },

    #[error("{kind} name `{name}` is looked up only when the rule loads")]
    #[diagnostic(
        code(ipt::load::account_name),
        severity(Warning),
        help(
            "ipt keeps the name as written; iptables-save prints the number it has on the host that loads the rule (and iptables refuses a name that host does not know); write the number instead"
        )
    )]
    AccountName {
        #[label("needs {file} on the host")]
        span: Span,
        /// `user` or `group`.
        kind: &'static str,
        file: &'static str,
        name: String,
    },

    #[error("comment is {len} bytes long: the kernel keeps 255")]
    #[diagnostic(code(ipt::load::comment_too_long), severity(Warning), help("iptables cuts it silently; shorten it"))]
    CommentTooLong {
        #[label("cut after 255 bytes")]
        span: Span,
        len: usize,
    },

    #[error("prefix is {len} bytes long: the kernel keeps {max}")]
    #[diagnostic(code(ipt::load::prefix_too_long), severity(Warning), help("iptables cuts it silently; shorten it"))]
    PrefixTooLong {
        #[label("cut after {max} bytes")]
        span: Span,
        len: usize,
        max: usize,
    },

    #[error("{message}")]
    #[diagnostic(code(ipt::load::extension_warning), severity(Warning))]
    ExtensionWarning {
        #[label("here")]
        span: Span,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("rule number {number} is out of range: chain `{chain}` has {len} rules")]
    #[diagnostic(
        code(ipt::load::rule_number),
        help("number rules from 1; `-I CHAIN N` takes at most one past the last rule")
    )]
    RuleNumber {
        #[label("no such position")]
        span: Span,
        number: u64,
        chain: String,
        len: usize,
    },

    #[error("no such rule in chain `{chain}`")]
    #[diagnostic(
        code(ipt::load::no_such_rule),
        help("iptables-restore fails when `-D` or `-C` finds no matching rule")
    )]
    NoSuchRule {
        #[label("no rule of chain `{chain}` is exactly this one")]
        span: Span,
        chain: String,
    },

    #[error("`-f` does not exist in ip6tables")]
    #[diagnostic(code(ipt::load::fragment_v6), help("use `-m frag` for IPv6 fragments"))]
    FragmentInIpv6 {
        #[label("IPv4 only")]
        span: Span,
    },

    #[error("`!` is not allowed with several addresses")]
    #[diagnostic(code(ipt::load::negated_address_list), help("negate each address in its own rule, or use an ipset"))]
    NegatedAddressList {
        #[label("a list cannot be negated")]
        span: Span,
    },

    #[error("`! -p {proto}` would never match")]
    #[diagnostic(
        code(ipt::load::never_matches_protocol),
        help("remove the rule, or the `!` if the rule should match every protocol")
    )]
    NeverMatchesProtocol {
        #[label("every packet has a protocol")]
        span: Span,
        proto: String,
    },

    #[error("`{command}` is not supported by ipt in a dump")]
    #[diagnostic(
        code(ipt::load::unsupported_command),
        severity(Warning),
        help("it changes nothing ipt models; ipt ignores it")
    )]
    UnsupportedCommand {
        #[label("ignored")]
        span: Span,
        command: String,
    },
}
