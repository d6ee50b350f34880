//! Who may connect, and which connections each user sees.
//!
//! The users file is TOML, one table per user, with either a PBKDF2 password hash (for basic
//! auth; the Flight SQL handshake then hands out a session token) or the SHA-256 of a bearer
//! token (for clients configured with a token), and the connections the user may see
//! (`["*"]` for all):
//!
//! ```toml
//! [users.analyst]
//! password_hash = "pbkdf2-sha256$600000$c2FsdHNhbHRzYWx0$…"   # connector serve --hash-password
//! connections = ["portal_eu"]
//!
//! [users.etl]
//! token_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! connections = ["*"]
//! ```
//!
//! Only hashes are stored, so the file reveals no credential; neither `Debug` output nor any
//! error quotes a hash, a password or a token.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, pbkdf2};
use serde::Deserialize;

use crate::error::{Error, Result};

/// PBKDF2 iterations for new password hashes (OWASP's 2023 figure for HMAC-SHA256).
pub const DEFAULT_ITERATIONS: u32 = 600_000;
const HASH_PREFIX: &str = "pbkdf2-sha256";
/// How long a session token from the handshake stays valid.
const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// Which connections a user may see.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Visibility {
    /// Every connection the gateway serves.
    All,
    /// Only these (lower-case names).
    Only(BTreeSet<String>),
}

impl Visibility {
    /// Whether `connection` is visible.
    ///
    /// ```
    /// use gateway::Visibility;
    /// let only = Visibility::Only(["portal_eu".to_owned()].into());
    /// assert!(only.allows("Portal_EU") && !only.allows("acton_main"));
    /// assert!(Visibility::All.allows("acton_main"));
    /// ```
    pub fn allows(&self, connection: &str) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Only(names) => names.contains(&connection.to_lowercase()),
        }
    }
}

/// An authenticated caller: a user's name and what it may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's name (`anonymous` for anonymous access).
    pub name: String,
    /// The connections it sees.
    pub visibility: Visibility,
}

