//! Values of options as iptables 1.8.9 reads them: one-rule dumps, each option of a list given
//! each value of another, loaded by ipt and by the kernel. Numbers (limits, C's bases, signs,
//! ranges with empty parts), protocol names, and strings (lengths at the kernel's limits,
//! quotes, escapes, blanks, UTF-8, names of services, targets and chains): reading values is
//! where a typed reader most easily parts from iptables.

use std::io::Write;
use std::process::{Command, Stdio};

use ipt::load::{LoadOptions, load};
use ipt::model::Family;
use ipt::source::Source;

use crate::netns::{builtin_chains, require_kernel};

/// Values put where a template says `{}`.
const VALUES: &[&str] = &[
    "0",
    "00",
    "1",
    "8",
    "08",
    "010",
    "0x",
    "0x10",
    "0X10",
    "0x1g",
    "+1",
    "-1",
    "-0",
    "15",
    "16",
    "31",
    "32",
    "33",
    "64",
    "65",
    "127",
    "128",
    "129",
    "255",
    "256",
    "65535",
    "65536",
    "2147483648",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "1e3",
    "1.5",
    "1,2",
    "\" 1\"",
    "\"1 \"",
    "\"\"",
    ":",
    ":5",
    "5:",
    "5:5",
    "5::",
    "5:6:7",
    "6:5",
    "5-6",
    ",",
];

/// (family, table, chain, rule with `{}` for the value).
const TEMPLATES: &[(Family, &str, &str, &str)] = &[
    (Family::Ipv4, "filter", "INPUT", "-p tcp -m tcp --dport {}"),
    (Family::Ipv4, "filter", "INPUT", "-p tcp -m tcp --sport 100:{}"),
    (Family::Ipv4, "filter", "INPUT", "-p udp -m multiport --dports {},80"),
    (Family::Ipv4, "filter", "INPUT", "-s 10.0.0.{}/32"),
    (Family::Ipv4, "filter", "INPUT", "-s 10.0.0.0/{}"),
    (Family::Ipv4, "filter", "INPUT", "-d 10.{}"),
    (Family::Ipv4, "filter", "INPUT", "-s 10.0.0.0/255.255.{}.0"),
    (Family::Ipv4, "filter", "INPUT", "-m mark --mark 1/{}"),
    (Family::Ipv4, "filter", "INPUT", "-m length --length {}"),
    (Family::Ipv4, "filter", "INPUT", "-m ttl --ttl-gt {}"),
    (Family::Ipv4, "filter", "INPUT", "-m tos --tos {}"),
    (Family::Ipv4, "filter", "INPUT", "-m dscp --dscp {}"),
    (Family::Ipv4, "filter", "INPUT", "-m limit --limit {}/sec"),
    (Family::Ipv4, "filter", "INPUT", "-m limit --limit 5/sec --limit-burst {}"),
    (Family::Ipv4, "filter", "INPUT", "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name x --hashlimit-srcmask {}"),
    (Family::Ipv4, "filter", "INPUT", "-p tcp -m connlimit --connlimit-upto 2 --connlimit-mask {}"),
    (Family::Ipv4, "filter", "INPUT", "-m recent --rcheck --hitcount {} --name x"),
    (Family::Ipv4, "filter", "INPUT", "-m statistic --mode nth --every 10 --packet {}"),
    (Family::Ipv4, "filter", "INPUT", "-m statistic --mode random --probability {}"),
    (Family::Ipv4, "filter", "INPUT", "-p icmp -m icmp --icmp-type {}"),
    (Family::Ipv4, "filter", "INPUT", "-p icmp -m icmp --icmp-type 3/{}"),
    (Family::Ipv4, "filter", "INPUT", "-p tcp -m tcpmss --mss {}"),
    (Family::Ipv4, "filter", "INPUT", "-j LOG --log-level {}"),
    (Family::Ipv4, "filter", "INPUT", "-j NFLOG --nflog-group {}"),
    (Family::Ipv4, "filter", "INPUT", "-j NFQUEUE --queue-balance 1:{}"),
    (Family::Ipv4, "filter", "INPUT", "-m conntrack --ctexpire {}"),
    (Family::Ipv4, "filter", "OUTPUT", "-m owner --uid-owner {}"),
    (Family::Ipv4, "filter", "INPUT", "-m iprange --src-range 1.2.3.{}-1.2.3.9"),
    (Family::Ipv4, "filter", "INPUT", "-m connbytes --connbytes 1:{} --connbytes-dir both --connbytes-mode bytes"),
    (Family::Ipv4, "filter", "INPUT", "-m time --timestart {}:00"),
    (Family::Ipv4, "mangle", "PREROUTING", "-j MARK --set-xmark 1/{}"),
    (Family::Ipv4, "mangle", "PREROUTING", "-j CONNMARK --restore-mark --mask {}"),
    (Family::Ipv4, "mangle", "PREROUTING", "-j TTL --ttl-inc {}"),
    (Family::Ipv4, "mangle", "PREROUTING", "-j TOS --set-tos {}"),
    (Family::Ipv4, "mangle", "FORWARD", "-p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss {}"),
    (Family::Ipv4, "mangle", "PREROUTING", "-j CLASSIFY --set-class 1:{}"),
    (Family::Ipv4, "raw", "PREROUTING", "-j CT --zone {}"),
    (Family::Ipv4, "nat", "PREROUTING", "-p tcp -j DNAT --to-destination 1.2.3.4:10-{}"),
    (Family::Ipv4, "nat", "POSTROUTING", "-p tcp -j SNAT --to-source 1.2.3.{}"),
    (Family::Ipv4, "nat", "PREROUTING", "-p tcp -j REDIRECT --to-ports {}"),
    (Family::Ipv4, "nat", "PREROUTING", "-j NETMAP --to 10.0.0.0/{}"),
    (Family::Ipv6, "filter", "INPUT", "-m hl --hl-eq {}"),
    (Family::Ipv6, "filter", "INPUT", "-s 2001:db8::/{}"),
    (Family::Ipv6, "filter", "INPUT", "-p ipv6-icmp -m icmp6 --icmpv6-type {}"),
    (Family::Ipv6, "filter", "INPUT", "-m frag --fragid {}"),
    (Family::Ipv6, "filter", "INPUT", "-m rt --rt-segsleft {}"),
    (Family::Ipv6, "mangle", "PREROUTING", "-j HL --hl-set {}"),
    (Family::Ipv6, "nat", "PREROUTING", "-p tcp -j DNAT --to-destination [2001:db8::1]:{}"),
];

