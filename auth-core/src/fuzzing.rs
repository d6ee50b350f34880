//! Entry points for the fuzz targets in `fuzz/` (`cargo xtask fuzz`, `docs/fuzzing.md`).
//! Not part of the API: hidden, unstable, and only here so the targets can reach parsers that
//! are private to this crate.
//!
//! Each `check_*` function feeds arbitrary bytes to one parser the way production code does and
//! panics when a property that must hold for every input is broken; an error for bad input is
//! the expected outcome, not a failure. The unit tests below run them over the seed corpus
//! checked in under `fuzz/corpus/<target>/`, so a crash input copied there stays a regression
//! test.

use std::sync::atomic::AtomicBool;

use connstr::Secret;

use crate::Error;
use crate::callback::{self, Judge, MAX_HEAD};
use crate::token::{self, Answer, TokenSet};

/// A value "sent in the request" of every fuzzed token response: it must never come back in
/// an error message, wherever the provider echoes it.
pub const TOKEN_CANARY: &str = "CANARY-rt-5f0c1d";

/// Parses a token endpoint answer with `status` and `body` (as the grants do, with
/// [`TOKEN_CANARY`] as the request's secret).
pub fn token_response(status: u16, body: &[u8]) -> Result<TokenSet, Error> {
    token::parse(&Answer {
        provider: "Fuzz",
        grant: "refresh_token",
        status,
        retry_after: None,
        body,
        now_ms: 1_700_000_000_000,
        default_expires_in: None,
        rate_limit_advice: "wait",
        scrub: &[TOKEN_CANARY],
    })
}

/// `data` as the body of token responses with a few statuses: tokens only from a 2xx, a
/// non-empty access token and `Bearer`, 429 is always rate limiting, and no error message
/// (Display or Debug) contains [`TOKEN_CANARY`].
pub fn check_token_response(data: &[u8]) {
    // One status besides the usual ones, picked by the input so every class gets explored.
    let picked = 100 + (data.len() % 500) as u16;
    for status in [200, 400, 401, 429, 503, picked] {
        match token_response(status, data) {
            Ok(tokens) => {
                assert!((200..300).contains(&status), "tokens from HTTP {status}");
                assert!(!tokens.access_token.is_empty(), "empty access token");
                assert_eq!(tokens.token_type, "Bearer");
                let _ = tokens.expires_at_ms();
            }
            Err(e) => {
                if status == 429 {
                    assert!(matches!(e, Error::RateLimited { .. }), "429 gave {e:?}");
                }
                let display = e.to_string();
                assert!(
                    !display.contains(TOKEN_CANARY),
                    "the request's secret is in the error message: {display}"
                );
                let debug = format!("{e:?}");
                assert!(
                    !debug.contains(TOKEN_CANARY),
                    "the request's secret is in the error's Debug: {debug}"
                );
            }
        }
    }
}

/// The callback path the fuzzed listener waits on.
pub const CALLBACK_PATH: &str = "/callback";
/// The `state` the fuzzed listener expects.
pub const CALLBACK_STATE: &str = "fuzz-state-8d1e";

