//! The ADO.NET connection-string grammar (default, non-ODBC rules).
//!
//! A port of the state machine in dotnet/runtime's `DbConnectionOptions.Common.cs`
//! (`GetKeyValuePair`, `ParseInternal`), with `DbConnectionStringBuilder`'s replay semantics:
//! the last pair wins and `K=` (a null value) removes an earlier `K=v`.

use std::fmt;

use crate::secret::MASK;

/// A parsed connection string: an ordered map from case-insensitive keys to values.
///
/// Keys keep the spelling of their last occurrence for display; lookups ignore case.
/// `Debug` and `Display` mask the values of keys that look sensitive (see [`is_sensitive_key`]).
///
/// ```
/// use connstr::ConnectionString;
/// let cs: ConnectionString = "OAuthClientID=abc; oauthclientid = def ;Scope='a b'".parse()?;
/// assert_eq!(cs.get("OAuthClientId"), Some("def"));
/// assert_eq!(cs.iter().next(), Some(("oauthclientid", "def")));
/// assert_eq!(cs.to_connection_string(), r#"oauthclientid=def;Scope="a b""#);
/// # Ok::<(), connstr::SyntaxError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnectionString {
    entries: Vec<Entry>,
}

#[derive(Clone, PartialEq, Eq)]
struct Entry {
    /// The key as the user last spelled it.
    key: String,
    /// The key folded for comparison.
    folded: String,
    value: String,
}

/// Folds a key for case-insensitive comparison (.NET's `ToLowerInvariant`).
pub(crate) fn fold_key(key: &str) -> String {
    key.to_lowercase()
}

impl ConnectionString {
    /// An empty connection string.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a connection string.
    ///
    /// ```
    /// use connstr::ConnectionString;
    /// let err = ConnectionString::parse("A=1;B='x").unwrap_err();
    /// assert_eq!(err.offset(), 4);
    /// ```
    pub fn parse(input: &str) -> Result<Self, SyntaxError> {
        let mut map = Self::new();
        let mut position = 0;
        while position < input.len() {
            let pair = next_pair(input, position)?;
            position = pair.next;
            let Some(key) = pair.key else { break };
            match pair.value {
                Some(value) => map.set(key, value),
                None => {
                    map.remove(&key);
                }
            }
        }
        Ok(map)
    }

    /// The value of `key` (case-insensitive), if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        let folded = fold_key(key);
        self.entries
            .iter()
            .find(|e| e.folded == folded)
            .map(|e| e.value.as_str())
    }

    /// Sets `key` to `value`; an existing key keeps its position and takes the new spelling.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let folded = fold_key(&key);
        let value = value.into();
        match self.entries.iter_mut().find(|e| e.folded == folded) {
            Some(entry) => {
                entry.key = key;
                entry.value = value;
            }
            None => self.entries.push(Entry { key, folded, value }),
        }
    }

    /// Removes `key` (case-insensitive) and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let folded = fold_key(key);
        let index = self.entries.iter().position(|e| e.folded == folded)?;
        Some(self.entries.remove(index).value)
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pairs in order, keys spelled as at their last occurrence.
    ///
    /// # Security warning
    /// Values are not masked: this is how a connector reads its configuration.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
    }

    /// Serialises the map with the ADO.NET quoting rules; `parse` gives the same map back.
    ///
    /// # Security warning
    /// The result contains every value, secrets included. Use `Display` for a masked form.
    pub fn to_connection_string(&self) -> String {
        self.serialise(|_| false)
    }

    /// Serialises the map, replacing the values of sensitive keys with `********`.
    pub fn to_masked_string(&self) -> String {
        self.serialise(is_sensitive_key)
    }

    fn serialise(&self, mask: impl Fn(&str) -> bool) -> String {
        let mut out = String::new();
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(&entry.key.replace('=', "=="));
            out.push('=');
            if mask(&entry.key) {
                out.push_str(MASK);
            } else {
                push_value(&mut out, &entry.value);
            }
        }
        out
    }
}

