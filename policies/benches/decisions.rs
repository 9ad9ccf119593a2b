//! What one authorization decision costs: the Casbin enforcer asked every
//! time against the decision remembered by `role_allows`, measured in this
//! run (medians of batches, microseconds per decision, over a mix of
//! allowed and denied requests).
//!
//! Run with `cargo xtask bench decisions` (or `cargo bench -p policies
//! --bench decisions`; it needs no services). `BENCH_SMOKE=1` runs a few
//! batches only.

use std::time::Instant;

use policies::{Action, Authorizer, Object, ROLES};

const BATCH: u32 = 2_000;

fn main() {
    let batches = if std::env::var_os("BENCH_SMOKE").is_some() { 3 } else { 50 };
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let remembering = runtime.block_on(Authorizer::new()).expect("the policy loads");
    let asking = runtime.block_on(Authorizer::new()).expect("the policy loads").without_decision_cache();
    let requests: Vec<(&str, Object, Action)> = ROLES
        .iter()
        .flat_map(|role| Object::ALL.into_iter().flat_map(move |o| Action::ALL.into_iter().map(move |a| (*role, o, a))))
        .collect();
    let allowed = requests
        .iter()
        .filter(|(role, object, action)| asking.role_allows(role, "tenant", *object, *action, false).unwrap())
        .count();

    let (mut asked, mut remembered) = (Vec::new(), Vec::new());
    for _ in 0..batches {
        asked.push(per_decision(&asking, &requests));
        remembered.push(per_decision(&remembering, &requests));
    }
    let (asked, remembered) = (median(&mut asked), median(&mut remembered));
    println!("{} requests ({allowed} allowed), {BATCH} decisions a batch, {batches} batches", requests.len());
    println!("{:<28} {:>14}", "decision", "median µs");
    println!("{:<28} {:>14.3}", "enforcer asked (uncached)", asked);
    println!("{:<28} {:>14.3}", "remembered (cached)", remembered);
    println!("P4 uncached {asked:.2} µs (target 30), cached {remembered:.3} µs (target 1)");
}

/// Microseconds per decision over one batch cycling through `requests`.
fn per_decision(auth: &Authorizer, requests: &[(&str, Object, Action)]) -> f64 {
    let started = Instant::now();
    for i in 0..BATCH as usize {
        let (role, object, action) = requests[i % requests.len()];
        std::hint::black_box(auth.role_allows(role, "tenant", object, action, false).unwrap());
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(BATCH)
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
