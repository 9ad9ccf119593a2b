//! Builds the application from settings and runs it: the route table and
//! its layers are all visible in `api_endpoint`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use poem::endpoint::BoxEndpoint;
use poem::endpoint::StaticFilesEndpoint;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Route, Server};
use poem_openapi::OpenApiService;

use crate::config::Settings;
use crate::redis_conn::Redis;
use crate::routes::{
    api_keys::ApiKeysApi,
    auth::{MeApi, PasswordApi, SessionsApi, SignInApi},
    files::FilesApi,
    health::HealthApi,
    invitations::InvitationsApi,
    members::MembersApi,
    onboarding::{RegistrationApi, ResetApi},
    overview::OverviewApi,
    projects::ProjectsApi,
    tenants::TenantsApi,
};
use crate::state::AppState;
use crate::{body_limit, error, rate_limit, request_id, response_headers};

/// A built, bound application.
pub struct Application {
    state: AppState,
    api: TcpAcceptor,
    console: Option<TcpAcceptor>,
    port: u16,
    console_port: Option<u16>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).field("console_port", &self.console_port).finish()
    }
}

impl Application {
    /// Migrates when configured to, connects lazily and binds the ports
    /// (port 0 picks a free one; see [`Application::port`]).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        if settings.migrate_on_start {
            let owner = settings.database_owner_url.as_ref().expect("validated by config");
            let version = db::migrate(owner.expose()).await.map_err(|e| anyhow::anyhow!("migrating: {e}"))?;
            tracing::info!(version, "migrations applied");
        }
        let db = db::Db::connect_lazy(
            settings.database_url.expose(),
            &db::PoolSettings {
                max_connections: settings.database_max_connections,
                acquire_timeout: settings.database_acquire_timeout,
                ..db::PoolSettings::default()
            },
        )?;
        let platform = db::PlatformDb::connect_lazy(
            settings.platform_database_url.expose(),
            &db::PoolSettings {
                max_connections: settings.platform_database_max_connections,
                acquire_timeout: settings.database_acquire_timeout,
                ..db::PoolSettings::default()
            },
        )?;
        check_roles(&db, &platform).await?;
        if !settings.migrate_on_start {
            wait_for_schema(&db, settings.schema_wait).await?;
        }
        let redis = Arc::new(Redis::new(settings.redis_url.expose())?);
        let api = bind(settings.host, settings.port).await?;
        let port = local_port(&api);
        let console = match settings.console_port {
            Some(p) => Some(bind(settings.host, p).await?),
            None => None,
        };
        let console_port = console.as_ref().map(local_port);
        if settings.auth.keys_generated {
            tracing::warn!("no token keys configured: generated keys for this process only; sessions end with it");
        }
        let tokens = Arc::new(settings.auth.token_keys()?);
        let refresh = crate::auth::refresh_store::RefreshStore::new(
            &settings.redis_key_prefix,
            settings.auth.refresh_ttl,
            settings.auth.refresh_grace,
            settings.auth.session_max_lifetime,
        );
        let authorizer = Arc::new(policies::Authorizer::new().await?);
        let mailer = crate::mail::Mailer::new(&settings.mail)?;
        let access_cache = Arc::new(crate::auth::access_cache::AccessCache::new(
            &settings.redis_key_prefix,
            settings.access_cache_ttl,
        ));
        access_cache.spawn_subscriber(redis.client());
        if !mailer.delivers() {
            tracing::warn!(outbox = ?settings.mail.outbox_dir, "no SMTP relay configured (APP_SMTP_URL): emails go to the log and the outbox only");
        }
        let settings_storage = settings.storage.clone();
        let state = AppState {
            db,
            platform,
            redis,
            settings: Arc::new(settings),
            started_at: Instant::now(),
            draining: Arc::new(AtomicBool::new(false)),
            tokens,
            refresh,
            authorizer,
            mailer,
            access_cache,
            storage: crate::storage::Storage::new(&settings_storage),
        };
        Ok(Self { state, api, console, port, console_port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn console_port(&self) -> Option<u16> {
        self.console_port
    }

    /// Serves until SIGINT or SIGTERM. Then readiness answers 503, no new
    /// connection is accepted, idle keep-alive connections are closed, and
    /// in-flight requests get up to `APP_DRAIN_TIMEOUT_SECS` to finish;
    /// finally the pool is closed and the function returns.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self { state, api, console, port, console_port } = self;
        tracing::info!(port, ?console_port, "listening");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let draining = state.draining.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            draining.store(true, Ordering::SeqCst);
            let _ = stop_tx.send(true);
        });
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        };
        crate::housekeeping::spawn(state.clone(), state.settings.housekeeping_every);
        let drain = Some(state.settings.drain_timeout);
        let api_server =
            Server::new_with_acceptor(api).run_with_graceful_shutdown(api_endpoint(&state), stopped(), drain);
        match console {
            Some(console) => {
                let dir = state.settings.console_dir.clone();
                let console_server = Server::new_with_acceptor(console).run_with_graceful_shutdown(
                    console_endpoint(&state, dir),
                    stopped(),
                    drain,
                );
                tokio::try_join!(api_server, console_server)?;
            }
            None => api_server.await?,
        }
        state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The API: routes, then (from the inside out) rate limit, body limit, panic
