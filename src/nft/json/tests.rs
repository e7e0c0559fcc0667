//! One test per template of `lower`: the nft text it writes, and the JSON nft reads the same.

use super::*;

fn t(text: &str) -> String {
    test(text).expect(text).to_string()
}

fn e(text: &str) -> String {
    effect(text).expect(text).to_string()
}

fn s(text: &str) -> String {
    statement(text).expect(text).to_string()
}

fn cmp(key: Key, neg: bool, v: &str) -> String {
    expr_json(&Expr::Cmp { key, neg, value: Value::One(v.into()) }).expect(v).to_string()
}

#[test]
fn fragment_test_frag_off() {
    assert_eq!(
        t("ip frag-off & 0x1fff != 0"),
        r#"{"match":{"left":{"&":[{"payload":{"field":"frag-off","protocol":"ip"}},8191]},"op":"!=","right":0}}"#
    );
}

#[test]
fn fragment_test_tcp_flags() {
    assert_eq!(
        t("tcp flags & (fin|syn|rst|ack) == syn"),
        r#"{"match":{"left":{"&":[{"payload":{"field":"flags","protocol":"tcp"}},["fin","syn","rst","ack"]]},"op":"==","right":"syn"}}"#
    );
    assert_eq!(
        t("tcp flags & (syn|ack) != (syn|ack)"),
        r#"{"match":{"left":{"&":[{"payload":{"field":"flags","protocol":"tcp"}},["syn","ack"]]},"op":"!=","right":["syn","ack"]}}"#
    );
    assert_eq!(
        t("tcp flags & syn == 0x0"),
        r#"{"match":{"left":{"&":[{"payload":{"field":"flags","protocol":"tcp"}},"syn"]},"op":"==","right":0}}"#
    );
}

#[test]
fn fragment_test_tcp_option() {
    assert_eq!(
        t("tcp option 7 exists"),
        r#"{"match":{"left":{"tcp option":{"base":7,"len":8,"offset":0}},"op":"==","right":true}}"#
    );
    assert_eq!(
        t("tcp option 2 missing"),
        r#"{"match":{"left":{"tcp option":{"name":"maxseg"}},"op":"==","right":false}}"#
    );
}

