//! `edgepay alipay …` commands.

use crate::fail::Fail;
use crate::input::{parse_params, read_file, read_stdin_bytes, read_stdin_text, read_text_file};
use crate::keys::{private_key, public_key};
use crate::sign_type;
use clap::Subcommand;
use edgepay::alipay::{self, SignType};
use edgepay::Params;

/// Alipay commands.
#[derive(Subcommand, Debug)]
pub enum AlipayCmd {
    /// Sign request parameters (stdin) → base64 sign.
    Sign {
        /// App private key (PEM PKCS#1/PKCS#8 or bare base64).
        #[arg(long)]
        private_key: String,
        /// RSA2 (SHA256withRSA, default) or RSA (SHA1withRSA); defaults to the params' sign_type.
        #[arg(long)]
        sign_type: Option<String>,
        /// Print the exact string that was signed before the result.
        #[arg(long)]
        explain: bool,
    },
    /// Sign APP-pay parameters (stdin) → the encoded orderString for the Alipay SDK.
    OrderString {
        /// App private key.
        #[arg(long)]
        private_key: String,
        /// RSA2 (default) or RSA.
        #[arg(long)]
        sign_type: Option<String>,
    },
    /// Verify an async notify from its raw form body (stdin), decoded exactly once.
    VerifyNotify {
        /// Alipay public key (PEM SPKI, certificate, or bare base64).
        #[arg(long)]
        public_key: String,
        /// Keep sign_type in the signed string (rsaCheckV2) instead of rsaCheckV1.
        #[arg(long)]
        v2: bool,
    },
    /// Verify a sync response over the raw `…_response` text (stdin).
    VerifyResponse {
        /// Alipay public key.
        #[arg(long)]
        public_key: String,
        /// Content-encryption key (base64) for the answer to an `encrypt_type=AES`
        /// request: the signature is checked over the encrypted node as sent, then
        /// the node is decrypted.
        #[arg(long)]
        aes_key: Option<String>,
    },
    /// Certificate SN (app_cert_sn / alipay_cert_sn), or with --root the alipay_root_cert_sn.
    CertSn {
        /// Certificate (or root bundle) in PEM.
        #[arg(long)]
        cert: String,
        /// Treat the file as Alipay's root certificate bundle.
        #[arg(long)]
        root: bool,
    },
    /// Whether an Alipay public certificate file (leaf, then intermediates) chains to
    /// the root bundle now: names, RSA signatures and validity periods.
    CertVerify {
        /// The Alipay public certificate file (alipayCertPublicKey_RSA2.crt).
        #[arg(long)]
        cert: String,
        /// The root bundle (alipayRootCert.crt).
        #[arg(long)]
        root: String,
        /// Check at this Unix time instead of now.
        #[arg(long)]
        at: Option<i64>,
    },
    /// AES-128-CBC content encryption of stdin text → base64.
    AesEncrypt {
        /// The AES key, base64 (as shown in the Alipay console).
        #[arg(long)]
        key: String,
    },
    /// AES-128-CBC content decryption of base64 stdin → text.
    AesDecrypt {
        /// The AES key, base64.
        #[arg(long)]
        key: String,
    },
    /// Alipay v3 `Authorization` header value.
    V3Authorization {
        /// The app id.
        #[arg(long)]
        app_id: String,
        /// App private key.
        #[arg(long)]
        private_key: String,
        /// HTTP method.
        #[arg(long)]
        method: String,
        /// Request URI (path and query), e.g. /v3/alipay/trade/query.
        #[arg(long)]
        url: String,
        /// File holding the request body (omit for none).
        #[arg(long)]
        body: Option<String>,
        /// Timestamp in milliseconds.
        #[arg(long)]
        timestamp_ms: i64,
        /// Nonce.
        #[arg(long)]
        nonce: String,
        /// App certificate SN (certificate mode).
        #[arg(long)]
        app_cert_sn: Option<String>,
    },
}

fn sign_type_for(flag: Option<&str>, params: &Params) -> Result<SignType, Fail> {
    sign_type::resolve(flag, params, SignType::Rsa2, "RSA2 or RSA")
}

