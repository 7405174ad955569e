//! Symmetric ciphers used by the protocols: AES-256-GCM (WeChat v3 resources),
//! AES-256-ECB (WeChat v2 refund notify `req_info`), AES-CBC with a zero IV
//! (Alipay content encryption).

use crate::error::{Error, Result};
use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyInit, KeyIvInit};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

/// Length of the GCM tag appended to WeChat Pay ciphertexts.
pub const GCM_TAG_LEN: usize = 16;

/// AES-256-GCM decryption of `ciphertext‖tag`; the tag is always checked.
///
/// `key` must be 32 bytes (WeChat's APIv3 key), `nonce` 12 bytes.
pub fn aes_256_gcm_decrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    let cipher = gcm(key)?;
    let nonce = gcm_nonce(nonce)?;
    if ciphertext.len() < GCM_TAG_LEN {
        return Err(Error::invalid(
            "ciphertext",
            format!(
                "{} bytes is shorter than the 16-byte GCM tag",
                ciphertext.len()
            ),
        ));
    }
    cipher
        .decrypt(nonce, Payload { msg: ciphertext, aad })
        .map_err(|_| Error::DecryptFailed {
            reason: "AES-GCM tag check failed: wrong APIv3 key, nonce, associated data, or a tampered ciphertext".into(),
        })
}

/// AES-256-GCM encryption, returning `ciphertext‖tag` (for emulators and tests).
pub fn aes_256_gcm_encrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let cipher = gcm(key)?;
    let nonce = gcm_nonce(nonce)?;
    cipher
        .encrypt(
            nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::Crypto {
            reason: "AES-GCM encryption failed".into(),
        })
}

fn gcm(key: &[u8]) -> Result<Aes256Gcm> {
    if key.len() != 32 {
        return Err(Error::invalid_key(
            "apiv3_key",
            format!(
                "the APIv3 key must be 32 bytes (AES-256), got {} bytes",
                key.len()
            ),
        ));
    }
    Ok(Aes256Gcm::new_from_slice(key).expect("length checked"))
}

fn gcm_nonce(nonce: &[u8]) -> Result<&Nonce<aes_gcm::aead::consts::U12>> {
    if nonce.len() != 12 {
        return Err(Error::invalid(
            "nonce",
            format!("the GCM nonce must be 12 bytes, got {}", nonce.len()),
        ));
    }
    Ok(Nonce::from_slice(nonce))
}

/// AES-256-ECB with PKCS#7 padding, decryption.
pub fn aes_256_ecb_decrypt(key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>> {
    let dec = ecb::Decryptor::<aes::Aes256>::new_from_slice(key).map_err(|_| {
        Error::invalid_key("key", format!("AES-256 needs 32 bytes, got {}", key.len()))
    })?;
    dec.decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        .map_err(|_| Error::DecryptFailed {
            reason: "AES-ECB decryption failed: wrong key or corrupted data (bad padding)".into(),
        })
}

/// AES-256-ECB with PKCS#7 padding, encryption (for emulators and tests).
pub fn aes_256_ecb_encrypt(key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let enc = ecb::Encryptor::<aes::Aes256>::new_from_slice(key).map_err(|_| {
        Error::invalid_key("key", format!("AES-256 needs 32 bytes, got {}", key.len()))
    })?;
    Ok(enc.encrypt_padded_vec_mut::<Pkcs7>(plaintext))
}

/// AES-CBC (128/192/256 by key length) with a zero IV and PKCS#7, encryption.
pub fn aes_cbc_zero_iv_encrypt(key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let iv = [0u8; 16];
    Ok(match key.len() {
        16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, &iv)
            .expect("length checked")
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext),
        24 => cbc::Encryptor::<aes::Aes192>::new_from_slices(key, &iv)
            .expect("length checked")
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext),
        32 => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, &iv)
            .expect("length checked")
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext),
        n => return Err(aes_key_len_error(n)),
    })
}

/// AES-CBC (128/192/256 by key length) with a zero IV and PKCS#7, decryption.
pub fn aes_cbc_zero_iv_decrypt(key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>> {
    let iv = [0u8; 16];
    let failed = |_| Error::DecryptFailed {
        reason: "AES-CBC decryption failed: wrong key or corrupted data (bad padding)".into(),
    };
    match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, &iv)
            .expect("length checked")
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .map_err(failed),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, &iv)
            .expect("length checked")
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .map_err(failed),
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, &iv)
            .expect("length checked")
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .map_err(failed),
        n => Err(aes_key_len_error(n)),
    }
}

fn aes_key_len_error(n: usize) -> Error {
    Error::invalid_key("key", format!("an AES key is 16, 24 or 32 bytes, got {n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcm_rejects_short_key_and_bad_tag() {
        let e = aes_256_gcm_decrypt(&[0; 16], &[0; 12], b"", &[0; 32]).unwrap_err();
        assert_eq!(e.code(), "invalid_key");
        assert!(e.to_string().contains("32 bytes"));
        let ct = aes_256_gcm_encrypt(&[7; 32], &[1; 12], b"ad", b"hello").unwrap();
        let mut bad = ct.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(
            aes_256_gcm_decrypt(&[7; 32], &[1; 12], b"ad", &bad)
                .unwrap_err()
                .code(),
            "decrypt_failed"
        );
        assert_eq!(
            aes_256_gcm_decrypt(&[7; 32], &[1; 12], b"ad", &ct).unwrap(),
            b"hello"
        );
    }
}
