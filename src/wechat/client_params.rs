//! The parameters a page, mini program or app passes to pay (the "second
//! signature").
//!
//! Key case is part of the signature and of each client API, so every output
//! struct serializes (serde) with exactly the wire keys:
//!
//! | kind | client call | keys |
//! | --- | --- | --- |
//! | [`ClientKind::Jsapi`] | `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` | `appId, timeStamp, nonceStr, package, signType, paySign` |
//! | [`ClientKind::Jssdk`] | `wx.chooseWXPay` | `timestamp` (lower case), `nonceStr, package, signType, paySign` |
//! | [`ClientKind::MiniProgram`] | `wx.requestPayment` | `timeStamp, nonceStr, package, signType, paySign` |
//! | [`ClientKind::App`] | WeChat SDK `PayReq` | `appid, partnerid, prepayid, package, noncestr, timestamp, sign` |
//!
//! API v2 (MD5 / HMAC-SHA256 with the API key): the JSAPI, JS-SDK and mini
//! program paySign all sign `appId, timeStamp, nonceStr, package, signType`
//! (capital `S` in `timeStamp`, and `appId` even though the mini program call
//! does not take it); the APP sign covers `appid, noncestr, package,
//! partnerid, prepayid, timestamp`.
//!
//! API v3 (RSA-SHA256 with the merchant private key, `signType: "RSA"`):
//! JSAPI / JS-SDK / mini program sign `appId\ntimeStamp\nnonceStr\nprepay_id=…\n`,
//! APP signs `appid\ntimestamp\nnoncestr\nprepayid\n` with the raw prepay id.
//! Two steps for asynchronous signers ([`v3_message`] then [`v3_assemble`]) or
//! one ([`v3`]) with a [`Signer`].
//!
//! Timestamps are Unix **seconds** (a value that looks like milliseconds is
//! refused); nonces are at most 32 characters.
//!
//! ```
//! use edgepay::wechat::client_params::{self, ClientKind, PayInput};
//! use edgepay::wechat::v2::SignType;
//! let input = PayInput {
//!     appid: "wxd930ea5d5a258f4f",
//!     prepay_id: "wx201410272009395522657a690389285100",
//!     timestamp: 1414561699,
//!     nonce: "e61463f8efa94090b1f366cccfbbb444",
//!     partnerid: "",
//! };
//! let p = client_params::v2(ClientKind::Jsapi, &input, "192006250b4c09247ec02edce69f6a2d", SignType::Md5).unwrap();
//! let json = serde_json::to_value(&p).unwrap();
//! assert_eq!(json["package"], "prepay_id=wx201410272009395522657a690389285100");
//! assert_eq!(json["timeStamp"], "1414561699");
//! assert_eq!(json["signType"], "MD5");
//! ```

use crate::crypto::encoding::{b64decode, b64encode};
use crate::crypto::rsa::{RsaHash, Signer};
use crate::error::{quoted, Error, Result};
use crate::params::Params;
use crate::wechat::v2::{sign, SignType};
use serde::Serialize;
use std::str::FromStr;

/// The inputs common to every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PayInput<'a> {
    /// The app id the order was created with.
    pub appid: &'a str,
    /// The raw prepay id (without `prepay_id=`).
    pub prepay_id: &'a str,
    /// Unix seconds.
    pub timestamp: i64,
    /// The nonce (1–32 characters).
    pub nonce: &'a str,
    /// The merchant id (`partnerid`): required for APP, ignored otherwise.
    pub partnerid: &'a str,
}

/// Which client API the parameters are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKind {
    /// `getBrandWCPayRequest` in a WeChat web page.
    Jsapi,
    /// `wx.chooseWXPay` (JS-SDK).
    Jssdk,
    /// `wx.requestPayment` in a mini program.
    MiniProgram,
    /// The WeChat SDK in a mobile app.
    App,
}

impl FromStr for ClientKind {
    type Err = Error;

    /// `jsapi`, `jssdk`, `miniprogram` (or `mini_program`, `mini`), `app`; any case.
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "jsapi" => Ok(ClientKind::Jsapi),
            "jssdk" => Ok(ClientKind::Jssdk),
            "miniprogram" | "mini_program" | "mini-program" | "mini" => Ok(ClientKind::MiniProgram),
            "app" => Ok(ClientKind::App),
            _ => Err(Error::invalid(
                "kind",
                format!("{} is not jsapi, jssdk, miniprogram or app", quoted(s)),
            )),
        }
    }
}

/// `getBrandWCPayRequest` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsapiParams {
    /// `appId`.
    #[serde(rename = "appId")]
    pub app_id: String,
    /// `timeStamp`: Unix seconds as a string.
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// `nonceStr`.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `package`: `prepay_id=…`.
    pub package: String,
    /// `signType`: `MD5`, `HMAC-SHA256` or `RSA`.
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// `paySign`.
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