/// `data` as the bytes a client sends to the loopback callback listener:
///
/// - the end of the head is found at the same place whether the bytes arrive at once or in
///   chunks of 1, 3 or 2048 bytes (as `read_head` searches only the new bytes), and a head
///   within the size limit is never refused;
/// - the request line parses into a method, a path without `?` and a query;
/// - an authorization code is accepted only from a `GET` of the callback path, not a prefetch,
///   with the expected `state`, and only once; an error reaches the caller tamed (no control
///   or bidi characters, truncated);
/// - the page sent back is well formed (`Content-Length` matches) and its message is
///   HTML-escaped.
pub fn check_callback_request(data: &[u8]) {
    let whole = callback::find_head_end(data, 0);
    if let Some(end) = whole {
        let head = data.get(..end).unwrap_or_default();
        assert!(
            head.ends_with(b"\n\n") || head.ends_with(b"\n\r\n"),
            "head end {end} is not after a blank line"
        );
    }
    for chunk in [1, 3, 2048] {
        match head_end_in_chunks(data, chunk) {
            Some(end) => assert_eq!(Some(end), whole, "chunks of {chunk}"),
            None => assert!(
                whole.is_none_or(|end| end > MAX_HEAD),
                "a {}-byte head was refused (chunks of {chunk})",
                whole.unwrap_or_default()
            ),
        }
    }

    // The listener only parses a complete head; parse the rest too, for coverage.
    let head = whole.and_then(|end| data.get(..end)).unwrap_or(data);
    let Some(request) = callback::parse_head(head) else {
        return;
    };
    assert!(!request.method.is_empty() && !request.method.contains(' '));
    assert!(!request.path.contains('?') && !request.path.contains(' '));
    assert!(!request.query.contains(' '));

    let judge = Judge {
        path: CALLBACK_PATH.to_owned(),
        state: Secret::new(CALLBACK_STATE),
        provider: "Fuzz".to_owned(),
        completed: AtomicBool::new(false),
    };
    let (page, outcome) = judge.judge(&request);
    check_page(&page.render(true));
    let _ = page.render(false);
    match &outcome {
        Some(Ok(result)) => {
            assert_eq!(request.method, "GET");
            assert_eq!(request.path, CALLBACK_PATH);
            assert!(!request.prefetch, "a prefetch consumed the code");
            assert!(!result.code.is_empty());
            let states: Vec<String> = url::form_urlencoded::parse(request.query.as_bytes())
                .filter(|(name, _)| name == "state")
                .map(|(_, value)| value.into_owned())
                .collect();
            assert_eq!(states, [CALLBACK_STATE], "accepted with state {states:?}");
        }
        Some(Err(e)) => {
            assert!(matches!(e, Error::AccessDenied { .. }), "{e:?}");
            if let Error::AccessDenied { description, .. } = e {
                // 200 characters of provider text, each escaped to at most `\u{10ffff}`.
                assert!(
                    description.chars().count() <= 200 * 10 + 1,
                    "description not truncated"
                );
            }
            let message = e.to_string();
            assert!(
                !message.chars().any(|c| c.is_control()
                    || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
                "untamed error message: {message:?}"
            );
        }
        None => {}
    }
    if outcome.is_some() {
        let (_, again) = judge.judge(&request);
        assert!(again.is_none(), "a replayed callback ended the flow twice");
    }
}

/// Where `read_head` finds the end of the head when the bytes arrive `chunk` at a time; `None`
/// when the connection closes first or the head grows past [`MAX_HEAD`].
fn head_end_in_chunks(data: &[u8], chunk: usize) -> Option<usize> {
    let mut len = 0;
    while len < data.len() {
        let searched_from = len.saturating_sub(3);
        len = (len + chunk).min(data.len());
        if let Some(end) = callback::find_head_end(data.get(..len)?, searched_from) {
            return Some(end);
        }
        if len > MAX_HEAD {
            return None;
        }
    }
    None
}

/// A rendered page: a status line, headers whose `Content-Length` is the body's, and a body
/// whose message paragraph holds no markup.
fn check_page(page: &[u8]) {
    let text = std::str::from_utf8(page).unwrap_or_default();
    assert!(text.starts_with("HTTP/1.1 "), "{text:?}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|n| n.trim().parse::<usize>().ok());
    assert_eq!(length, Some(body.len()), "Content-Length of {text:?}");
    let message = body
        .split_once("<p>")
        .and_then(|(_, rest)| rest.rsplit_once("</p>"))
        .map(|(message, _)| message)
        .unwrap_or_default();
    assert!(
        !message.contains(['<', '>', '"', '\'']),
        "unescaped message: {message:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of the seed corpus of a fuzz target (none when `fuzz/` is not there).
    fn seeds(target: &str) -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/corpus")
            .join(target);
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    #[test]
    fn token_response_seeds_hold() {
        let mut inputs = seeds("token_response");
        inputs.push(br#"{"access_token":"a","expires_in":"1800"}"#.to_vec());
        inputs.push(
            format!(r#"{{"error":"invalid_grant","error_description":"{TOKEN_CANARY}"}}"#)
                .into_bytes(),
        );
        inputs.push(b"\xff{".to_vec());
        for input in inputs {
            check_token_response(&input);
        }
        assert!(token_response(200, br#"{"access_token":"a"}"#).is_ok());
    }

    #[test]
    fn callback_request_seeds_hold() {
        let mut inputs = seeds("callback_request");
        inputs.push(
            format!("GET /callback?code=c&state={CALLBACK_STATE} HTTP/1.1\r\n\r\n").into_bytes(),
        );
        inputs.push(b"GET /callback?error=x%1b HTTP/1.1\n\n".to_vec());
        inputs.push(vec![b'a'; MAX_HEAD + 10]);
        for input in inputs {
            check_callback_request(&input);
        }
    }
}