/// catcher, the error shape, the headers every answer carries, CORS, and the
/// request id around everything.
pub fn api_endpoint(state: &AppState) -> BoxEndpoint<'static> {
    let service = OpenApiService::new(
        (
            HealthApi { state: state.clone() },
            TenantsApi { state: state.clone() },
            SignInApi { state: state.clone() },
            SessionsApi { state: state.clone() },
            PasswordApi { state: state.clone() },
            MeApi { state: state.clone() },
            RegistrationApi { state: state.clone() },
            ResetApi { state: state.clone() },
            MembersApi { state: state.clone() },
            OverviewApi { state: state.clone() },
            InvitationsApi { state: state.clone() },
            ApiKeysApi { state: state.clone() },
            ProjectsApi { state: state.clone() },
            FilesApi { state: state.clone() },
        ),
        "Tenantry API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Multi-tenant backend. Every error has the shape \
         `{ \"error\": { \"code\", \"message\", \"request_id\", \"details\"? } }`.",
    );
    let spec = std::sync::Arc::new(crate::spec::Spec::new(&service.spec()));
    let allow_spec = spec.clone();
    let docs = service.swagger_ui();
    let limiter_state = state.clone();
    let max_body = state.settings.max_body_bytes;
    let origins = std::sync::Arc::new(state.settings.auth.allowed_origins.clone());
    Route::new()
        .at("/api/openapi.json", crate::spec::endpoint(spec))
        .nest("/api/docs", docs)
        .nest("/", service)
        .around(move |ep, req| {
            let state = limiter_state.clone();
            async move {
                if req.uri().path().starts_with("/api/") {
                    rate_limit::limit(ep, req, state).await
                } else {
                    poem::Endpoint::call(&ep, req).await.map(poem::IntoResponse::into_response)
                }
            }
        })
        .around(move |ep, req| body_limit::limit(ep, req, max_body))
        .data(state.clone())
        .with(CatchPanic::new().with_handler(error::panic_response))
        .around(error::shape)
        .around(move |ep, req| crate::spec::allow(ep, req, allow_spec.clone()))
        .around(response_headers::set)
        .around(move |ep, req| {
            let origins = origins.clone();
            async move { crate::cors::apply(ep, req, &origins).await }
        })
        .around(request_id::assign)
        .boxed()
}