/// `wx.chooseWXPay` parameters (note the lower-case `timestamp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JssdkParams {
    /// `timestamp`: Unix seconds as a string.
    pub timestamp: String,
    /// `nonceStr`.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `package`: `prepay_id=…`.
    pub package: String,
    /// `signType`.
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// `paySign` (computed with `appId` and `timeStamp`).
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

/// `wx.requestPayment` parameters (`appId` is signed but not passed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MiniProgramParams {
    /// `timeStamp`: Unix seconds as a string.
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// `nonceStr`.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `package`: `prepay_id=…`.
    pub package: String,
    /// `signType`.
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// `paySign`.
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

/// App `PayReq` parameters (all keys lower case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppParams {
    /// `appid`.
    pub appid: String,
    /// `partnerid`: the merchant id.
    pub partnerid: String,
    /// `prepayid`: the raw prepay id.
    pub prepayid: String,
    /// `package`: always `Sign=WXPay`.
    pub package: String,
    /// `noncestr`.
    pub noncestr: String,
    /// `timestamp`: Unix seconds as a string.
    pub timestamp: String,
    /// `sign`.
    pub sign: String,
}

/// Any of the four, serialized as the bare object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ClientParams {
    /// JSAPI.
    Jsapi(JsapiParams),
    /// JS-SDK.
    Jssdk(JssdkParams),
    /// Mini program.
    MiniProgram(MiniProgramParams),
    /// App.
    App(AppParams),
}

/// Values beyond this are taken for milliseconds (year 2286 in seconds).
const MAX_SECONDS: i64 = 9_999_999_999;

fn check(kind: ClientKind, input: &PayInput<'_>) -> Result<()> {
    if input.appid.is_empty() {
        return Err(Error::missing("appid"));
    }
    if input.prepay_id.is_empty() {
        return Err(Error::missing("prepay_id"));
    }
    if input.prepay_id.starts_with("prepay_id=") {
        return Err(Error::invalid(
            "prepay_id",
            "pass the raw prepay id, without the prepay_id= prefix",
        ));
    }
    if input.timestamp < 0 {
        return Err(Error::invalid("timestamp", "must not be negative"));
    }
    if input.timestamp > MAX_SECONDS {
        return Err(Error::invalid(
            "timestamp",
            format!(
                "{} looks like milliseconds: pass Unix seconds",
                input.timestamp
            ),
        ));
    }
    if input.nonce.is_empty() {
        return Err(Error::missing("nonce"));
    }
    let n = input.nonce.chars().count();
    if n > 32 {
        return Err(Error::invalid(
            "nonce",
            format!("{n} characters; at most 32 allowed"),
        ));
    }
    if kind == ClientKind::App && input.partnerid.is_empty() {
        return Err(Error::missing("partnerid"));
    }
    Ok(())
}

fn package_of(input: &PayInput<'_>) -> String {
    format!("prepay_id={}", input.prepay_id)
}

/// The v2 paySign of JSAPI / JS-SDK / mini program: over `appId, timeStamp,
/// nonceStr, package, signType` (the last one as `sign_type.as_str()`).
fn v2_pay_sign(input: &PayInput<'_>, key: &str, sign_type: SignType) -> String {
    let mut p = Params::new();
    p.insert("appId".into(), input.appid.into());
    p.insert("timeStamp".into(), input.timestamp.to_string());
    p.insert("nonceStr".into(), input.nonce.into());
    p.insert("package".into(), package_of(input));
    p.insert("signType".into(), sign_type.as_str().into());
    sign(&p, key, sign_type)
}

fn require_key(key: &str) -> Result<()> {
    if key.is_empty() {
        Err(Error::invalid_key("api_key", "the API key is empty"))
    } else {
        Ok(())
    }
}

/// v2 `getBrandWCPayRequest` parameters.
pub fn jsapi_v2(input: &PayInput<'_>, key: &str, sign_type: SignType) -> Result<JsapiParams> {
    check(ClientKind::Jsapi, input)?;
    require_key(key)?;
    Ok(JsapiParams {
        app_id: input.appid.into(),
        time_stamp: input.timestamp.to_string(),
        nonce_str: input.nonce.into(),
        package: package_of(input),
        sign_type: sign_type.as_str().into(),
        pay_sign: v2_pay_sign(input, key, sign_type),
    })
}

/// v2 `wx.chooseWXPay` parameters.
pub fn jssdk_v2(input: &PayInput<'_>, key: &str, sign_type: SignType) -> Result<JssdkParams> {
    let j = jsapi_v2(input, key, sign_type)?;
    Ok(JssdkParams {
        timestamp: j.time_stamp,
        nonce_str: j.nonce_str,
        package: j.package,
        sign_type: j.sign_type,
        pay_sign: j.pay_sign,
    })
}

