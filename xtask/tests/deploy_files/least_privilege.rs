//! Least privilege in the production files: what each service is given,
//! read from the files themselves (the Swarm stack as `docker stack config`
//! renders it, compose.yaml as text, the Nomad job parsed as HCL). Each
//! check lists the problems it finds, is empty on the repository's files,
//! and is shown to find a problem in a broken copy.

use std::path::Path;

use super::{attribute, block, broken_copy, repo, stack_config};

/// The blocks of the entries of a top-level YAML `section` (`services`,
/// `networks`): each entry's lines, as `docker stack config` prints them
/// and as compose.yaml is written (two spaces per level).
fn yaml_entries(text: &str, section: &str) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            inside = line.trim_end() == format!("{section}:");
            continue;
        }
        if !inside || line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with("  ") && !line.starts_with("   ") {
            entries.push((line.trim().trim_end_matches(':').to_owned(), String::new()));
        } else if let Some((_, body)) = entries.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    entries
}

fn entry<'a>(entries: &'a [(String, String)], name: &str) -> &'a str {
    entries.iter().find(|(n, _)| n == name).map(|(_, b)| b.as_str()).unwrap_or_default()
}

/// What is wrong with a rendered Swarm stack.
fn swarm_problems(rendered: &str) -> Vec<String> {
    let services = yaml_entries(rendered, "services");
    let (api, migrate) = (entry(&services, "api"), entry(&services, "migrate"));
    let (pgbouncer, redis) = (entry(&services, "pgbouncer"), entry(&services, "redis"));
    let mut problems = Vec::new();
    let mut expect = |ok: bool, problem: &str| {
        if !ok {
            problems.push(problem.to_owned());
        }
    };
    // The serving replicas: the runtime roles only, no migration at start.
    expect(!api.contains("OWNER"), "the api service is given the owner's database URL");
    expect(
        api.contains("APP_MIGRATE_ON_START: \"false\""),
        "the api service does not say APP_MIGRATE_ON_START: \"false\"",
    );
    expect(
        api.contains("PLATFORM_DATABASE_URL_FILE: /run/secrets/tenantry_platform_database_url")
            && api.contains("- source: tenantry_platform_database_url"),
        "the api service has no platform database URL secret",
    );
    // Migrations: a one-off job with the owner's URL.
    expect(migrate.contains("mode: replicated-job"), "no migrate job (deploy.mode: replicated-job)");
    expect(migrate.contains("- migrate\n"), "the migrate job does not run `tenantry-api migrate`");
    expect(
        migrate.contains("DATABASE_OWNER_URL_FILE: /run/secrets/tenantry_owner_database_url")
            && migrate.contains("- source: tenantry_owner_database_url"),
        "the migrate job has no owner URL secret",
    );
    expect(!migrate.contains("DATABASE_URL_FILE:"), "the migrate job is given the runtime role's URL");
    // pgbouncer: the runtime roles and its own admin, not the superuser.
    expect(
        pgbouncer.contains("app:APP_DB_PASSWORD")
            && pgbouncer.contains("app_platform:PLATFORM_DB_PASSWORD")
            && pgbouncer.contains("pgbouncer_admin:PGBOUNCER_ADMIN_PASSWORD"),
        "pgbouncer's userlist lacks app, app_platform or pgbouncer_admin",
    );
    expect(
        !pgbouncer.contains("postgres:") && !pgbouncer.contains("postgres_password"),
        "pgbouncer is given the superuser",
    );
    // Redis: a password, which the API's URL carries.
    expect(
        redis.contains("--aclfile") && redis.contains("tenantry_redis_acl"),
        "Redis has no password (ACL file secret)",
    );
    expect(
        api.contains("REDIS_URL_FILE: /run/secrets/tenantry_redis_url") && !api.contains("REDIS_URL: redis://"),
        "the API's Redis URL is not the secret with the password",
    );
    // Traffic between nodes is encrypted.
    let networks = yaml_entries(rendered, "networks");
    expect(entry(&networks, "backend").contains("encrypted: \"true\""), "the overlay network is not encrypted");
    problems
}

