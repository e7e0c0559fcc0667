//! `-m sctp` (libxt_sctp): ports and chunk types of SCTP packets. Loaded implicitly by
//! `-p sctp --dport 80`; the kernel takes it only on rules with `-p sctp`.

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec, Takes};
use super::{Availability, MatchSpec};
use crate::model::port::PortError;
use crate::model::{MatchKind, Neg, PortRange, Proto};

/// The chunk types iptables names, with the flags each may carry (`-` where none), in
/// iptables' order (flags are recorded against a chunk's position in this table).
const CHUNKS: [(&str, u8, &str); 22] = [
    ("DATA", 0, "----IUBE"),
    ("INIT", 1, "--------"),
    ("INIT_ACK", 2, "--------"),
    ("SACK", 3, "--------"),
    ("HEARTBEAT", 4, "--------"),
    ("HEARTBEAT_ACK", 5, "--------"),
    ("ABORT", 6, "-------T"),
    ("SHUTDOWN", 7, "--------"),
    ("SHUTDOWN_ACK", 8, "--------"),
    ("ERROR", 9, "--------"),
    ("COOKIE_ECHO", 10, "--------"),
    ("COOKIE_ACK", 11, "--------"),
    ("ECN_ECNE", 12, "--------"),
    ("ECN_CWR", 13, "--------"),
    ("SHUTDOWN_COMPLETE", 14, "-------T"),
    ("I_DATA", 64, "----IUBE"),
    ("RE_CONFIG", 130, "--------"),
    ("PAD", 132, "--------"),
    ("ASCONF", 193, "--------"),
    ("ASCONF_ACK", 128, "--------"),
    ("FORWARD_TSN", 192, "--------"),
    ("I_FORWARD_TSN", 194, "--------"),
];

/// The most chunk types that may carry flag tests (`XT_NUM_SCTP_FLAGS`).
pub const MAX_FLAGGED: usize = 4;

/// How the listed chunk types must appear in the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChunkMatch {
    /// `any`: at least one of them.
    Any,
    /// `all`: all of them.
    All,
    /// `only`: no other.
    Only,
}

/// A flag test on one chunk type, as the kernel holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ChunkFlags {
    /// The chunk's position in iptables' table, which iptables records instead of the chunk
    /// type: the same for types 0-14; for `I_DATA` (15) the test applies to no real chunk.
    pub chunk: u8,
    pub flags: u8,
    pub mask: u8,
}

/// `--chunk-types any|all|only TYPES`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SctpChunks {
    pub match_type: ChunkMatch,
    /// Bit N of the 256 is chunk type N.
    pub map: [u32; 8],
    pub flags: Vec<ChunkFlags>,
}

impl SctpChunks {
    pub fn contains(&self, chunk: u8) -> bool {
        self.map[chunk as usize / 32] & (1 << (chunk % 32)) != 0
    }
}

/// `-m sctp`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Sctp {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<Neg<PortRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<Neg<PortRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<Neg<SctpChunks>>,
}

const SPORT: u8 = 0;
const DPORT: u8 = 1;
const CHUNK_TYPES: u8 = 2;

pub static SPEC: MatchSpec = MatchSpec {
    name: "sctp",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("source-port", SPORT).invertible(),
        OptionSpec::value("sport", SPORT).invertible(),
        OptionSpec::value("destination-port", DPORT).invertible(),
        OptionSpec::value("dport", DPORT).invertible(),
        OptionSpec { name: "chunk-types", id: CHUNK_TYPES, takes: Takes::TwoValues, invert: true, multi: false },
    ],
    build,
};

fn parse_ports(b: &mut Build<'_, '_>, opt: &Opt<'_>) -> Option<PortRange> {
    match PortRange::parse(opt.value(), "sctp") {
        Ok(r) => Some(r),
        Err(PortError::Unknown(name)) => {
            b.bad_value(opt, format!("a port, a range `lo:hi`, or an sctp service name (`{name}` is none of these)"));
            None
        }
        Err(PortError::Reversed(lo, hi)) => {
            b.bad_value(opt, format!("a port range low:high (`{lo}` is above `{hi}`)"));
            None
        }
    }
}

