//! Password hashing: argon2id at OWASP's recommended cost (m = 19 MiB, t = 2,
//! p = 1). Hashing takes ~16 ms of CPU, so async callers run it on the
//! blocking pool.

use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::distributions::{Alphanumeric, DistString};
use tokio::sync::Semaphore;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`) of `password`.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Whether `password` matches the PHC string `phc`.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to verify against when the account does not exist, so that the
/// answer takes as long as for a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash(&generate()).expect("hashing a random password"))
}

/// Hashing and verifying at once, at most (each takes ~16 ms of a core and
/// 19 MiB).
static LIMIT: Semaphore = Semaphore::const_new(4);

/// Verifies off the async runtime, at most a few at a time.
pub async fn verify_off_thread(password: String, phc: Option<String>) -> bool {
    let Ok(_permit) = LIMIT.acquire().await else { return false };
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => {
            let _ = verify(&password, decoy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Hashes off the async runtime, at most two at a time, with permits of its
/// own: a flood of unauthenticated hashing (registration, invitations,
/// resets) cannot hold up sign-in, which verifies under `LIMIT`.
pub async fn hash_off_thread(password: String) -> anyhow::Result<String> {
    static HASH_LIMIT: Semaphore = Semaphore::const_new(2);
    let _permit = HASH_LIMIT.acquire().await?;
    tokio::task::spawn_blocking(move || hash(&password)).await?
}

/// Why a new password is refused; `None` when acceptable: 8–128
/// characters, no composition rules, not among the 10,000 most common
/// passwords (api/data/common-passwords.txt, compared without case).
pub fn weakness(password: &str) -> Option<&'static str> {
    static COMMON: OnceLock<std::collections::HashSet<String>> = OnceLock::new();
    let length = password.chars().count();
    if !(8..=128).contains(&length) {
        return Some("must be 8–128 characters");
    }
    let common = COMMON.get_or_init(|| {
        include_str!("../data/common-passwords.txt").lines().map(|l| l.trim().to_lowercase()).collect()
    });
    common.contains(&password.to_lowercase()).then_some("is one of the most common passwords; choose another")
}

/// A random password for seeded accounts: 20 alphanumerics, ~119 bits.
pub fn generate() -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20)
}

#[cfg(test)]
mod tests {
    #[test]
    fn common_and_short_passwords_are_refused() {
        assert_eq!(super::weakness("short"), Some("must be 8–128 characters"));
        assert!(super::weakness("password").is_some());
        assert!(super::weakness("PassWord1").is_some() || super::weakness("password1").is_some());
        assert!(super::weakness("12345678").is_some());
        assert!(super::weakness(&"x".repeat(129)).is_some());
        assert_eq!(super::weakness("correct horse battery staple"), None);
        assert_eq!(include_str!("../data/common-passwords.txt").lines().count(), 10_000);
    }

    #[test]
    fn hashes_use_argon2id_at_owasp_cost() {
        let phc = super::hash("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(super::verify("correct horse battery staple", &phc));
        assert!(!super::verify("Correct horse battery staple", &phc));
        assert!(!super::verify("anything", "not a phc string"));
    }
}
