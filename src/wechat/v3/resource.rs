//! `AEAD_AES_256_GCM` resources: notify payloads and `/v3/certificates` entries.
//!
//! Key = the 32-byte APIv3 key (ASCII, as set in the merchant platform),
//! nonce = 12 ASCII bytes, AAD = `associated_data` (may be empty),
//! `ciphertext` = base64(ciphertext ‖ 16-byte tag). The tag is always checked.

use crate::crypto::encoding::{b64decode, b64encode, utf8};
use crate::crypto::symmetric::{aes_256_gcm_decrypt, aes_256_gcm_encrypt, GCM_TAG_LEN};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The only algorithm WeChat Pay uses for resources.
pub const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";

/// An encrypted resource as it appears in JSON (`resource` of a notify,
/// `encrypt_certificate` of `/v3/certificates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedResource {
    /// Must be `AEAD_AES_256_GCM`.
    pub algorithm: String,
    /// base64(ciphertext ‖ tag).
    pub ciphertext: String,
    /// The 12-character nonce.
    pub nonce: String,
    /// The associated data (AAD); empty when absent.
    #[serde(default)]
    pub associated_data: String,
    /// The plaintext's type (`transaction`, `refund`, …); empty when absent.
    #[serde(default)]
    pub original_type: String,
}

fn check_key(apiv3_key: &[u8]) -> Result<()> {
    if apiv3_key.len() != 32 {
        return Err(Error::invalid_key(
            "apiv3_key",
            format!(
                "the APIv3 key must be 32 bytes (AES-256), got {} bytes",
                apiv3_key.len()
            ),
        ));
    }
    Ok(())
}

/// Decrypts `ciphertext_b64` (base64 of ciphertext ‖ tag) with the APIv3 key,
/// the nonce and the associated data: the primitive under
/// [`decrypt_resource`], convenient from a command line.
///
/// ```
/// // wechatpay-java AeadAesCipherTest
/// let pt = edgepay::wechat::v3::decrypt(
///     b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb",
///     "uluk4a9R25RW",
///     "associatedData",
///     "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=",
/// )
/// .unwrap();
/// assert_eq!(pt, b"message");
/// ```
pub fn decrypt(
    apiv3_key: &[u8],
    nonce: &str,
    associated_data: &str,
    ciphertext_b64: &str,
) -> Result<Vec<u8>> {
    let ct = decrypt_input(apiv3_key, nonce, ciphertext_b64)?;
    aes_256_gcm_decrypt(apiv3_key, nonce.as_bytes(), associated_data.as_bytes(), &ct)
}

/// The first step of a two-step [`decrypt`] for an outside AEAD (WebCrypto):
/// checks the key (32 bytes) and the nonce (12 bytes) and returns the decoded
/// `ciphertext ‖ tag` (at least the 16-byte tag), exactly as [`decrypt`] would
/// pass it to AES-256-GCM. A failed tag check outside maps to
/// [`Error::DecryptFailed`].
///
/// ```
/// let ct = edgepay::wechat::v3::resource::decrypt_input(
///     b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb",
///     "uluk4a9R25RW",
///     "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=",
/// )
/// .unwrap();
/// assert_eq!(ct.len(), "message".len() + 16);
/// ```
pub fn decrypt_input(apiv3_key: &[u8], nonce: &str, ciphertext_b64: &str) -> Result<Vec<u8>> {
    check_key(apiv3_key)?;
    if nonce.is_empty() {
        return Err(Error::missing("nonce"));
    }
    if nonce.len() != 12 {
        return Err(Error::invalid(
            "nonce",
            format!("the GCM nonce must be 12 bytes, got {}", nonce.len()),
        ));
    }
    let ct = b64decode("ciphertext", ciphertext_b64)?;
    if ct.len() < GCM_TAG_LEN {
        return Err(Error::invalid(
            "ciphertext",
            format!("{} bytes is shorter than the 16-byte GCM tag", ct.len()),
        ));
    }
    Ok(ct)
}

/// Decrypts a resource. The algorithm must be `AEAD_AES_256_GCM`, the key 32
/// bytes ([`Error::InvalidKey`] naming `apiv3_key` otherwise); a wrong key,
/// nonce, AAD or a tampered ciphertext gives [`Error::DecryptFailed`].
pub fn decrypt_resource(apiv3_key: &[u8], resource: &EncryptedResource) -> Result<Vec<u8>> {
    let ct = decrypt_resource_input(apiv3_key, resource)?;
    aes_256_gcm_decrypt(
        apiv3_key,
        resource.nonce.as_bytes(),
        resource.associated_data.as_bytes(),
        &ct,
    )
}

/// The first step of a two-step [`decrypt_resource`] for an outside AEAD
/// (WebCrypto): checks the algorithm, then as [`decrypt_input`].
pub fn decrypt_resource_input(apiv3_key: &[u8], resource: &EncryptedResource) -> Result<Vec<u8>> {
    if resource.algorithm != AEAD_AES_256_GCM {
        return Err(Error::invalid(
            "algorithm",
            format!("must be {AEAD_AES_256_GCM}"),
        ));
    }
    decrypt_input(apiv3_key, &resource.nonce, &resource.ciphertext)
}

/// [`decrypt_resource`], as UTF-8 text (the plaintext is JSON or PEM).
pub fn decrypt_to_string(apiv3_key: &[u8], resource: &EncryptedResource) -> Result<String> {
    utf8("plaintext", decrypt_resource(apiv3_key, resource)?)
}

/// Encrypts `plaintext` into a resource (for emulators and tests: WeChat Pay
/// is the one that encrypts).
pub fn encrypt_resource(
    apiv3_key: &[u8],
    nonce: &str,
    associated_data: &str,
    original_type: &str,
    plaintext: &[u8],
) -> Result<EncryptedResource> {
    check_key(apiv3_key)?;
    let ct = aes_256_gcm_encrypt(
        apiv3_key,
        nonce.as_bytes(),
        associated_data.as_bytes(),
        plaintext,
    )?;
    Ok(EncryptedResource {
        algorithm: AEAD_AES_256_GCM.to_string(),
        ciphertext: b64encode(ct),
        nonce: nonce.to_string(),
        associated_data: associated_data.to_string(),
        original_type: original_type.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_and_key_are_checked_first() {
        let mut r = encrypt_resource(&[1; 32], "123456789012", "ad", "t", b"hi").unwrap();
        assert_eq!(decrypt_resource(&[1; 32], &r).unwrap(), b"hi");
        let e = decrypt_resource(&[1; 16], &r).unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_key", Some("apiv3_key")));
        r.algorithm = "AEAD_AES_128_GCM".into();
        assert_eq!(
            decrypt_resource(&[1; 32], &r).unwrap_err().field(),
            Some("algorithm")
        );
    }
}
