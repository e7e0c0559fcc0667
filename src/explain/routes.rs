//! Routes, for the way a packet leaves: `ip route` (and `ip -6 route`) output, or `route -n`.
//! The kernel picks the longest prefix, then the lowest metric.

use std::net::IpAddr;

/// One route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: IpAddr,
    pub prefix: u8,
    pub dev: Option<String>,
    pub via: Option<IpAddr>,
    /// The preferred source address (`src`), the address of `dev` that local packets take.
    pub src: Option<IpAddr>,
    pub metric: u32,
    /// A `local` route: the destination is this host.
    pub local: bool,
    /// `unicast` (the default), or what the route does instead.
    pub kind: RouteKind,
}

/// The type of a route (`ip route`'s first word, when it has one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RouteKind {
    #[default]
    Unicast,
    Local,
    Broadcast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
}

impl RouteKind {
    /// The route's name when the routing decision drops what takes it.
    pub fn drops(self) -> Option<&'static str> {
        match self {
            RouteKind::Blackhole => Some("blackhole"),
            RouteKind::Unreachable => Some("unreachable"),
            RouteKind::Prohibit => Some("prohibit"),
            _ => None,
        }
    }
}

/// A line that is not a route.
#[derive(Debug, PartialEq, Eq)]
pub struct BadRoute {
    pub line: usize,
    pub text: String,
}

/// Reads `ip route` or `route -n` output. Lines that are headers (`Kernel IP routing table`,
/// `Destination Gateway ...`) or blank are skipped; any other line that is not a route is an
/// error, so that a wrong file is not read as no routes.
pub fn parse(text: &str) -> Result<Vec<Route>, BadRoute> {
    let mut routes = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("Kernel ") || line.starts_with("Destination ") {
            continue;
        }
        let route = parse_route_n(line).or_else(|| parse_ip_route(line));
        match route {
            Some(r) => routes.push(r),
            None => return Err(BadRoute { line: i + 1, text: line.to_string() }),
        }
    }
    Ok(routes)
}

/// `default via 198.51.100.2 dev eth1 metric 100`, `192.0.2.0/24 dev eth0 proto kernel scope
/// link src 192.0.2.1`, `local 192.0.2.1 dev eth0 ...`, `unreachable 10.0.0.0/8`.
fn parse_ip_route(line: &str) -> Option<Route> {
    let mut words = line.split_whitespace().peekable();
    let mut kind = RouteKind::Unicast;
    if let Some(&word) = words.peek() {
        let found = match word {
            "unicast" => Some(RouteKind::Unicast),
            "local" => Some(RouteKind::Local),
            "broadcast" => Some(RouteKind::Broadcast),
            "unreachable" => Some(RouteKind::Unreachable),
            "blackhole" => Some(RouteKind::Blackhole),
            "prohibit" => Some(RouteKind::Prohibit),
            "throw" => Some(RouteKind::Throw),
            _ => None,
        };
        if let Some(k) = found {
            kind = k;
            words.next();
        }
    }
    let local = kind == RouteKind::Local;
    let (dst, prefix) = match words.next()? {
        "default" => (None, 0),
        net => {
            let (addr, prefix) = match net.split_once('/') {
                Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
                None => (net.parse::<IpAddr>().ok()?, None),
            };
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = prefix.unwrap_or(max);
            if prefix > max {
                return None;
            }
            (Some(addr), prefix)
        }
    };
    let mut route =
        Route { dst: IpAddr::from([0, 0, 0, 0]), prefix, dev: None, via: None, src: None, metric: 0, local, kind };
    let mut family_v6 = None;
    while let Some(key) = words.next() {
        let value = words.next();
        match key {
            "via" => {
                let via: IpAddr = value?.parse().ok()?;
                family_v6 = Some(via.is_ipv6());
                route.via = Some(via);
            }
            "dev" => route.dev = Some(value?.to_string()),
            "src" => route.src = Some(value?.parse().ok()?),
            "metric" => route.metric = value?.parse().ok()?,
            // proto, scope, pref, table, mtu, linkdown, onlink, ...: not needed
            _ => {}
        }
    }
    route.dst = match dst {
        Some(addr) => addr,
        None if family_v6 == Some(true) => IpAddr::from([0u16; 8]),
        None => IpAddr::from([0, 0, 0, 0]),
    };
    Some(route)
}

