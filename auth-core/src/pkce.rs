//! PKCE (RFC 7636, S256 only) and `state` values.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use connstr::Secret;
use ring::rand::{SecureRandom, SystemRandom};

/// 32 random bytes, base64url: a 43-character PKCE verifier or a 256-bit `state`.
pub fn random_token() -> Secret {
    let mut bytes = [0u8; 32];
    // SystemRandom only fails when the OS has no entropy source at all; a fixed value would be
    // far worse than stopping, so this is one of the rare justified panics.
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random number generator is unavailable");
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// The S256 challenge of a verifier.
///
/// ```
/// use auth_core::pkce::challenge;
/// use connstr::Secret;
/// // RFC 7636 appendix B.
/// let verifier = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
/// assert_eq!(challenge(&verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
/// ```
pub fn challenge(verifier: &Secret) -> String {
    let verifier = oauth2::PkceCodeVerifier::new(verifier.expose().to_owned());
    oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier)
        .as_str()
        .to_owned()
}

/// A PKCE verifier derived from the `state` and the client secret, so that the two halves of
/// the web and headless flows (authorization URL now, code exchange later, maybe in another
/// process) agree without storing anything: HMAC-SHA256(secret, "pkce-v1:" + state), base64url.
///
/// ```
/// use auth_core::pkce::derived_verifier;
/// use connstr::Secret;
/// let a = derived_verifier(&Secret::new("client-secret"), "state-1");
/// assert_eq!(a.expose().len(), 43);
/// assert!(!a.ct_eq(&derived_verifier(&Secret::new("client-secret"), "state-2")));
/// ```
pub fn derived_verifier(client_secret: &Secret, state: &str) -> Secret {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, client_secret.expose().as_bytes());
    let tag = ring::hmac::sign(&key, format!("pkce-v1:{state}").as_bytes());
    Secret::new(URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a3_verifiers_are_43_unreserved_characters_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let v = random_token();
            assert_eq!(v.expose().len(), 43);
            assert!(
                v.expose()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert!(seen.insert(v.expose().to_owned()));
        }
    }
}
