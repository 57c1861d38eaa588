//! Where Kassa may send a merchant's webhooks (SSRF): never to loopback,
//! private, link-local, CGNAT, ULA, multicast, unspecified or reserved
//! addresses, however the URL spells them (`127.1`, `0x7f.0.0.1`,
//! `2130706433`, `[::ffff:127.0.0.1]`, a name that resolves to one of them).
//!
//! The check is made on the addresses the connection is made to: the
//! webhook client resolves through [`GuardedResolver`], which refuses a host
//! any of whose addresses is forbidden, and connects only to what it
//! returned. A DNS answer that changes between a check and the connect
//! (rebinding) cannot get round it. An operator may allow private targets
//! (`--webhook-allow-private`, `KASSA_WEBHOOK_ALLOW_PRIVATE=1`), as the
//! demo and the tests do.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Why an address is no place for a webhook; `None`: a public unicast address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() || a == 0 => "an unspecified (0.0.0.0/8) address",
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_private() => "a private address",
        _ if ip.is_link_local() => "a link-local address",
        (100, b, _) if (64..128).contains(&b) => "a carrier-grade NAT (100.64.0.0/10) address",
        _ if ip.is_multicast() => "a multicast address",
        _ if ip.is_broadcast() => "the broadcast address",
        (192, 0, 0) => "an IETF protocol assignment (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (192, 88, 99) => "a 6to4 relay (192.88.99.0/24) address",
        (198, 18 | 19, _) => "a benchmarking (198.18.0.0/15) address",
        (a, _, _) if a >= 240 => "a reserved (240.0.0.0/4) address",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // An IPv4 address inside an IPv6 one is judged as that IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address too.
    // IPv4-translated (::ffff:0:a.b.c.d) and local-use NAT64 (64:ff9b:1::/48) too.
    if s[..6] == [0, 0, 0, 0, 0xffff, 0] || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) {
        return forbidden_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return forbidden_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
    }
    if s[0] == 0x2002 {
        return forbidden_v4(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
    }
    Some(match s[0] {
        _ if ip.is_unspecified() => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        // IPv4-compatible (deprecated) ::a.b.c.d.
        _ if s[..6] == [0; 6] => "an IPv4-compatible address",
        x if x & 0xfe00 == 0xfc00 => "a unique local (fc00::/7) address",
        x if x & 0xffc0 == 0xfe80 => "a link-local address",
        x if x & 0xffc0 == 0xfec0 => "a site-local address",
        x if x & 0xff00 == 0xff00 => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        0x0100 if s[1..4] == [0, 0, 0] => "a discard-only (100::/64) address",
        _ => return None,
    })
}

/// ureq's resolver, refusing a host any of whose addresses [`forbidden`]
/// names, unless private targets are allowed.
#[derive(Debug, Default)]
pub struct GuardedResolver {
    inner: DefaultResolver,
    allow_private: bool,
}

impl GuardedResolver {
    /// Allowing private targets, or not.
    pub fn new(allow_private: bool) -> GuardedResolver {
        GuardedResolver { inner: DefaultResolver::default(), allow_private }
    }
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if !self.allow_private
            && let Some((ip, why)) = addrs.iter().find_map(|a| forbidden(a.ip()).map(|why| (a.ip(), why)))
        {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("{ip} is {why}; webhooks go to public addresses only (see --webhook-allow-private)"),
            )));
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_an_internal_address_is_refused() {
        for ip in [
            "127.0.0.1",
            "127.255.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:0:7f00:1",
            "64:ff9b:1::a00:1",
            "192.88.99.1",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert!(forbidden(parsed).is_some(), "{ip} must be refused");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2606:4700::1111", "2a00:1450::1", "64:ff9b::808:808"] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden(parsed), None, "{ip} is public");
        }
    }

    #[test]
    fn the_resolver_refuses_internal_hosts_in_every_spelling() {
        let agent = |allow| -> ureq::Agent {
            let config = ureq::Agent::config_builder().timeout_global(Some(std::time::Duration::from_secs(2))).build();
            ureq::Agent::with_parts(config, ureq::unversioned::transport::DefaultConnector::new(), GuardedResolver::new(allow))
        };
        let guarded = agent(false);
        for url in [
            "http://127.0.0.1:9/hook",
            "http://127.1:9/hook",
            "http://0x7f.0.0.1:9/hook",
            "http://2130706433:9/hook",
            "http://017700000001:9/hook",
            "http://[::ffff:127.0.0.1]:9/hook",
            "http://[::1]:9/hook",
            "http://0.0.0.0:9/hook",
            "http://localhost:9/hook",
        ] {
            let e = guarded.post(url).send("{}").expect_err(url);
            assert!(e.to_string().contains("webhooks go to public addresses only"), "{url}: {e}");
        }
        // Allowed: it gets as far as connecting (nothing listens on port 9).
        let e = agent(true).post("http://127.0.0.1:9/hook").send("{}").expect_err("nothing listens");
        assert!(!e.to_string().contains("public addresses only"), "{e}");
    }
}
