//! How the CLI ends: exit 0 success, 1 verification failed (stdout says why),
//! 2 bad input or usage (stderr, one clear line).

use edgepay::Error;

/// A non-success outcome.
#[derive(Debug)]
pub enum Fail {
    /// Exit 1: the signature (or envelope) did not verify. Printed on stdout.
    Invalid(String),
    /// Exit 2: bad input or usage. Printed on stderr.
    Usage(String),
}

impl Fail {
    /// A usage / bad-input failure.
    pub fn usage(msg: impl Into<String>) -> Self {
        Fail::Usage(msg.into())
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Fail::Invalid(_) => 1,
            Fail::Usage(_) => 2,
        }
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        if e.is_verification_failure() {
            Fail::Invalid(format!("invalid: {e}"))
        } else {
            Fail::Usage(format!("error [{}]: {e}", e.code()))
        }
    }
}
