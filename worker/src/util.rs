//! Clock, nonces and small helpers (the core takes time and nonces as input).

/// Unix seconds.
pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Unix milliseconds.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// `n` random bytes from the platform CSPRNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    // getrandom's `js` backend uses crypto.getRandomValues; failure here is a platform bug.
    getrandom::getrandom(&mut b).unwrap_or_else(|_| {
        for (i, x) in b.iter_mut().enumerate() {
            *x = ((js_sys::Math::random() * 256.0) as u8) ^ (i as u8);
        }
    });
    b
}

/// A 32-character hex nonce (WeChat's `nonce_str` limit is 32).
pub fn nonce() -> String {
    hex::encode(random_bytes(16))
}

/// True when `s` is a valid merchant order / refund number: 1–32 chars of `[A-Za-z0-9_-|*]`.
pub fn valid_order_no(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'))
}

/// Constant-time string comparison.
pub fn ct_eq(a: &str, b: &str) -> bool {
    edgepay::crypto::constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// Beijing time (UTC+8) `yyyyMMddHHmmss` → RFC 3339 with `+08:00`; other text passes through.
pub fn wechat_time_to_rfc3339(t: &str) -> String {
    if t.len() == 14 && t.bytes().all(|b| b.is_ascii_digit()) {
        format!(
            "{}-{}-{}T{}:{}:{}+08:00",
            &t[0..4],
            &t[4..6],
            &t[6..8],
            &t[8..10],
            &t[10..12],
            &t[12..14]
        )
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{valid_order_no, wechat_time_to_rfc3339};

    #[test]
    fn order_numbers() {
        for ok in ["A", "a-b_c|d*e", &"9".repeat(32)] {
            assert!(valid_order_no(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "订单", &"9".repeat(33), "a\n", "a%2F"] {
            assert!(!valid_order_no(bad), "{bad:?}");
        }
    }

    #[test]
    fn wechat_times() {
        assert_eq!(
            wechat_time_to_rfc3339("20181010104330"),
            "2018-10-10T10:43:30+08:00"
        );
        assert_eq!(
            wechat_time_to_rfc3339("2018-06-08T10:34:56+08:00"),
            "2018-06-08T10:34:56+08:00"
        );
        assert_eq!(wechat_time_to_rfc3339("2018101010433"), "2018101010433");
        assert_eq!(wechat_time_to_rfc3339("2018101010433é"), "2018101010433é");
    }
}
