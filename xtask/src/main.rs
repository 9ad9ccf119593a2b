//! `cargo xtask`: the launcher for development, tests and benchmarks.
//!
//! Everything it starts (PostgreSQL 17, pgbouncer, Redis, the API) runs as a
//! child it stops itself; a second run reuses `.data/`.

mod bench;
mod dev;
mod stack_cmd;
mod test;

use xtask::{install, web};

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

  dev      start PostgreSQL 17, Redis, the API on :3000 and the console on :8081
           (installs what is missing; Ctrl-C stops everything)
  stack    the production topology on one machine: release builds, PostgreSQL 17,
           pgbouncer, Redis, two API replicas and nginx on :8080
  test     run the whole test suite against real services on free ports
  bench    measure the request path against baselines through pgbouncer (one table,
           ratios last); `bench http` runs one bench, `bench --smoke` a short round
  web      build the web console into web/dist
  install  install the system packages and tools the other commands need";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("dev") => dev::run(),
        Some("stack") => stack_cmd::run(),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("web") => web::build().map(|dist| println!("console built in {}", dist.display())),
        Some("install") => install::everything(),
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}
