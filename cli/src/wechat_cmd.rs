//! `edgepay wechat …` commands.

use crate::fail::Fail;
use crate::input::{parse_params, read_file, read_stdin_text};
use crate::keys::{mask, nonce, now_secs, private_key, public_key};
use crate::sign_type;
use clap::Subcommand;
use edgepay::wechat::client_params::{self, ClientKind, PayInput};
use edgepay::wechat::v2::{self, SignType};
use edgepay::wechat::{jssdk, legacy, v3};
use edgepay::Params;

/// WeChat Pay commands.
#[derive(Subcommand, Debug)]
pub enum WechatCmd {
    /// Sign v2 parameters (stdin: JSON, XML or form) → upper-case hex sign.
    Sign {
        /// The merchant API key (v2).
        #[arg(long)]
        key: String,
        /// MD5 or HMAC-SHA256; defaults to the params' sign_type, else MD5.
        #[arg(long)]
        sign_type: Option<String>,
        /// Print the exact string that was signed (key masked) before the result.
        #[arg(long)]
        explain: bool,
    },
    /// Verify signed v2 parameters (stdin: XML or JSON) → valid / invalid: why.
    Verify {
        /// The merchant API key (v2).
        #[arg(long)]
        key: String,
        /// Force MD5 or HMAC-SHA256 (default: from sign_type, else from the sign's length).
        #[arg(long)]
        sign_type: Option<String>,
        /// Also print the string the sign should cover (key masked).
        #[arg(long)]
        explain: bool,
    },
    /// Client payment parameters, exactly as the client API takes them (JSON).
    PayParams {
        /// jsapi (getBrandWCPayRequest), jssdk (wx.chooseWXPay), miniprogram (wx.requestPayment) or app.
        #[arg(long)]
        kind: String,
        /// The app id the order was created with.
        #[arg(long)]
        appid: String,
        /// The raw prepay id (without `prepay_id=`).
        #[arg(long)]
        prepay_id: String,
        /// v2: the merchant API key (MD5/HMAC-SHA256 paySign).
        #[arg(
            long,
            conflicts_with = "private_key",
            required_unless_present = "private_key"
        )]
        key: Option<String>,
        /// v2: MD5 (default) or HMAC-SHA256.
        #[arg(long, requires = "key")]
        sign_type: Option<String>,
        /// v3: the merchant private key (RSA paySign).
        #[arg(long)]
        private_key: Option<String>,
        /// The merchant id (partnerid): required for --kind app.
        #[arg(long)]
        mchid: Option<String>,
        /// Unix seconds (default: now).
        #[arg(long)]
        timestamp: Option<String>,
        /// Nonce, ≤ 32 characters (default: random).
        #[arg(long)]
        nonce: Option<String>,
    },
    /// JS-SDK `wx.config` signature → lower-case SHA1 hex.
    JssdkSignature {
        /// The jsapi_ticket.
        #[arg(long)]
        ticket: String,
        /// The noncestr.
        #[arg(long)]
        noncestr: String,
        /// Unix seconds.
        #[arg(long)]
        timestamp: String,
        /// The page URL (any #fragment is dropped).
        #[arg(long)]
        url: String,
    },
    /// API v3 `Authorization` header value for a request.
    V3Authorization {
        /// Merchant id.
        #[arg(long)]
        mchid: String,
        /// Merchant certificate serial number.
        #[arg(long)]
        serial: String,
        /// Merchant private key.
        #[arg(long)]
        private_key: String,
        /// HTTP method.
        #[arg(long)]
        method: String,
        /// Request path with query (or a full URL).
        #[arg(long)]
        url: String,
        /// File holding the exact request body.
        #[arg(long)]
        body: Option<String>,
        /// Unix seconds (default: now).
        #[arg(long)]
        timestamp: Option<String>,
        /// Nonce (default: random).
        #[arg(long)]
        nonce: Option<String>,
    },
    /// Verify an API v3 response/notify signature over the raw body.
    V3Verify {
        /// Platform certificate or WeChat Pay public key.
        #[arg(long)]
        public_key: String,
        /// Wechatpay-Timestamp.
        #[arg(long)]
        timestamp: String,
        /// Wechatpay-Nonce.
        #[arg(long)]
        nonce: String,
        /// Wechatpay-Signature (base64).
        #[arg(long)]
        signature: String,
        /// File holding the raw body (default: empty body).
        #[arg(long)]
        body: Option<String>,
        /// The verifier's clock, Unix seconds (default: now); the window is 300 s.
        #[arg(long)]
        now: Option<String>,
    },
    /// Decrypt an API v3 AEAD_AES_256_GCM resource → plaintext.
    V3Decrypt {
        /// The 32-byte APIv3 key.
        #[arg(long)]
        apiv3_key: String,
        /// The resource nonce (12 bytes).
        #[arg(long)]
        nonce: String,
        /// The resource associated_data.
        #[arg(long, default_value = "")]
        associated_data: String,
        /// The base64 ciphertext (with its 16-byte tag).
        #[arg(long)]
        ciphertext: String,
    },
    /// Decrypt a v2 refund notify's req_info → XML.
    RefundDecrypt {
        /// The merchant API key (v2).
        #[arg(long)]
        key: String,
        /// The base64 req_info.
        #[arg(long)]
        req_info: String,
    },
    /// Legacy (2014) APP pay `package` from params on stdin.
    LegacyPackage {
        /// The partner key.
        #[arg(long)]
        partner_key: String,
    },
    /// Legacy (2014) APP pay SHA1 `app_signature` (appkey among the params on stdin).
    LegacySignature,
}

