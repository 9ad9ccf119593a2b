//! Tokens sent by email (verification, password reset, invitation): 256
//! random bits as 64 hex characters; only their SHA-256 is stored. The
//! platform functions take the token as emailed and hash it themselves, so
//! a stored hash is never a credential.

use crate::auth::secrets;

/// A fresh token: the one to email, and the hash to store.
#[derive(Debug)]
pub struct EmailToken {
    pub token: String,
    pub hash: String,
}

pub fn generate() -> EmailToken {
    let token = secrets::random_hex(32);
    EmailToken { hash: secrets::sha256_hex(&token), token }
}

/// A token as emailed, trimmed; `None` for anything that is not one of ours
/// (so junk never reaches the database).
pub fn parse(token: &str) -> Option<&str> {
    let token = token.trim();
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then_some(token)
}