/// Writes a value bare, in `'…'` or in `"…"` as `DbConnectionStringBuilder.AppendKeyValuePair` does,
/// except that the empty string is written `""`: .NET writes it bare (`k=`), which reads back as
/// "unset" and breaks the round trip.
fn push_value(out: &mut String, value: &str) {
    let bare = !value.is_empty()
        && !value
            .chars()
            .any(|c| matches!(c, '"' | '\'' | '=' | ';') || c.is_whitespace() || c.is_control());
    if bare {
        out.push_str(value);
    } else if value.contains('"') && !value.contains('\'') {
        out.push('\'');
        out.push_str(value);
        out.push('\'');
    } else {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    }
}

impl std::str::FromStr for ConnectionString {
    type Err = SyntaxError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ConnectionString {
    /// The masked serialisation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_masked_string())
    }
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for entry in &self.entries {
            if is_sensitive_key(&entry.key) {
                map.entry(&entry.key, &MASK);
            } else {
                map.entry(&entry.key, &entry.value);
            }
        }
        map.finish()
    }
}

/// Whether a key names a value that must never be shown: passwords, secrets, tokens,
/// verifiers, passphrases.
///
/// This is the grammar-level rule, used where no property registry is at hand (syntax errors,
/// `Debug` of a raw map); it errs on the side of masking. The registry marks sensitive
/// properties individually.
///
/// ```
/// assert!(connstr::is_sensitive_key("OAuthClientSecret"));
/// assert!(connstr::is_sensitive_key("ProxyPassword"));
/// assert!(!connstr::is_sensitive_key("OAuthClientId"));
/// ```
pub fn is_sensitive_key(key: &str) -> bool {
    let folded = fold_key(key);
    let folded = folded.trim();
    if matches!(folded, "oauthtokentimestamp" | "oauthexpiresin") {
        return false;
    }
    [
        "password",
        "secret",
        "token",
        "verifier",
        "passphrase",
        "pwd",
    ]
    .iter()
    .any(|word| folded.contains(word))
}

/// What went wrong in a connection string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// A control character where a key should start or inside a key.
    ControlCharacter,
    /// `=value` with no key.
    EmptyKey,
    /// A key with no `=` before the end of the string.
    MissingEquals,
    /// A quoted value whose closing quote is missing.
    UnterminatedQuote,
    /// Something other than whitespace and `;` after a closing quote.
    TextAfterQuote,
    /// An unquoted value that ends with a quote character.
    ValueEndsWithQuote,
    /// A character other than whitespace after a NUL terminator.
    TextAfterNul,
}

impl SyntaxErrorKind {
    fn message(self) -> &'static str {
        match self {
            Self::ControlCharacter => "control character in a key",
            Self::EmptyKey => "a value with no key before '='",
            Self::MissingEquals => "a key with no '=' after it",
            Self::UnterminatedQuote => "a quoted value with no closing quote",
            Self::TextAfterQuote => {
                "text after a closing quote (only ';' may follow a quoted value)"
            }
            Self::ValueEndsWithQuote => {
                "an unquoted value ends with a quote (quote the whole value, doubling the quote inside)"
            }
            Self::TextAfterNul => "text after a NUL character",
        }
    }
}

/// A connection-string syntax error: what went wrong and the byte offset where.
///
/// `Display` shows the input with a caret under the problem, the values of sensitive keys
/// replaced by `********`.
///
/// ```
/// use connstr::ConnectionString;
/// let err = ConnectionString::parse("OAuthClientSecret=s3cr3t;Scope='x").unwrap_err();
/// let shown = err.to_string();
/// assert!(shown.contains("byte 25"));
/// assert!(!shown.contains("s3cr3t"));
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct SyntaxError {
    kind: SyntaxErrorKind,
    offset: usize,
    /// The input with sensitive values masked, and the offset moved to match.
    shown: String,
    shown_offset: usize,
}

impl fmt::Debug for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyntaxError")
            .field("kind", &self.kind)
            .field("offset", &self.offset)
            .field("input", &self.shown)
            .finish()
    }
}

