//! Credential secrets: `ord_live_sk_…` (staff tokens) and `ord_live_ak_…` (API keys).
//!
//! A secret is its prefix, the id of its store and `_`, 32 random bytes in base62 (43
//! characters), then a CRC32 of all that in base62 (6 characters):
//! `ord_live_sk_store_8f3k2m9q1x7z4w5v_<43><6>`. The checksum lets a typo or a forged string
//! be refused before any database lookup; only a digest of the whole secret is ever stored,
//! and the credential is found within its store by that digest. The store is no secret (a
//! login names it too), and changing it changes the digest, so it opens nothing.
//!
//! Secrets issued before they carried their store (`ord_live_sk_<43><6>`) are still
//! recognized, without a store: see [`Recognized::store`].

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

use crate::ids::StoreId;

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

/// Builds a secret of `kind` for a credential of `store` from 32 random bytes.
pub fn compose(kind: SecretKind, store: &StoreId, random: &[u8; 32]) -> String {
    let store = store.as_str();
    let mut secret =
        String::with_capacity(kind.prefix().len() + store.len() + 1 + BODY_LEN + CHECKSUM_LEN);
    secret.push_str(kind.prefix());
    secret.push_str(store);
    secret.push('_');
    secret.push_str(&base62(random, BODY_LEN));
    let sum = checksum(&secret);
    secret.push_str(&sum);
    secret
}

/// What a well-formed secret tells before any lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recognized {
    /// A staff token or an API key.
    pub kind: SecretKind,
    /// The store the credential belongs to; `None` for a secret issued before secrets carried
    /// their store, which is found through the digests recorded when they began to.
    pub store: Option<StoreId>,
}

/// What a well-formed secret is, or `None` when its prefix, store, length, alphabet or
/// checksum is wrong.
pub fn recognize(secret: &str) -> Option<Recognized> {
    let kind = [SecretKind::StaffToken, SecretKind::ApiKey]
        .into_iter()
        .find(|kind| secret.starts_with(kind.prefix()))?;
    let rest = &secret[kind.prefix().len()..];
    // The store id holds one `_`, the random part and the checksum none.
    let (store, random) = match rest.rsplit_once('_') {
        Some((store, random)) => (Some(StoreId::parse(store)?), random),
        None => (None, rest),
    };
    if random.len() != BODY_LEN + CHECKSUM_LEN || !random.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    let (payload, sum) = secret.split_at(secret.len() - CHECKSUM_LEN);
    (checksum(payload) == sum).then_some(Recognized { kind, store })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> StoreId {
        StoreId::parse("store_8f3k2m9q1x7z4w5v").unwrap()
    }

    /// A secret in the format used before secrets carried their store.
    fn without_store(kind: SecretKind, random: &[u8; 32]) -> String {
        let mut secret = format!("{}{}", kind.prefix(), base62(random, BODY_LEN));
        let sum = checksum(&secret);
        secret.push_str(&sum);
        secret
    }

    #[test]
    fn composed_secrets_are_recognized_with_their_store() {
        for (kind, seed) in [(SecretKind::StaffToken, 7u8), (SecretKind::ApiKey, 255)] {
            let secret = compose(kind, &store(), &[seed; 32]);
            let expected_start = format!("{}store_8f3k2m9q1x7z4w5v_", kind.prefix());
            assert!(secret.starts_with(&expected_start), "{secret}");
            assert_eq!(secret.len(), expected_start.len() + 49);
            assert_eq!(
                recognize(&secret),
                Some(Recognized {
                    kind,
                    store: Some(store())
                })
            );
        }
    }

    #[test]
    fn secrets_without_a_store_are_still_recognized() {
        for (kind, seed) in [(SecretKind::StaffToken, 7u8), (SecretKind::ApiKey, 255)] {
            let secret = without_store(kind, &[seed; 32]);
            assert_eq!(secret.len(), kind.prefix().len() + 49);
            assert_eq!(recognize(&secret), Some(Recognized { kind, store: None }));
        }
        // The old-format secrets other tests of the workspace use.
        assert_eq!(
            without_store(SecretKind::StaffToken, &[7; 32]),
            "ord_live_sk_1fJjkkpe9PiTw9KSulA8Ghct30vZz4HpdQ5c5b9cPF13RjxU2"
        );
        assert_eq!(
            without_store(SecretKind::ApiKey, &[9; 32]),
            "ord_live_ak_28pwpFvXuOCuClQJSgvJUKf8mA3ApwedogOvpU3VfJJ1hadHZ"
        );
    }

    #[test]
    fn zero_and_max_bytes_keep_their_width() {
        let width = 12 + "store_8f3k2m9q1x7z4w5v_".len() + 49;
        assert_eq!(
            compose(SecretKind::StaffToken, &store(), &[0; 32]).len(),
            width
        );
        assert_eq!(
            compose(SecretKind::StaffToken, &store(), &[255; 32]).len(),
            width
        );
    }

    #[test]
    fn altered_secrets_are_refused() {
        let secret = compose(SecretKind::StaffToken, &store(), &[42; 32]);
        for i in [20, 40, secret.len() - 3] {
            let mut altered = secret.clone().into_bytes();
            altered[i] = if altered[i] == b'a' { b'b' } else { b'a' };
            assert_eq!(recognize(std::str::from_utf8(&altered).unwrap()), None);
        }
        assert_eq!(recognize(&secret[..secret.len() - 1]), None);
        assert_eq!(
            recognize(&secret.replace("ord_live_sk_", "ord_live_xx_")),
            None
        );
        // Another store with the checksum made anew is a well-formed secret, but not this
        // one: its digest differs.
        let moved = secret.replace("8f3k2m9q1x7z4w5v", "aaaaaaaaaaaaaaaa");
        let (payload, _) = moved.split_at(moved.len() - CHECKSUM_LEN);
        let forged = format!("{payload}{}", checksum(payload));
        assert_eq!(
            recognize(&forged)
                .and_then(|r| r.store)
                .map(StoreId::into_string),
            Some("store_aaaaaaaaaaaaaaaa".to_owned())
        );
        assert_eq!(recognize(""), None);
        assert_eq!(recognize("ord_live_sk_"), None);
    }

    #[test]
    fn a_malformed_store_is_refused_whatever_the_checksum() {
        for store in [
            "store_SHOUT1234567",
            "store_short",
            "cust_aaaaaaaaaaaa",
            "",
            "store",
        ] {
            let payload = format!("ord_live_ak_{store}_{}", base62(&[9; 32], BODY_LEN));
            let secret = format!("{payload}{}", checksum(&payload));
            assert_eq!(recognize(&secret), None, "{secret}");
        }
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
