//! What verifying an access token costs, and what reading the key id from
//! its footer costs with pasetors' `Footer` (which compiles a regular
//! expression per call) against `footer_key_id` (serde), measured in this
//! run: medians of batches, in microseconds per token.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p api --bench
//! token_verify`; it needs no services). `BENCH_SMOKE=1` runs a few
//! batches only.

use std::time::{Duration, Instant};

use api::auth::tokens::{footer_key_id, KeyMaterial, TokenKeys};
use db::{SessionId, TenantId, UserId};
use pasetors::footer::Footer;
use pasetors::token::UntrustedToken;
use pasetors::version4::V4;
use pasetors::Public;

const BATCH: u32 = 200;

fn main() -> anyhow::Result<()> {
    let batches = if std::env::var_os("BENCH_SMOKE").is_some() { 3 } else { 50 };
    let (signing, _, refresh) = TokenKeys::generate_hex()?;
    let material = KeyMaterial { signing_key_hex: &signing, previous_keys: &[], refresh_key_hex: &refresh };
    let keys = TokenKeys::new("tenantry", "tenantry-api", Duration::from_secs(600), &material)?;
    let token = keys.issue_access(UserId::random(), TenantId::random(), SessionId::random())?;
    let untrusted = UntrustedToken::<Public, V4>::try_from(token.as_str())?;
    let footer = untrusted.untrusted_footer().to_vec();

    let pasetors_kid = || {
        let mut parsed = Footer::new();
        parsed.parse_bytes(&footer).expect("our footer parses");
        parsed.get_claim("kid").and_then(|v| v.as_str()).map(str::to_owned).expect("a kid")
    };
    let serde_kid = || footer_key_id(&footer).expect("a kid");
    assert_eq!(pasetors_kid(), serde_kid());
    let verify = || keys.verify_access(&token).expect("the token verifies").user;

    let mut rows = Vec::new();
    let mut samples = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..batches {
        // Alternating, so that drift of the machine touches all three.
        samples[0].push(per_call(|| {
            let _ = std::hint::black_box(pasetors_kid());
        }));
        samples[1].push(per_call(|| {
            let _ = std::hint::black_box(serde_kid());
        }));
        samples[2].push(per_call(|| {
            let _ = std::hint::black_box(verify());
        }));
    }
    for (name, s) in ["footer kid, pasetors Footer", "footer kid, serde (ours)", "verify_access (whole)"]
        .iter()
        .zip(samples.iter_mut())
    {
        rows.push((name, median(s)));
    }
    println!("{:<32} {:>12}", "token step", "median µs");
    for (name, micros) in &rows {
        println!("{name:<32} {micros:>12.2}");
    }
    println!("footer kid: serde takes {:.3}x the time of pasetors' Footer", rows[1].1 / rows[0].1);
    Ok(())
}

/// Microseconds per call over one batch.
fn per_call(mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..BATCH {
        f();
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(BATCH)
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
