//! Every deploy file is checked by the tool that would reject it in
//! production, and each check is shown to fail on a broken copy:
//! `docker stack config` for the Swarm stack, the Compose Specification's
//! JSON schema for compose.yaml, actionlint for the workflows, an HCL parser
//! for the Nomad job, `nginx -t` and a running nginx for the rendered nginx
//! configuration. What each service is given is checked in
//! `least_privilege`, the nginx variants in `nginx`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "deploy_files/least_privilege.rs"]
mod least_privilege;
#[path = "deploy_files/nginx.rs"]
mod nginx;

fn repo() -> PathBuf {
    xtask::paths::repo_root()
}

fn tool(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run the suite with `cargo xtask test`"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

/// A copy of `file` with `from` replaced by `to`, in a scratch folder.
fn broken_copy(file: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    assert!(text.contains(from), "{file} no longer contains {from:?}; update the test");
    let copy = xtask::paths::fnv1a(format!("{file}{from}{to}").as_bytes());
    let dir = std::env::temp_dir().join(format!("tenantry-broken-{}-{copy:x}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(Path::new(file).file_name().unwrap());
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

fn stack_config(file: &Path) -> Output {
    run(Command::new("docker")
        .args(["stack", "config", "-c"])
        .arg(file)
        .env("IMAGE_PREFIX", "ghcr.io/example/tenantry")
        .env("TAG", "0123abc"))
}

#[test]
fn the_swarm_stack_passes_docker_stack_config() {
    let out = stack_config(&repo().join("ops/swarm/stack.yml"));
    let rendered = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for expected in [
        "order: start-first",
        "failure_action: rollback",
        "image: ghcr.io/example/tenantry/api:0123abc",
        "tenantry_database_url",
        "tenantry_paseto_signing_key",
        "node.labels.tenantry.stateful == true",
        "driver: overlay",
        "mode: host",
        "mode: replicated-job",
    ] {
        assert!(rendered.contains(expected), "`{expected}` missing from:\n{rendered}");
    }
    let broken = broken_copy("ops/swarm/stack.yml", "order: start-first", "order: sideways");
    assert!(!stack_config(&broken).status.success(), "docker stack config accepted a broken file");
}

fn compose_check(file: &Path) -> Output {
    run(Command::new(tool("TEST_CHECK_JSONSCHEMA")).args(["--builtin-schema", "vendor.compose-spec"]).arg(file))
}

#[test]
fn compose_yaml_follows_the_compose_specification() {
    let out = compose_check(&repo().join("compose.yaml"));
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(repo().join("compose.yaml")).unwrap();
    for profile in ["profiles: [\"s3\"]", "profiles: [\"monitoring\"]", "profiles: [\"tracing\"]"] {
        assert!(text.contains(profile), "{profile}");
    }
    let broken = broken_copy("compose.yaml", "stop_grace_period: 30s", "stop_grace_periods: 30s");
    assert!(!compose_check(&broken).status.success(), "the schema accepted a broken compose file");
}

fn actionlint(files: &[PathBuf]) -> Output {
    run(Command::new(tool("TEST_ACTIONLINT")).args(files))
}

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_workflow_passes_actionlint_and_pins_its_actions() {
    let files = workflows();
    assert!(files.len() >= 3, "{files:?}");
    let out = actionlint(&files);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains("\npermissions:"), "{}: no top-level permissions", file.display());
        let uses = text.lines().filter(|l| l.trim_start().trim_start_matches("- ").starts_with("uses:"));
        for line in uses {
            let reference = line.split('@').nth(1).unwrap_or_default();
            let sha = reference.split_whitespace().next().unwrap_or_default();
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{}: action not pinned to a commit: {line}",
                file.display()
            );
        }
    }
    let ci = std::fs::read_to_string(repo().join(".github/workflows/ci.yml")).unwrap();
    assert!(ci.contains("cancel-in-progress: true"));
    let broken = broken_copy(".github/workflows/ci.yml", "needs: test", "needs: tests");
    assert!(!actionlint(&[broken]).status.success(), "actionlint accepted a broken workflow");
}

fn block<'a>(body: &'a hcl::Body, kind: &str, label: Option<&str>) -> Option<&'a hcl::Block> {
    body.blocks()
        .find(|b| b.identifier() == kind && label.is_none_or(|l| b.labels().first().is_some_and(|x| x.as_str() == l)))
}

fn attribute<'a>(body: &'a hcl::Body, key: &str) -> Option<&'a hcl::Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

