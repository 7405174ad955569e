//! Loading keys named on the command line, and the CLI's clock and nonces.

use crate::fail::Fail;
use crate::input::read_text_file;
use edgepay::crypto::{PrivateKey, PublicKey};

/// Loads a private key file (PEM PKCS#1/PKCS#8 or a bare base64 line).
pub fn private_key(path: &str) -> Result<PrivateKey, Fail> {
    let text = read_text_file("--private-key", path)?;
    PrivateKey::parse(&text).map_err(|e| Fail::usage(format!("--private-key {path}: {e}")))
}

/// Loads a public key file (PEM SPKI/PKCS#1/X.509 certificate or a bare base64 line).
pub fn public_key(path: &str) -> Result<PublicKey, Fail> {
    let text = read_text_file("--public-key", path)?;
    PublicKey::parse(&text).map_err(|e| Fail::usage(format!("--public-key {path}: {e}")))
}

/// The current Unix time in seconds (the CLI is the IO layer: the core never reads the clock).
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A random 32-character alphanumeric nonce.
pub fn nonce() -> String {
    use rand_core::RngCore;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Masks a secret for `--explain` output: first two and last two characters.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4))
}
