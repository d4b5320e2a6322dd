//! Who the client is, for login throttling: the socket's peer, unless that peer is a trusted
//! reverse proxy (`--trusted-proxies`); then the rightmost `X-Forwarded-For` address that is
//! not itself a trusted proxy. Anything else in the header is the client's to forge, so it is
//! never read: a malformed entry met on the way falls back to the socket's address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address block, `192.0.2.0/24` or `2001:db8::/32`; a bare address is a block of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4
/// peers) as the IPv4 address it is.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (address, prefix) = match s.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (s, None),
        };
        let network = canonical(
            address
                .parse::<IpAddr>()
                .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?,
        );
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {bits}"))?,
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn new(blocks: Vec<Cidr>) -> Self {
        Self(blocks)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(address))
    }

    /// The client's address, given the socket's peer and the `X-Forwarded-For` header values
    /// in the order received.
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let entries: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|value| value.split(','))
            .collect();
        let mut client = peer;
        for entry in entries.iter().rev() {
            let Ok(address) = entry.trim().parse::<IpAddr>() else {
                return peer;
            };
            client = canonical(address);
            if !self.trusts(client) {
                return client;
            }
        }
        // Every hop is a trusted proxy: the leftmost one is as far as anyone can tell.
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(blocks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(blocks.iter().map(|b| b.parse().unwrap()).collect())
    }

    #[test]
    fn blocks_parse_and_match() {
        let block: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.200.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!(block.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped");
        let v6: Cidr = " 2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.1.0.1")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert_eq!(one.to_string(), "127.0.0.1/32");
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in [
            "",
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/-1",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            trusted.client(ip("203.0.113.9"), ["198.51.100.1"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), ["198.51.100.1"]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "2001:db8::/32"]);
        let peer = ip("10.0.0.2");
        // The client forged the leftmost entry; the proxies appended the rest.
        assert_eq!(
            trusted.client(peer, ["6.6.6.6, 198.51.100.7, 10.0.0.5"]),
            ip("198.51.100.7")
        );
        // Several header lines read as one list.
        assert_eq!(
            trusted.client(peer, ["6.6.6.6", "198.51.100.7", "2001:db8::9"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            trusted.client(peer, ["2001:db8::1, 2001:db9::1"]),
            ip("2001:db9::1")
        );
        // All hops trusted: the leftmost.
        assert_eq!(trusted.client(peer, ["10.9.9.9, 10.0.0.5"]), ip("10.9.9.9"));
        // No header: the peer.
        assert_eq!(trusted.client(peer, []), peer);
    }

    #[test]
    fn a_malformed_entry_falls_back_to_the_socket_address() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.2");
        for header in [
            "garbage",
            "198.51.100.7, not-an-ip",
            "198.51.100.7:443",
            "",
            " , ",
        ] {
            assert_eq!(trusted.client(peer, [header]), peer, "{header:?}");
        }
        // Only entries up to the first untrusted one are read.
        assert_eq!(
            trusted.client(peer, ["junk, 198.51.100.7"]),
            ip("198.51.100.7")
        );
    }
}
