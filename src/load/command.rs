//! One command line read the way iptables' `do_parse` reads it: a getopt over the base options
//! and the options of every extension loaded so far (newest first), with the protocol match
//! loaded implicitly (`-p tcp --dport 22` loads `-m tcp`).

use std::borrow::Cow;

use smallvec::SmallVec;

use super::error::LoadError;
use crate::ext::build::Build;
use crate::ext::opts::{Opt, OptionSpec, Takes};
use crate::ext::{self, MatchSpec, TargetSpec};
use crate::model::{Counters, Family, Iface, Match, MatchKind, Neg, Net, Proto, TargetKind, Verbatim};
use crate::source::Span;
use crate::syntax::Arg;

/// The commands of a restore file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandKind {
    Append,
    Insert,
    Delete,
    Replace,
    Check,
    List,
    Flush,
    Zero,
    NewChain,
    DeleteChain,
    Policy,
    Rename,
}

impl CommandKind {
    pub fn flag(self) -> &'static str {
        match self {
            CommandKind::Append => "-A",
            CommandKind::Insert => "-I",
            CommandKind::Delete => "-D",
            CommandKind::Replace => "-R",
            CommandKind::Check => "-C",
            CommandKind::List => "-L",
            CommandKind::Flush => "-F",
            CommandKind::Zero => "-Z",
            CommandKind::NewChain => "-N",
            CommandKind::DeleteChain => "-X",
            CommandKind::Policy => "-P",
            CommandKind::Rename => "-E",
        }
    }

    /// Whether the command takes a rule specification (`-s`, `-p`, `-m`, `-j`, ...).
    pub fn takes_rule(self) -> bool {
        matches!(
            self,
            CommandKind::Append | CommandKind::Insert | CommandKind::Delete | CommandKind::Replace | CommandKind::Check
        )
    }
}

/// A word and where it is.
#[derive(Clone, Debug)]
pub struct Word<'a> {
    pub text: Cow<'a, str>,
    pub span: Span,
}

/// One command line, read (its rule part borrowed from the parser: some 500 bytes, taken apart
/// where it lies).
#[derive(Debug)]
pub struct Command<'a, 'r> {
    pub kind: CommandKind,
    /// The command option (`-A`).
    pub span: Span,
    pub chain: Option<Word<'a>>,
    /// `-I CHAIN N`, `-R CHAIN N`, `-D CHAIN N`, `-Z CHAIN N`.
    pub number: Option<(u64, Span)>,
    /// `-P CHAIN POLICY`, `-E OLD NEW`: the second word.
    pub second: Option<Word<'a>>,
    pub rule: &'r mut RuleSpec<'a>,
}

/// The rule part of a command, before its target is resolved against the table's chains.
#[derive(Debug, Default)]
pub struct RuleSpec<'a> {
    pub src: SmallVec<[Net; 1]>,
    pub src_neg: Option<(bool, Span)>,
    pub dst: SmallVec<[Net; 1]>,
    pub dst_neg: Option<(bool, Span)>,
    pub in_iface: Option<Neg<Iface>>,
    pub out_iface: Option<Neg<Iface>>,
    pub proto: Option<Neg<Proto>>,
    pub fragment: Option<Neg<()>>,
    pub matches: SmallVec<[Match; 3]>,
    pub target: TargetRef<'a>,
    pub counters: Option<Counters>,
    /// Spans of the base options given, for "not with this command" and chain checks.
    pub options: SmallVec<[(char, Span); 8]>,
    /// Each `!` written after its option (`-s ! 10.0.0.1`), the old way.
    pub old_negations: Vec<Span>,
}

/// `-j NAME` / `-g NAME` before the table says whether NAME is a chain.
#[derive(Debug, Default)]
pub enum TargetRef<'a> {
    /// No target: the rule only counts.
    #[default]
    None,
    /// A standard verdict or an extension target, already built.
    Target { kind: TargetKind, span: Span, name_span: Span },
    /// A name that is no target ipt or iptables knows: a chain, if the table has one.
    Chain { name: Cow<'a, str>, span: Span, goto: bool },
    /// An extension target named without options that it needs (`-j MARK` alone): a jump to the
    /// chain of that name if the table has one, as iptables-restore takes it, else refused for
    /// the extension's problems.
    ChainOrRefused(Box<ChainOrRefused<'a>>),
}

/// See [`TargetRef::ChainOrRefused`].
#[derive(Debug)]
pub struct ChainOrRefused<'a> {
    pub name: Cow<'a, str>,
    /// `-j NAME`.
    pub span: Span,
    pub name_span: Span,
    /// What the extension found wrong, reported only where no chain takes the name.
    pub problems: Vec<LoadError>,
}

/// What a long or short option resolves to.
#[derive(Clone, Copy)]
enum Resolved {
    Base(char),
    Ext(usize, OptionSpec),
}

/// An extension loaded on the line, with the options given to it so far.
struct Loaded<'a> {
    kind: LoadedKind,
    /// `-m NAME`, `-j NAME`, or the first option of an implicit protocol match; then on to the
    /// last option given to it.
    span: Span,
    /// `-m NAME` (or the first option of an implicit protocol match).
    name_span: Span,
    opts: SmallVec<[Opt<'a>; 2]>,
    /// Arguments of a verbatim extension.
    verbatim: Vec<Box<str>>,
}

enum LoadedKind {
    Match(&'static MatchSpec),
    Target(&'static TargetSpec),
    VerbatimMatch(String),
    VerbatimTarget(String),
}

impl Loaded<'_> {
    /// An extension just named (`span`), with no option given yet.
    fn new(kind: LoadedKind, span: Span) -> Self {
        Loaded { kind, span, name_span: span, opts: SmallVec::new(), verbatim: Vec::new() }
    }

    fn options(&self) -> &'static [OptionSpec] {
        match self.kind {
            LoadedKind::Match(m) => m.options,
            LoadedKind::Target(t) => t.options,
            _ => &[],
        }
    }

    fn is_verbatim(&self) -> bool {
        matches!(self.kind, LoadedKind::VerbatimMatch(_) | LoadedKind::VerbatimTarget(_))
    }
}

