//! Who is asking: the TCP peer, unless the peer is a proxy the operator
//! trusts (`TRUSTED_PROXIES`), in which case the last address in
//! `X-Forwarded-For` that is not one of those proxies; and the key every
//! per-client limit counts that client under ([`client_key`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_web::HttpRequest;
use actix_web::web::Data;
use ipnet::IpNet;

use crate::AppState;

/// What every per-client limit counts a request under: its client's
/// address, bucketed by [`limit_key`].
pub fn client_key(req: &HttpRequest) -> IpAddr {
    limit_key(client_ip(req))
}

/// An IPv4 address as it is; an IPv6 address as its /64 network (one
/// subscriber is routinely given a whole /64, so counting full addresses
/// would hand them 2^64 fresh buckets). IPv4 written as IPv6 (`::ffff:a.b.c.d`)
/// counts as the IPv4 address.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

/// The client's address (see [`client_key`] for what limits count).
pub fn client_ip(req: &HttpRequest) -> IpAddr {
    let peer = req.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let Some(state) = req.app_data::<Data<AppState>>() else {
        return peer;
    };
    let forwarded = req.headers().get_all("x-forwarded-for").filter_map(|value| value.to_str().ok());
    resolve(peer, forwarded, &state.config.web.trusted_proxies)
}

/// Walks the forwarding chain from the nearest hop outwards and stops at the
/// first address no trusted proxy vouches for. Anything a client wrote before
/// that hop is its own claim and is ignored; an unreadable hop ends the walk
/// at the last trusted address.
pub fn resolve<'a>(peer: IpAddr, forwarded: impl Iterator<Item = &'a str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|header| header.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            return client;
        };
        client = ip;
        if !is_trusted(&ip) {
            return ip;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), ip("2001:db8:1:2::"));
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), limit_key(ip("2001:db8:1:2::1")));
        assert_eq!(limit_key(ip("203.0.113.9")), ip("203.0.113.9"));
        assert_eq!(limit_key(ip("::ffff:203.0.113.9")), ip("203.0.113.9"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let got = resolve(ip("203.0.113.9"), ["1.2.3.4"].into_iter(), &nets(&["10.0.0.0/8"]));
        assert_eq!(got, ip("203.0.113.9"));
        assert_eq!(resolve(ip("10.0.0.1"), ["1.2.3.4"].into_iter(), &[]), ip("10.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_last_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = resolve(ip("10.0.0.1"), ["6.6.6.6, 198.51.100.7, 10.0.0.2"].into_iter(), &trusted);
        assert_eq!(got, ip("198.51.100.7"), "the spoofed first entry is ignored");
        let got = resolve(ip("10.0.0.1"), ["6.6.6.6", "198.51.100.7"].into_iter(), &trusted);
        assert_eq!(got, ip("198.51.100.7"), "several headers read as one list");
    }

    #[test]
    fn a_missing_or_unreadable_chain_falls_back_to_the_last_trusted_hop() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(resolve(ip("10.0.0.1"), std::iter::empty(), &trusted), ip("10.0.0.1"));
        assert_eq!(resolve(ip("10.0.0.1"), ["junk, 10.0.0.3"].into_iter(), &trusted), ip("10.0.0.3"));
    }
}
