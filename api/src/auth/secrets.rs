//! The raw material of every token and key: random bytes from the
//! operating system, and the SHA-256 digest that is stored instead of a
//! secret. Both as lowercase hex.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// `bytes` random bytes from the OS, as `2 × bytes` hex characters.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    hex(&buffer)
}

/// The SHA-256 of `text`, hex.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Milliseconds since the Unix epoch (0 before it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
