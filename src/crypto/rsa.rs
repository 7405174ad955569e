//! RSA PKCS#1 v1.5 signatures and RSA-OAEP encryption behind small traits.
//!
//! Protocol code never calls the `rsa` crate directly: it asks a [`Signer`] or
//! a [`Verifier`]. Every protocol operation that needs an RSA signature also
//! exposes its *message* (the exact bytes to sign) so that an asynchronous
//! signer such as WebCrypto can be used in two steps: build the message, sign
//! it outside, then assemble the result.

use super::keys::{PrivateKey, PublicKey};
use crate::error::{Error, Result};
use rsa::{Oaep, Pkcs1v15Sign};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The hash under an RSA PKCS#1 v1.5 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaHash {
    /// SHA1withRSA (Alipay `RSA`, legacy).
    Sha1,
    /// SHA256withRSA (WeChat Pay v3, Alipay `RSA2`).
    Sha256,
}

impl RsaHash {
    fn digest(self, message: &[u8]) -> (Vec<u8>, Pkcs1v15Sign) {
        match self {
            RsaHash::Sha1 => (Sha1::digest(message).to_vec(), Pkcs1v15Sign::new::<Sha1>()),
            RsaHash::Sha256 => (
                Sha256::digest(message).to_vec(),
                Pkcs1v15Sign::new::<Sha256>(),
            ),
        }
    }
}

/// Produces RSA PKCS#1 v1.5 signatures.
pub trait Signer {
    /// Signs `message` (hashing it with `hash` first); returns the raw signature bytes.
    fn sign(&self, hash: RsaHash, message: &[u8]) -> Result<Vec<u8>>;
}

/// Checks RSA PKCS#1 v1.5 signatures.
pub trait Verifier {
    /// Verifies `signature` over `message`; `Err(SignatureMismatch)` when it does not match.
    fn verify(&self, hash: RsaHash, message: &[u8], signature: &[u8]) -> Result<()>;
}

impl Signer for PrivateKey {
    fn sign(&self, hash: RsaHash, message: &[u8]) -> Result<Vec<u8>> {
        let (digest, scheme) = hash.digest(message);
        // Blinded signing (the RNG is only used for blinding: PKCS#1 v1.5 is deterministic).
        self.as_rsa()
            .sign_with_rng(&mut rand_core::OsRng, scheme, &digest)
            .map_err(|e| Error::Crypto {
                reason: format!("RSA signing failed: {e}"),
            })
    }
}

impl Verifier for PublicKey {
    fn verify(&self, hash: RsaHash, message: &[u8], signature: &[u8]) -> Result<()> {
        let (digest, scheme) = hash.digest(message);
        self.as_rsa()
            .verify(scheme, &digest, signature)
            .map_err(|_| Error::mismatch("the RSA signature does not match the message and key"))
    }
}

impl<T: Signer + ?Sized> Signer for &T {
    fn sign(&self, hash: RsaHash, message: &[u8]) -> Result<Vec<u8>> {
        (**self).sign(hash, message)
    }
}

impl<T: Verifier + ?Sized> Verifier for &T {
    fn verify(&self, hash: RsaHash, message: &[u8], signature: &[u8]) -> Result<()> {
        (**self).verify(hash, message, signature)
    }
}

/// RSA-OAEP (SHA-1, MGF1-SHA1) encryption, as WeChat Pay v3 uses for sensitive fields.
pub fn oaep_sha1_encrypt(key: &PublicKey, plaintext: &[u8]) -> Result<Vec<u8>> {
    key.as_rsa()
        .encrypt(&mut rand_core::OsRng, Oaep::new::<Sha1>(), plaintext)
        .map_err(|e| Error::Crypto {
            reason: format!("RSA-OAEP encryption failed: {e}"),
        })
}

/// RSA-OAEP (SHA-1, MGF1-SHA1) decryption (the counterpart, for tests and merchants
/// who receive encrypted fields).
pub fn oaep_sha1_decrypt(key: &PrivateKey, ciphertext: &[u8]) -> Result<Vec<u8>> {
    key.as_rsa()
        .decrypt(Oaep::new::<Sha1>(), ciphertext)
        .map_err(|_| Error::DecryptFailed {
            reason: "RSA-OAEP decryption failed (wrong key or corrupted ciphertext)".into(),
        })
}
