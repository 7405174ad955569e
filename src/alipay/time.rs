//! Alipay's `timestamp` (`yyyy-MM-dd HH:mm:ss` in Beijing time, UTC+8) and
//! decimal amounts (`"0.01"` yuan) as integer fen.

use crate::error::{quoted, Error, Result};
use time::macros::{format_description, offset};
use time::OffsetDateTime;

/// Formats Unix seconds as `yyyy-MM-dd HH:mm:ss` in Beijing time (UTC+8),
/// whatever the server's own time zone (pitfall: UTC instead of Beijing time).
///
/// Errors (field `timestamp`) for instants outside the years 0000–9999.
///
/// ```
/// // 2023-12-20 22:54:37 UTC
/// assert_eq!(edgepay::alipay::beijing_timestamp(1_703_112_877).unwrap(), "2023-12-21 06:54:37");
/// ```
pub fn beijing_timestamp(unix_secs: i64) -> Result<String> {
    let out_of_range = || {
        Error::invalid(
            "timestamp",
            format!("{unix_secs} is outside the years 0000-9999"),
        )
    };
    let t = OffsetDateTime::from_unix_timestamp(unix_secs)
        .map_err(|_| out_of_range())?
        .checked_to_offset(offset!(+8))
        .ok_or_else(out_of_range)?;
    if !(0..=9999).contains(&t.year()) {
        return Err(out_of_range());
    }
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]"
    ))
    .map_err(|_| out_of_range())
}

/// The largest amount Alipay accepts: 100000000.00 yuan, in fen.
pub const MAX_AMOUNT_FEN: u64 = 10_000_000_000;

/// Formats integer fen as Alipay's decimal yuan string with two decimals
/// (`1` → `"0.01"`, `12345` → `"123.45"`).
///
/// ```
/// assert_eq!(edgepay::alipay::time::fen_to_yuan(1), "0.01");
/// assert_eq!(edgepay::alipay::time::fen_to_yuan(100_000), "1000.00");
/// ```
pub fn fen_to_yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// Parses an Alipay decimal amount (`"0.01"`, `"12.5"`, `"100"`) into fen,
/// strictly: ASCII digits, at most two decimals, no sign, no spaces, no
/// exponent, no redundant leading zero. `field` names the value in errors.
///
/// ```
/// use edgepay::alipay::time::yuan_to_fen;
/// assert_eq!(yuan_to_fen("total_amount", "0.01").unwrap(), 1);
/// assert_eq!(yuan_to_fen("total_amount", "12.5").unwrap(), 1250);
/// assert!(yuan_to_fen("total_amount", "0.001").is_err());
/// assert!(yuan_to_fen("total_amount", " 1.00").is_err());
/// ```
pub fn yuan_to_fen(field: &str, text: &str) -> Result<u64> {
    let bad =
        |why: &str| Error::invalid(field, format!("{} is not an amount: {why}", quoted(text)));
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("the yuan part must be ASCII digits"));
    }
    if int.len() > 1 && int.starts_with('0') {
        return Err(bad("leading zero"));
    }
    if int.len() > 12 {
        return Err(bad("too large"));
    }
    let mut fen: u64 = int
        .parse::<u64>()
        .map_err(|_| bad("too large"))?
        .checked_mul(100)
        .ok_or_else(|| bad("too large"))?;
    if let Some(frac) = frac {
        if frac.is_empty() || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("one or two decimal digits must follow the point"));
        }
        let mut cents = frac.parse::<u64>().map_err(|_| bad("bad decimals"))?;
        if frac.len() == 1 {
            cents *= 10;
        }
        fen += cents;
    }
    Ok(fen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_instants() {
        assert_eq!(beijing_timestamp(0).unwrap(), "1970-01-01 08:00:00");
        // 15:59:59 UTC on Dec 31 is 23:59:59 in Beijing; a second later, the new year.
        assert_eq!(
            beijing_timestamp(1_704_038_399).unwrap(),
            "2023-12-31 23:59:59"
        );
        assert_eq!(
            beijing_timestamp(1_704_038_400).unwrap(),
            "2024-01-01 00:00:00"
        );
        assert!(beijing_timestamp(i64::MAX).is_err());
        assert!(beijing_timestamp(i64::MIN).is_err());
        assert_eq!(
            beijing_timestamp(-62_167_248_000).unwrap(),
            "0000-01-01 00:00:00"
        );
        assert_eq!(
            beijing_timestamp(-62_167_248_001).unwrap_err().field(),
            Some("timestamp")
        );
    }

    #[test]
    fn amounts() {
        assert_eq!(fen_to_yuan(0), "0.00");
        assert_eq!(fen_to_yuan(10), "0.10");
        assert_eq!(fen_to_yuan(MAX_AMOUNT_FEN), "100000000.00");
        for ok in [
            ("0", 0),
            ("0.0", 0),
            ("1", 100),
            ("1.1", 110),
            ("9.99", 999),
        ] {
            assert_eq!(yuan_to_fen("a", ok.0).unwrap(), ok.1, "{}", ok.0);
        }
        for bad in [
            "",
            ".",
            "1.",
            ".5",
            "-1",
            "+1",
            "1e2",
            "01",
            "1.234",
            "1,00",
            "１",
            "0x1",
            " 1",
            "1 ",
            "99999999999999999999",
        ] {
            assert_eq!(
                yuan_to_fen("a", bad).unwrap_err().field(),
                Some("a"),
                "{bad}"
            );
        }
    }
}
