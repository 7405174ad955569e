//! Cryptographic building blocks shared by every protocol module.
//!
//! Pure-Rust implementations (RustCrypto) so the crate runs everywhere,
//! behind small traits ([`Signer`], [`Verifier`]) so a host can substitute a
//! faster implementation (WebCrypto in a Worker) without touching protocol code.

pub(crate) mod asn1;
pub mod cert;
pub mod digest;
pub mod encoding;
pub mod keys;
pub mod rsa;
pub mod symmetric;

pub use self::cert::Certificate;
pub use self::digest::constant_time_eq;
pub use self::keys::{PrivateKey, PublicKey};
pub use self::rsa::{RsaHash, Signer, Verifier};
