//! Property: whatever sequence of registration, invitation, acceptance,
//! member, role, API-key, project and file operations runs across several
//! tenants, every list endpoint shows each tenant's admin only rows of that
//! tenant, another tenant's project or file id in a path is 404 and changes
//! nothing, and each tenant's stored bytes are its own files'.

use std::collections::HashMap;

use api::domain::Role;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use testkit::s3::S3Server;

use crate::helpers::{access_token, spawn_app_with, TestApp, PASSWORD};

const TENANTS: [&str; 3] = ["alpha", "bravo", "charlie"];
const ROLES: [Role; 3] = [Role::Admin, Role::User, Role::Viewer];

#[derive(Clone, Debug)]
enum Op {
    CreateKey {
        tenant: usize,
        role: usize,
    },
    ChangeRole {
        tenant: usize,
        member: usize,
        role: usize,
    },
    Remove {
        tenant: usize,
        member: usize,
    },
    RevokeFirstKey {
        tenant: usize,
    },
    Invite {
        tenant: usize,
        role: usize,
    },
    AcceptOldestInvitation,
    RevokeFirstInvitation {
        tenant: usize,
    },
    Register,
    CreateProject {
        tenant: usize,
    },
    /// Uploads a file to the tenant's newest project.
    AttachFile {
        tenant: usize,
        size: usize,
    },
    /// `tenant`'s admin aims every project and file route at `victim`'s
    /// newest project and file.
    ForeignAccess {
        tenant: usize,
        victim: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..3usize).prop_map(|(tenant, role)| Op::CreateKey { tenant, role }),
        (0..3usize, 0..3usize, 0..3usize).prop_map(|(tenant, member, role)| Op::ChangeRole { tenant, member, role }),
        (0..3usize, 0..3usize).prop_map(|(tenant, member)| Op::Remove { tenant, member }),
        (0..3usize).prop_map(|tenant| Op::RevokeFirstKey { tenant }),
        (0..3usize, 0..3usize).prop_map(|(tenant, role)| Op::Invite { tenant, role }),
        Just(Op::AcceptOldestInvitation),
        (0..3usize).prop_map(|tenant| Op::RevokeFirstInvitation { tenant }),
        Just(Op::Register),
        (0..3usize).prop_map(|tenant| Op::CreateProject { tenant }),
        (0..3usize, 1..64usize).prop_map(|(tenant, size)| Op::AttachFile { tenant, size }),
        (0..3usize, 0..3usize).prop_map(|(tenant, victim)| Op::ForeignAccess { tenant, victim }),
    ]
}

struct World {
    app: TestApp,
    /// Per tenant (the three seeded, then the registered ones): its slug,
    /// the admin's token (the admin is never changed), and the ids of three
    /// other members (seeded tenants only).
    slugs: Vec<String>,
    admin: Vec<String>,
    members: Vec<Vec<uuid::Uuid>>,
    member_ids: HashMap<uuid::Uuid, usize>,
    keys_made: usize,
    invitations_made: usize,
    /// Invited emails not yet accepted, oldest first, with their tenant.
    invited: std::collections::VecDeque<(usize, String)>,
    registered: usize,
    /// Per seeded tenant: its projects' ids, newest last; its files as
    /// (project, file) ids, newest last; the bytes uploaded.
    projects: Vec<Vec<String>>,
    files: Vec<Vec<(String, String)>>,
    bytes: Vec<usize>,
    /// Kept running for as long as the world lives.
    _s3: S3Server,
}

