//! The permission matrix, run against the real `model.conf` and
//! `policy.csv`: every (role, object, action) that the policy grants, and
//! every one it must not.

use policies::{permissions, Authorizer, POLICY};

const OBJECTS: [&str; 7] = ["tenant", "members", "invitations", "api_keys", "audit", "projects", "sessions"];
const ACTIONS: [&str; 4] = ["create", "read", "update", "delete"];

/// The expected answer for a subject acting on an object it does not own.
fn expected(role: &str, object: &str, action: &str) -> bool {
    match role {
        "admin" => matches!(
            (object, action),
            ("tenant", "read" | "update")
                | ("members", "read" | "update" | "delete")
                | ("invitations" | "api_keys", "create" | "read" | "delete")
                | ("audit", "read")
                | ("projects", _)
        ),
        "user" => matches!((object, action), ("tenant" | "members", "read") | ("projects", "create" | "read")),
        "viewer" => matches!((object, action), ("tenant" | "members" | "projects", "read")),
        _ => false,
    }
}

async fn authorizer() -> Authorizer {
    let mut auth = Authorizer::new().await.unwrap();
    auth.assign("alice", "admin", "tenant-a").await.unwrap();
    auth.assign("uma", "user", "tenant-a").await.unwrap();
    auth.assign("vic", "viewer", "tenant-a").await.unwrap();
    // Mallory is an admin, of another tenant.
    auth.assign("mallory", "admin", "tenant-b").await.unwrap();
    auth
}

#[tokio::test]
async fn every_role_gets_exactly_its_permissions() {
    let auth = authorizer().await;
    let mut wrong = Vec::new();
    for (subject, role) in [("alice", "admin"), ("uma", "user"), ("vic", "viewer"), ("nobody", "none")] {
        for object in OBJECTS {
            for action in ACTIONS {
                let got = auth.allowed(subject, "tenant-a", object, action, Some("someone-else")).unwrap();
                if got != expected(role, object, action) {
                    wrong.push(format!("{role} {action} {object}: got {got}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "matrix mismatches:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn an_admin_of_one_tenant_has_no_rights_in_another() {
    let auth = authorizer().await;
    for object in OBJECTS {
        for action in ACTIONS {
            assert!(!auth.allowed("mallory", "tenant-a", object, action, None).unwrap(), "{action} {object}");
        }
    }
    assert!(auth.allowed("mallory", "tenant-b", "projects", "delete", None).unwrap());
}

#[tokio::test]
async fn a_user_changes_only_what_they_own() {
    let auth = authorizer().await;
    assert!(auth.allowed("uma", "tenant-a", "projects", "update", Some("uma")).unwrap());
    assert!(auth.allowed("uma", "tenant-a", "projects", "delete", Some("uma")).unwrap());
    assert!(!auth.allowed("uma", "tenant-a", "projects", "update", Some("alice")).unwrap());
    assert!(!auth.allowed("uma", "tenant-a", "projects", "update", None).unwrap());
    // Ownership does not lift a viewer.
    assert!(!auth.allowed("vic", "tenant-a", "projects", "update", Some("vic")).unwrap());
}

#[tokio::test]
async fn removing_a_membership_removes_its_rights() {
    let mut auth = authorizer().await;
    auth.unassign("alice", "tenant-a").await.unwrap();
    assert!(!auth.allowed("alice", "tenant-a", "projects", "read", None).unwrap());
}

#[test]
fn the_policy_file_parses_and_shares_every_rule_across_tenants() {
    let rules = permissions(POLICY).unwrap();
    assert_eq!(rules.len(), 25);
    assert!(rules.iter().all(|r| r.tenant == "*"));
}

#[test]
fn a_malformed_policy_line_is_reported_with_its_number() {
    let err = permissions("p, admin, *, projects, read, any\np, root, *, projects, read, any\n").unwrap_err();
    assert_eq!(err.to_string(), "policy.csv line 2: unknown role");
}

#[tokio::test]
async fn a_role_can_be_asked_directly() {
    let auth = Authorizer::new().await.unwrap();
    assert!(auth.role_allows("admin", "tenant-a", "audit", "read", false).unwrap());
    assert!(!auth.role_allows("viewer", "tenant-a", "audit", "read", false).unwrap());
    assert!(auth.role_allows("user", "tenant-a", "projects", "update", true).unwrap());
    assert!(!auth.role_allows("user", "tenant-a", "projects", "update", false).unwrap());
    assert!(!auth.role_allows("nobody", "tenant-a", "projects", "read", false).unwrap());
}