/// Protocol names, which `-p` lowercases and `--ctproto` takes as written, both then looked up
/// exactly in `/etc/protocols` (netbase's, whose aliases are upper case: `tcp`'s is `TCP`).
const PROTOCOL_NAMES: &[&str] = &[
    "tcp",
    "TCP",
    "Tcp",
    "ospf",
    "ospfigp",
    "OSPFIGP",
    "ipsec-esp",
    "IPSEC-ESP",
    "ip-encap",
    "IPv6-ICMP",
    "ipv6-icmp",
    "all",
    "ALL",
    "icmpv6",
    "ICMPv6",
    "mh",
    "ipv6-mh",
    "hopopt",
    "HOPOPT",
    "cphb",
    "CPHB",
    "0x6",
    "06",
    "256",
];

const PROTOCOL_TEMPLATES: &[(Family, &str, &str, &str)] = &[
    (Family::Ipv4, "filter", "INPUT", "-p {}"),
    (Family::Ipv4, "filter", "INPUT", "-m conntrack --ctproto {}"),
    (Family::Ipv6, "filter", "INPUT", "-p {}"),
    (Family::Ipv4, "filter", "INPUT", "-m policy --dir in --pol ipsec --proto {}"),
];

/// Strings: lengths around the kernel's limits (15, 28, 29, 31, 63, 127, 255 bytes), then
/// words that mean something elsewhere.
const STRINGS: &[&str] = &[
    "a",
    "aaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "\"\"",
    "!",
    "+",
    "a+",
    "*",
    "\"a b\"",
    "\"a\\\"b\"",
    "\"a\\\\b\"",
    "-x",
    "--x",
    "#a",
    "é",
    "éééééééé",
    "a.b",
    "a/b",
    ".",
    "..",
    "a:b",
    "a,b",
    "ACCEPT",
    "INPUT",
    "0",
    "-",
    "'a'",
    "eth0",
    "lo+",
    "+a",
    "ALL",
    "NONE",
    "SYN,ACK",
    "NEW,",
    "NEW,,INVALID",
    "1/s",
    "1/x",
    "http",
    "HTTP",
    "www",
    "ssh:http",
    "http:ssh",
    "ftp-data",
    "nonexist",
    "10.0.0.1",
    "::1",
    "localhost",
    "localhost/24",
];

const STRING_TEMPLATES: &[(Family, &str, &str, &str)] = &[
    (Family::Ipv4, "filter", "INPUT", "-i {}"),
    (Family::Ipv4, "filter", "FORWARD", "! -o {}"),
    (Family::Ipv4, "filter", "INPUT", "-m comment --comment {}"),
    (Family::Ipv4, "filter", "INPUT", "-j LOG --log-prefix {}"),
    (Family::Ipv4, "filter", "INPUT", "-j NFLOG --nflog-prefix {}"),
    (Family::Ipv4, "filter", "INPUT", "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name {}"),
    (Family::Ipv4, "filter", "INPUT", "-m recent --set --name {}"),
    (Family::Ipv4, "filter", "FORWARD", "-m physdev --physdev-in {}"),
    (Family::Ipv4, "filter", "INPUT", "-m string --algo bm --string {}"),
    (Family::Ipv4, "filter", "INPUT", "-m mac --mac-source {}"),
    (Family::Ipv4, "filter", "INPUT", "-m conntrack --ctstate {}"),
    (Family::Ipv4, "filter", "INPUT", "-p tcp -m tcp --tcp-flags {} SYN"),
    (Family::Ipv4, "filter", "INPUT", "-p tcp -m tcp --dport {}"),
    (Family::Ipv4, "filter", "INPUT", "-p tcp -m multiport --dports {},22"),
    (Family::Ipv4, "filter", "INPUT", "-m limit --limit {}"),
    (Family::Ipv4, "filter", "INPUT", "-m addrtype --dst-type {}"),
    (Family::Ipv4, "filter", "INPUT", "-m time --weekdays {}"),
    (Family::Ipv4, "filter", "INPUT", "-j REJECT --reject-with {}"),
    (Family::Ipv4, "filter", "INPUT", "-j IDLETIMER --timeout 10 --label {}"),
    (Family::Ipv4, "mangle", "PREROUTING", "-j TEE --gateway {}"),
    (Family::Ipv4, "filter", "INPUT", "-m conntrack --ctorigsrc {}"),
    (Family::Ipv4, "filter", "INPUT", "-m policy --dir in --pol ipsec --mode tunnel --tunnel-src {}"),
    (Family::Ipv4, "mangle", "PREROUTING", "-j DSCP --set-dscp-class {}"),
    (Family::Ipv4, "raw", "PREROUTING", "-j CT --ctevents {}"),
    (Family::Ipv6, "filter", "INPUT", "-m ipv6header --header {}"),
    (Family::Ipv6, "filter", "INPUT", "-j REJECT --reject-with {}"),
];