impl SyntaxError {
    fn new(input: &str, offset: usize, kind: SyntaxErrorKind) -> Self {
        let (shown, shown_offset) = mask_for_display(input, offset);
        Self {
            kind,
            offset,
            shown,
            shown_offset,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> SyntaxErrorKind {
        self.kind
    }

    /// The byte offset in the input where the problem is.
    pub fn offset(&self) -> usize {
        self.offset
    }

    fn render(&self) -> String {
        // Control characters would garble the caret line: show them as '?'.
        let line: String = self
            .shown
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        let column = self.shown[..self.shown_offset.min(self.shown.len())]
            .chars()
            .count();
        format!(
            "connection string syntax error at byte {}: {}\n  {}\n  {}^",
            self.offset,
            self.kind.message(),
            line,
            " ".repeat(column)
        )
    }
}

/// Replaces sensitive values with the mask for display, keeping `offset` pointing at the same
/// character. A lenient scan (split on `;`, then on the first `=`) so that it also works on
/// input the real grammar rejects.
fn mask_for_display(input: &str, offset: usize) -> (String, usize) {
    let mut shown = String::with_capacity(input.len());
    let mut shown_offset = None;
    let mut start = 0;
    for segment in input.split_inclusive(';') {
        let end = start + segment.len();
        let masked_range = segment.find('=').and_then(|eq| {
            let key = &segment[..eq];
            let value_end = segment.strip_suffix(';').map_or(segment.len(), str::len);
            (is_sensitive_key(key) && value_end > eq + 1).then_some((eq + 1, value_end))
        });
        match masked_range {
            Some((from, to)) => {
                shown.push_str(&segment[..from]);
                let mask_start = shown.len();
                shown.push_str(MASK);
                shown.push_str(&segment[to..]);
                if shown_offset.is_none() && offset < end {
                    let rel = offset - start;
                    shown_offset = Some(if rel < from {
                        mask_start - from + rel
                    } else if rel < to {
                        mask_start
                    } else {
                        mask_start + MASK.len() + (rel - to)
                    });
                }
            }
            None => {
                if shown_offset.is_none() && offset < end {
                    shown_offset = Some(shown.len() + offset - start);
                }
                shown.push_str(segment);
            }
        }
        start = end;
    }
    let shown_offset = shown_offset.unwrap_or(shown.len());
    (shown, shown_offset)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    NothingYet,
    Key,
    KeyEqual,
    KeyEnd,
    UnquotedValue,
    DoubleQuoteValue,
    DoubleQuoteValueQuote,
    SingleQuoteValue,
    SingleQuoteValueQuote,
    QuotedValueEnd,
    NullTermination,
}

/// One `key=value` pair: `key` is `None` when only whitespace and `;` remained; `value` is `None`
/// for `K=` (unset).
struct Pair {
    key: Option<String>,
    value: Option<String>,
    next: usize,
}

/// `GetKeyValuePair`: reads the pair starting at byte `start`.
fn next_pair(input: &str, start: usize) -> Result<Pair, SyntaxError> {
    use State::*;
    let err = |offset: usize, kind| SyntaxError::new(input, offset, kind);

    let mut pair_start = start;
    let mut buffer = String::new();
    let mut key: Option<String> = None;
    let mut value: Option<String> = None;
    let mut state = NothingYet;
    let mut position = start;
    let mut current = '\0';
    let mut exited_at_separator = false;

    'scan: for (rel, c) in input[start..].char_indices() {
        position = start + rel;
        current = c;
        // `reprocess` emulates the C# `goto case` between states on the same character.
        let mut reprocess = true;
        while reprocess {
            reprocess = false;
            match state {
                NothingYet => {
                    if c == ';' || c.is_whitespace() {
                        continue 'scan;
                    }
                    if c == '\0' {
                        state = NullTermination;
                        continue 'scan;
                    }
                    if c.is_control() {
                        return Err(err(position, SyntaxErrorKind::ControlCharacter));
                    }
                    pair_start = position;
                    if c == '=' {
                        state = KeyEqual;
                        continue 'scan;
                    }
                    state = Key;
                }
                Key => {
                    if c == '=' {
                        state = KeyEqual;
                        continue 'scan;
                    }
                    if !c.is_whitespace() && c.is_control() {
                        return Err(err(position, SyntaxErrorKind::ControlCharacter));
                    }
                }
                KeyEqual => {
                    if c == '=' {
                        // `==` inside a key is a literal `=`.
                        state = Key;
                    } else {
                        let name = key_name(&buffer);
                        if name.is_empty() {
                            return Err(err(pair_start, SyntaxErrorKind::EmptyKey));
                        }
                        key = Some(name);
                        buffer.clear();
                        state = KeyEnd;
                        reprocess = true;
                    }
                }
                KeyEnd => {
                    if c.is_whitespace() {
                        continue 'scan;
                    }
                    if c == '\'' {
                        state = SingleQuoteValue;
                        continue 'scan;
                    }
                    if c == '"' {
                        state = DoubleQuoteValue;
                        continue 'scan;
                    }
                    if c == ';' || c == '\0' {
                        exited_at_separator = true;
                        break 'scan;
                    }
                    if c.is_control() {
                        return Err(err(position, SyntaxErrorKind::ControlCharacter));
                    }
                    state = UnquotedValue;
                }
                UnquotedValue => {
                    if !c.is_whitespace() && (c.is_control() || c == ';') {
                        exited_at_separator = true;
                        break 'scan;
                    }
                }
                DoubleQuoteValue | SingleQuoteValue => {
                    let quote = if state == DoubleQuoteValue { '"' } else { '\'' };
                    if c == quote {
                        state = if state == DoubleQuoteValue {
                            DoubleQuoteValueQuote
                        } else {
                            SingleQuoteValueQuote
                        };
                        continue 'scan;
                    }
                    if c == '\0' {
                        return Err(err(pair_start, SyntaxErrorKind::UnterminatedQuote));
                    }
                }
                DoubleQuoteValueQuote | SingleQuoteValueQuote => {
                    let quote = if state == DoubleQuoteValueQuote {
                        '"'
                    } else {
                        '\''
                    };
                    if c == quote {
                        // A doubled quote is one literal quote.
                        state = if state == DoubleQuoteValueQuote {
                            DoubleQuoteValue
                        } else {
                            SingleQuoteValue
                        };
                    } else {
                        value = Some(std::mem::take(&mut buffer));
                        state = QuotedValueEnd;
                        reprocess = true;
                    }
                }
                QuotedValueEnd => {
                    if c.is_whitespace() {
                        continue 'scan;
                    }
                    if c == ';' {
                        exited_at_separator = true;
                        break 'scan;
                    }
                    if c == '\0' {
                        state = NullTermination;
                        continue 'scan;
                    }
                    return Err(err(position, SyntaxErrorKind::TextAfterQuote));
                }
                NullTermination => {
                    if c == '\0' || c.is_whitespace() {
                        continue 'scan;
                    }
                    return Err(err(position, SyntaxErrorKind::TextAfterNul));
                }
            }
        }
        buffer.push(c);
    }
    if !exited_at_separator {
        position = input.len();
    }

    match state {
        Key => return Err(err(pair_start, SyntaxErrorKind::MissingEquals)),
        DoubleQuoteValue | SingleQuoteValue => {
            return Err(err(pair_start, SyntaxErrorKind::UnterminatedQuote));
        }
        KeyEqual => {
            let name = key_name(&buffer);
            if name.is_empty() {
                return Err(err(pair_start, SyntaxErrorKind::EmptyKey));
            }
            key = Some(name);
        }
        UnquotedValue => {
            let trimmed = buffer.trim_matches(char::is_whitespace);
            if trimmed.ends_with(['\'', '"']) {
                return Err(err(pair_start, SyntaxErrorKind::ValueEndsWithQuote));
            }
            value = Some(trimmed.to_owned());
        }
        DoubleQuoteValueQuote | SingleQuoteValueQuote => {
            value = Some(std::mem::take(&mut buffer));
        }
        QuotedValueEnd | NothingYet | KeyEnd | NullTermination => {}
    }
    let next = if exited_at_separator && current == ';' {
        position + 1
    } else {
        position
    };
    Ok(Pair { key, value, next })
}

/// `GetKeyName`: trailing whitespace trimmed (leading whitespace was never collected). The
/// user's spelling is kept; comparisons fold case.
fn key_name(buffer: &str) -> String {
    buffer.trim_end_matches(char::is_whitespace).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(input: &str) -> Vec<(String, String)> {
        ConnectionString::parse(input)
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn last_pair_wins_and_keeps_the_last_spelling() {
        assert_eq!(
            parsed("OAuthClientID=a;x=1;oauthclientid=b"),
            pairs(&[("oauthclientid", "b"), ("x", "1")])
        );
    }

    #[test]
    fn a_null_value_unsets_an_earlier_pair() {
        assert_eq!(parsed("A=1;B=2;a=;"), pairs(&[("B", "2")]));
        assert_eq!(parsed("A=''"), pairs(&[("A", "")]));
    }

    #[test]
    fn doubled_equals_in_a_key_and_equals_in_a_value() {
        assert_eq!(parsed("A==C=B=D"), pairs(&[("A=C", "B=D")]));
    }

    #[test]
    fn quoted_values_unescape_doubled_quotes() {
        assert_eq!(
            parsed(r#"A="x""y";B='p''q' ; C = " s ""#),
            pairs(&[("A", "x\"y"), ("B", "p'q"), ("C", " s ")])
        );
    }

    #[test]
    fn offsets_point_at_the_pair_or_character() {
        let e = ConnectionString::parse("A=1; B='x").unwrap_err();
        assert_eq!(
            (e.kind(), e.offset()),
            (SyntaxErrorKind::UnterminatedQuote, 5)
        );
        let e = ConnectionString::parse("A='x' y").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (SyntaxErrorKind::TextAfterQuote, 6));
        let e = ConnectionString::parse("A=1;=2").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (SyntaxErrorKind::EmptyKey, 4));
        let e = ConnectionString::parse("A=1;B").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (SyntaxErrorKind::MissingEquals, 4));
    }