/// `route -n`: `0.0.0.0  198.51.100.2  0.0.0.0  UG  100  0  0 eth1`.
fn parse_route_n(line: &str) -> Option<Route> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() < 8 {
        return None;
    }
    let dst: std::net::Ipv4Addr = words[0].parse().ok()?;
    let gateway: std::net::Ipv4Addr = words[1].parse().ok()?;
    let mask: std::net::Ipv4Addr = words[2].parse().ok()?;
    if !words[3].chars().all(|c| c.is_ascii_uppercase() || c == '!') {
        return None;
    }
    let mask = u32::from(mask);
    if mask.leading_ones() + mask.trailing_zeros() != 32 {
        return None;
    }
    Some(Route {
        dst: IpAddr::V4(dst),
        prefix: mask.leading_ones() as u8,
        dev: Some(words[7].to_string()),
        via: (!gateway.is_unspecified()).then_some(IpAddr::V4(gateway)),
        src: None,
        metric: words[4].parse().ok()?,
        local: false,
        kind: RouteKind::Unicast,
    })
}

fn bits(addr: IpAddr) -> (u128, u32) {
    match addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// Whether `addr` is in `net/prefix` (same family).
pub fn contains(net: IpAddr, prefix: u8, addr: IpAddr) -> bool {
    let ((n, width), (a, width_a)) = (bits(net), bits(addr));
    if width != width_a {
        return false;
    }
    let shift = width - u32::from(prefix);
    prefix == 0 || (n >> shift) == (a >> shift)
}

/// The route the kernel takes to `dst`: the longest prefix, then the lowest metric.
pub fn lookup(routes: &[Route], dst: IpAddr) -> Option<&Route> {
    routes.iter().filter(|r| contains(r.dst, r.prefix, dst)).min_by_key(|r| (std::cmp::Reverse(r.prefix), r.metric))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP_ROUTE: &str = "default via 198.51.100.2 dev eth1 metric 100\n\
        default via 198.51.100.9 dev eth2 metric 50\n\
        192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.1\n\
        198.51.100.0/24 dev eth1 proto kernel scope link src 198.51.100.1\n\
        203.0.113.0/25 via 192.0.2.7 dev eth0\n";

    fn dev(routes: &[Route], dst: &str) -> Option<String> {
        lookup(routes, dst.parse().unwrap()).and_then(|r| r.dev.clone())
    }

    #[test]
    fn the_longest_prefix_wins_then_the_lowest_metric() {
        let routes = parse(IP_ROUTE).unwrap();
        assert_eq!(dev(&routes, "192.0.2.9").as_deref(), Some("eth0"));
        assert_eq!(dev(&routes, "203.0.113.5").as_deref(), Some("eth0"));
        assert_eq!(dev(&routes, "203.0.113.200").as_deref(), Some("eth2"));
        assert_eq!(lookup(&routes, "192.0.2.9".parse().unwrap()).unwrap().src, Some("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn reads_route_n_and_ipv6() {
        let text = "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n\
                    0.0.0.0         198.51.100.2    0.0.0.0         UG    100    0        0 eth1\n\
                    192.0.2.0       0.0.0.0         255.255.255.0   U     0      0        0 eth0\n";
        let routes = parse(text).unwrap();
        assert_eq!(dev(&routes, "192.0.2.3").as_deref(), Some("eth0"));
        assert_eq!(dev(&routes, "8.8.8.8").as_deref(), Some("eth1"));
        let v6 = parse("2001:db8:1::/64 dev eth0 proto kernel metric 256 pref medium\ndefault via 2001:db8:2::2 dev eth1 metric 1024\n").unwrap();
        assert_eq!(dev(&v6, "2001:db8:1::5").as_deref(), Some("eth0"));
        assert_eq!(dev(&v6, "2001:db8:3::1").as_deref(), Some("eth1"));
        // an IPv4 default route does not route IPv6
        assert_eq!(dev(&routes, "2001:db8:3::1"), None);
    }

    #[test]
    fn a_line_that_is_no_route_is_an_error() {
        assert_eq!(parse("hello world\n"), Err(BadRoute { line: 1, text: "hello world".into() }));
    }
}