/// The base options: long name, short letter, takes a value.
const BASE: &[(&str, char, BaseArg)] = &[
    ("append", 'A', BaseArg::Required),
    ("delete", 'D', BaseArg::Required),
    ("check", 'C', BaseArg::Required),
    ("insert", 'I', BaseArg::Required),
    ("replace", 'R', BaseArg::Required),
    ("list", 'L', BaseArg::Optional),
    ("list-rules", 'S', BaseArg::Optional),
    ("flush", 'F', BaseArg::Optional),
    ("zero", 'Z', BaseArg::Optional),
    ("new-chain", 'N', BaseArg::Required),
    ("delete-chain", 'X', BaseArg::Optional),
    ("rename-chain", 'E', BaseArg::Required),
    ("policy", 'P', BaseArg::Required),
    ("source", 's', BaseArg::Required),
    ("destination", 'd', BaseArg::Required),
    ("src", 's', BaseArg::Required),
    ("dst", 'd', BaseArg::Required),
    ("protocol", 'p', BaseArg::Required),
    ("in-interface", 'i', BaseArg::Required),
    ("jump", 'j', BaseArg::Required),
    ("table", 't', BaseArg::Required),
    ("match", 'm', BaseArg::Required),
    ("numeric", 'n', BaseArg::None),
    ("out-interface", 'o', BaseArg::Required),
    ("verbose", 'v', BaseArg::None),
    ("wait", 'w', BaseArg::Optional),
    ("wait-interval", 'W', BaseArg::Optional),
    ("exact", 'x', BaseArg::None),
    ("fragments", 'f', BaseArg::None),
    ("version", 'V', BaseArg::None),
    ("help", 'h', BaseArg::Optional),
    ("line-numbers", '0', BaseArg::None),
    ("modprobe", 'M', BaseArg::Required),
    ("set-counters", 'c', BaseArg::Required),
    ("goto", 'g', BaseArg::Required),
    ("ipv4", '4', BaseArg::None),
    ("ipv6", '6', BaseArg::None),
];

/// Base options whose attached value (`-s1.2.3.4`, `--source=1.2.3.4`) iptables 1.8.9 reads as
/// the whole word, which then fails as an address, protocol, interface or target.
const WHOLE_WORD: &str = "sdpiojg";

#[derive(Clone, Copy, PartialEq, Eq)]
enum BaseArg {
    None,
    Required,
    Optional,
}

/// The letter of a base option by its full long name (what `BASE` says, without walking it:
/// every long option of a line is looked up here first).
fn base_long(name: &str) -> Option<char> {
    let letter = match name {
        "append" => 'A',
        "delete" => 'D',
        "check" => 'C',
        "insert" => 'I',
        "replace" => 'R',
        "list" => 'L',
        "list-rules" => 'S',
        "flush" => 'F',
        "zero" => 'Z',
        "new-chain" => 'N',
        "delete-chain" => 'X',
        "rename-chain" => 'E',
        "policy" => 'P',
        "source" | "src" => 's',
        "destination" | "dst" => 'd',
        "protocol" => 'p',
        "in-interface" => 'i',
        "jump" => 'j',
        "table" => 't',
        "match" => 'm',
        "numeric" => 'n',
        "out-interface" => 'o',
        "verbose" => 'v',
        "wait" => 'w',
        "wait-interval" => 'W',
        "exact" => 'x',
        "fragments" => 'f',
        "version" => 'V',
        "help" => 'h',
        "line-numbers" => '0',
        "modprobe" => 'M',
        "set-counters" => 'c',
        "goto" => 'g',
        "ipv4" => '4',
        "ipv6" => '6',
        _ => return None,
    };
    Some(letter)
}

fn base_arg(letter: char) -> Option<BaseArg> {
    BASE.iter().find(|&&(_, c, _)| c == letter).map(|&(_, _, a)| a)
}

/// The base option's usual spelling, for messages.
fn base_name(letter: char) -> &'static str {
    match letter {
        'A' => "-A",
        'C' => "-C",
        'D' => "-D",
        'I' => "-I",
        'R' => "-R",
        'L' => "-L",
        'S' => "-S",
        'F' => "-F",
        'Z' => "-Z",
        'N' => "-N",
        'X' => "-X",
        'E' => "-E",
        'P' => "-P",
        's' => "-s",
        'd' => "-d",
        'p' => "-p",
        'i' => "-i",
        'o' => "-o",
        'j' => "-j",
        'g' => "-g",
        'm' => "-m",
        'f' => "-f",
        'c' => "-c",
        't' => "-t",
        'n' => "-n",
        'v' => "-v",
        'x' => "-x",
        'w' => "-w",
        'W' => "-W",
        'h' => "-h",
        'V' => "-V",
        'M' => "--modprobe",
        '4' => "-4",
        '6' => "-6",
        _ => "--line-numbers",
    }
}

/// An option's name for messages, built only when a message needs it.
#[derive(Clone, Copy)]
enum Label<'s> {
    Base(&'static str),
    Long(&'s str),
}

impl Label<'_> {
    fn text(self) -> String {
        match self {
            Label::Base(s) => s.to_string(),
            Label::Long(s) => format!("--{s}"),
        }
    }
}

/// Reads a command line, and hands it to `ready` if it would load. Problems go to `problems`.
pub fn parse_command<'a>(
    args: &[Arg<'a>],
    family: Family,
    problems: &mut Vec<LoadError>,
    ready: impl FnOnce(&mut Command<'a, '_>),
) {
    let mut parser = Parser {
        args,
        pos: 0,
        family,
        first_problem: problems.len(),
        problems,
        failed: false,
        refused_in_order: false,
        other_family: false,
        invert: None,
        command: None,
        chain: None,
        number: None,
        second: None,
        rule: RuleSpec::default(),
        seen: SmallVec::new(),
        loaded: SmallVec::new(),
        proto_text: None,
        proto_used: false,
        jump: None,
    };
    parser.run();
    // borrowed, not moved: the parser is large
    if let Some(mut command) = parser.finish() {
        ready(&mut command);
    }
}

