//! Password hashing: argon2id at OWASP's recommended cost (m = 19 MiB, t = 2,
//! p = 1). Hashing takes ~16 ms of CPU, so async callers run it on the
//! blocking pool.

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::distributions::{Alphanumeric, DistString};

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

/// A random password for seeded accounts: 20 alphanumerics, ~119 bits.
pub fn generate() -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_use_argon2id_at_owasp_cost() {
        let phc = super::hash("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    }
}