    #[test]
    fn error_display_masks_sensitive_values_and_places_the_caret() {
        let input = "OAuthClientSecret=CANARY-SECRET;Password=CANARY-PW;Scope='open";
        let e = ConnectionString::parse(input).unwrap_err();
        let shown = e.to_string();
        assert!(!shown.contains("CANARY"), "{shown}");
        assert!(!format!("{e:?}").contains("CANARY"));
        let lines: Vec<&str> = shown.lines().collect();
        let caret = lines[2].find('^').unwrap();
        assert_eq!(&lines[1][caret..caret + 6], "Scope=");
    }

    #[test]
    fn error_inside_a_sensitive_value_still_masks_it() {
        let e = ConnectionString::parse("Password=CANARY'x'").unwrap_err();
        assert!(!e.to_string().contains("CANARY"), "{e}");
    }

    #[test]
    fn debug_and_display_mask_sensitive_values() {
        let cs =
            ConnectionString::parse("OAuthAccessToken=CANARY1;User=bob;Password=CANARY2").unwrap();
        for shown in [format!("{cs:?}"), format!("{cs}"), format!("{cs:#?}")] {
            assert!(!shown.contains("CANARY"), "{shown}");
            assert!(shown.contains("bob"));
        }
    }

    #[test]
    fn serialiser_follows_the_dotnet_examples() {
        let cases = [
            ("Adven'ture", r#""Adven'ture""#),
            ("Adven\"ture", "'Adven\"ture'"),
            ("A'dv\"en;ture", r#""A'dv""en;ture""#),
            ("Adven=ture", "\"Adven=ture\""),
            ("Adven{ture", "Adven{ture"),
        ];
        for (value, written) in cases {
            let mut cs = ConnectionString::new();
            cs.set("k", value);
            assert_eq!(cs.to_connection_string(), format!("k={written}"));
        }
    }
}