struct Parser<'a, 'p> {
    args: &'p [Arg<'a>],
    pos: usize,
    family: Family,
    problems: &'p mut Vec<LoadError>,
    /// Where this line's problems start in `problems`.
    first_problem: usize,
    failed: bool,
    /// A word was refused as it was read, as iptables refuses it (not an address: see
    /// [`Parser::report_address`]).
    refused_in_order: bool,
    /// The line was read up to a `-4` or `-6` of the other family: iptables-restore ignores it.
    other_family: bool,
    /// A `!` waiting for its option.
    invert: Option<Span>,
    command: Option<(CommandKind, Span)>,
    chain: Option<Word<'a>>,
    number: Option<(u64, Span)>,
    second: Option<Word<'a>>,
    rule: RuleSpec<'a>,
    /// Base options given (letter, span), to refuse repeats.
    seen: SmallVec<[(char, Span); 8]>,
    /// Extensions loaded on this line, in order.
    loaded: SmallVec<[Loaded<'a>; 4]>,
    /// The text of `-p`, for the implicit protocol match.
    proto_text: Option<Cow<'a, str>>,
    proto_used: bool,
    /// `-j NAME` / `-g NAME`: name, option span, name span, goto.
    jump: Option<(Cow<'a, str>, Span, Span, bool)>,
}

impl<'a> Parser<'a, '_> {
    fn report(&mut self, problem: LoadError) {
        if problem_is_error(&problem) {
            self.failed = true;
            self.refused_in_order = true;
        }
        self.problems.push(problem);
    }

    /// A problem with `-s` or `-d`, whose addresses iptables reads only after every option.
    fn report_address(&mut self, problem: LoadError) {
        if problem_is_error(&problem) {
            self.failed = true;
        }
        self.problems.push(problem);
    }

    fn run(&mut self) {
        // a copy of the slice reference, so that an argument can be borrowed while `self` changes
        let args = self.args;
        while self.pos < args.len() {
            let arg = &args[self.pos];
            self.pos += 1;
            let text: &str = &arg.text;
            if text == "!" {
                if self.invert.is_some() {
                    self.report(LoadError::DoubleNegation { span: arg.span });
                }
                self.invert = Some(arg.span);
                continue;
            }
            // a verbatim extension takes every word up to the next base option, but a value only
            // after an option: iptables' options take one value at most, and refuses any other
            // word (`-m u32 stray --u32 ...`, checked on a kernel)
            if let Some(last) = self.loaded.last()
                && last.is_verbatim()
                && !self.is_base_option(text)
                && (text.starts_with('-') || last.verbatim.last().is_some_and(|w| w.len() > 1 && w.starts_with('-')))
            {
                let invert = self.invert.take().map(|_| "!".into());
                let last = self.loaded.last_mut().expect("checked above");
                last.verbatim.extend(invert);
                last.verbatim.push(text.into());
                last.span = last.span.to(arg.span);
                continue;
            }
            if let Some(long) = text.strip_prefix("--").filter(|l| !l.is_empty()) {
                // a byte loop: an option name is a few bytes, too short for `split_once`'s search
                let (name, inline) = match long.bytes().position(|b| b == b'=') {
                    Some(i) => (&long[..i], Some(&long[i + 1..])),
                    None => (long, None),
                };
                self.long_option(arg, name, inline);
            } else if text.len() > 1 && text.starts_with('-') {
                self.short_options(arg);
            } else {
                self.bad_argument(arg);
            }
        }
        if let Some(span) = self.invert.take()
            && !self.other_family
        {
            self.report(LoadError::DanglingNegation { span });
        }
    }

    /// Whether a word is `-m`, `-j`, `-s`, `--source`, ...: where a verbatim extension ends.
    fn is_base_option(&self, text: &str) -> bool {
        if let Some(long) = text.strip_prefix("--") {
            let name = long.split_once('=').map_or(long, |(n, _)| n);
            return base_long(name).is_some();
        }
        let mut chars = text.chars();
        chars.next() == Some('-') && chars.next().is_some_and(|c| base_arg(c).is_some())
    }

    fn bad_argument(&mut self, arg: &Arg<'_>) {
        if arg.text.starts_with('#') {
            // the rest of the line is the would-be comment: one problem, not one per word
            let end = self.args.last().map_or(arg.span, |a| a.span);
            self.pos = self.args.len();
            self.report(LoadError::EndOfLineComment { span: arg.span.to(end) });
            return;
        }
        let help = if arg.text.starts_with('[') {
            Some("rule counters `[packets:bytes]` go at the very start of the line".to_string())
        } else {
            None
        };
        self.report(LoadError::BadArgument { span: arg.span, arg: arg.text.to_string(), help });
    }

    fn long_option(&mut self, arg: &Arg<'a>, name: &str, inline: Option<&str>) {
        match self.resolve_long(name) {
            Some(Resolved::Base(letter)) => {
                let inline = if inline.is_some() && WHOLE_WORD.contains(letter) { Some(&*arg.text) } else { inline };
                self.base_option(letter, arg.span, inline)
            }
            Some(Resolved::Ext(slot, spec)) => self.ext_option(slot, spec, arg.span, inline),
            None => {
                if self.load_protocol_match(arg.span) {
                    // try again with the protocol's options merged
                    self.pos -= 1;
                    return;
                }
                let help = self.unknown_option_help(name);
                self.report(LoadError::UnknownOption { span: arg.span, option: format!("--{name}"), help });
                self.invert = None;
                // skip what looks like its value
                if inline.is_none()
                    && let Some(next) = self.args.get(self.pos)
                    && !next.text.starts_with('-')
                    && next.text != "!"
                {
                    self.pos += 1;
                }
            }
        }
    }

    fn unknown_option_help(&self, name: &str) -> Option<String> {
        // a near miss of an option that is in reach
        let in_reach =
            BASE.iter().map(|&(n, _, _)| n).chain(self.loaded.iter().flat_map(|l| l.options().iter().map(|o| o.name)));
        if let Some(close) = closest(name, in_reach) {
            return Some(format!("did you mean `--{close}`?"));
        }
        // an option of a module that is not loaded
        for spec in ext::MATCHES {
            if spec.options.iter().any(|o| o.name == name) {
                let proto_hint = match spec.name {
                    "tcp" | "udp" => format!(" (or `-p {}` before it)", spec.name),
                    "icmp" => " (or `-p icmp` before it)".to_string(),
                    "icmp6" => " (or `-p ipv6-icmp` before it)".to_string(),
                    _ => String::new(),
                };
                return Some(format!("`--{name}` belongs to `-m {}`: load it first{proto_hint}", spec.name));
            }
        }
        for spec in ext::TARGETS {
            if spec.options.iter().any(|o| o.name == name) {
                return Some(format!(
                    "`--{name}` belongs to the target `{}`: put it after `-j {}`",
                    spec.name, spec.name
                ));
            }
        }
        None
    }

    /// Resolves a long option as getopt_long does over the merged option list: an exact name
    /// first (base options, then the newest extension first), else a unique prefix.
    fn resolve_long(&self, name: &str) -> Option<Resolved> {
        if let Some(c) = base_long(name) {
            return Some(Resolved::Base(c));
        }
        for (slot, loaded) in self.loaded.iter().enumerate().rev() {
            if let Some(spec) = loaded.options().iter().find(|o| o.name == name) {
                return Some(Resolved::Ext(slot, *spec));
            }
        }
        // a prefix: ambiguous unless all candidates are the same option
        let mut found: Option<(Resolved, (usize, u8))> = None;
        let mut ambiguous = false;
        let mut consider = |r: Resolved, key: (usize, u8)| match found {
            None => found = Some((r, key)),
            Some((_, k)) if k == key => {}
            Some(_) => ambiguous = true,
        };
        for &(n, c, _) in BASE {
            if n.starts_with(name) {
                consider(Resolved::Base(c), (usize::MAX, c as u8));
            }
        }
        for (slot, loaded) in self.loaded.iter().enumerate().rev() {
            for spec in loaded.options().iter().filter(|o| o.name.starts_with(name)) {
                consider(Resolved::Ext(slot, *spec), (slot, spec.id));
            }
        }
        if ambiguous { None } else { found.map(|(r, _)| r) }
    }

    fn short_options(&mut self, arg: &Arg<'a>) {
        let text: &str = &arg.text;
        for (i, c) in text[1..].char_indices() {
            let Some(takes) = base_arg(c) else {
                if self.load_protocol_match(arg.span) {
                    self.pos -= 1;
                    return;
                }
                self.report(LoadError::UnknownOption { span: arg.span, option: format!("-{c}"), help: None });
                self.invert = None;
                return;
            };
            let rest = &text[1 + i + c.len_utf8()..];
            match takes {
                BaseArg::None => self.base_option(c, arg.span, None),
                _ if !rest.is_empty() => {
                    // `-ptcp`: the value is attached; iptables 1.8.9 reads the whole word as the
                    // value of -s, -d, -p, -i, -o, -j and -g (`argv[optind - 1]`)
                    let value = if WHOLE_WORD.contains(c) { text } else { rest };
                    self.base_option(c, arg.span, Some(value));
                    return;
                }
                _ => {
                    self.base_option(c, arg.span, None);
                    return;
                }
            }
        }
    }

    /// The value of an option: attached (`--opt=value`), or the next word, even a `!` (which
    /// negates only the options that [`Parser::take_value_negatable`] is asked to negate).
    fn take_value(&mut self, option: &'static str, span: Span, inline: Option<&str>) -> Option<Arg<'a>> {
        self.take_value_negatable(Label::Base(option), span, inline, false)
    }

    /// Like [`Parser::take_value`]; `negatable` says whether an old-style `!` may stand before
    /// the value.
    fn take_value_negatable(
        &mut self,
        option: Label<'_>,
        span: Span,
        inline: Option<&str>,
        negatable: bool,
    ) -> Option<Arg<'a>> {
        if let Some(v) = inline {
            return Some(Arg { text: v.to_string().into(), span, quoted: false });
        }
        let Some(next) = self.args.get(self.pos).cloned() else {
            self.report(LoadError::MissingValue { span, option: option.text() });
            return None;
        };
        self.pos += 1;
        // the old order, `-s ! X`, only where X is no option: iptables takes `-i ! -o eth0` as
        // the interface `!` (checked on a kernel), as it takes `!` after an option that was
        // never negatable (`-A ! INPUT`: the chain `!`, then a stray `INPUT`)
        if negatable
            && next.text == "!"
            && !next.quoted
            && self.args.get(self.pos).is_some_and(|value| value.quoted || !value.text.starts_with('-'))
        {
            self.report(LoadError::OldNegation { span: next.span, option: option.text() });
            self.rule.old_negations.push(next.span);
            if self.invert.is_some() {
                self.report(LoadError::DoubleNegation { span: next.span });
            }
            self.invert = Some(next.span);
            let value = self.args[self.pos].clone();
            self.pos += 1;
            return Some(value);
        }
        Some(next)
    }

    /// Whether an optional value follows (`-F [CHAIN]`): the next word does not start with `-`
    /// or `!` (`xs_has_arg`).
    fn optional_value(&mut self) -> Option<Arg<'a>> {
        let next = self.args.get(self.pos)?;
        if next.text.starts_with('-') || next.text.starts_with('!') {
            return None;
        }
        self.pos += 1;
        Some(next.clone())
    }

    fn base_option(&mut self, letter: char, span: Span, inline: Option<&str>) {
        let invert = self.invert.take();
        let name = base_name(letter);
        match letter {
            'A' | 'C' | 'D' | 'I' | 'R' | 'L' | 'S' | 'F' | 'Z' | 'N' | 'X' | 'E' | 'P' => {
                if let Some(bang) = invert {
                    self.report(LoadError::CannotInvert { span: bang.to(span), option: name.into() });
                }
                self.command(letter, span, inline);
            }
            'p' | 's' | 'd' | 'i' | 'o' | 'j' | 'g' | 'f' | 'c' => {
                if let Some(&(_, first)) = self
                    .seen
                    .iter()
                    .find(|(c, _)| *c == letter || (letter == 'g' && *c == 'j') || (letter == 'j' && *c == 'g'))
                {
                    self.report(LoadError::DuplicateOption { span, option: name.into(), first });
                    // skip the value
                    if letter != 'f' {
                        let _ = self.take_value(name, span, inline);
                    }
                    return;
                }
                self.seen.push((letter, span));
                self.rule.options.push((letter, span));
                if let Some(bang) = invert
                    && matches!(letter, 'j' | 'g' | 'c')
                {
                    self.report(LoadError::CannotInvert { span: bang.to(span), option: name.into() });
                }
                let negated = invert.is_some();
                let start = invert.unwrap_or(span);
                match letter {
                    'f' if self.family == Family::Ipv6 => self.report(LoadError::FragmentInIpv6 { span }),
                    'f' => self.rule.fragment = Some(Neg::new(negated, (), start.to(span))),
                    'c' => self.set_counters(span, inline),
                    _ => {
                        // the value may carry an old-style `!` (not -j and -g)
                        self.invert = invert;
                        let negatable = !matches!(letter, 'j' | 'g');
                        let Some(value) = self.take_value_negatable(Label::Base(name), span, inline, negatable) else {
                            return;
                        };
                        let negated = self.invert.take().is_some();
                        let whole = start.to(value.span);
                        self.rule_option(letter, negated, span, whole, value);
                    }
                }
            }
            'm' => {
                if let Some(bang) = invert {
                    self.report(LoadError::CannotInvert { span: bang.to(span), option: "-m".into() });
                }
                let Some(value) = self.take_value_negatable(Label::Base("-m"), span, inline, false) else { return };
                self.rule.options.push(('m', span));
                self.load_match(&value.text, span.to(value.span), false);
            }
            '4' | '6' => {
                let family = if letter == '4' { Family::Ipv4 } else { Family::Ipv6 };
                // iptables-restore reads the words in order and drops the line at the other
                // family's flag, unless a word before it was already refused; the extensions'
                // own checks and the addresses come after the words, so they never count
                // (checked on a kernel: `-A INPUT -6 -p bogus`, `-6 FORWARD` and `-A INPUT
                // -j MARK -6` load in iptables-restore, `-A INPUT -p bogus -6` and `stray -6`
                // do not)
                if family != self.family && !self.refused_in_order {
                    self.other_family = true;
                    self.problems.truncate(self.first_problem);
                    self.pos = self.args.len();
                }
            }
            't' => {
                let _ = self.take_value("-t", span, inline);
                self.report(LoadError::OptionNotAllowed {
                    span,
                    option: "-t".into(),
                    command: "iptables-restore (the table comes from `*table`)".into(),
                });
            }
            // checked on a kernel: the exit status is 0, and not even the rules before this
            // line in the table are loaded
            'h' | 'V' => self.report(LoadError::StopsRestore {
                span,
                option: name.into(),
                does: if letter == 'h' { "print its help" } else { "print its version" },
            }),
            'w' | 'W' => {
                self.report(LoadError::OptionNotAllowed {
                    span,
                    option: name.into(),
                    command: "iptables-restore".into(),
                });
            }
            'n' | 'x' | '0' => self.rule.options.push((letter, span)),
            'M' => {
                let _ = self.take_value("--modprobe", span, inline);
            }
            // -v: verbose, harmless
            _ => {}
        }
    }

    fn command(&mut self, letter: char, span: Span, inline: Option<&str>) {
        let kind = match letter {
            'A' => CommandKind::Append,
            'C' => CommandKind::Check,
            'D' => CommandKind::Delete,
            'I' => CommandKind::Insert,
            'R' => CommandKind::Replace,
            'L' | 'S' => CommandKind::List,
            'F' => CommandKind::Flush,
            'Z' => CommandKind::Zero,
            'N' => CommandKind::NewChain,
            'X' => CommandKind::DeleteChain,
            'E' => CommandKind::Rename,
            _ => CommandKind::Policy,
        };
        if let Some((_, first)) = self.command {
            self.report(LoadError::TwoCommands { span, first });
        }
        self.command = Some((kind, span));
        let flag = kind.flag();
        let word = |a: Arg<'a>| Word { text: a.text, span: a.span };
        match kind {
            CommandKind::Append | CommandKind::Check | CommandKind::NewChain => {
                self.chain = self.take_value(flag, span, inline).map(word);
            }
            CommandKind::Insert | CommandKind::Delete | CommandKind::Replace => {
                self.chain = self.take_value(flag, span, inline).map(word);
                if let Some(n) = self.optional_value() {
                    match crate::model::num::uint(&n.text, 1, i32::MAX as u64) {
                        Some(v) => self.number = Some((v, n.span)),
                        None => self.report(LoadError::BadValue {
                            span: n.span,
                            option: flag.into(),
                            value: n.text.to_string(),
                            expected: "a rule number from 1".into(),
                        }),
                    }
                } else if kind == CommandKind::Replace {
                    self.report(LoadError::MissingValue { span, option: "-R CHAIN NUMBER".into() });
                }
            }
            CommandKind::List | CommandKind::Flush | CommandKind::Zero | CommandKind::DeleteChain => {
                let chain = match inline {
                    Some(v) => Some(Word { text: Cow::Owned(v.to_string()), span }),
                    None => self.optional_value().map(word),
                };
                self.chain = chain;
                if matches!(kind, CommandKind::Zero | CommandKind::List)
                    && self.chain.is_some()
                    && let Some(n) = self.optional_value()
                {
                    self.number = crate::model::num::uint(&n.text, 1, i32::MAX as u64).map(|v| (v, n.span));
                }
            }
            CommandKind::Policy | CommandKind::Rename => {
                self.chain = self.take_value(flag, span, inline).map(word);
                match self.optional_value() {
                    Some(v) => self.second = Some(word(v)),
                    None => self.report(LoadError::MissingValue {
                        span,
                        option: if kind == CommandKind::Policy {
                            "-P CHAIN POLICY".into()
                        } else {
                            "-E OLD NEW".into()
                        },
                    }),
                }
            }
        }
    }

    fn set_counters(&mut self, span: Span, inline: Option<&str>) {
        let Some(first) = self.take_value("-c", span, inline) else { return };
        let (packets, bytes) = match first.text.split_once(',') {
            Some((p, b)) => (p.to_string(), b.to_string()),
            None => match self.optional_value() {
                Some(b) => (first.text.to_string(), b.text.to_string()),
                None => {
                    self.report(LoadError::MissingValue { span, option: "-c PACKETS BYTES".into() });
                    return;
                }
            },
        };
        match (packets.parse::<u64>(), bytes.parse::<u64>()) {
            (Ok(packets), Ok(bytes)) => self.rule.counters = Some(Counters { packets, bytes }),
            _ => self.report(LoadError::BadValue {
                span: first.span,
                option: "-c".into(),
                value: format!("{packets} {bytes}"),
                expected: "two counters, packets and bytes".into(),
            }),
        }
    }

    fn rule_option(&mut self, letter: char, negated: bool, option_span: Span, whole: Span, value: Arg<'a>) {
        let text: &str = &value.text;
        match letter {
            'p' => {
                let lower: Cow<'a, str> = if text.bytes().any(|b| b.is_ascii_uppercase()) {
                    Cow::Owned(text.to_ascii_lowercase())
                } else {
                    value.text.clone()
                };
                match Proto::parse_number(&lower) {
                    Some(0) if negated => {
                        self.report(LoadError::NeverMatchesProtocol { span: whole, proto: lower.to_string() })
                    }
                    // IPv4 keeps no trace of `-p all`; ip6tables flags it, which makes the rule
                    // conditional for the kernel's chain walk (see check::graph)
                    Some(0) if self.family == Family::Ipv4 => {}
                    Some(n) => self.rule.proto = Some(Neg::new(negated, Proto(n), whole)),
                    None => self.report(LoadError::BadValue {
                        span: value.span,
                        option: "-p".into(),
                        value: text.to_string(),
                        expected:
                            "a protocol name (`tcp`, `udp`, `icmp`, ... or a name in /etc/protocols) or a number 0-255"
                                .into(),
                    }),
                }
                self.proto_text = Some(lower);
            }
            's' | 'd' => {
                let mut nets = SmallVec::new();
                let mut offset = value.span.start as usize;
                for part in text.split(',') {
                    let part_span = Span::new(offset, offset + part.len());
                    offset += part.len() + 1;
                    match Net::parse(part) {
                        Ok(Some(net)) => {
                            if let Some(f) = net.family()
                                && f != self.family
                            {
                                let help = Some(format!(
                                    "{} loads this file as {}: {}",
                                    self.family.tool(),
                                    self.family,
                                    if self.family == Family::Ipv4 {
                                        "IPv6 rules go in a file for ip6tables-restore"
                                    } else {
                                        "IPv4 rules go in a file for iptables-restore"
                                    }
                                ));
                                self.report_address(LoadError::WrongFamilyAddress {
                                    span: part_span,
                                    value: part.to_string(),
                                    family: f,
                                    table_family: self.family,
                                    help,
                                });
                            }
                            if let Net::Name(name) = &net {
                                self.report_address(LoadError::HostName { span: part_span, name: name.to_string() });
                            }
                            nets.push(net);
                        }
                        Ok(None) => nets.push(Net::any(self.family)),
                        Err(_) => self.report_address(LoadError::BadValue {
                            span: part_span,
                            option: if letter == 's' { "-s".into() } else { "-d".into() },
                            value: part.to_string(),
                            expected: format!("an {} address with an optional `/prefix` or `/mask`", self.family),
                        }),
                    }
                }
                if nets.len() > 1 && negated {
                    self.report_address(LoadError::NegatedAddressList { span: whole });
                }
                if letter == 's' {
                    self.rule.src = nets;
                    self.rule.src_neg = Some((negated, whole));
                } else {
                    self.rule.dst = nets;
                    self.rule.dst_neg = Some((negated, whole));
                }
            }
            'i' | 'o' => match Iface::parse(text) {
                Ok(iface) => {
                    let slot = if letter == 'i' { &mut self.rule.in_iface } else { &mut self.rule.out_iface };
                    // `-i +` matches every interface and iptables-save leaves it out, but the
                    // kernel keeps it: the rule is not unconditional (see check::graph)
                    *slot = Some(Neg::new(negated, iface, whole));
                }
                Err(e) => self.report(LoadError::BadValue {
                    span: value.span,
                    option: format!("-{letter}"),
                    value: text.to_string(),
                    expected: match e {
                        crate::model::iface::IfaceError::Empty => {
                            "an interface name (an empty one matches nothing useful)".into()
                        }
                        crate::model::iface::IfaceError::TooLong(n) => {
                            format!("an interface name of at most 15 characters (this one has {n})")
                        }
                    },
                }),
            },
            'j' | 'g' => self.jump(value.text.clone(), option_span, value.span, letter == 'g'),
            _ => {}
        }
    }

    fn jump(&mut self, name: Cow<'a, str>, option_span: Span, name_span: Span, goto: bool) {
        let span = option_span.to(name_span);
        if name.is_empty() || name.len() >= 29 {
            self.report(LoadError::BadChainName {
                span: name_span,
                name: name.to_string(),
                why: "a target name has 1 to 28 characters",
            });
            return;
        }
        self.jump = Some((name.clone(), span, name_span, goto));
        if goto {
            return;
        }
        let name: &str = &name;
        let standard = match name {
            "ACCEPT" => Some(TargetKind::Accept),
            "DROP" => Some(TargetKind::Drop),
            "RETURN" => Some(TargetKind::Return),
            "QUEUE" => Some(TargetKind::Queue),
            _ => None,
        };
        if let Some(kind) = standard {
            self.rule.target = TargetRef::Target { kind, span, name_span };
            return;
        }
        if let Some(spec) = ext::find_target(name) {
            if !spec.availability.has(self.family) {
                self.other_familys_target(name, span, name_span, spec.availability);
                return;
            }
            self.loaded.push(Loaded::new(LoadedKind::Target(spec), span));
            return;
        }
        if let Some(availability) = ext::known_target(name) {
            if !availability.has(self.family) {
                self.other_familys_target(name, span, name_span, availability);
                return;
            }
            self.problems.push(LoadError::UnmodelledTarget { span: name_span, name: name.to_string() });
            self.loaded.push(Loaded::new(LoadedKind::VerbatimTarget(name.to_string()), span));
        }
        // otherwise a chain name, resolved by the table
    }

    /// `-j NAME` of the other family's target: a chain of that name takes it, if the table has
    /// one (checked on a kernel: `:ULOG` then `-j ULOG` loads in ip6tables), else it is refused.
    fn other_familys_target(&mut self, name: &str, span: Span, name_span: Span, availability: ext::Availability) {
        let problem = self.wrong_family(name, name_span, availability);
        self.rule.target = TargetRef::ChainOrRefused(Box::new(ChainOrRefused {
            name: Cow::Owned(name.to_string()),
            span,
            name_span,
            problems: vec![problem],
        }));
    }

    fn wrong_family_extension(&mut self, name: &str, span: Span, availability: ext::Availability) {
        let problem = self.wrong_family(name, span, availability);
        self.report(problem);
    }

    fn wrong_family(&self, name: &str, span: Span, availability: ext::Availability) -> LoadError {
        let family = if availability == ext::Availability::Ipv4 { "IPv4" } else { "IPv6" };
        let help = match name {
            "icmp" => Some("use `-p ipv6-icmp -m icmp6 --icmpv6-type TYPE` in ip6tables".to_string()),
            "icmp6" => Some("use `-p icmp -m icmp --icmp-type TYPE` in iptables".to_string()),
            "ttl" => Some("ip6tables calls it `-m hl`".to_string()),
            "hl" => Some("iptables calls it `-m ttl`".to_string()),
            "TTL" => Some("ip6tables calls it `-j HL`".to_string()),
            "HL" => Some("iptables calls it `-j TTL`".to_string()),
            _ => None,
        };
        LoadError::WrongFamilyExtension { span, name: name.to_string(), family, table_family: self.family, help }
    }

    /// `-m NAME`: a modelled module, a verbatim one, or an error.
    fn load_match(&mut self, name: &str, span: Span, implicit: bool) -> bool {
        if let Some(spec) = ext::find_match_for(name, self.family) {
            if !spec.availability.has(self.family) {
                if !implicit {
                    self.wrong_family_extension(spec.name, span, spec.availability);
                }
                return false;
            }
            self.loaded.push(Loaded::new(LoadedKind::Match(spec), span));
            return true;
        }
        match ext::known_match(name) {
            // a module ipt does not model (an implicit protocol match too): kept verbatim
            Some(availability) if availability.has(self.family) => {
                self.problems.push(LoadError::UnmodelledMatch { span, name: name.to_string() });
                self.loaded.push(Loaded::new(LoadedKind::VerbatimMatch(name.to_string()), span));
                true
            }
            _ if implicit => false,
            Some(availability) => {
                self.wrong_family_extension(name, span, availability);
                false
            }
            None => {
                let help = if name.chars().any(|c| c.is_ascii_uppercase()) && ext::known_target(name).is_some() {
                    Some(format!("`{name}` is a target: use `-j {name}`"))
                } else {
                    Some(
                        "iptables 1.8.9 has no such module; extension packages (xtables-addons) provide some others"
                            .to_string(),
                    )
                };
                self.report(LoadError::UnknownMatch { span, name: name.to_string(), help });
                false
            }
        }
    }

    /// iptables' `load_proto`: on an unknown option after `-p PROTO`, load the protocol's match
    /// once and read the option again.
    fn load_protocol_match(&mut self, span: Span) -> bool {
        if self.proto_used {
            return false;
        }
        let Some(text) = self.proto_text.clone() else { return false };
        let text = text.into_owned();
        self.proto_used = true;
        let name = match crate::model::num::uint(&text, 0, 255) {
            Some(n) => match Proto(n as u8).module_name() {
                Some(name) => name.to_string(),
                None => return false,
            },
            None => text,
        };
        self.load_match(&name, span, true)
    }

    fn ext_option(&mut self, slot: usize, spec: OptionSpec, span: Span, inline: Option<&str>) {
        let invert = self.invert.take();
        if let Some(first) = self.loaded[slot].opts.iter().find(|o| o.id == spec.id).map(|o| o.span)
            && !spec.multi
        {
            self.report(LoadError::DuplicateOption { span, option: format!("--{}", spec.name), first });
        }
        let mut values: smallvec::SmallVec<[Arg<'a>; 2]> = smallvec::SmallVec::new();
        self.invert = invert;
        match spec.takes {
            Takes::Nothing => {
                if inline.is_some() {
                    self.report(LoadError::BadValue {
                        span,
                        option: format!("--{}", spec.name),
                        value: inline.unwrap_or_default().to_string(),
                        expected: "no value: this option is a flag".into(),
                    });
                }
            }
            Takes::Value => values.extend(self.take_value_negatable(Label::Long(spec.name), span, inline, spec.invert)),
            Takes::TwoValues => {
                values.extend(self.take_value_negatable(Label::Long(spec.name), span, inline, spec.invert));
                match self.optional_value() {
                    Some(v) => values.push(v),
                    None => self.report(LoadError::MissingValue {
                        span,
                        option: format!("--{} (it takes two values)", spec.name),
                    }),
                }
            }
        }
        let invert = self.invert.take();
        if invert.is_some() && !spec.invert {
            self.report(LoadError::CannotInvert { span, option: format!("--{}", spec.name) });
        }
        let start = invert.map_or(span, |b| b.to(span));
        let end = values.last().map_or(span, |v| v.span);
        // extensions see `-p all` as no protocol, as iptables' do
        let proto = self.rule.proto.as_ref().filter(|p| p.value != Proto::ALL).map(|p| (p.value.0, p.invert));
        let loaded = &mut self.loaded[slot];
        loaded.span = loaded.span.to(end);
        loaded.opts.push(Opt {
            id: spec.id,
            name: spec.name,
            invert: invert.is_some(),
            values,
            name_span: span,
            span: start.to(end),
            proto,
        });
    }

    /// Builds every loaded extension and the command.
    fn finish(&mut self) -> Option<Command<'a, '_>> {
        if self.other_family {
            return None;
        }
        let final_proto = self.rule.proto.clone().filter(|p| p.value != Proto::ALL);
        let Parser { loaded, problems, rule, failed, jump, family, .. } = self;
        for ext in loaded.iter_mut() {
            let mut build = Build {
                opts: &ext.opts,
                span: ext.span,
                name_span: ext.name_span,
                proto: final_proto.clone(),
                family: *family,
                problems,
            };
            let before = build.problems.len();
            match &mut ext.kind {
                LoadedKind::Match(spec) => {
                    let kind = (spec.build)(&mut build);
                    let errors = problems[before..].iter().any(problem_is_error);
                    match kind {
                        Some(kind) if !errors => rule.matches.push(Match { span: ext.span, kind }),
                        _ => *failed = true,
                    }
                }
                LoadedKind::Target(spec) => {
                    let kind = (spec.build)(&mut build);
                    let errors = problems[before..].iter().any(problem_is_error);
                    let (name, span, name_span, _) = jump.clone().unwrap_or_default();
                    match kind {
                        Some(kind) if !errors => {
                            rule.target = TargetRef::Target { kind, span: span.to(ext.span), name_span }
                        }
                        // a chain of that name, if the table has one, takes `-j NAME` alone
                        // without asking the extension (checked on a kernel: `:MARK` then
                        // `-j MARK` loads)
                        _ if ext.opts.is_empty() => {
                            rule.target = TargetRef::ChainOrRefused(Box::new(ChainOrRefused {
                                name,
                                span,
                                name_span,
                                problems: problems.drain(before..).collect(),
                            }))
                        }
                        _ => *failed = true,
                    }
                }
                LoadedKind::VerbatimMatch(name) => rule.matches.push(Match {
                    span: ext.span,
                    kind: MatchKind::Verbatim(Box::new(Verbatim {
                        name: std::mem::take(name).into(),
                        args: std::mem::take(&mut ext.verbatim),
                    })),
                }),
                LoadedKind::VerbatimTarget(name) => {
                    let (_, span, name_span, _) = jump.clone().unwrap_or_default();
                    rule.target = TargetRef::Target {
                        kind: TargetKind::Verbatim(Box::new(Verbatim {
                            name: std::mem::take(name).into(),
                            args: std::mem::take(&mut ext.verbatim),
                        })),
                        span: span.to(ext.span),
                        name_span,
                    };
                }
            }
        }
        if let (TargetRef::None, Some((name, span, _, goto))) = (&self.rule.target, self.jump.take()) {
            self.rule.target = TargetRef::Chain { name, span, goto };
        }
        let Some((kind, span)) = self.command else {
            let span = self
                .args
                .first()
                .map_or(Span::default(), |a| a.span)
                .to(self.args.last().map_or(Span::default(), |a| a.span));
            self.report(LoadError::NoCommand { span });
            return None;
        };
        for &(letter, opt_span) in &self.rule.options {
            if matches!(letter, 'n' | 'x' | '0') && kind != CommandKind::List {
                self.problems.push(LoadError::OptionNotAllowed {
                    span: opt_span,
                    option: base_name(letter).into(),
                    command: kind.flag().into(),
                });
                self.failed = true;
            }
        }
        self.rule.options.retain(|(c, _)| !matches!(c, 'n' | 'x' | '0'));
        if !kind.takes_rule() {
            for &(letter, opt_span) in &self.rule.options {
                let allowed = letter == 'c' && kind == CommandKind::Policy;
                if !allowed {
                    self.problems.push(LoadError::OptionNotAllowed {
                        span: opt_span,
                        option: base_name(letter).into(),
                        command: kind.flag().into(),
                    });
                    self.failed = true;
                }
            }
        } else if matches!(kind, CommandKind::Delete | CommandKind::Check)
            && let Some(&(_, opt_span)) = self.rule.options.iter().find(|(c, _)| *c == 'c')
        {
            self.problems.push(LoadError::OptionNotAllowed {
                span: opt_span,
                option: "-c".into(),
                command: kind.flag().into(),
            });
            self.failed = true;
        }
        if self.failed {
            // refused whatever chains the table holds: what the target's extension found wrong
            // too (`-j TTL --ttl-set 5` in ip6tables: an IPv4 target, then an unknown option)
            if let TargetRef::ChainOrRefused(refused) = &mut self.rule.target {
                self.problems.append(&mut refused.problems);
            }
            return None;
        }
        Some(Command {
            kind,
            span,
            chain: self.chain.take(),
            number: self.number,
            second: self.second.take(),
            rule: &mut self.rule,
        })
    }
}

/// Whether a problem stops the file from loading.
pub fn problem_is_error(problem: &LoadError) -> bool {
    use miette::Diagnostic;
    problem.severity().is_none_or(|s| s == miette::Severity::Error)
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
fn closest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (name.len() / 4).clamp(1, 3);
    candidates.map(|c| (edit_distance(name, c), c)).filter(|&(d, _)| d <= limit).min_by_key(|&(d, _)| d).map(|(_, c)| c)
}

/// Edit distance by characters, a swap of two neighbours counting as one edit (the optimal
/// string alignment distance): `dprot` is one edit from `dport`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_long_names_are_those_of_the_table() {
        for &(name, letter, _) in BASE {
            assert_eq!(base_long(name), Some(letter), "--{name}");
        }
        assert_eq!(base_long("dport"), None);
        assert_eq!(base_long("sourc"), None);
    }

    #[test]
    fn near_misses_are_suggested() {
        let names = ["destination-port", "dport", "source-port"];
        assert_eq!(closest("destination-prot", names.into_iter()), Some("destination-port"));
        assert_eq!(closest("dprot", names.into_iter()), Some("dport"));
        assert_eq!(closest("zzz", names.into_iter()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