/// Runs one Alipay command and returns what to print.
pub fn run(cmd: AlipayCmd) -> Result<String, Fail> {
    match cmd {
        AlipayCmd::Sign {
            private_key: key_path,
            sign_type,
            explain,
        } => {
            let (_, params) = parse_params(&read_stdin_text()?)?;
            let st = sign_type_for(sign_type.as_deref(), &params)?;
            let key = private_key(&key_path)?;
            let sign = alipay::sign(&params, &key, st)?;
            if explain {
                let mut out = format!(
                    "string to sign ({st}, {} bytes):\n{}\n",
                    alipay::string_to_sign(&params).len(),
                    alipay::string_to_sign(&params)
                );
                if !params.contains_key("sign_type") {
                    out.push_str(&format!(
                        "note: sign_type is not among the parameters; Alipay signs it, so send sign_type={st} with exactly these values\n"
                    ));
                }
                out.push_str("sign:\n");
                out.push_str(&sign);
                Ok(out)
            } else {
                Ok(sign)
            }
        }
        AlipayCmd::OrderString {
            private_key: key_path,
            sign_type,
        } => {
            let (_, params) = parse_params(&read_stdin_text()?)?;
            let st = sign_type_for(sign_type.as_deref(), &params)?;
            let key = private_key(&key_path)?;
            Ok(alipay::sign_order_string(params, &key, st)?)
        }
        AlipayCmd::VerifyNotify {
            public_key: path,
            v2,
        } => {
            let body = read_stdin_bytes()?;
            let body = trim_trailing_newline(&body);
            let key = public_key(&path)?;
            let result = if v2 {
                alipay::verify_notify_v2(body, &key)
            } else {
                alipay::verify_notify(body, &key)
            };
            match result {
                Ok(params) => Ok(format!(
                    "valid\n{}",
                    serde_json::to_string_pretty(&params).unwrap_or_default()
                )),
                Err(e) if e.is_verification_failure() => {
                    let mut why = format!("invalid: {e}");
                    if let Ok(params) = alipay::notify::parse_form(body) {
                        if let Some(cause) = alipay::notify::diagnose_notify(&params, &key) {
                            why.push_str(&format!("\nlikely cause: {cause}"));
                        }
                    }
                    Err(Fail::Invalid(why))
                }
                Err(e) => Err(e.into()),
            }
        }
        AlipayCmd::VerifyResponse {
            public_key: path,
            aes_key,
        } => {
            let raw = read_stdin_text()?;
            let raw = raw.trim_end();
            let key = public_key(&path)?;
            let verified = match aes_key.as_deref() {
                None => alipay::verify_response_any(raw, &key),
                Some(aes) => alipay::response::extract(raw, None).and_then(|r| {
                    let value = alipay::verify_encrypted_response(
                        raw,
                        None,
                        &key,
                        alipay::SignType::Rsa2,
                        aes,
                    )?;
                    Ok((r.node, value))
                }),
            };
            match verified {
                Ok((node, value)) => Ok(format!(
                    "valid ({node})\n{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                )),
                // A verified business error (code != 10000) is still a valid signature.
                Err(edgepay::Error::Upstream(u)) => Ok(format!("valid (business error)\n{u}")),
                Err(e) => Err(e.into()),
            }
        }
        AlipayCmd::CertSn { cert, root } => {
            let text = read_text_file("--cert", &cert)?;
            if root {
                Ok(alipay::root_cert_sn(&text)?)
            } else {
                Ok(alipay::cert_sn_pem(&text)?)
            }
        }
        AlipayCmd::CertVerify { cert, root, at } => {
            let file = read_text_file("--cert", &cert)?;
            let bundle = read_text_file("--root", &root)?;
            let now = at.unwrap_or_else(crate::keys::now_secs);
            let leaf = alipay::verify_cert_chain(&file, &bundle, now)?;
            Ok(format!(
                "trusted (alipay_cert_sn {})",
                alipay::cert_sn(&leaf)
            ))
        }
        AlipayCmd::AesEncrypt { key } => {
            let text = read_stdin_text()?;
            Ok(alipay::aes_encrypt(
                &key,
                text.strip_suffix('\n').unwrap_or(&text),
            )?)
        }
        AlipayCmd::AesDecrypt { key } => {
            let text = read_stdin_text()?;
            Ok(alipay::aes_decrypt(&key, text.trim())?)
        }
        AlipayCmd::V3Authorization {
            app_id,
            private_key: key_path,
            method,
            url,
            body,
            timestamp_ms,
            nonce,
            app_cert_sn,
        } => {
            let body = match body {
                Some(path) => String::from_utf8(read_file("--body", &path)?)
                    .map_err(|_| Fail::usage(format!("--body {path}: not UTF-8")))?,
                None => String::new(),
            };
            let key = private_key(&key_path)?;
            let req = alipay::V3Request {
                app_id: &app_id,
                app_cert_sn: app_cert_sn.as_deref(),
                nonce: &nonce,
                timestamp_ms,
                method: &method,
                uri: &url,
                body: &body,
                app_auth_token: None,
            };
            Ok(req.sign(&key)?)
        }
    }
}

/// A form body piped from a file often ends in a newline that is not part of it.
fn trim_trailing_newline(body: &[u8]) -> &[u8] {
    let mut end = body.len();
    while end > 0 && matches!(body[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &body[..end]
}
