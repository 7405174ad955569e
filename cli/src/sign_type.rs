//! Choosing the sign type: the `--sign-type` flag, else the parameters'
//! `sign_type`, else the protocol's default; a contradiction is an error,
//! since `sign_type` is itself part of the signed string.

use crate::fail::Fail;
use edgepay::Params;
use std::fmt::Display;
use std::str::FromStr;

/// Resolves the sign type. `expected` names the accepted values for errors
/// (e.g. "MD5 or HMAC-SHA256").
pub fn resolve<T>(
    flag: Option<&str>,
    params: &Params,
    default: T,
    expected: &str,
) -> Result<T, Fail>
where
    T: FromStr + PartialEq + Display,
{
    let parse = |what: &str, s: &str| {
        s.parse::<T>()
            .map_err(|_| Fail::usage(format!("{what}: {s:?} is not {expected}")))
    };
    let from_params = params
        .get("sign_type")
        .filter(|s| !s.is_empty())
        .map(|s| parse("sign_type", s))
        .transpose()?;
    match (flag.map(|f| parse("--sign-type", f)).transpose()?, from_params) {
        (Some(f), Some(p)) if f != p => Err(Fail::usage(format!(
            "--sign-type {f} contradicts sign_type={p} in the parameters (sign_type is part of the signed string)"
        ))),
        (Some(f), _) => Ok(f),
        (None, Some(p)) => Ok(p),
        (None, None) => Ok(default),
    }
}
