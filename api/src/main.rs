//! `tenantry-api [serve|migrate|seed-demo|bootstrap|healthcheck|keygen]`.

use std::process::ExitCode;

use api::config::{LogFormat, Settings};
use api::startup::Application;
use api::{password, telemetry};

const USAGE: &str = "usage: tenantry-api [serve|migrate|seed-demo|bootstrap|healthcheck|keygen]
  serve      run the API (default)
  migrate    apply database migrations as the owner role (DATABASE_OWNER_URL)
  seed-demo  create the demo tenant and admin if missing, printing the password once
  keygen     print a new token signing key and refresh-token key, as
             APP_PASETO_SIGNING_KEY / APP_PASETO_REFRESH_KEY lines
  healthcheck  exit 0 if the API on 127.0.0.1:APP_PORT answers liveness (for
             container HEALTHCHECKs; images carry no curl)
  bootstrap  as a superuser (DATABASE_SUPERUSER_URL), create the roles of
             DATABASE_OWNER_URL, DATABASE_URL and PLATFORM_DATABASE_URL and
             the database; idempotent";

#[tokio::main]
async fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    let outcome = match command.as_str() {
        "serve" => serve().await,
        "migrate" => migrate().await,
        "seed-demo" => seed_demo().await,
        "bootstrap" => bootstrap().await,
        "healthcheck" => healthcheck().await,
        "keygen" => keygen(),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("unknown command `{other}`\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tenantry-api: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    telemetry::init(&settings.log_filter, settings.log_format);
    Application::build(settings).await?.run_until_stopped().await
}

async fn migrate() -> anyhow::Result<()> {
    let owner_url = api::config::owner_url_from_env()?;
    telemetry::init("info", LogFormat::Pretty);
    let version = db::migrate(owner_url.expose()).await?;
    println!("migrations applied; newest version {version}");
    Ok(())
}

async fn seed_demo() -> anyhow::Result<()> {
    let owner_url = api::config::owner_url_from_env()?;
    let accounts = &db::seed::DEMO_ACCOUNTS;
    let mut credentials: Vec<(&str, String, String)> = Vec::new();
    for account in accounts {
        if credentials.iter().any(|(email, _, _)| *email == account.email) {
            continue;
        }
        let password = password::generate();
        let hash = tokio::task::spawn_blocking({
            let password = password.clone();
            move || password::hash(&password)
        })
        .await??;
        credentials.push((account.email, password, hash));
    }
    let hash_of =
        |email: &str| credentials.iter().find(|(e, _, _)| *e == email).map(|(_, _, h)| h.clone()).unwrap_or_default();
    if db::seed::seed_demo(owner_url.expose(), hash_of).await? {
        println!("demo tenants created; passwords are shown once and stored nowhere in clear:");
        for account in accounts {
            let password = credentials.iter().find(|(e, _, _)| *e == account.email).map(|(_, p, _)| p.as_str());
            println!(
                "  {:<8} {:<7} {:<28} {}",
                account.tenant_slug,
                account.role,
                account.email,
                password.unwrap_or_default()
            );
        }
    } else {
        println!("demo tenants already present; credentials were printed when they were created");
    }
    Ok(())
}

async fn bootstrap() -> anyhow::Result<()> {
    let (superuser, roles, database) = api::config::bootstrap_from_env()?;
    // A cluster that was just started may still refuse connections briefly.
    let mut attempt = 0;
    loop {
        match db::bootstrap_cluster(superuser.expose(), &roles, &database).await {
            Ok(()) => break,
            Err(err) if attempt < 30 => {
                attempt += 1;
                tracing::debug!(error = %err, "bootstrap: retrying");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
    println!("roles `{}`, `app`, `app_definer` and database `{database}` are in place", roles.owner);
    Ok(())
}

async fn healthcheck() -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port: u16 = std::env::var("APP_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n").await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        anyhow::Ok(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
    };
    match tokio::time::timeout(std::time::Duration::from_secs(3), probe).await {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => anyhow::bail!("liveness did not answer 200"),
        Ok(Err(err)) => anyhow::bail!("liveness probe failed: {err}"),
        Err(_) => anyhow::bail!("liveness probe timed out"),
    }
}

fn keygen() -> anyhow::Result<()> {
    let (signing, public, refresh) = api::auth::tokens::TokenKeys::generate_hex()?;
    println!("APP_PASETO_SIGNING_KEY={signing}");
    println!("APP_PASETO_REFRESH_KEY={refresh}");
    println!("# public key, for APP_PASETO_PREVIOUS_PUBLIC_KEYS once this signing key is replaced: {public}");
    Ok(())
}