#[test]
fn the_swarm_stack_gives_each_service_only_what_it_needs() {
    let out = stack_config(&repo().join("ops/swarm/stack.yml"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let problems = swarm_problems(&String::from_utf8_lossy(&out.stdout));
    assert!(problems.is_empty(), "{problems:#?}");
    for (from, to) in [
        ("APP_MIGRATE_ON_START: \"false\"", "APP_MIGRATE_ON_START: \"true\""),
        ("encrypted: \"true\"", "encrypted: \"false\""),
        ("mode: replicated-job", "mode: replicated"),
    ] {
        let broken = stack_config(&broken_copy("ops/swarm/stack.yml", from, to));
        assert!(!swarm_problems(&String::from_utf8_lossy(&broken.stdout)).is_empty(), "{to} went unnoticed");
    }
}

/// What is wrong with compose.yaml's optional tools and images.
fn compose_problems(text: &str) -> Vec<String> {
    let services = yaml_entries(text, "services");
    let mut problems = Vec::new();
    for (name, body) in &services {
        if !body.contains("profiles:") {
            continue;
        }
        let mut in_ports = false;
        for line in body.lines() {
            let key = line.trim_start();
            if !key.starts_with('-') {
                in_ports = key == "ports:";
                continue;
            }
            if in_ports && !key.trim_start_matches(['-', ' ', '"']).starts_with("127.0.0.1:") {
                problems.push(format!("{name}: port published beyond 127.0.0.1: {key}"));
            }
        }
        for line in body.lines().filter(|l| l.contains(":-")) {
            let upper = line.to_ascii_uppercase();
            if ["PASSWORD", "SECRET", "ROOT_USER", "ACCESS_KEY"].iter().any(|w| upper.contains(w)) {
                problems.push(format!("{name}: a default credential: {}", line.trim()));
            }
        }
    }
    let api_env = text.split("x-api-env:").nth(1).and_then(|rest| rest.split("\nservices:").next()).unwrap_or_default();
    if !api_env.contains("PLATFORM_DATABASE_URL: postgres://app_platform:${PLATFORM_DB_PASSWORD") {
        problems.push("the API has no PLATFORM_DATABASE_URL for app_platform".into());
    }
    if !api_env.contains("REDIS_URL: redis://:${REDIS_PASSWORD") {
        problems.push("the API's Redis URL carries no password".into());
    }
    if !entry(&services, "redis").contains("--requirepass") {
        problems.push("Redis has no password".into());
    }
    let pgbouncer = entry(&services, "pgbouncer");
    if !pgbouncer.contains("pgbouncer_admin:PGBOUNCER_ADMIN_PASSWORD")
        || pgbouncer.contains("postgres:POSTGRES_PASSWORD")
    {
        problems.push("pgbouncer's admin is the superuser, or it has none of its own".into());
    }
    if !entry(&services, "bootstrap").contains("PLATFORM_DATABASE_URL:") {
        problems.push("bootstrap does not create app_platform".into());
    }
    problems
}

#[test]
fn compose_profiles_publish_on_loopback_only_with_no_default_credentials() {
    let text = std::fs::read_to_string(repo().join("compose.yaml")).unwrap();
    let problems = compose_problems(&text);
    assert!(problems.is_empty(), "{problems:#?}");
    for (from, to) in [
        ("\"127.0.0.1:9090:9090\"", "\"9090:9090\""),
        ("${GRAFANA_ADMIN_PASSWORD:?", "${GRAFANA_ADMIN_PASSWORD:-admin}${UNUSED:?"),
    ] {
        let broken = std::fs::read_to_string(broken_copy("compose.yaml", from, to)).unwrap();
        assert!(!compose_problems(&broken).is_empty(), "{to} went unnoticed");
    }
}

/// Every `image` of a deploy file names a tag, and not `latest`.
fn floating_images(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(['=', ':'])?;
            (key.trim().trim_start_matches("- ") == "image").then(|| value.trim().trim_matches('"').to_owned())
        })
        .filter(|image| {
            let last = image.rsplit('/').next().unwrap_or_default();
            !last.contains(':') || last.ends_with(":latest")
        })
        .collect()
}