async fn world() -> World {
    // Many registrations and acceptances in a minute: no onboarding limit.
    // The request limits are not what this test is about: a run makes
    // hundreds of requests a minute from one address.
    let s3 = S3Server::start().unwrap();
    let mut settings: Vec<(&'static str, Option<String>)> =
        vec![("APP_ONBOARDING_LIMIT_PER_MINUTE", Some("0".into())), ("APP_RATE_LIMIT_PER_MINUTE", Some("0".into()))];
    settings.extend(s3.settings().into_iter().map(|(k, v)| (k, Some(v))));
    let app = spawn_app_with(settings).await;
    let (mut admin, mut members, mut member_ids) = (Vec::new(), Vec::new(), HashMap::new());
    for (i, slug) in TENANTS.iter().enumerate() {
        let tenant = app.seed_tenant(slug).await;
        admin.push(app.member(tenant, &format!("boss@{slug}.test"), Role::Admin).await.token);
        let mut ids = Vec::new();
        for n in 0..3 {
            let id = app.seed_member(tenant, &format!("m{n}@{slug}.test"), Role::User).await.user_id;
            member_ids.insert(id, i);
            ids.push(id);
        }
        members.push(ids);
    }
    World {
        app,
        slugs: TENANTS.iter().map(|s| s.to_string()).collect(),
        admin,
        members,
        member_ids,
        keys_made: 0,
        invitations_made: 0,
        invited: Default::default(),
        registered: 0,
        projects: vec![Vec::new(); TENANTS.len()],
        files: vec![Vec::new(); TENANTS.len()],
        bytes: vec![0; TENANTS.len()],
        _s3: s3,
    }
}

async fn run(w: &mut World, op: &Op) {
    let app = &w.app;
    match *op {
        Op::CreateKey { tenant, role } => {
            w.keys_made += 1;
            let name = format!("{}-key-{}", TENANTS[tenant], w.keys_made);
            let status = app
                .bearer_post("/api/api-keys", &w.admin[tenant], json!({ "name": name, "role": ROLES[role].as_str() }))
                .await
                .status();
            assert_eq!(status, 201);
        }
        Op::ChangeRole { tenant, member, role } => {
            let id = w.members[tenant][member];
            let body = json!({ "role": ROLES[role].as_str() });
            let status = app.bearer_patch(&format!("/api/users/{id}"), &w.admin[tenant], body).await.status().as_u16();
            assert!(status == 200 || status == 404, "{status}");
        }
        Op::Remove { tenant, member } => {
            let id = w.members[tenant][member];
            let status = app.bearer_delete(&format!("/api/users/{id}"), &w.admin[tenant]).await.status().as_u16();
            assert!(status == 204 || status == 404, "{status}");
        }
        Op::RevokeFirstKey { tenant } => {
            let keys = app.list_api_keys(&w.admin[tenant]).await;
            if let Some(id) = keys.first().and_then(|k| k["id"].as_str()) {
                let status = app.bearer_delete(&format!("/api/api-keys/{id}"), &w.admin[tenant]).await.status();
                assert_eq!(status, 204);
            }
        }
        Op::Invite { tenant, role } => {
            w.invitations_made += 1;
            let email = format!("inv{}@{}.test", w.invitations_made, TENANTS[tenant]);
            assert_eq!(app.invite(&w.admin[tenant], &email, ROLES[role]).await.status(), 201);
            w.invited.push_back((tenant, email));
        }
        Op::AcceptOldestInvitation => {
            let Some((tenant, email)) = w.invited.pop_front() else { return };
            let token = app.mail.wait_for(&email, 1).await.unwrap().code().unwrap();
            let response = app.post("/api/invitations/accept", json!({ "token": token, "password": PASSWORD })).await;
            // 400 when it was revoked meanwhile.
            let status = response.status().as_u16();
            assert!(status == 200 || status == 400, "{status}");
            if status == 200 {
                let body: Value = response.json().await.unwrap();
                w.member_ids.insert(body["user_id"].as_str().unwrap().parse().unwrap(), tenant);
            }
        }
        Op::RevokeFirstInvitation { tenant } => {
            let list = app.list_invitations(&w.admin[tenant]).await;
            if let Some(open) = list.iter().find(|i| i["status"] == "pending") {
                let path = format!("/api/invitations/{}", open["id"].as_str().unwrap());
                assert_eq!(app.bearer_delete(&path, &w.admin[tenant]).await.status(), 204);
            }
        }
        Op::CreateProject { tenant } => {
            let name = format!("{}-project-{}", TENANTS[tenant], w.projects[tenant].len());
            let project = app.create_project(&w.admin[tenant], &name).await;
            w.projects[tenant].push(project["id"].as_str().unwrap().to_owned());
        }
        Op::AttachFile { tenant, size } => {
            let Some(project) = w.projects[tenant].last().cloned() else { return };
            let name = format!("{}-file-{}.txt", TENANTS[tenant], w.files[tenant].len());
            let file = app.upload_file(&w.admin[tenant], &project, &name, &vec![b'x'; size]).await;
            w.files[tenant].push((project, file["id"].as_str().unwrap().to_owned()));
            w.bytes[tenant] += size;
        }
        Op::ForeignAccess { tenant, victim } => {
            if tenant == victim {
                return;
            }
            let token = &w.admin[tenant];
            let mut paths = Vec::new();
            if let Some(project) = w.projects[victim].last() {
                let path = format!("/api/projects/{project}");
                assert_eq!(app.bearer_get(&path, token).await.status(), 404, "GET {path}");
                let change = json!({ "name": "taken over" });
                assert_eq!(app.bearer_patch(&path, token, change).await.status(), 404, "PATCH {path}");
                paths.push(format!("{path}/files"));
                let attach = json!({ "name": "x.txt", "content_type": "text/plain", "size": 1 });
                assert_eq!(app.bearer_post(&paths[0], token, attach).await.status(), 404, "POST {}", paths[0]);
            }
            if let Some((project, file)) = w.files[victim].last() {
                let path = format!("/api/projects/{project}/files/{file}");
                paths.push(path.clone());
                paths.push(format!("{path}/download"));
                let complete = format!("{path}/complete");
                assert_eq!(app.bearer_post(&complete, token, json!({})).await.status(), 404, "POST {complete}");
                assert_eq!(app.bearer_delete(&path, token).await.status(), 404, "DELETE {path}");
            }
            for path in &paths {
                assert_eq!(app.bearer_get(path, token).await.status(), 404, "GET {path}");
            }
            if let Some(project) = w.projects[victim].last() {
                let path = format!("/api/projects/{project}");
                assert_eq!(app.bearer_delete(&path, token).await.status(), 404, "DELETE {path}");
            }
        }
        Op::Register => {
            w.registered += 1;
            let slug = format!("reg{}", w.registered);
            let email = format!("owner@{slug}.test");
            let registration = json!({ "email": email, "tenant_name": slug, "tenant_slug": slug });
            assert_eq!(app.post("/api/auth/register", registration).await.status(), 202);
            let token = app.mail.wait_for(&email, 1).await.unwrap().code().unwrap();
            let verified = app.post("/api/auth/verify-email", json!({ "token": token, "password": PASSWORD })).await;
            assert_eq!(verified.status(), 201);
            let body: Value = verified.json().await.unwrap();
            w.member_ids.insert(body["user_id"].as_str().unwrap().parse().unwrap(), w.slugs.len());
            w.admin.push(access_token(&w.app, &email, PASSWORD).await);
            w.slugs.push(slug);
        }
    }
}

/// Every list of every tenant holds only that tenant's rows.
async fn check(w: &World) -> Result<(), String> {
    let owner_of_file: HashMap<&str, usize> =
        w.files.iter().enumerate().flat_map(|(t, files)| files.iter().map(move |(_, f)| (f.as_str(), t))).collect();
    for (i, slug) in w.slugs.iter().enumerate() {
        let admin = &w.admin[i];
        let projects = w.app.items("/api/projects", admin).await;
        for project in &projects {
            let name = project["name"].as_str().unwrap();
            if !name.starts_with(&format!("{slug}-")) {
                return Err(format!("{slug} lists project {name}"));
            }
            let files = w.app.items(&format!("/api/projects/{}/files", project["id"].as_str().unwrap()), admin).await;
            for file in files {
                if owner_of_file.get(file["id"].as_str().unwrap()).is_some_and(|t| *t != i) {
                    return Err(format!("{slug} lists a file of another tenant"));
                }
            }
        }
        if let Some(ours) = w.projects.get(i) {
            if projects.len() != ours.len() + 1 {
                return Err(format!("{slug} lists {} projects, made {} and one seeded", projects.len(), ours.len()));
            }
            let usage = w.app.get_json("/api/files/usage", admin).await;
            if usage["bytes"] != w.bytes[i] || usage["files"] != w.files[i].len() {
                return Err(format!(
                    "{slug} stores {usage}, uploaded {} bytes in {} files",
                    w.bytes[i],
                    w.files[i].len()
                ));
            }
        }
        for member in w.app.list_members(admin).await {
            let email = member["email"].as_str().unwrap();
            if !email.ends_with(&format!("@{slug}.test")) {
                return Err(format!("{slug} lists member {email}"));
            }
        }
        for key in w.app.list_api_keys(admin).await {
            let name = key["name"].as_str().unwrap();
            if !name.starts_with(&format!("{slug}-")) {
                return Err(format!("{slug} lists key {name}"));
            }
        }
        for invitation in w.app.list_invitations(admin).await {
            let email = invitation["email"].as_str().unwrap();
            if !email.ends_with(&format!("@{slug}.test")) {
                return Err(format!("{slug} lists an invitation of {email}"));
            }
        }
        for entry in w.app.get_json("/api/audit?limit=100", admin).await["items"].as_array().unwrap() {
            if let Some(actor) = entry["actor_user_id"].as_str().and_then(|a| a.parse::<uuid::Uuid>().ok()) {
                if w.member_ids.get(&actor).is_some_and(|t| *t != i) {
                    return Err(format!("{slug} lists an entry by a member of another tenant"));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn random_operations_never_show_a_tenant_another_tenants_rows() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // The world persists across cases: the property must hold whatever came before.
    let w = tokio::sync::Mutex::new(runtime.block_on(world()));
    let mut runner = TestRunner::new(Config { cases: 12, failure_persistence: None, ..Config::default() });
    let result = runner.run(&proptest::collection::vec(op(), 1..8), |ops| {
        runtime
            .block_on(async {
                let mut w = w.lock().await;
                for op in &ops {
                    run(&mut w, op).await;
                }
                check(&w).await
            })
            .map_err(TestCaseError::fail)
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}
