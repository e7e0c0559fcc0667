#!/usr/bin/env python3
"""Regenerate src/model/netdb.rs from this machine's /etc/protocols and /etc/services (netbase)."""
import sys

protos = []
for line in open('/etc/protocols'):
    line = line.split('#')[0].split()
    if len(line) >= 2:
        protos.append((line[0], int(line[1]), line[2:]))
services, order = {}, []
for line in open('/etc/services'):
    line = line.split('#')[0].split()
    if len(line) >= 2:
        port, proto = line[1].split('/')
        for n in [line[0]] + line[2:]:
            if (n, proto) not in services:
                services[(n, proto)] = int(port)
                order.append((n, proto))
out = ["//! Protocol and service names, as Debian's netbase package lists them in `/etc/protocols`",
       "//! and `/etc/services` (IANA assignments). iptables resolves names through these files, so ipt",
       "//! carries the same table instead of depending on the machine it runs on.",
       "//!",
       "//! Generated from netbase 6.4 (Debian 12); regenerate with `scripts/gen-netdb.py`.",
       "",
       "/// `(name, number)` for every protocol name, then its aliases, as written: `getprotobyname`",
       "/// compares them exactly (iptables lowercases `-p`'s value first, not `--ctproto`'s).",
       "pub const PROTOCOLS: &[(&str, u8)] = &["]
seen = set()
for name, num, aliases in protos:
    for n in [name] + aliases:
        if n in seen:
            continue
        seen.add(n)
        if num < 256:
            out.append(f'    ("{n}", {num}),')
out += ["];", "", "/// `(name, protocol, port)` for every service name and alias.",
        "pub const SERVICES: &[(&str, &str, u16)] = &["]
out += [f'    ("{n}", "{p}", {services[(n, p)]}),' for (n, p) in order]
out.append("];")
sys.stdout.write("\n".join(out) + "\n")