#[test]
fn the_nomad_job_parses_and_has_its_key_fields() {
    let text = std::fs::read_to_string(repo().join("ops/nomad/tenantry.nomad.hcl")).unwrap();
    let body: hcl::Body = hcl::from_str(&text).expect("valid HCL");
    let job = block(&body, "job", Some("tenantry")).expect("job \"tenantry\"").body();
    let update = block(job, "update", None).expect("an update stanza").body();
    assert_eq!(attribute(update, "canary"), Some(&hcl::Expression::from(1)));
    assert_eq!(attribute(update, "auto_revert"), Some(&hcl::Expression::Bool(true)));
    for group in ["api", "web", "pgbouncer"] {
        let g = block(job, "group", Some(group)).unwrap_or_else(|| panic!("group {group}")).body();
        let service = block(g, "service", None).unwrap_or_else(|| panic!("{group}: a service")).body();
        assert!(block(service, "check", None).is_some(), "{group}: a health check");
        assert!(g.blocks().any(|b| b.identifier() == "task"), "{group}: a task");
    }
    let api = block(job, "group", Some("api")).unwrap().body();
    let task = block(api, "task", Some("api")).unwrap().body();
    assert!(attribute(task, "kill_timeout").is_some(), "the api task gives the drain time to finish");
    assert!(block(task, "template", None).is_some(), "secrets come through a template");
    assert!(hcl::from_str::<hcl::Body>("job \"x\" { group \"a\" {").is_err(), "the parser rejects broken HCL");
}

#[test]
fn the_images_run_unprivileged_and_check_their_health() {
    for (file, user) in
        [("ops/docker/api.Dockerfile", "USER 10001"), ("ops/docker/pgbouncer.Dockerfile", "USER postgres")]
    {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        assert!(text.contains(user), "{file}: {user}");
        assert!(text.contains("HEALTHCHECK"), "{file}: HEALTHCHECK");
    }
    let web = std::fs::read_to_string(repo().join("ops/docker/web.Dockerfile")).unwrap();
    assert!(web.contains("COPY ops/nginx/ /etc/nginx/templates/"), "the web image ships the tested nginx templates");
    let api = std::fs::read_to_string(repo().join("ops/docker/api.Dockerfile")).unwrap();
    assert!(api.contains("--mount=type=cache"), "dependency caching");
}

/// Runs the forced command of the deploy key with `command` as what ssh
/// received, against a host folder with `deploy.conf` and the deploy files,
/// and stand-in `docker`/`nomad` programs that record their arguments.
fn remote_deploy(command: &str, conf: &str) -> (Output, String) {
    let dir = std::env::temp_dir().join(format!(
        "tenantry-remote-{}-{:x}",
        std::process::id(),
        xtask::paths::fnv1a(command.as_bytes())
    ));
    let host = dir.join("etc");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("deploy.conf"), conf).unwrap();
    std::fs::copy(repo().join("ops/swarm/stack.yml"), host.join("stack.yml")).unwrap();
    std::fs::copy(repo().join("ops/nomad/tenantry.nomad.hcl"), host.join("tenantry.nomad.hcl")).unwrap();
    let log = dir.join("calls");
    for name in ["docker", "nomad"] {
        let stub = dir.join(name);
        let script = format!(
            "#!/bin/sh\necho \"{name} $* | IMAGE_PREFIX=${{IMAGE_PREFIX:-}} TAG=${{TAG:-}}\" >> {}\n",
            log.display()
        );
        std::fs::write(&stub, script).unwrap();
        std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let out = run(Command::new("sh")
        .arg(repo().join("ops/deploy/tenantry-remote-deploy.sh"))
        .env("SSH_ORIGINAL_COMMAND", command)
        .env("TENANTRY_DEPLOY_DIR", &host)
        .env("PATH", format!("{}:/usr/bin:/bin", dir.display()))
        .stdin(std::process::Stdio::null()));
    let calls = std::fs::read_to_string(&log).unwrap_or_default().replace(&host.display().to_string(), "/etc/tenantry");
    let _ = std::fs::remove_dir_all(&dir);
    (out, calls)
}

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const CONF: &str = "IMAGE_PREFIX=ghcr.io/acme/tenantry\n";

#[test]
fn the_deploy_key_runs_only_the_deploy_protocol() {
    let (out, calls) = remote_deploy(&format!("deploy swarm {SHA}"), CONF);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        calls.trim(),
        format!(
            "docker stack deploy --with-registry-auth --prune --detach=false -c /etc/tenantry/stack.yml tenantry \
             | IMAGE_PREFIX=ghcr.io/acme/tenantry TAG={SHA}"
        )
    );
    let (out, calls) = remote_deploy(&format!("deploy nomad {SHA}"), CONF);
    assert!(out.status.success());
    assert_eq!(
        calls.trim(),
        format!("nomad job run -var image_prefix=ghcr.io/acme/tenantry -var tag={SHA} /etc/tenantry/tenantry.nomad.hcl | IMAGE_PREFIX= TAG=")
    );
    for refused in [
        "bash -i".to_owned(),
        format!("deploy swarm {SHA};reboot"),
        "deploy swarm main".to_owned(),
        format!("deploy swarm {SHA} extra"),
        format!("deploy kubernetes {SHA}"),
        "deploy swarm *".to_owned(),
        String::new(),
    ] {
        let (out, calls) = remote_deploy(&refused, CONF);
        assert_eq!(out.status.code(), Some(2), "`{refused}` was not refused");
        assert!(calls.is_empty(), "`{refused}` ran {calls}");
    }
    // Without the host's image prefix nothing deploys.
    let (out, calls) = remote_deploy(&format!("deploy swarm {SHA}"), "");
    assert_eq!((out.status.code(), calls.as_str()), (Some(2), ""));
}
