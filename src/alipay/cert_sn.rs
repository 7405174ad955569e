//! Certificate-mode serial numbers: `app_cert_sn`, `alipay_cert_sn` and
//! `alipay_root_cert_sn`.
//!
//! As the official SDKs compute them (alipay-sdk-nodejs `antcertutil.getSN`,
//! Java `AlipaySignature.getCertSN` / `AntCertificationUtil`): MD5 (lower-case
//! hex) of the issuer DN written `CN=…,OU=…,O=…,C=…` (the DER attributes in
//! reverse order, `k=v` joined with `,`) followed by the serial number in
//! decimal. For the root bundle, every member signed with an RSA algorithm
//! (signature OID under `1.2.840.113549.1.1`, as both SDKs test) contributes
//! its SN, joined with `_` in file order; SM2 and ECDSA members are skipped.

use crate::crypto::digest::{hex_lower, md5};
use crate::crypto::Certificate;
use crate::error::{Error, Result};

/// The issuer DN as the SDKs write it: `CN=…,OU=…,O=…,C=…`.
pub fn issuer_dn(cert: &Certificate) -> String {
    let attrs = cert.issuer_attributes();
    attrs
        .iter()
        .rev()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The certificate's SN: `md5_hex(issuer DN + decimal serial)`.
///
/// ```
/// let pem = std::fs::read_to_string("../shared/vectors/yansongda-app-public-cert.crt").unwrap();
/// let cert = edgepay::crypto::Certificate::parse_pem(&pem).unwrap();
/// assert_eq!(edgepay::alipay::cert_sn(&cert), "e90dd23a37c5c7b616e003970817ff82");
/// ```
pub fn cert_sn(cert: &Certificate) -> String {
    let text = format!("{}{}", issuer_dn(cert), cert.serial_decimal());
    hex_lower(&md5(text.as_bytes()))
}

/// [`cert_sn`] of the first certificate of a PEM file (the app certificate,
/// or the Alipay public certificate whose chain follows it).
pub fn cert_sn_pem(pem: &str) -> Result<String> {
    Ok(cert_sn(&Certificate::parse_pem(pem)?))
}

/// `alipay_root_cert_sn` of the root bundle (`alipayRootCert.crt`).
///
/// ```
/// let pem = std::fs::read_to_string("../shared/vectors/yansongda-alipay-root-cert.crt").unwrap();
/// assert_eq!(
///     edgepay::alipay::root_cert_sn(&pem).unwrap(),
///     "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6"
/// );
/// ```
pub fn root_cert_sn(bundle_pem: &str) -> Result<String> {
    let sns: Vec<String> = Certificate::parse_pem_bundle(bundle_pem)?
        .iter()
        .filter(|c| c.is_rsa_signed())
        .map(cert_sn)
        .collect();
    if sns.is_empty() {
        return Err(Error::invalid_key(
            "alipay_root_cert",
            "no member of the bundle is signed with RSA",
        ));
    }
    Ok(sns.join("_"))
}
