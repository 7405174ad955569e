//! Flat string parameter maps and the canonical `k=v&k=v` string shared by
//! WeChat Pay v2 and Alipay signatures.

use std::collections::BTreeMap;

/// A flat parameter map, sorted by key (ASCII byte order, as both providers sort).
pub type Params = BTreeMap<String, String>;

/// Builds the canonical string: every parameter whose value is non-empty and
/// whose key is not in `exclude`, sorted by key, joined as `k=v&k=v` with raw
/// (not URL-encoded, not trimmed) values.
///
/// ```
/// use edgepay::params::{canonical_string, Params};
/// let mut p = Params::new();
/// p.insert("b".into(), "2".into());
/// p.insert("a".into(), "1 + 1".into());
/// p.insert("empty".into(), "".into());
/// p.insert("sign".into(), "XYZ".into());
/// assert_eq!(canonical_string(&p, &["sign"]), "a=1 + 1&b=2");
/// ```
pub fn canonical_string(params: &Params, exclude: &[&str]) -> String {
    let mut out = String::new();
    for (k, v) in params {
        if v.is_empty() || exclude.contains(&k.as_str()) {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Builds a [`Params`] from `(key, value)` pairs.
///
/// ```
/// let p = edgepay::params::params([("appid", "wx1"), ("mch_id", "10")]);
/// assert_eq!(p["appid"], "wx1");
/// ```
pub fn params<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Params {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}