#[test]
fn no_deploy_file_runs_a_floating_image() {
    for file in ["compose.yaml", "ops/swarm/stack.yml", "ops/nomad/tenantry.nomad.hcl"] {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        assert!(text.lines().filter(|l| l.trim_start().starts_with("image")).count() >= 3, "{file}: no images found");
        let floating = floating_images(&text);
        assert!(floating.is_empty(), "{file}: {floating:?}");
    }
    let broken = std::fs::read_to_string(broken_copy("compose.yaml", "image: redis:7", "image: redis:latest")).unwrap();
    assert_eq!(floating_images(&broken), ["redis:latest"]);
    assert_eq!(floating_images("    image = \"nginx\"\n"), ["nginx"]);
}

fn template_text(task: &hcl::Body) -> String {
    task.blocks()
        .filter(|b| b.identifier() == "template")
        .filter_map(|b| attribute(b.body(), "data"))
        .map(|data| match data {
            hcl::Expression::TemplateExpr(t) => t.to_string(),
            hcl::Expression::String(s) => s.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// What is wrong with the Nomad job.
fn nomad_problems(text: &str) -> Vec<String> {
    let body: hcl::Body = hcl::from_str(text).expect("valid HCL");
    let job = block(&body, "job", Some("tenantry")).expect("job \"tenantry\"").body();
    let group = |name: &str| block(job, "group", Some(name)).unwrap_or_else(|| panic!("group {name}")).body();
    let task = |g: &str, t: &str| block(group(g), "task", Some(t)).unwrap_or_else(|| panic!("task {t}")).body();
    let mut problems = Vec::new();
    let mut expect = |ok: bool, problem: &str| {
        if !ok {
            problems.push(problem.to_owned());
        }
    };
    // The API is reached through nginx only, and trusts only nginx.
    let network = block(group("api"), "network", None).expect("api: network").body();
    let port = block(network, "port", Some("http")).expect("api: port \"http\"").body();
    expect(attribute(port, "static").is_none(), "the API has a static port");
    let api = task("api", "api");
    let env = block(api, "env", None).map(|b| b.body());
    expect(env.and_then(|e| attribute(e, "APP_TRUSTED_PROXIES")).is_none(), "APP_TRUSTED_PROXIES is a fixed value");
    let api_templates = template_text(api);
    expect(
        api_templates.contains("APP_TRUSTED_PROXIES={{ range service \"tenantry-web|any\" }}"),
        "APP_TRUSTED_PROXIES is not built from the tenantry-web instances",
    );
    expect(!text.contains("10.0.0.0/8"), "10.0.0.0/8 is trusted");
    // The serving task: runtime roles only; the owner's URL in migrate only.
    expect(!api_templates.contains("owner"), "the api task is given the owner's URL");
    expect(template_text(task("api", "migrate")).contains("DATABASE_OWNER_URL="), "the migrate task has no owner URL");
    expect(
        api_templates.contains("PLATFORM_DATABASE_URL=postgres://app_platform:{{ .platform_db_password }}@"),
        "the api task has no PLATFORM_DATABASE_URL",
    );
    expect(api_templates.contains("REDIS_URL={{ .redis_url }}"), "the Redis URL (with its password) is not a secret");
    // pgbouncer: the runtime roles and its own admin, not the superuser.
    let pgbouncer = task("pgbouncer", "pgbouncer");
    let users = block(pgbouncer, "env", None).and_then(|e| attribute(e.body(), "PGBOUNCER_USERS"));
    let users = match users {
        Some(hcl::Expression::String(s)) => s.clone(),
        _ => String::new(),
    };
    expect(
        users.contains("app_platform:PLATFORM_DB_PASSWORD")
            && users.contains("pgbouncer_admin:PGBOUNCER_ADMIN_PASSWORD"),
        "pgbouncer's userlist lacks app_platform or pgbouncer_admin",
    );
    expect(
        !users.contains("postgres:") && !template_text(pgbouncer).contains("postgres_password"),
        "pgbouncer is given the superuser",
    );
    problems
}

#[test]
fn the_nomad_job_reaches_the_api_through_nginx_only_and_keeps_the_owner_url_in_migrate() {
    let text = std::fs::read_to_string(repo().join("ops/nomad/tenantry.nomad.hcl")).unwrap();
    let problems = nomad_problems(&text);
    assert!(problems.is_empty(), "{problems:#?}");
    let broken = std::fs::read_to_string(broken_copy(
        "ops/nomad/tenantry.nomad.hcl",
        "port \"http\" { to = 3000 }",
        "port \"http\" {\n        static = 3000\n        to     = 3000\n      }",
    ))
    .unwrap();
    assert_eq!(nomad_problems(&broken), ["the API has a static port"]);
}

/// Runs the pgbouncer image's entrypoint with a stand-in `pgbouncer` and its
/// configuration folder in `dir`.
fn pgbouncer_entrypoint(dir: &Path, users: &str) -> std::process::Output {
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::copy(repo().join("ops/pgbouncer/pgbouncer.ini"), dir.join("pgbouncer.ini.template")).unwrap();
    let stub = dir.join("bin/pgbouncer");
    std::fs::write(&stub, "#!/bin/sh\necho \"pgbouncer $*\"\n").unwrap();
    std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("platform-password"), "platform-secret\n").unwrap();
    super::run(
        std::process::Command::new("sh")
            .arg(repo().join("ops/docker/pgbouncer-entrypoint.sh"))
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", dir.join("bin").display()))
            .env("PGBOUNCER_CONFIG_DIR", dir)
            .env("PGBOUNCER_AUTH_FILE", dir.join("userlist.txt"))
            .env("PGBOUNCER_DATABASES", "* = host=postgres port=5432")
            .env("PGBOUNCER_LISTEN_ADDR", "0.0.0.0")
            .env("PGBOUNCER_PORT", "6432")
            .env("PGBOUNCER_SOCKET_DIR", dir)
            .env("PGBOUNCER_USERS", users)
            .env("APP_DB_PASSWORD", "app-secret")
            .env("PLATFORM_DB_PASSWORD_FILE", dir.join("platform-password"))
            .env("PGBOUNCER_ADMIN_PASSWORD", "admin \"secret\""),
    )
}

#[test]
fn pgbouncer_has_an_admin_of_its_own_and_the_platform_role_in_its_userlist() {
    let ini = std::fs::read_to_string(repo().join("ops/pgbouncer/pgbouncer.ini")).unwrap();
    let setting = |key: &str| {
        ini.lines().find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == key).map(|(_, v)| v.trim().to_owned()))
    };
    assert_eq!(setting("admin_users").as_deref(), Some("pgbouncer_admin"), "pgbouncer's admin console");
    assert!(setting("stats_users").is_none_or(|v| !v.split(',').any(|u| u.trim() == "postgres")));

    let dir = std::env::temp_dir().join(format!("tenantry-pgbouncer-entrypoint-{}", std::process::id()));
    let users = "app:APP_DB_PASSWORD app_platform:PLATFORM_DB_PASSWORD pgbouncer_admin:PGBOUNCER_ADMIN_PASSWORD";
    let out = pgbouncer_entrypoint(&dir, users);
    let userlist = std::fs::read_to_string(dir.join("userlist.txt")).unwrap_or_default();
    let rendered = std::fs::read_to_string(dir.join("pgbouncer.ini")).unwrap_or_default();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        userlist,
        "\"app\" \"app-secret\"\n\"app_platform\" \"platform-secret\"\n\"pgbouncer_admin\" \"admin \"\"secret\"\"\"\n"
    );
    assert!(
        rendered.contains("admin_users = pgbouncer_admin") && rendered.contains("listen_port = 6432"),
        "{rendered}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("pgbouncer {}", dir.join("pgbouncer.ini").display())
    );
    // A user whose password is missing stops it before pgbouncer starts.
    let out = pgbouncer_entrypoint(&dir, "app:APP_DB_PASSWORD app_owner:OWNER_DB_PASSWORD");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no password for app_owner"));
    assert!(out.stdout.is_empty(), "pgbouncer started without a password");
}
