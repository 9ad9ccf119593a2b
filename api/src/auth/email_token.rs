//! Tokens sent by email (verification, password reset, invitation): 256
//! random bits as 64 hex characters; only their SHA-256 is stored. The
//! platform functions take the token as emailed and hash it themselves, so
//! a stored hash is never a credential.

use rand::RngCore;

/// A fresh token: the one to email, and the hash to store.
#[derive(Debug)]
pub struct EmailToken {
    pub token: String,
    pub hash: String,
}

pub fn generate() -> EmailToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    EmailToken { hash: hash(&token), token }
}

/// A token as emailed, trimmed; `None` for anything that is not one of ours
/// (so junk never reaches the database).
pub fn parse(token: &str) -> Option<&str> {
    let token = token.trim();
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then_some(token)
}

fn hash(token: &str) -> String {
    crate::auth::api_key::hash(token)
}