#[test]
fn fragment_test_flags_clear() {
    assert_eq!(
        t("ct state ! established,related"),
        r#"{"match":{"left":{"ct":{"key":"state"}},"op":"!","right":["established","related"]}}"#
    );
    assert_eq!(t("ct status ! dnat"), r#"{"match":{"left":{"ct":{"key":"status"}},"op":"!","right":"dnat"}}"#);
}

#[test]
fn fragment_test_masked_marks_and_addresses() {
    assert_eq!(
        t("meta mark & 0x000000ff == 0x1"),
        r#"{"match":{"left":{"&":[{"meta":{"key":"mark"}},255]},"op":"==","right":1}}"#
    );
    assert_eq!(
        t("ct mark & 0x0000ff00 != 0x100"),
        r#"{"match":{"left":{"&":[{"ct":{"key":"mark"}},65280]},"op":"!=","right":256}}"#
    );
    assert_eq!(
        t("ip saddr & 255.0.255.0 == 10.0.1.0"),
        r#"{"match":{"left":{"&":[{"payload":{"field":"saddr","protocol":"ip"}},"255.0.255.0"]},"op":"==","right":"10.0.1.0"}}"#
    );
    assert_eq!(
        t("ip6 daddr & ffff::ffff != 2001::1"),
        r#"{"match":{"left":{"&":[{"payload":{"field":"daddr","protocol":"ip6"}},"ffff::ffff"]},"op":"!=","right":"2001::1"}}"#
    );
    assert_eq!(
        t("ct reply ip saddr & 255.0.255.0 == 10.0.1.0"),
        r#"{"match":{"left":{"&":[{"ct":{"dir":"reply","key":"ip saddr"}},"255.0.255.0"]},"op":"==","right":"10.0.1.0"}}"#
    );
}

#[test]
fn fragment_test_raw_tos() {
    assert_eq!(
        t("@nh,8,8 & 0xfc == 0x10"),
        r#"{"match":{"left":{"&":[{"payload":{"base":"nh","len":8,"offset":8}},252]},"op":"==","right":16}}"#
    );
}

#[test]
fn fragment_test_ttl_order() {
    assert_eq!(t("ip ttl < 5"), r#"{"match":{"left":{"payload":{"field":"ttl","protocol":"ip"}},"op":"<","right":5}}"#);
    assert_eq!(
        t("ip6 hoplimit > 64"),
        r#"{"match":{"left":{"payload":{"field":"hoplimit","protocol":"ip6"}},"op":">","right":64}}"#
    );
}

#[test]
fn fragment_effect_limit() {
    assert_eq!(
        e("limit rate 5/second burst 5 packets"),
        r#"{"limit":{"burst":5,"burst_unit":"packets","per":"second","rate":5}}"#
    );
    assert_eq!(
        e("limit rate 3/minute burst 10 packets"),
        r#"{"limit":{"burst":10,"burst_unit":"packets","per":"minute","rate":3}}"#
    );
}

#[test]
fn fragment_effect_numgen() {
    assert_eq!(
        e("numgen random mod 2147483648 < 1073741824"),
        r#"{"match":{"left":{"numgen":{"mod":2147483648,"mode":"random","offset":0}},"op":"<","right":1073741824}}"#
    );
    assert_eq!(
        e("numgen random mod 2147483648 >= 5"),
        r#"{"match":{"left":{"numgen":{"mod":2147483648,"mode":"random","offset":0}},"op":">=","right":5}}"#
    );
    assert_eq!(
        e("numgen inc mod 3 1"),
        r#"{"match":{"left":{"numgen":{"mod":3,"mode":"inc","offset":0}},"op":"==","right":1}}"#
    );
    assert_eq!(
        e("numgen inc mod 3 != 1"),
        r#"{"match":{"left":{"numgen":{"mod":3,"mode":"inc","offset":0}},"op":"!=","right":1}}"#
    );
}

#[test]
fn fragment_effect_quota() {
    assert_eq!(e("quota until 100 bytes"), r#"{"quota":{"val":100,"val_unit":"bytes"}}"#);
    assert_eq!(e("quota over 100 bytes"), r#"{"quota":{"inv":true,"val":100,"val_unit":"bytes"}}"#);
}

#[test]
fn fragment_statement_log() {
    assert_eq!(
        s(r#"log prefix "dropped: " level debug flags tcp sequence,options flags ip options"#),
        r#"{"log":{"flags":["tcp sequence","tcp options","ip options"],"level":"debug","prefix":"dropped: "}}"#
    );
    assert_eq!(s("log flags all"), r#"{"log":{"flags":"all"}}"#);
    assert_eq!(s("log flags skuid flags ether"), r#"{"log":{"flags":["skuid","ether"]}}"#);
    assert_eq!(s("log"), r#"{"log":{}}"#);
    assert_eq!(
        s(r#"log group 5 prefix "x" snaplen 100 queue-threshold 3"#),
        r#"{"log":{"group":5,"prefix":"x","queue-threshold":3,"snaplen":100}}"#
    );
}

#[test]
fn fragment_statement_reject() {
    assert_eq!(s("reject with tcp reset"), r#"{"reject":{"type":"tcp reset"}}"#);
    assert_eq!(s("reject with icmp type port-unreachable"), r#"{"reject":{"expr":"port-unreachable","type":"icmp"}}"#);
    assert_eq!(
        s("reject with icmpv6 type admin-prohibited"),
        r#"{"reject":{"expr":"admin-prohibited","type":"icmpv6"}}"#
    );
}

#[test]
fn fragment_statement_marks() {
    assert_eq!(
        s("meta mark set meta mark & 0xffffff00 ^ 0x1"),
        r#"{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"^":[{"&":[{"meta":{"key":"mark"}},4294967040]},1]}}}"#
    );
    assert_eq!(s("meta mark set 0x5"), r#"{"mangle":{"key":{"meta":{"key":"mark"}},"value":5}}"#);
    assert_eq!(
        s("ct mark set meta mark"),
        r#"{"mangle":{"key":{"ct":{"key":"mark"}},"value":{"meta":{"key":"mark"}}}}"#
    );
    assert_eq!(
        s("meta mark set ct mark"),
        r#"{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"ct":{"key":"mark"}}}}"#
    );
}

#[test]
fn fragment_statement_header_fields() {
    assert_eq!(s("meta nftrace set 1"), r#"{"mangle":{"key":{"meta":{"key":"nftrace"}},"value":1}}"#);
    assert_eq!(s("meta priority set 1:10"), r#"{"mangle":{"key":{"meta":{"key":"priority"}},"value":"1:10"}}"#);
    assert_eq!(s("ip dscp set 0x2e"), r#"{"mangle":{"key":{"payload":{"field":"dscp","protocol":"ip"}},"value":46}}"#);
    assert_eq!(s("ip ttl set 64"), r#"{"mangle":{"key":{"payload":{"field":"ttl","protocol":"ip"}},"value":64}}"#);
    assert_eq!(
        s("ip6 hoplimit set 5"),
        r#"{"mangle":{"key":{"payload":{"field":"hoplimit","protocol":"ip6"}},"value":5}}"#
    );
    assert_eq!(s("notrack"), r#"{"notrack":null}"#);
}

#[test]
fn fragment_statement_queue() {
    assert_eq!(s("queue num 0"), r#"{"queue":{"num":0}}"#);
    assert_eq!(
        s("queue flags bypass,fanout num 0-3"),
        r#"{"queue":{"flags":["bypass","fanout"],"num":{"range":[0,3]}}}"#
    );
}

#[test]
fn fragment_statement_nat() {
    assert_eq!(s("dnat to 192.0.2.1:80"), r#"{"dnat":{"addr":"192.0.2.1","port":80}}"#);
    assert_eq!(s("dnat to 192.0.2.1"), r#"{"dnat":{"addr":"192.0.2.1"}}"#);
    assert_eq!(s("dnat ip to 192.0.2.1:80"), r#"{"dnat":{"addr":"192.0.2.1","family":"ip","port":80}}"#);
    assert_eq!(s("dnat ip6 to [2001:db8::1]:80"), r#"{"dnat":{"addr":"2001:db8::1","family":"ip6","port":80}}"#);
    assert_eq!(s("snat to 2001:db8::1"), r#"{"snat":{"addr":"2001:db8::1"}}"#);
    assert_eq!(
        s("snat to [::1]-[::2]:5-6 persistent"),
        r#"{"snat":{"addr":{"range":["::1","::2"]},"flags":["persistent"],"port":{"range":[5,6]}}}"#
    );
    assert_eq!(
        s("snat to 1.2.3.4-1.2.3.5:1000-2000 random,persistent"),
        r#"{"snat":{"addr":{"range":["1.2.3.4","1.2.3.5"]},"flags":["random","persistent"],"port":{"range":[1000,2000]}}}"#
    );
    assert_eq!(
        s("masquerade to :1024-2000 fully-random"),
        r#"{"masquerade":{"flags":["fully-random"],"port":{"range":[1024,2000]}}}"#
    );
    assert_eq!(s("masquerade"), r#"{"masquerade":null}"#);
    assert_eq!(s("redirect to :3128"), r#"{"redirect":{"port":3128}}"#);
    assert_eq!(s("redirect random"), r#"{"redirect":{"flags":["random"]}}"#);
}

#[test]
fn typed_tests_by_key() {
    assert_eq!(
        cmp(Key::Iifname, false, "\"eth*\""),
        r#"{"match":{"left":{"meta":{"key":"iifname"}},"op":"==","right":"eth*"}}"#
    );
    assert_eq!(
        cmp(Key::Addr { v6: false, dst: true }, true, "10.0.0.0/8"),
        r#"{"match":{"left":{"payload":{"field":"daddr","protocol":"ip"}},"op":"!=","right":{"prefix":{"addr":"10.0.0.0","len":8}}}}"#
    );
    assert_eq!(
        cmp(Key::Addr { v6: false, dst: false }, false, "10.0.0.1-10.0.0.5"),
        r#"{"match":{"left":{"payload":{"field":"saddr","protocol":"ip"}},"op":"==","right":{"range":["10.0.0.1","10.0.0.5"]}}}"#
    );
    assert_eq!(
        cmp(Key::Other("ct state".into()), false, "established,related"),
        r#"{"match":{"left":{"ct":{"key":"state"}},"op":"in","right":["established","related"]}}"#
    );
    assert_eq!(
        cmp(Key::Other("ct expiration".into()), false, "0ms-999ms"),
        r#"{"match":{"left":{"ct":{"key":"expiration"}},"op":"==","right":{"range":["0ms","999ms"]}}}"#
    );
    assert_eq!(
        cmp(Key::Other("fib daddr . iif type".into()), false, "local"),
        r#"{"match":{"left":{"fib":{"flags":["daddr","iif"],"result":"type"}},"op":"==","right":"local"}}"#
    );
    assert_eq!(
        cmp(Key::Other("icmp type".into()), false, "destination-unreachable"),
        r#"{"match":{"left":{"payload":{"field":"type","protocol":"icmp"}},"op":"==","right":"destination-unreachable"}}"#
    );
    assert_eq!(
        cmp(Key::Other("ether saddr".into()), false, "00:11:22:33:44:55"),
        r#"{"match":{"left":{"payload":{"field":"saddr","protocol":"ether"}},"op":"==","right":"00:11:22:33:44:55"}}"#
    );
}

#[test]
fn unknown_fragments_are_errors() {
    assert_eq!(test("ip frag-off foo"), Err(UnknownFragment("ip frag-off foo".into())));
    assert!(statement("counter name x").is_err());
    assert!(statement("snat to").is_err());
    assert!(statement("dnat").is_err());
    assert!(effect("limit rate 5/fortnight burst 5 packets").is_err());
    assert!(
        expr_json(&Expr::Cmp { key: Key::Other("meta nosuchkey".into()), neg: false, value: Value::One("1".into()) })
            .is_err()
    );
}

#[test]
fn words_keep_quoted_strings_whole() {
    assert_eq!(words(r#"log prefix "a b" level info"#), ["log", "prefix", "\"a b\"", "level", "info"]);
}

#[test]
fn fragment_test_ipv6_first_fragment_guard() {
    assert_eq!(t("exthdr frag missing"), r#"{"match":{"left":{"exthdr":{"name":"frag"}},"op":"==","right":false}}"#);
    assert_eq!(
        t("frag frag-off 0"),
        r#"{"match":{"left":{"exthdr":{"field":"frag-off","name":"frag"}},"op":"==","right":0}}"#
    );
}
