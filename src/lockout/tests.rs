use super::*;
use crate::load::{LoadOptions, load};

/// The guard's report on `fixtures/guard/NAME`, for one session.
fn report(name: &str, session: &str) -> Report {
    let path = format!("{}/fixtures/guard/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    let source = Source::new(format!("fixtures/guard/{name}"), text);
    let loaded = load(&source, &LoadOptions::default());
    assert!(loaded.loads(), "{name} loads");
    let session = if session.contains(' ') {
        Session::parse_ssh_connection(session).expect("session")
    } else {
        Session::parse_keep(session).expect("session")
    };
    check(&[Input { source: &source, ruleset: &loaded.ruleset }], &[session], &Host::default())
}

fn messages(r: &Report) -> Vec<String> {
    r.threats.iter().map(|t| t.to_string()).collect()
}

const SSH: &str = "198.51.100.7 50022 192.0.2.1 22";

#[test]
fn a_dump_that_drops_port_22_from_the_client_is_refused_naming_the_line() {
    let r = report("drops-client.rules", SSH);
    assert_eq!(
        messages(&r),
        [
            "fixtures/guard/drops-client.rules:6: -A INPUT -s 198.51.100.7/32 -p tcp -m tcp --dport 22 -j DROP\n  \
             the session's packets in (SSH_CONNECTION) would be dropped: 198.51.100.7 port 50022 -> 192.0.2.1 port 22, flags ACK, state established",
            "fixtures/guard/drops-client.rules:6: -A INPUT -s 198.51.100.7/32 -p tcp -m tcp --dport 22 -j DROP\n  \
             a new connection from the same client (SSH_CONNECTION) would be dropped: 198.51.100.7 port 40000 -> 192.0.2.1 port 22, flags SYN, state new",
        ]
    );
    assert!(r.refuses());
}

#[test]
fn a_dump_that_accepts_established_and_new_ssh_passes() {
    let r = report("keeps-ssh.rules", SSH);
    assert_eq!(messages(&r), Vec::<String>::new());
    assert!(!r.refuses());
    // another client is kept as well: the rule on port 22 is for anyone
    assert!(!report("keeps-ssh.rules", "203.0.113.9:22").refuses());
}

#[test]
fn a_dump_that_accepts_only_established_refuses_the_new_connection() {
    let r = report("established-only.rules", SSH);
    assert_eq!(
        messages(&r),
        ["fixtures/guard/established-only.rules:2: the policy of filter INPUT\n  \
          a new connection from the same client (SSH_CONNECTION) would be dropped: 198.51.100.7 port 40000 -> 192.0.2.1 port 22, flags SYN, state new"]
    );
}

#[test]
fn replies_dropped_on_output_are_refused() {
    let r = report("output-drop.rules", SSH);
    assert_eq!(
        messages(&r),
        ["fixtures/guard/output-drop.rules:4: the policy of filter OUTPUT\n  \
          the session's replies out (SSH_CONNECTION) would be dropped: 192.0.2.1 port 22 -> 198.51.100.7 port 50022, flags ACK, state established"]
    );
}

#[test]
fn a_drop_that_depends_on_an_undecided_test_is_refused_with_its_condition() {
    let r = report("ssh-limit.rules", SSH);
    assert_eq!(
        messages(&r),
        ["fixtures/guard/ssh-limit.rules:2: the policy of filter INPUT\n  \
          a new connection from the same client (SSH_CONNECTION) may be dropped: 198.51.100.7 port 40000 -> 192.0.2.1 port 22, flags SYN, state new\n  \
          when line 6 (`-p tcp -m tcp --dport 22 -m limit --limit 10/min -j ACCEPT`) does not match"]
    );
}

#[test]
fn ipv6_sessions_are_checked_against_the_ipv6_dump() {
    assert!(!report("keeps-ssh-v6.rules", "2001:db8::7 50022 2001:db8::1 22").refuses());
    assert!(!report("keeps-ssh-v6.rules", "[2001:db8::7]:22").refuses());
    let r = report("keeps-ssh-v6.rules", "[2001:db8:1::7]:22");
    assert_eq!(
        messages(&r),
        ["fixtures/guard/keeps-ssh-v6.rules:3: the policy of filter INPUT\n  \
          a new connection from the same client (--keep [2001:db8:1::7]:22) would be dropped: 2001:db8:1::7 port 40001 -> this host port 22, flags SYN, state new"]
    );
    // an IPv4 session is not filtered by an IPv6 dump
    let r = report("keeps-ssh-v6.rules", SSH);
    assert!(!r.refuses());
    assert_eq!(r.notes, ["SSH_CONNECTION: no IPv4 table is applied, so the new ruleset does not filter its packets"]);
}

#[test]
fn an_ipv4_client_on_a_dual_stack_socket_is_ipv4() {
    let s = Session::parse_ssh_connection("::ffff:198.51.100.7 50022 ::ffff:192.0.2.1 22").unwrap();
    assert_eq!(
        (s.client.to_string(), s.server.map(|a| a.to_string())),
        ("198.51.100.7".into(), Some("192.0.2.1".into()))
    );
}

#[test]
fn keep_parsing_errors_are_clear() {
    let why = |text: &str| match Session::parse_keep(text) {
        Err(e) => e.to_string(),
        Ok(s) => panic!("{text} parsed as {s:?}"),
    };
    assert_eq!(why("198.51.100.7"), "`--keep 198.51.100.7`: no port: expected ADDR:PORT");
    assert_eq!(why("198.51.100.7:ssh"), "`--keep 198.51.100.7:ssh`: `ssh` is not a port (0-65535)");
    assert_eq!(why("198.51.100.7:70000"), "`--keep 198.51.100.7:70000`: `70000` is not a port (0-65535)");
    assert_eq!(why("198.51.100.7:0"), "`--keep 198.51.100.7:0`: port 0 is not a port a client can reach");
    assert_eq!(
        why("host.example:22"),
        "`--keep host.example:22`: `host.example` is not an IP address (names are not resolved)"
    );
    assert_eq!(
        why("2001:db8::7:22"),
        "`--keep 2001:db8::7:22`: no port (an IPv6 address goes in brackets: `[2001:db8::7]:22`)"
    );
    assert_eq!(
        why("2001:db8::7::22"),
        "`--keep 2001:db8::7::22`: an IPv6 address goes in brackets: `[2001:db8::7]:22`"
    );
    let ok = Session::parse_keep("[2001:db8::7]:22").unwrap();
    assert_eq!((ok.client.to_string(), ok.server_port, ok.client_port), ("2001:db8::7".into(), 22, None));
}

#[test]
fn ssh_connection_parsing_errors_are_clear() {
    let why = |text: &str| Session::parse_ssh_connection(text).unwrap_err().to_string();
    assert_eq!(
        why("198.51.100.7 50022 192.0.2.1"),
        "SSH_CONNECTION=`198.51.100.7 50022 192.0.2.1`: 3 words, expected 4"
    );
    assert_eq!(why("198.51.100.7 x 192.0.2.1 22"), "SSH_CONNECTION=`198.51.100.7 x 192.0.2.1 22`: `x` is not a port");
    assert_eq!(
        why("198.51.100.7 50022 2001:db8::1 22"),
        "SSH_CONNECTION=`198.51.100.7 50022 2001:db8::1 22`: the client and server addresses are not of one family"
    );
}
