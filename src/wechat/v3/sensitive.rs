//! Sensitive request fields (names, ID numbers, phone numbers …): RSA-OAEP
//! (SHA-1, MGF1-SHA1) under WeChat Pay's platform key, base64. The request
//! must then carry `Wechatpay-Serial` naming that key.

use crate::crypto::encoding::{b64decode, b64encode, utf8};
use crate::crypto::rsa::{oaep_sha1_decrypt, oaep_sha1_encrypt};
use crate::crypto::{PrivateKey, PublicKey};
use crate::error::{Error, Result};

/// Encrypts one sensitive field for WeChat Pay: base64(RSA-OAEP-SHA1(plaintext)).
/// OAEP is randomised: two calls give different ciphertexts.
///
/// ```
/// use edgepay::crypto::PublicKey;
/// # let pem = std::fs::read_to_string("../shared/vectors/wechatpay-go-test-pub.pem").unwrap();
/// let platform_key = PublicKey::parse(&pem).unwrap();
/// let field = edgepay::wechat::v3::encrypt_sensitive(&platform_key, "张三").unwrap();
/// assert_eq!(field.len(), 344); // 256 bytes, base64
/// ```
pub fn encrypt_sensitive(key: &PublicKey, plaintext: &str) -> Result<String> {
    // OAEP-SHA1 carries at most k - 2*20 - 2 bytes.
    let max = (key.bits() / 8).saturating_sub(42);
    if plaintext.len() > max {
        return Err(Error::invalid(
            "plaintext",
            format!(
                "{} bytes is more than RSA-OAEP can carry under this key ({max})",
                plaintext.len()
            ),
        ));
    }
    Ok(b64encode(oaep_sha1_encrypt(key, plaintext.as_bytes())?))
}

/// Decrypts a sensitive field WeChat Pay encrypted under the merchant's key
/// (e.g. in some query responses).
pub fn decrypt_sensitive(key: &PrivateKey, ciphertext_b64: &str) -> Result<String> {
    let ct = b64decode("ciphertext", ciphertext_b64)?;
    utf8("plaintext", oaep_sha1_decrypt(key, &ct)?)
}