/// `parse_sctp_chunk`: `ALL`, `NONE`, or `NAME[:FLAGS]` separated by `,` (names in any case;
/// a flag in capitals must be set, in small letters clear).
fn parse_chunks(match_type: ChunkMatch, text: &str) -> Result<SctpChunks, String> {
    let mut chunks = SctpChunks { match_type, map: [0; 8], flags: Vec::new() };
    if text.eq_ignore_ascii_case("ALL") {
        chunks.map = [u32::MAX; 8];
        return Ok(chunks);
    }
    if text.eq_ignore_ascii_case("NONE") {
        return Ok(chunks);
    }
    for token in text.split(',').filter(|t| !t.is_empty()) {
        let (name, flags) = match token.split_once(':') {
            Some((n, f)) => (n, Some(f)),
            None => (token, None),
        };
        let Some(index) = CHUNKS.iter().position(|(n, _, _)| n.eq_ignore_ascii_case(name)) else {
            return Err(format!("chunk types such as DATA, INIT, SACK, ABORT (`{name}` is none)"));
        };
        let (_, chunk_type, valid) = CHUNKS[index];
        chunks.map[chunk_type as usize / 32] |= 1 << (chunk_type % 32);
        for c in flags.unwrap_or("").chars() {
            let Some(pos) = valid.find(c.to_ascii_uppercase()) else {
                let allowed: String = valid.chars().filter(|&f| f != '-').collect();
                return Err(format!(
                    "flags of {} ({}; `{c}` is none)",
                    CHUNKS[index].0,
                    if allowed.is_empty() { "it has none".to_string() } else { allowed }
                ));
            };
            let bit = 1u8 << (7 - pos);
            let entry = match chunks.flags.iter().position(|f| f.chunk as usize == index) {
                Some(i) => &mut chunks.flags[i],
                None => {
                    if chunks.flags.len() == MAX_FLAGGED {
                        return Err(format!("flag tests on at most {MAX_FLAGGED} chunk types"));
                    }
                    chunks.flags.push(ChunkFlags { chunk: index as u8, flags: 0, mask: 0 });
                    chunks.flags.last_mut().expect("just pushed")
                }
            };
            entry.mask |= bit;
            if c.is_ascii_uppercase() {
                entry.flags |= bit;
            }
        }
    }
    Ok(chunks)
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut m = Sctp::default();
    let mut ok = true;
    for opt in b.opts {
        match opt.id {
            SPORT | DPORT => match parse_ports(b, opt) {
                Some(r) => {
                    let slot = if opt.id == SPORT { &mut m.sport } else { &mut m.dport };
                    *slot = Some(b.neg(opt, r));
                }
                None => ok = false,
            },
            _ => {
                let match_type = match opt.value().to_ascii_uppercase().as_str() {
                    "ANY" => ChunkMatch::Any,
                    "ALL" => ChunkMatch::All,
                    "ONLY" => ChunkMatch::Only,
                    _ => {
                        b.bad_value(opt, "`any`, `all` or `only`");
                        ok = false;
                        continue;
                    }
                };
                match parse_chunks(match_type, opt.value2()) {
                    Ok(chunks) => m.chunks = Some(b.neg(opt, chunks)),
                    Err(expected) => {
                        b.bad_value_at(opt, opt.value2_span(), opt.value2(), expected);
                        ok = false;
                    }
                }
            }
        }
    }
    ok.then(|| MatchKind::Sctp(Box::new(m)))
}

fn save_ports(out: &mut String, name: &str, ports: &Option<Neg<PortRange>>) {
    if let Some(p) = ports {
        super::save::save_opt_value(out, p.invert, name, p.value);
    }
}

impl Sctp {
    /// The protocol the kernel requires on the rule.
    pub const PROTO: Proto = Proto::SCTP;

