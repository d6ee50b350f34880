//! Small helpers: deterministic randomness, time formatting, escaping, token minting.

use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};

/// SplitMix64: a tiny, fast, well-mixed hash used to derive seed data from (seed, index).
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic value in `0..n` for (seed, index, salt).
pub(crate) fn pick(seed: u64, idx: u64, salt: u64, n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    mix(seed ^ mix(idx ^ mix(salt))) % n
}

/// Random bytes from the OS; falls back to a hash of a counter if the OS source fails,
/// because an emulator must keep serving rather than crash on an entropy hiccup.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if SystemRandom::new().fill(&mut buf).is_err() {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        for (i, b) in buf.iter_mut().enumerate() {
            let c = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            *b = (mix(c ^ i as u64) & 0xff) as u8;
        }
    }
    buf
}

/// A random RFC 4122 version-4 UUID string.
pub(crate) fn uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

/// A deterministic UUID-shaped string derived from a seed, for stable seeded credentials.
pub(crate) fn seeded_uuid(seed: u64, salt: u64) -> String {
    let a = mix(seed ^ mix(salt)).to_be_bytes();
    let c = mix(mix(seed) ^ salt.wrapping_mul(31)).to_be_bytes();
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&a);
    b[8..].copy_from_slice(&c);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

fn format_uuid(b: &[u8; 16]) -> String {
    let h = hex(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Random URL-safe base64 (no padding) of `N` bytes.
pub(crate) fn random_b64<const N: usize>() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// An alphanumeric string of `len` characters derived from a seed (Act-On style client ids).
pub(crate) fn seeded_alnum(seed: u64, salt: u64, len: usize) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|i| ALPHA[pick(seed, i as u64, salt, ALPHA.len() as u64) as usize] as char)
        .collect()
}

/// PKCE S256 transform: BASE64URL(SHA256(verifier)).
pub(crate) fn pkce_s256(verifier: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// Constant-time string comparison for secrets, so the emulator models good practice.
pub(crate) fn secret_eq(a: &str, b: &str) -> bool {
    // XOR-fold so the time does not depend on where the first difference is.
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// HTML-escapes text for the authorization pages.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query component (form-urlencoded rules).
pub(crate) fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Appends query parameters to a redirect URI that may already have a query.
pub(crate) fn append_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_string();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        out.push_str(&url_encode(k));
        out.push('=');
        out.push_str(&url_encode(v));
        sep = '&';
    }
    out
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// ISO-8601 UTC with milliseconds, as HubSpot prints timestamps: `2024-01-31T12:00:00.000Z`.
pub(crate) fn iso_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        (rem / 60_000) % 60,
        (rem / 1000) % 60,
        rem % 1000
    )
}

/// `YYYY-MM-DD` of a millisecond timestamp.
pub(crate) fn iso_date(ms: i64) -> String {
    let (y, mo, d) = civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{mo:02}-{d:02}")
}

/// Parses a millisecond number, `YYYY-MM-DD`, or an RFC 3339 UTC/offset timestamp to epoch ms.
pub(crate) fn parse_time_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    let d: u32 = s.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    if b.len() == 10 {
        return Some(ms);
    }
    if b[10] != b'T' && b[10] != b' ' {
        return None;
    }
    let hh: i64 = s.get(11..13)?.parse().ok()?;
    let mm: i64 = s.get(14..16)?.parse().ok()?;
    let ss: i64 = s.get(17..19)?.parse().ok()?;
    ms += (hh * 3600 + mm * 60 + ss) * 1000;
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        let n = digits.len();
        if n > 0 {
            let padded = format!("{:0<3}", &digits[..n.min(3)]);
            ms += padded.parse::<i64>().ok()?;
        }
        rest = &frac[n..];
    }
    match rest {
        "" | "Z" | "z" => Some(ms),
        off if off.len() == 6 && (off.starts_with('+') || off.starts_with('-')) => {
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let oh: i64 = off.get(1..3)?.parse().ok()?;
            let om: i64 = off.get(4..6)?.parse().ok()?;
            Some(ms - sign * (oh * 3600 + om * 60) * 1000)
        }
        _ => None,
    }
}

/// Formats a float as JSON the way HubSpot does: integral values without a fraction.
pub(crate) fn fmt_num(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else if n.is_finite() {
        format!("{n}")
    } else {
        "null".to_string()
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips_through_parse() {
        for ms in [0i64, 1_704_067_200_000, 1_709_251_199_999, 951_782_400_123] {
            assert_eq!(parse_time_ms(&iso_ms(ms)), Some(ms));
        }
        assert_eq!(iso_ms(1_704_067_200_000), "2024-01-01T00:00:00.000Z");
        assert_eq!(parse_time_ms("2024-01-01"), Some(1_704_067_200_000));
        assert_eq!(
            parse_time_ms("2024-01-01T02:00:00+02:00"),
            Some(1_704_067_200_000)
        );
    }

    #[test]
    fn pkce_matches_rfc7636_example() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