fn dump(table: &str, chain: &str, rule: &str) -> String {
    let mut text = format!("*{table}\n");
    for builtin in builtin_chains(table) {
        text.push_str(&format!(":{builtin} ACCEPT [0:0]\n"));
    }
    text.push_str(&format!("-A {chain} {rule}\nCOMMIT\n"));
    text
}

/// Loads each dump on its own, all in one private network namespace (each replaces the one
/// table it has): whether it loaded, and what the restore tool said.
fn kernel_verdicts(dumps: &[(Family, String)]) -> Vec<(bool, String)> {
    let dir = std::env::temp_dir().join(format!("ipt-values-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut script = String::from("export XTABLES_LOCKFILE=$(mktemp)\n");
    for (i, (family, text)) in dumps.iter().enumerate() {
        std::fs::write(dir.join(format!("{i}.rules")), text).expect("dump written");
        let tool = if *family == Family::Ipv4 { "iptables-legacy-restore" } else { "ip6tables-legacy-restore" };
        let at = dir.join(i.to_string()).display().to_string();
        script.push_str(&format!("{tool} < {at}.rules 2> {at}.err; echo $? > {at}.rc\n"));
    }
    script.push_str("rm -f \"$XTABLES_LOCKFILE\"\n");
    let mut child = Command::new("timeout")
        .args(["300", "unshare", "-n", "sh"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("unshare runs");
    child.stdin.take().expect("piped").write_all(script.as_bytes()).expect("script written");
    assert!(child.wait().expect("unshare finishes").success(), "the namespace's shell failed");
    let verdicts = (0..dumps.len())
        .map(|i| {
            // (iptables may cut a name in the middle of a UTF-8 character when it quotes it)
            let read = |ext: &str| {
                let bytes = std::fs::read(dir.join(format!("{i}.{ext}"))).expect("result written");
                String::from_utf8_lossy(&bytes).into_owned()
            };
            (read("rc").trim() == "0", read("err"))
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    verdicts
}

#[test]
fn option_values_load_where_the_kernel_loads_them() {
    require_kernel();
    let mut cases = Vec::new();
    for (templates, values) in [(TEMPLATES, VALUES), (PROTOCOL_TEMPLATES, PROTOCOL_NAMES), (STRING_TEMPLATES, STRINGS)]
    {
        for &(family, table, chain, template) in templates {
            for value in values {
                cases.push((family, dump(table, chain, &template.replace("{}", value))));
            }
        }
    }
    let verdicts = kernel_verdicts(&cases);
    let (mut failures, mut loads) = (Vec::new(), 0);
    for ((family, text), (kernel, said)) in cases.iter().zip(verdicts) {
        let loaded =
            load(&Source::new("case", text.clone()), &LoadOptions { family: Some(*family), ..Default::default() });
        loads += usize::from(kernel);
        // `10.0.0.0x` is a host name to ipt, which resolves none (the machine that loads it
        // may), and an extension this kernel lacks is one ipt says depends on the host
        let host_name = loaded.diagnostics.iter().any(|d| d.code().ends_with("host_name"))
            && (said.contains("host/network") || said.contains("getaddrinfo"));
        let host_dependent = loaded.diagnostics.iter().any(|d| d.code().ends_with("host_dependent"));
        if loaded.loads() != kernel && !host_name && !host_dependent {
            let rule = text.lines().find(|l| l.starts_with("-A")).unwrap_or_default();
            let first = loaded.diagnostics.first().map(|d| d.to_string());
            failures.push(format!("{family} `{rule}`: kernel loads={kernel} ({}), ipt {first:?}", said.trim()));
        }
    }
    eprintln!("{} one-rule dumps, {loads} of which the kernel loads", cases.len());
    assert!(loads > 0 && loads < cases.len(), "both verdicts are exercised");
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
}
