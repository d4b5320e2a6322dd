//! Credential secrets: `ord_live_sk_…` (staff tokens) and `ord_live_ak_…` (API keys).
//!
//! A secret is its prefix, 32 random bytes in base62 (43 characters), then a CRC32 of those
//! two parts in base62 (6 characters). The checksum lets a typo or a forged string be refused
//! before any database lookup; only a digest of the whole secret is ever stored.

/// Which kind of credential a secret is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// A staff user's token, `ord_live_sk_…`.
    StaffToken,
    /// A store's API key, `ord_live_ak_…`.
    ApiKey,
}

impl SecretKind {
    /// The prefix secrets of this kind start with.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::StaffToken => "ord_live_sk_",
            Self::ApiKey => "ord_live_ak_",
        }
    }

    /// The storage name: `staff_token` or `api_key`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StaffToken => "staff_token",
            Self::ApiKey => "api_key",
        }
    }

    /// The kind stored as `s`; `None` for an unknown name.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "staff_token" => Some(Self::StaffToken),
            "api_key" => Some(Self::ApiKey),
            _ => None,
        }
    }
}

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LEN: usize = 43;
const CHECKSUM_LEN: usize = 6;

/// Base62 of a big-endian number, left-padded with `0` to `width` characters.
fn base62(bytes: &[u8], width: usize) -> String {
    let mut digits: Vec<u8> = Vec::with_capacity(width);
    let mut number = bytes.to_vec();
    while number.iter().any(|&b| b != 0) {
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 62) as u8;
            remainder = value % 62;
        }
        digits.push(ALPHABET[remainder as usize]);
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).expect("base62 digits are ASCII")
}

fn checksum(text: &str) -> String {
    base62(
        &crc32fast::hash(text.as_bytes()).to_be_bytes(),
        CHECKSUM_LEN,
    )
}

/// Builds a secret of `kind` from 32 random bytes.
pub fn compose(kind: SecretKind, random: &[u8; 32]) -> String {
    let mut secret = String::with_capacity(kind.prefix().len() + BODY_LEN + CHECKSUM_LEN);
    secret.push_str(kind.prefix());
    secret.push_str(&base62(random, BODY_LEN));
    let sum = checksum(&secret);
    secret.push_str(&sum);
    secret
}

/// The kind of a well-formed secret, or `None` when its prefix, length, alphabet or checksum
/// is wrong.
pub fn recognize(secret: &str) -> Option<SecretKind> {
    let kind = [SecretKind::StaffToken, SecretKind::ApiKey]
        .into_iter()
        .find(|kind| secret.starts_with(kind.prefix()))?;
    let rest = &secret[kind.prefix().len()..];
    if rest.len() != BODY_LEN + CHECKSUM_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (payload, sum) = secret.split_at(secret.len() - CHECKSUM_LEN);
    (checksum(payload) == sum).then_some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_secrets_are_recognized() {
        for (kind, seed) in [(SecretKind::StaffToken, 7u8), (SecretKind::ApiKey, 255)] {
            let secret = compose(kind, &[seed; 32]);
            assert!(secret.starts_with(kind.prefix()));
            assert_eq!(secret.len(), kind.prefix().len() + 49);
            assert_eq!(recognize(&secret), Some(kind));
        }
    }

    #[test]
    fn zero_and_max_bytes_keep_their_width() {
        assert_eq!(compose(SecretKind::StaffToken, &[0; 32]).len(), 12 + 49);
        assert_eq!(compose(SecretKind::StaffToken, &[255; 32]).len(), 12 + 49);
    }

    #[test]
    fn altered_secrets_are_refused() {
        let secret = compose(SecretKind::StaffToken, &[42; 32]);
        let mut altered = secret.clone().into_bytes();
        let i = 20;
        altered[i] = if altered[i] == b'a' { b'b' } else { b'a' };
        assert_eq!(recognize(std::str::from_utf8(&altered).unwrap()), None);
        assert_eq!(recognize(&secret[..secret.len() - 1]), None);
        assert_eq!(
            recognize(&secret.replace("ord_live_sk_", "ord_live_xx_")),
            None
        );
        assert_eq!(recognize(""), None);
        assert_eq!(recognize("ord_live_sk_"), None);
    }

    #[test]
    fn base62_is_positional() {
        assert_eq!(base62(&[0, 61], 2), "0z");
        assert_eq!(base62(&[0, 62], 2), "10");
        assert_eq!(base62(&[1, 0], 1), "48");
    }

    #[test]
    fn kinds_round_trip_through_storage() {
        for kind in [SecretKind::StaffToken, SecretKind::ApiKey] {
            assert_eq!(SecretKind::from_stored(kind.as_str()), Some(kind));
        }
    }
}