/// The development console port: the built SPA at `/` (any unknown path
/// falls back to `index.html` for client-side routes) and the API under
/// `/api/`, the shape nginx gives production.
fn console_endpoint(state: &AppState, dir: std::path::PathBuf) -> BoxEndpoint<'static> {
    let files = StaticFilesEndpoint::new(dir)
        .index_file("index.html")
        .fallback_to_index()
        .around(error::shape)
        .around(request_id::assign)
        .boxed();
    ConsoleEndpoint { api: api_endpoint(state), files }.boxed()
}

/// Sends `/api` and `/api/...` to the API (paths unchanged, as nginx does),
/// everything else to the console's files.
struct ConsoleEndpoint {
    api: BoxEndpoint<'static>,
    files: BoxEndpoint<'static>,
}

impl Endpoint for ConsoleEndpoint {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<Self::Output> {
        let path = req.uri().path();
        if path == "/api" || path.starts_with("/api/") {
            self.api.call(req).await
        } else {
            self.files.call(req).await
        }
    }
}

async fn bind(host: std::net::IpAddr, port: u16) -> anyhow::Result<TcpAcceptor> {
    TcpListener::bind((host, port)).into_acceptor().await.map_err(|e| anyhow::anyhow!("binding {host}:{port}: {e}"))
}

fn local_port(acceptor: &TcpAcceptor) -> u16 {
    acceptor.local_addr().into_iter().find_map(|addr| addr.as_socket_addr().map(|a| a.port())).unwrap_or_default()
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested; draining");
}

/// Refuses to serve as roles that row-level security does not bind, or with
/// the two pools' roles swapped or merged: the tenant routes must run as
/// `app` and the platform path as `app_platform`. The database may be down
/// at start: then readiness says so, and the check waits for the next start.
async fn check_roles(db: &db::Db, platform: &db::PlatformDb) -> anyhow::Result<()> {
    let timeout = std::time::Duration::from_secs(5);
    let roles = tokio::time::timeout(timeout, async { anyhow::Ok((db.role().await?, platform.role().await?)) });
    let (runtime, platform) = match roles.await {
        Ok(Ok(roles)) => roles,
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "could not check the database roles at start");
            return Ok(());
        }
        Err(_) => {
            tracing::warn!("could not check the database roles at start: timed out");
            return Ok(());
        }
    };
    if runtime.bypasses_rls || platform.bypasses_rls {
        anyhow::bail!(
            "DATABASE_URL or PLATFORM_DATABASE_URL connects as a superuser or BYPASSRLS role; \
             use the roles `app` and `app_platform`, which row-level security binds"
        );
    }
    if runtime.name != "app" {
        anyhow::bail!("DATABASE_URL connects as `{}`; the tenant routes must run as `app`", runtime.name);
    }
    if platform.name != "app_platform" {
        anyhow::bail!("PLATFORM_DATABASE_URL connects as `{}`; it must be `app_platform`", platform.name);
    }
    Ok(())
}

/// Where migrations run apart from the replicas (a job of their own), a new
/// replica must not serve before its schema is there: it waits, up to
/// `APP_SCHEMA_WAIT_SECS`, while the database answers with an older version.
/// A database that does not answer is not waited for (readiness says so).
async fn wait_for_schema(db: &db::Db, limit: std::time::Duration) -> anyhow::Result<()> {
    let wanted = db::latest_migration_version();
    let started = Instant::now();
    loop {
        let applied = match tokio::time::timeout(std::time::Duration::from_secs(5), db.readiness()).await {
            Ok(Ok(report)) => report.migration_version.unwrap_or(0),
            // No migrations table yet: a new database, before its first
            // migration.
            Ok(Err(err)) if err.as_database_error().and_then(|e| e.code()).as_deref() == Some("42P01") => 0,
            _ => return Ok(()),
        };
        if applied >= wanted {
            return Ok(());
        }
        if started.elapsed() >= limit {
            anyhow::bail!(
                "the database schema is at migration {applied}, this build needs {wanted}: run `tenantry-api migrate` \
                 (waited {} s)",
                limit.as_secs()
            );
        }
        tracing::info!(applied, wanted, "waiting for migrations to be applied");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
