use serde::Serialize;

/// Packet and byte counters, `[packets:bytes]` in a dump.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}
