//! Password hashing: argon2id at OWASP's recommended cost (m = 19 MiB, t = 2,
//! p = 1). Hashing takes ~16 ms of CPU, so async callers run it on hashing
//! threads of its own at a lower priority, a bounded number at once, each
//! with working memory kept from one hash to the next.

use std::sync::{mpsc, Arc, Mutex, OnceLock};

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::distributions::{Alphanumeric, DistString};
use thread_priority::{ThreadPriority, ThreadPriorityValue};
use tokio::sync::Semaphore;

fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid")
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`) of `password`.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let params = params();
    let mut out = [0u8; 32];
    with_memory(|blocks| {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()).hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut out,
            blocks,
        )
    })
    .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc` (argon2id; a hash with
/// other parameters than ours is checked with memory of its own).
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(Algorithm::Argon2id, version, params.clone());
    let hashed = if params.block_count() == self::params().block_count() {
        with_memory(|blocks| argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks))
    } else {
        argon.hash_password_into(password.as_bytes(), salt, &mut out)
    };
    // `Output`'s equality is constant-time.
    hashed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

/// Argon2's working memory, 19 MiB a hash, kept for the next hash instead
/// of freed: glibc keeps freed blocks this large anyway (its mmap
/// threshold rises to the size of a freed block), so after a few sign-ins
/// the process held about 130 MB for good. Kept: one block per hash that
/// may run at once ([`hashing_permits`] + 1), allocated on first use.
fn with_memory<T>(work: impl FnOnce(&mut [Block]) -> T) -> T {
    static KEPT: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());
    let taken = KEPT.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut blocks = taken.unwrap_or_else(|| vec![Block::default(); params().block_count()]);
    let outcome = work(&mut blocks);
    let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    if kept.len() < hashing_permits() + 1 {
        kept.push(blocks);
    }
    outcome
}

/// How many sign-ins may verify a password at once: one per core, at most
/// four (each takes ~16 ms of a core and 19 MiB).
fn hashing_permits() -> usize {
    // Read once: finding the core count reads cgroup files.
    static PERMITS: OnceLock<usize> = OnceLock::new();
    *PERMITS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4))
}

/// A hash to verify against when the account does not exist, so that the
/// answer takes as long as for a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash(&generate()).expect("hashing a random password"))
}

/// Verifies on a hashing thread, at most [`hashing_permits`] at a time.
pub async fn verify_off_thread(password: String, phc: Option<String>) -> bool {
    static LIMIT: OnceLock<Semaphore> = OnceLock::new();
    let Ok(_permit) = LIMIT.get_or_init(|| Semaphore::new(hashing_permits())).acquire().await else { return false };
    on_hashing_thread(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => {
            let _ = verify(&password, decoy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Hashes on a hashing thread, one at a time, with a permit of its own: a
/// flood of unauthenticated hashing (registration, invitations, resets)
/// cannot hold up sign-in, which verifies under its own permits.
pub async fn hash_off_thread(password: String) -> anyhow::Result<String> {
    static HASH_LIMIT: Semaphore = Semaphore::const_new(1);
    let _permit = HASH_LIMIT.acquire().await?;
    on_hashing_thread(move || hash(&password)).await.ok_or_else(|| anyhow::anyhow!("the hashing threads are gone"))?
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `work` on one of the hashing threads: one per permit, started on
/// first use, at a lower CPU priority than the async workers (nice 5), so
/// that a storm of sign-ins takes the CPU other requests leave idle rather
/// than their time. `None` if the work panicked.
async fn on_hashing_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static QUEUE: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..hashing_permits() + 1 {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || hashing_thread(&receiver))
                .expect("starting a hashing thread");
        }
        sender
    });
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    queue.send(job).ok()?;
    result.await.ok()
}

fn hashing_thread(jobs: &Mutex<mpsc::Receiver<Job>>) {
    // 35 of thread-priority's 0–99 scale is nice 5 on Linux.
    let lower = ThreadPriorityValue::try_from(35u8).map(ThreadPriority::Crossplatform);
    if let Err(err) = lower
        .map_err(|e| format!("{e:?}"))
        .and_then(|p| thread_priority::set_current_thread_priority(p).map_err(|e| format!("{e:?}")))
    {
        tracing::warn!(error = %err, "hashing thread keeps the normal priority");
    }
    loop {
        let next = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(job) = next else { return };
        // A panicking job drops its sender: its caller gets `None`.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
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

    /// Hashing and verifying with kept memory agree with the argon2 crate's
    /// own `PasswordHasher` and `PasswordVerifier`, both ways, and a hash
    /// with other parameters still verifies.
    #[test]
    fn kept_memory_hashes_are_the_argon2_crates_hashes() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let reference = |m: u32| {
            argon2::Argon2::new(
                argon2::Algorithm::Argon2id,
                argon2::Version::V0x13,
                argon2::Params::new(m, 2, 1, None).unwrap(),
            )
        };
        let ours = super::hash("kept memory").unwrap();
        let parsed = super::PasswordHash::new(&ours).unwrap();
        assert!(reference(19 * 1024).verify_password(b"kept memory", &parsed).is_ok());
        assert!(reference(19 * 1024).verify_password(b"kept memorY", &parsed).is_err());
        for m in [19 * 1024, 8 * 1024] {
            let salt = super::SaltString::generate(&mut super::OsRng);
            let theirs = reference(m).hash_password(b"theirs", &salt).unwrap().to_string();
            assert!(super::verify("theirs", &theirs), "{theirs}");
            assert!(!super::verify("theirS", &theirs), "{theirs}");
        }
        // Verifying again reuses the kept memory and still tells them apart.
        assert!(super::verify("kept memory", &ours) && !super::verify("kept memorx", &ours));
    }
}
