//! Interface names: `-i eth0`, `-o br-+` (a trailing `+` matches every name with that prefix).

use std::fmt;

use serde::{Serialize, Serializer};

/// An interface name or prefix, at most 15 bytes (the kernel's `IFNAMSIZ` less the NUL).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Iface {
    len: u8,
    bytes: [u8; Iface::MAX],
}

/// Why an interface name is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfaceError {
    Empty,
    TooLong(usize),
}

impl Iface {
    /// The longest name the kernel takes.
    pub const MAX: usize = 15;

    pub fn parse(text: &str) -> Result<Iface, IfaceError> {
        if text.is_empty() {
            return Err(IfaceError::Empty);
        }
        if text.len() > Iface::MAX {
            return Err(IfaceError::TooLong(text.len()));
        }
        let mut bytes = [0; Iface::MAX];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(Iface { len: text.len() as u8, bytes })
    }

    pub fn as_str(&self) -> &str {
        // built from a &str, cut at its own length
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }

    /// `eth+` matches every interface whose name starts with `eth`; `+` alone matches all.
    pub fn is_wildcard(&self) -> bool {
        self.as_str().ends_with('+')
    }

    /// Whether this pattern matches the interface `name`, as the kernel compares them.
    pub fn matches(&self, name: &str) -> bool {
        match self.as_str().strip_suffix('+') {
            Some(prefix) => name.starts_with(prefix),
            None => name == self.as_str(),
        }
    }
}

impl fmt::Display for Iface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Iface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl Serialize for Iface {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