fn parse_i64(flag: &str, text: &str) -> Result<i64, Fail> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| Fail::usage(format!("{flag}: {text:?} is not an integer (Unix seconds)")))
}

fn parse_sign_type(flag: &str, text: &str) -> Result<SignType, Fail> {
    text.parse::<SignType>()
        .map_err(|_| Fail::usage(format!("{flag}: {text:?} is not MD5 or HMAC-SHA256")))
}

/// The sign type to sign with: the flag, else the params' sign_type, else MD5.
fn sign_type_for(flag: Option<&str>, params: &Params) -> Result<SignType, Fail> {
    sign_type::resolve(flag, params, SignType::Md5, "MD5 or HMAC-SHA256")
}

fn body_file(path: Option<&str>) -> Result<Vec<u8>, Fail> {
    match path {
        Some(p) => read_file("--body", p),
        None => Ok(Vec::new()),
    }
}

/// Runs one WeChat command and returns what to print.
pub fn run(cmd: WechatCmd) -> Result<String, Fail> {
    match cmd {
        WechatCmd::Sign {
            key,
            sign_type,
            explain,
        } => {
            let (_, params) = parse_params(&read_stdin_text()?)?;
            let st = sign_type_for(sign_type.as_deref(), &params)?;
            let sign = v2::sign(&params, &key, st);
            if explain {
                let signed = v2::string_to_sign(&params, &key);
                let shown = signed.replace(&format!("&key={key}"), &format!("&key={}", mask(&key)));
                Ok(format!("string to sign ({st}):\n{shown}\nsign:\n{sign}"))
            } else {
                Ok(sign)
            }
        }
        WechatCmd::Verify {
            key,
            sign_type,
            explain,
        } => {
            let (_, params) = parse_params(&read_stdin_text()?)?;
            if !params.contains_key("sign") {
                return Err(Fail::usage("sign: missing (nothing to verify)"));
            }
            let result = match sign_type.as_deref() {
                Some(f) => {
                    let st = parse_sign_type("--sign-type", f)?;
                    v2::verify_as(&params, &key, st).map(|_| st)
                }
                None => v2::verify(&params, &key),
            };
            match result {
                Ok(st) => {
                    let mut out = format!("valid ({st})");
                    if explain {
                        out.push_str(&format!(
                            "\nsigned string:\n{}",
                            v2::string_to_sign_masked(&params)
                        ));
                    }
                    Ok(out)
                }
                Err(e) if e.is_verification_failure() => {
                    let mut why = format!("invalid: {e}");
                    for line in v2::explain_mismatch(&params, &key) {
                        why.push('\n');
                        why.push_str(&line);
                    }
                    Err(Fail::Invalid(why))
                }
                Err(e) => Err(e.into()),
            }
        }
        WechatCmd::PayParams {
            kind,
            appid,
            prepay_id,
            key,
            sign_type,
            private_key: key_path,
            mchid,
            timestamp,
            nonce: nonce_flag,
        } => {
            let kind: ClientKind = kind.parse().map_err(|_| {
                Fail::usage(format!(
                    "--kind: {kind:?} is not jsapi, jssdk, miniprogram or app"
                ))
            })?;
            let timestamp = match timestamp {
                Some(t) => parse_i64("--timestamp", &t)?,
                None => now_secs(),
            };
            let nonce = nonce_flag.unwrap_or_else(nonce);
            if kind == ClientKind::App && mchid.is_none() {
                return Err(Fail::usage(
                    "--mchid: required for --kind app (it is the partnerid)",
                ));
            }
            let input = PayInput {
                appid: &appid,
                prepay_id: &prepay_id,
                timestamp,
                nonce: &nonce,
                partnerid: mchid.as_deref().unwrap_or(""),
            };
            let params = match (key, key_path) {
                (Some(key), _) => {
                    let st = match sign_type.as_deref() {
                        Some(s) => parse_sign_type("--sign-type", s)?,
                        None => SignType::Md5,
                    };
                    client_params::v2(kind, &input, &key, st)?
                }
                (None, Some(path)) => client_params::v3(kind, &input, &private_key(&path)?)?,
                (None, None) => return Err(Fail::usage("give --key (v2) or --private-key (v3)")),
            };
            serde_json::to_string_pretty(&params)
                .map_err(|e| Fail::usage(format!("cannot serialise the parameters: {e}")))
        }
        WechatCmd::JssdkSignature {
            ticket,
            noncestr,
            timestamp,
            url,
        } => {
            let ts = parse_i64("--timestamp", &timestamp)?;
            Ok(jssdk::signature(&ticket, &noncestr, ts, &url))
        }
        WechatCmd::V3Authorization {
            mchid,
            serial,
            private_key: key_path,
            method,
            url,
            body,
            timestamp,
            nonce: nonce_flag,
        } => {
            let body = String::from_utf8(body_file(body.as_deref())?)
                .map_err(|_| Fail::usage("--body: the request body is not UTF-8"))?;
            let timestamp = match timestamp {
                Some(t) => parse_i64("--timestamp", &t)?,
                None => now_secs(),
            };
            let nonce = nonce_flag.unwrap_or_else(nonce);
            let key = private_key(&key_path)?;
            let creds = v3::Credentials::new(mchid, serial);
            Ok(v3::authorization(
                &key, &creds, &method, &url, timestamp, &nonce, &body,
            )?)
        }
        WechatCmd::V3Verify {
            public_key: path,
            timestamp,
            nonce,
            signature,
            body,
            now,
        } => {
            let body = body_file(body.as_deref())?;
            let now = match now {
                Some(n) => parse_i64("--now", &n)?,
                None => now_secs(),
            };
            let key = public_key(&path)?;
            let headers = v3::SignedHeaders {
                timestamp,
                nonce,
                signature,
                serial: String::new(),
                signature_type: None,
            };
            v3::verify_with_key(&key, &headers, &body, now)?;
            Ok("valid".into())
        }
        WechatCmd::V3Decrypt {
            apiv3_key,
            nonce,
            associated_data,
            ciphertext,
        } => {
            let plain = v3::decrypt(
                apiv3_key.as_bytes(),
                &nonce,
                &associated_data,
                ciphertext.trim(),
            )?;
            String::from_utf8(plain).map_err(|_| Fail::usage("the plaintext is not UTF-8"))
        }
        WechatCmd::RefundDecrypt { key, req_info } => {
            Ok(v2::decrypt_refund_req_info_text(&key, req_info.trim())?)
        }
        WechatCmd::LegacyPackage { partner_key } => {
            let (_, params) = parse_params(&read_stdin_text()?)?;
            Ok(legacy::package(&params, &partner_key))
        }
        WechatCmd::LegacySignature => {
            let (_, params) = parse_params(&read_stdin_text()?)?;
            if !params.contains_key("appkey") {
                return Err(Fail::usage(
                    "appkey: missing from the parameters (the signature covers it)",
                ));
            }
            Ok(legacy::app_signature(&params))
        }
    }
}