/// v2 `wx.requestPayment` parameters.
pub fn miniprogram_v2(
    input: &PayInput<'_>,
    key: &str,
    sign_type: SignType,
) -> Result<MiniProgramParams> {
    let j = jsapi_v2(input, key, sign_type)?;
    Ok(MiniProgramParams {
        time_stamp: j.time_stamp,
        nonce_str: j.nonce_str,
        package: j.package,
        sign_type: j.sign_type,
        pay_sign: j.pay_sign,
    })
}

/// v2 APP parameters: `sign` over `appid, noncestr, package, partnerid,
/// prepayid, timestamp`. (The app call carries no sign type: WeChat's APP doc
/// uses MD5; HMAC-SHA256 is available for merchants configured for it.)
pub fn app_v2(input: &PayInput<'_>, key: &str, sign_type: SignType) -> Result<AppParams> {
    check(ClientKind::App, input)?;
    require_key(key)?;
    let mut out = AppParams {
        appid: input.appid.into(),
        partnerid: input.partnerid.into(),
        prepayid: input.prepay_id.into(),
        package: "Sign=WXPay".into(),
        noncestr: input.nonce.into(),
        timestamp: input.timestamp.to_string(),
        sign: String::new(),
    };
    let p: Params = [
        ("appid", &out.appid),
        ("partnerid", &out.partnerid),
        ("prepayid", &out.prepayid),
        ("package", &out.package),
        ("noncestr", &out.noncestr),
        ("timestamp", &out.timestamp),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect();
    out.sign = sign(&p, key, sign_type);
    Ok(out)
}

/// v2 parameters for any kind.
pub fn v2(
    kind: ClientKind,
    input: &PayInput<'_>,
    key: &str,
    sign_type: SignType,
) -> Result<ClientParams> {
    Ok(match kind {
        ClientKind::Jsapi => ClientParams::Jsapi(jsapi_v2(input, key, sign_type)?),
        ClientKind::Jssdk => ClientParams::Jssdk(jssdk_v2(input, key, sign_type)?),
        ClientKind::MiniProgram => {
            ClientParams::MiniProgram(miniprogram_v2(input, key, sign_type)?)
        }
        ClientKind::App => ClientParams::App(app_v2(input, key, sign_type)?),
    })
}

/// The v3 message to sign (RSA-SHA256): `appId\ntimeStamp\nnonceStr\nprepay_id=…\n`
/// for JSAPI / JS-SDK / mini program, `appid\ntimestamp\nnoncestr\nprepayid\n`
/// (raw prepay id) for APP.
pub fn v3_message(kind: ClientKind, input: &PayInput<'_>) -> Result<String> {
    check(kind, input)?;
    Ok(match kind {
        ClientKind::App => format!(
            "{}\n{}\n{}\n{}\n",
            input.appid, input.timestamp, input.nonce, input.prepay_id
        ),
        _ => format!(
            "{}\n{}\n{}\n{}\n",
            input.appid,
            input.timestamp,
            input.nonce,
            package_of(input)
        ),
    })
}

/// Assembles v3 parameters from the base64 RSA signature of [`v3_message`]
/// (`signType` is `RSA`). The signature must be valid base64; it is not
/// verified here.
pub fn v3_assemble(
    kind: ClientKind,
    input: &PayInput<'_>,
    signature_b64: &str,
) -> Result<ClientParams> {
    check(kind, input)?;
    let field = if kind == ClientKind::App {
        "sign"
    } else {
        "paySign"
    };
    b64decode(field, signature_b64)?;
    let sig = signature_b64.trim().to_string();
    let ts = input.timestamp.to_string();
    Ok(match kind {
        ClientKind::Jsapi => ClientParams::Jsapi(JsapiParams {
            app_id: input.appid.into(),
            time_stamp: ts,
            nonce_str: input.nonce.into(),
            package: package_of(input),
            sign_type: "RSA".into(),
            pay_sign: sig,
        }),
        ClientKind::Jssdk => ClientParams::Jssdk(JssdkParams {
            timestamp: ts,
            nonce_str: input.nonce.into(),
            package: package_of(input),
            sign_type: "RSA".into(),
            pay_sign: sig,
        }),
        ClientKind::MiniProgram => ClientParams::MiniProgram(MiniProgramParams {
            time_stamp: ts,
            nonce_str: input.nonce.into(),
            package: package_of(input),
            sign_type: "RSA".into(),
            pay_sign: sig,
        }),
        ClientKind::App => ClientParams::App(AppParams {
            appid: input.appid.into(),
            partnerid: input.partnerid.into(),
            prepayid: input.prepay_id.into(),
            package: "Sign=WXPay".into(),
            noncestr: input.nonce.into(),
            timestamp: ts,
            sign: sig,
        }),
    })
}

/// v3 parameters in one step with a [`Signer`] (the merchant private key).
pub fn v3(kind: ClientKind, input: &PayInput<'_>, signer: &impl Signer) -> Result<ClientParams> {
    let message = v3_message(kind, input)?;
    let sig = signer.sign(RsaHash::Sha256, message.as_bytes())?;
    v3_assemble(kind, input, &b64encode(sig))
}
