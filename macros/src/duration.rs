//! `"30s"`, `"250ms"`, `"5m"`, `"1h"`, `"2d"` or `"never"`, checked at compile time.

/// A TTL: whole milliseconds, or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ttl {
    Millis(u64),
    Never,
}

/// Parses a duration string; the error says what is accepted.
pub(crate) fn parse(text: &str) -> Result<Ttl, String> {
    let text = text.trim();
    if text == "never" {
        return Ok(Ttl::Never);
    }
    if text.starts_with('-') {
        return Err(format!("`{text}`: {NEGATIVE}"));
    }
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let scale: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("cannot read `{text}` as a TTL: {EXPECTED}")),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("cannot read `{text}` as a TTL: {EXPECTED}"))?;
    number
        .checked_mul(scale)
        .map(Ttl::Millis)
        .ok_or_else(|| format!("`{text}` is too long a TTL; for no expiry write \"never\""))
}

/// What a negative TTL gets told, in `ttl` and `ttl_ms` alike.
pub(crate) const NEGATIVE: &str =
    "a TTL cannot be negative; write 0 to store nothing, or \"never\" for no expiry";

const EXPECTED: &str =
    "write a whole number and a unit (ms, s, m, h, d), such as \"30s\", or \"never\"";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_never() {
        assert_eq!(parse("250ms"), Ok(Ttl::Millis(250)));
        assert_eq!(parse("30s"), Ok(Ttl::Millis(30_000)));
        assert_eq!(parse("5m"), Ok(Ttl::Millis(300_000)));
        assert_eq!(parse("1h"), Ok(Ttl::Millis(3_600_000)));
        assert_eq!(parse("2d"), Ok(Ttl::Millis(172_800_000)));
        assert_eq!(parse("0s"), Ok(Ttl::Millis(0)));
        assert_eq!(parse("never"), Ok(Ttl::Never));
    }

    #[test]
    fn a_negative_ttl_is_named_as_such() {
        let message = parse("-5s").unwrap_err();
        assert!(message.contains("cannot be negative"), "{message}");
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            "",
            "30",
            "s",
            "-5s",
            "1.5s",
            "30 sec",
            "forever",
            "99999999999999999999d",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
