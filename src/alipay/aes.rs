//! AES content encryption (`encrypt_type=AES`): AES-128-CBC, zero IV, PKCS#7,
//! with the base64 key from the Alipay console; ciphertext in base64.

use crate::crypto::encoding::{b64decode, b64encode, utf8};
use crate::crypto::symmetric::{aes_cbc_zero_iv_decrypt, aes_cbc_zero_iv_encrypt};
use crate::error::{Error, Result};

fn key(key_b64: &str) -> Result<Vec<u8>> {
    let key = b64decode("aes_key", key_b64)
        .map_err(|_| Error::invalid_key("aes_key", "not valid base64"))?;
    if key.len() != 16 {
        return Err(Error::invalid_key(
            "aes_key",
            format!("an Alipay AES key is 16 bytes (AES-128), got {}", key.len()),
        ));
    }
    Ok(key)
}

/// Encrypts `plaintext` (e.g. a `biz_content` JSON text); returns base64.
///
/// ```
/// // alipay-easysdk ClientTest
/// let ct = edgepay::alipay::aes_encrypt("aa4BtZ4tspm2wnXLb1ThQA==", "test1234567").unwrap();
/// assert_eq!(ct, "ILpoMowjIQjfYMR847rnFQ==");
/// assert_eq!(edgepay::alipay::aes_decrypt("aa4BtZ4tspm2wnXLb1ThQA==", &ct).unwrap(), "test1234567");
/// ```
pub fn aes_encrypt(key_b64: &str, plaintext: &str) -> Result<String> {
    let key = key(key_b64)?;
    Ok(b64encode(aes_cbc_zero_iv_encrypt(
        &key,
        plaintext.as_bytes(),
    )?))
}

/// Decrypts base64 ciphertext to UTF-8 text; a wrong key or corrupted data
/// gives [`Error::DecryptFailed`].
pub fn aes_decrypt(key_b64: &str, ciphertext_b64: &str) -> Result<String> {
    let key = key(key_b64)?;
    let ct = b64decode("ciphertext", ciphertext_b64)?;
    if ct.is_empty() || ct.len() % 16 != 0 {
        return Err(Error::invalid(
            "ciphertext",
            format!("{} bytes is not a whole number of AES blocks", ct.len()),
        ));
    }
    let plain = aes_cbc_zero_iv_decrypt(&key, &ct)?;
    utf8("plaintext", plain).map_err(|_| Error::DecryptFailed {
        reason: "the decrypted text is not UTF-8: wrong key or corrupted data".into(),
    })
}