    pub fn save(&self, out: &mut String) {
        save_ports(out, "sport", &self.sport);
        save_ports(out, "dport", &self.dport);
        let Some(c) = &self.chunks else { return };
        if c.invert {
            out.push_str(" !");
        }
        let chunks = &c.value;
        out.push_str(match chunks.match_type {
            ChunkMatch::Any => " --chunk-types any",
            ChunkMatch::All => " --chunk-types all",
            ChunkMatch::Only => " --chunk-types only",
        });
        if chunks.map == [0; 8] {
            out.push_str(" NONE");
            return;
        }
        if chunks.map == [u32::MAX; 8] {
            out.push_str(" ALL");
            return;
        }
        let mut first = true;
        for t in 0..=255u8 {
            if !chunks.contains(t) {
                continue;
            }
            out.push(if first { ' ' } else { ',' });
            first = false;
            if let Some(&(name, _, _)) = CHUNKS.iter().find(|(_, ct, _)| *ct == t) {
                out.push_str(name);
            }
            for f in chunks.flags.iter().filter(|f| f.chunk == t && f.mask != 0) {
                // printed with the flag letters of the chunk type, as iptables does
                let valid = CHUNKS.get(t as usize).map_or("--------", |c| c.2);
                out.push(':');
                for bit in (0..8).rev() {
                    if f.mask & (1 << bit) != 0 {
                        let letter = valid.as_bytes()[7 - bit] as char;
                        out.push(if f.flags & (1 << bit) != 0 { letter } else { letter.to_ascii_lowercase() });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn saves_ports_and_chunks() {
        assert_eq!(v4("-p sctp --dport 80"), "-p sctp -m sctp --dport 80");
        assert_eq!(v4("-p sctp -m sctp --sport 0:65535"), "-p sctp -m sctp --sport 0:65535");
        assert_eq!(
            v4("-p sctp -m sctp ! --sport 1024: ! --dport :1023"),
            "-p sctp -m sctp ! --sport 1024:65535 ! --dport 0:1023"
        );
        assert_eq!(
            v4("-p sctp -m sctp ! --chunk-types ALL data:IuBe,abort:t"),
            "-p sctp -m sctp ! --chunk-types all DATA:IuBe,ABORT:t"
        );
        assert_eq!(v4("-p sctp -m sctp --chunk-types only none"), "-p sctp -m sctp --chunk-types only NONE");
        assert_eq!(v4("-p sctp -m sctp --chunk-types only all"), "-p sctp -m sctp --chunk-types only ALL");
        assert_eq!(
            v4("-p sctp -m sctp --chunk-types any I_DATA:I,ASCONF,asconf_ack,FORWARD_TSN,i_forward_tsn,pad,re_config"),
            "-p sctp -m sctp --chunk-types any I_DATA,ASCONF_ACK,RE_CONFIG,PAD,FORWARD_TSN,ASCONF,I_FORWARD_TSN"
        );
        assert_eq!(v4("-p sctp -m sctp --chunk-types any DATA:-"), "-p sctp -m sctp --chunk-types any DATA:-");
        assert_eq!(
            v4("-p sctp -m sctp --chunk-types any DATA:Ii,,SACK"),
            "-p sctp -m sctp --chunk-types any DATA:I,SACK"
        );
        assert_eq!(
            v4("-p sctp -m sctp --chunk-types any DATA:I,ABORT:T,SHUTDOWN_COMPLETE:t,I_DATA:E,DATA:U"),
            "-p sctp -m sctp --chunk-types any DATA:IU,ABORT:T,SHUTDOWN_COMPLETE:t,I_DATA"
        );
        assert_eq!(
            v6("-p sctp -m sctp --dport 5060 --chunk-types all INIT,COOKIE_ECHO"),
            "-p sctp -m sctp --dport 5060 --chunk-types all INIT,COOKIE_ECHO"
        );
        same(Family::Ipv4, "-p sctp -m sctp --chunk-types any DATA:", "-p sctp -m sctp --chunk-types ANY data");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-p sctp -m sctp --dport 80:22").contains("`80` is above `22`"));
        assert!(err4("-p sctp -m sctp --chunk-types some DATA").contains("`any`, `all` or `only`"));
        assert!(err4("-p sctp -m sctp --chunk-types any FOO").contains("`FOO` is none"));
        assert!(err4("-p sctp -m sctp --chunk-types any DATA:x").contains("`x` is none"));
        assert!(err4("-p sctp -m sctp --chunk-types any").contains("two values"));
        assert!(
            err4("-p sctp -m sctp --chunk-types any DATA:I,ABORT:T,SHUTDOWN_COMPLETE:t,I_DATA:E,INIT:-")
                .contains("at most 4 chunk types")
        );
        assert!(err4("-p sctp -m sctp --sport 1 --source-port 2").contains("given twice"));
    }
}
