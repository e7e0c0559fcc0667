//! The sessions the guard keeps: `SSH_CONNECTION` (set by sshd: `CLIENT_IP CLIENT_PORT
//! SERVER_IP SERVER_PORT`) and `--keep ADDR:PORT` (a client address and a local port).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// One connection to keep alive: a client and the local port it reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub client: IpAddr,
    /// The client's port, when known (`SSH_CONNECTION` gives it; `--keep` does not).
    pub client_port: Option<u16>,
    /// This host's address the client reaches, when known (`SSH_CONNECTION` gives it).
    pub server: Option<IpAddr>,
    pub server_port: u16,
    /// Where the session comes from, for messages.
    pub origin: SessionOrigin,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOrigin {
    SshConnection,
    Keep(String),
}

impl fmt::Display for SessionOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionOrigin::SshConnection => f.write_str("SSH_CONNECTION"),
            SessionOrigin::Keep(text) => write!(f, "--keep {text}"),
        }
    }
}

/// Why a session cannot be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq, Eq)]
pub enum SessionError {
    #[error("`--keep {text}`: {why}")]
    #[diagnostic(
        code(ipt::apply::bad_keep),
        help("give the client's address and the local port: `--keep 198.51.100.7:22`, `--keep [2001:db8::7]:22`")
    )]
    Keep { text: String, why: String },

    #[error("SSH_CONNECTION=`{text}`: {why}")]
    #[diagnostic(
        code(ipt::apply::bad_ssh_connection),
        help(
            "sshd sets it to `CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT`; unset it, or give the session with `--keep CLIENT:PORT`"
        )
    )]
    SshConnection { text: String, why: String },
}

impl Session {
    /// `ADDR:PORT`, or `[ADDR6]:PORT` for IPv6.
    pub fn parse_keep(text: &str) -> Result<Session, SessionError> {
        let bad = |why: &str| SessionError::Keep { text: text.to_string(), why: why.to_string() };
        let t = text.trim();
        let addr: SocketAddr = match t.parse() {
            Ok(a) => a,
            Err(_) => {
                match t.parse::<IpAddr>() {
                    Ok(IpAddr::V4(_)) => return Err(bad("no port: expected ADDR:PORT")),
                    Ok(IpAddr::V6(_)) => {
                        return Err(bad("no port (an IPv6 address goes in brackets: `[2001:db8::7]:22`)"));
                    }
                    Err(_) => {}
                }
                let Some((host, port)) = t.rsplit_once(':') else {
                    return Err(bad("no port: expected ADDR:PORT"));
                };
                let host = host.trim_start_matches('[').trim_end_matches(']');
                if host.parse::<IpAddr>().is_err() {
                    let why = if host.contains(':') && !t.starts_with('[') {
                        "an IPv6 address goes in brackets: `[2001:db8::7]:22`".to_string()
                    } else {
                        format!("`{host}` is not an IP address (names are not resolved)")
                    };
                    return Err(bad(&why));
                }
                if port.parse::<u16>().is_err() {
                    return Err(bad(&format!("`{port}` is not a port (0-65535)")));
                }
                return Err(bad("expected ADDR:PORT"));
            }
        };
        if addr.port() == 0 {
            return Err(bad("port 0 is not a port a client can reach"));
        }
        Ok(Session {
            client: unmapped(addr.ip()),
            client_port: None,
            server: None,
            server_port: addr.port(),
            origin: SessionOrigin::Keep(t.to_string()),
        })
    }

    /// The value of `SSH_CONNECTION`.
    pub fn parse_ssh_connection(text: &str) -> Result<Session, SessionError> {
        let bad = |why: String| SessionError::SshConnection { text: text.to_string(), why };
        let words: Vec<&str> = text.split_whitespace().collect();
        let [client, cport, server, sport] = words[..] else {
            return Err(bad(format!("{} words, expected 4", words.len())));
        };
        let addr = |w: &str| w.parse::<IpAddr>().map(unmapped).map_err(|_| bad(format!("`{w}` is not an IP address")));
        let port = |w: &str| match w.parse::<u16>() {
            Ok(p) if p > 0 => Ok(p),
            _ => Err(bad(format!("`{w}` is not a port"))),
        };
        let (client, server) = (addr(client)?, addr(server)?);
        if client.is_ipv4() != server.is_ipv4() {
            return Err(bad("the client and server addresses are not of one family".into()));
        }
        Ok(Session {
            client,
            client_port: Some(port(cport)?),
            server: Some(server),
            server_port: port(sport)?,
            origin: SessionOrigin::SshConnection,
        })
    }
}

/// sshd on a dual-stack socket reports IPv4 clients as `::ffff:a.b.c.d`; the kernel sees them
/// as IPv4 packets.
fn unmapped(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    }
}