enum Credential {
    Password {
        iterations: NonZeroU32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// A static bearer token (its digest is the key of `Users::token_digests`).
    Token,
}

struct User {
    credential: Credential,
    visibility: Visibility,
}

/// The users who may connect, and the session tokens handed out to them.
pub struct Users {
    users: BTreeMap<String, User>,
    /// SHA-256 of each static bearer token → user name.
    token_digests: HashMap<Vec<u8>, String>,
    /// SHA-256 of each session token → (user name, issued at).
    sessions: Mutex<HashMap<Vec<u8>, (String, Instant)>>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users")
            .field("names", &self.users.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    users: BTreeMap<String, UserShape>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserShape {
    password_hash: Option<String>,
    token_sha256: Option<String>,
    connections: Vec<String>,
}

impl Users {
    /// No users (anonymous access only).
    pub fn none() -> Self {
        Self {
            users: BTreeMap::new(),
            token_digests: HashMap::new(),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Reads a users file, checking every user's connections against `known` (the names the
    /// gateway serves).
    pub fn load(path: &Path, known: &[String]) -> Result<Self> {
        let problem = |message: String| Error::Users {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| problem(e.to_string()))?;
        Self::parse(&text, known).map_err(|e| match e {
            Error::Users { message, .. } => problem(message),
            other => other,
        })
    }

    /// [`Users::load`] from the file's text (errors carry an empty path).
    ///
    /// ```
    /// let hash = gateway::hash_password("s3cret", 1_000)?;
    /// let text = format!("[users.ana]\npassword_hash = \"{hash}\"\nconnections = [\"portal_eu\"]\n");
    /// let users = gateway::Users::parse(&text, &["portal_eu".to_owned()])?;
    /// assert_eq!(users.check_password("ana", "s3cret").unwrap().name, "ana");
    /// assert!(users.check_password("ana", "wrong").is_none());
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn parse(text: &str, known: &[String]) -> Result<Self> {
        let problem = |message: String| Error::Users {
            path: Default::default(),
            message,
        };
        // toml's messages quote the offending line, which may hold a hash: keep only the reason.
        let shape: FileShape = toml::from_str(text).map_err(|e| problem(e.message().to_owned()))?;
        let mut users = Self::none();
        for (name, user) in shape.users {
            let visibility = visibility_of(&name, user.connections, known).map_err(problem)?;
            let credential = match (user.password_hash, user.token_sha256) {
                (Some(hash), None) => parse_password_hash(&name, &hash)?,
                (None, Some(hex)) => {
                    let digest = decode_hex(&hex).filter(|d| d.len() == 32).ok_or_else(|| {
                        problem(format!(
                            "user {name:?}: token_sha256 must be 64 hexadecimal digits (the SHA-256 of the token)"
                        ))
                    })?;
                    users.token_digests.insert(digest, name.clone());
                    Credential::Token
                }
                _ => {
                    return Err(problem(format!(
                        "user {name:?}: give exactly one of password_hash and token_sha256"
                    )));
                }
            };
            users.users.insert(
                name,
                User {
                    credential,
                    visibility,
                },
            );
        }
        Ok(users)
    }

    /// Adds a user with a password (the `--emulator` gateway's generated user).
    pub fn add_password_user(
        &mut self,
        name: &str,
        password: &str,
        visibility: Visibility,
    ) -> Result<()> {
        let hash = hash_password(password, 10_000)?;
        let credential = parse_password_hash(name, &hash)?;
        self.users.insert(
            name.to_owned(),
            User {
                credential,
                visibility,
            },
        );
        Ok(())
    }

    /// Whether any user is defined.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The user `name` when `password` is theirs.
    pub fn check_password(&self, name: &str, password: &str) -> Option<Principal> {
        let user = self.users.get(name)?;
        let Credential::Password {
            iterations,
            salt,
            hash,
        } = &user.credential
        else {
            return None;
        };
        pbkdf2::verify(
            pbkdf2::PBKDF2_HMAC_SHA256,
            *iterations,
            salt,
            password.as_bytes(),
            hash,
        )
        .ok()?;
        Some(Principal {
            name: name.to_owned(),
            visibility: user.visibility.clone(),
        })
    }

    /// The user a bearer token belongs to: a session token from the handshake, or a static
    /// token of the users file.
    pub fn check_token(&self, token: &str) -> Option<Principal> {
        let digest = sha256(token.as_bytes());
        let name = match self.token_digests.get(&digest) {
            Some(name) => name.clone(),
            None => {
                let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
                sessions.retain(|_, (_, issued)| issued.elapsed() < SESSION_TTL);
                sessions.get(&digest)?.0.clone()
            }
        };
        let user = self.users.get(&name)?;
        Some(Principal {
            name,
            visibility: user.visibility.clone(),
        })
    }

    /// A new session token for `user` (returned once; only its digest is kept).
    pub fn issue_session(&self, user: &str) -> Result<String> {
        let token = random_token()?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.insert(sha256(token.as_bytes()), (user.to_owned(), Instant::now()));
        Ok(token)
    }
}

/// The connections `names` stands for, each checked against `known`.
fn visibility_of(
    user: &str,
    names: Vec<String>,
    known: &[String],
) -> std::result::Result<Visibility, String> {
    if names.iter().any(|n| n == "*") {
        return Ok(Visibility::All);
    }
    let mut only = BTreeSet::new();
    for name in names {
        if !known.iter().any(|k| k.eq_ignore_ascii_case(&name)) {
            return Err(format!(
                "user {user:?} lists connection {name:?}, which the gateway does not serve (connections: {})",
                known.join(", ")
            ));
        }
        only.insert(name.to_lowercase());
    }
    Ok(Visibility::Only(only))
}

fn parse_password_hash(user: &str, text: &str) -> Result<Credential> {
    let bad = || Error::PasswordHash {
        user: user.to_owned(),
    };
    let mut parts = text.split('$');
    if parts.next() != Some(HASH_PREFIX) {
        return Err(bad());
    }
    let iterations = parts
        .next()
        .and_then(|n| n.parse::<u32>().ok())
        .and_then(NonZeroU32::new)
        .ok_or_else(bad)?;
    let mut next_bytes = || {
        parts
            .next()
            .and_then(|p| STANDARD.decode(p).ok())
            .filter(|b| !b.is_empty())
            .ok_or_else(bad)
    };
    let salt = next_bytes()?;
    let hash = next_bytes()?;
    Ok(Credential::Password {
        iterations,
        salt,
        hash,
    })
}

/// A password hash for the users file: `pbkdf2-sha256$ITERATIONS$SALT$HASH` (base64), with a
/// fresh random salt.
///
/// ```
/// let hash = gateway::hash_password("s3cret", 1_000)?;
/// assert!(hash.starts_with("pbkdf2-sha256$1000$"));
/// assert!(!hash.contains("s3cret"));
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn hash_password(password: &str, iterations: u32) -> Result<String> {
    let rng = SystemRandom::new();
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| Error::Random)?;
    let iterations = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
    let mut hash = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        &salt,
        password.as_bytes(),
        &mut hash,
    );
    Ok(format!(
        "{HASH_PREFIX}${iterations}${}${}",
        STANDARD.encode(salt),
        STANDARD.encode(hash)
    ))
}

/// A random URL-safe token (32 bytes of entropy): session tokens, generated passwords.
///
/// ```
/// let token = gateway::random_token()?;
/// assert_eq!(token.len(), 43);
/// assert_ne!(token, gateway::random_token()?);
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of a token as the users file's `token_sha256` expects it (lower-case hex).
///
/// ```
/// assert_eq!(
///     gateway::token_sha256("test"),
///     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
/// );
/// ```
pub fn token_sha256(token: &str) -> String {
    sha256(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, bytes).as_ref().to_vec()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        vec!["portal_eu".to_owned(), "acton_main".to_owned()]
    }

    #[test]
    fn tokens_and_sessions_identify_their_user() {
        let text = format!(
            "[users.etl]\ntoken_sha256 = \"{}\"\nconnections = [\"*\"]\n",
            token_sha256("tok-CANARY")
        );
        let users = Users::parse(&text, &known()).unwrap();
        assert_eq!(users.check_token("tok-CANARY").unwrap().name, "etl");
        assert!(users.check_token("other").is_none());
        let session = users.issue_session("etl").unwrap();
        assert_eq!(
            users.check_token(&session).unwrap().visibility,
            Visibility::All
        );
    }

    #[test]
    fn file_errors_name_the_user_and_never_quote_a_hash() {
        let err = Users::parse(
            "[users.ana]\npassword_hash = \"md5$CANARY\"\nconnections = [\"*\"]\n",
            &known(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "user \"ana\": password_hash is not of the form pbkdf2-sha256$ITERATIONS$SALT$HASH (make one with `connector serve --hash-password`)"
        );
        let err = Users::parse(
            "[users.ana]\npassword = \"CANARY\"\nconnections = [\"*\"]\n",
            &known(),
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("CANARY"), "{err}");
        assert!(err.contains("unknown field `password`"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        std::fs::write(
            &path,
            "[users.ana]\ntoken_sha256 = \"00\"\nconnections = [\"portal_us\"]\n",
        )
        .unwrap();
        let err = Users::load(&path, &known()).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "users file {}: user \"ana\" lists connection \"portal_us\", which the gateway does not serve (connections: portal_eu, acton_main)",
                path.display()
            )
        );
        assert!(!format!("{:?}", Users::parse("", &known()).unwrap()).contains("hash"));
    }
}
