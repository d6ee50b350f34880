//! The one secret type of the workspace.

use std::fmt;

use zeroize::Zeroize;

/// A secret string: client secret, token, password, verifier, passphrase.
///
/// `Debug` and `Display` print `[redacted]`; the memory is zeroized on drop; there is no
/// `PartialEq` (compare with [`Secret::ct_eq`], which does not leak timing).
///
/// ```
/// use connstr::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "Secret([redacted])");
/// assert_eq!(format!("{s}"), "[redacted]");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value.
    ///
    /// # Security warning
    /// Never log or display the returned value; pass it only to the place that needs it
    /// (an HTTP form field, a cipher).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares two secrets without an early exit on the first differing byte.
    ///
    /// ```
    /// use connstr::Secret;
    /// assert!(Secret::new("a").ct_eq(&Secret::new("a")));
    /// assert!(!Secret::new("a").ct_eq(&Secret::new("b")));
    /// ```
    pub fn ct_eq(&self, other: &Secret) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        let mut diff = (a.len() ^ b.len()) as u64;
        for i in 0..a.len().max(b.len()) {
            let x = a.get(i).copied().unwrap_or(0);
            let y = b.get(i).copied().unwrap_or(0);
            diff |= u64::from(x ^ y);
        }
        diff == 0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// The text shown in place of a sensitive value everywhere (`check`, errors, Debug of maps).
pub const MASK: &str = "********";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("CANARY-7f3a");
        assert!(!format!("{s:?}").contains("CANARY"));
        assert!(!format!("{s}").contains("CANARY"));
        assert!(!format!("{:#?}", Some(s.clone())).contains("CANARY"));
    }
}
