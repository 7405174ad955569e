//! Trusting an Alipay public certificate: its chain to the root bundle.
//!
//! Alipay ships its public certificate (`alipayCertPublicKey_RSA2.crt`, or the
//! `alipay_cert_content` of `alipay.open.app.alipaycert.download` after a
//! rotation) as the leaf followed by its intermediate CA; `alipayRootCert.crt`
//! holds the roots. A certificate is trusted when every link — leaf to
//! intermediate to a root of the bundle — matches by name (DER), verifies
//! (PKCS#1 v1.5, SHA-256 or SHA-1) and is inside its validity period, as the
//! official Java SDK's `AntCertificationUtil.isTrusted` requires.
//!
//! Not required, as in Alipay's own chains: CA flags (the sandbox intermediate's
//! keyUsage lacks keyCertSign, and `openssl verify` refuses it). What a chain
//! proves is that Alipay's CA issued the certificate — merchants' app
//! certificates chain to the same roots — so a new Alipay certificate should
//! also keep the subject of the one it replaces ([`same_subject`]) and come
//! over TLS from Alipay's gateway.
//!
//! Two steps for hosts that verify RSA themselves (WebCrypto):
//! [`chain_links`] walks the names and validity periods and returns the links
//! to verify; [`verify_cert_chain`] does both in pure Rust.

use super::cert_sn::issuer_dn;
use crate::crypto::Certificate;
use crate::error::{Error, Result};

fn check_validity(cert: &Certificate, now: i64, what: &str) -> Result<()> {
    let (not_before, not_after) = cert.validity()?;
    if now < not_before || now > not_after {
        return Err(Error::invalid_key(
            "alipay_cert",
            format!(
                "the {what} certificate is valid from {not_before} to {not_after} (Unix seconds), not at {now}"
            ),
        ));
    }
    Ok(())
}

/// The links from the file's first certificate to a root of `root_bundle_pem`,
/// each `(certificate, its issuer)`: names matched, validity periods checked
/// at `now` (Unix seconds); the signatures are left to the caller
/// ([`Certificate::verify_issued_by`]). An issuer found nowhere is a
/// [`Error::SignatureMismatch`] naming it.
pub fn chain_links(
    cert_file_pem: &str,
    root_bundle_pem: &str,
    now: i64,
) -> Result<Vec<(Certificate, Certificate)>> {
    let file = Certificate::parse_pem_bundle(cert_file_pem)?;
    let roots = Certificate::parse_pem_bundle(root_bundle_pem)?;
    let mut links = Vec::new();
    let mut current = 0;
    // Each step moves to another certificate of the file; a root ends the walk.
    for _ in 0..file.len() {
        let cert = &file[current];
        check_validity(
            cert,
            now,
            if current == 0 {
                "Alipay"
            } else {
                "intermediate"
            },
        )?;
        if let Some(root) = roots.iter().find(|r| cert.names_issuer(r)) {
            check_validity(root, now, "root")?;
            links.push((cert.clone(), root.clone()));
            return Ok(links);
        }
        let next = (0..file.len()).find(|&i| {
            i != current && cert.names_issuer(&file[i]) && links.iter().all(|(c, _)| *c != file[i])
        });
        let Some(next) = next else { break };
        links.push((cert.clone(), file[next].clone()));
        current = next;
    }
    let last = links.last().map(|(_, i)| i).unwrap_or(&file[0]);
    Err(Error::mismatch(format!(
        "the issuer {} is neither in the certificate file nor in the root bundle",
        issuer_dn(last)
    )))
}

/// True when `new` has the same subject as `old` (DER): a rotated Alipay
/// certificate keeps its subject (`CN=支付宝(中国)网络技术有限公司-<PID>`), a
/// merchant's app certificate from the same CA does not.
pub fn same_subject(old: &Certificate, new: &Certificate) -> bool {
    old.subject_der() == new.subject_der()
}

/// Checks that the first certificate of `cert_file_pem` chains to a root of
/// `root_bundle_pem` at `now` ([`chain_links`], each signature verified with
/// the issuer's key in pure Rust); returns it.
pub fn verify_cert_chain(
    cert_file_pem: &str,
    root_bundle_pem: &str,
    now: i64,
) -> Result<Certificate> {
    let links = chain_links(cert_file_pem, root_bundle_pem, now)?;
    for (cert, issuer) in &links {
        cert.verify_issued_by(issuer, &issuer.public_key()?)?;
    }
    Ok(links
        .into_iter()
        .next()
        .map(|(leaf, _)| leaf)
        .expect("a chain has a first link"))
}
