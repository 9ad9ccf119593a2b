//! The permission matrix, run against the real `model.conf` and
//! `policy.csv`: every (role, object, action) that the policy grants, and
//! every one it must not.

use policies::{permissions, Action, Authorizer, Object, POLICY};

/// The expected answer for a subject acting on an object it does not own.
fn expected(role: &str, object: Object, action: Action) -> bool {
    use Action::*;
    use Object::*;
    match role {
        "admin" => matches!(
            (object, action),
            (Tenant, Read | Update)
                | (Members, Read | Update | Delete)
                | (Invitations | ApiKeys, Create | Read | Delete)
                | (Audit, Read)
                | (Projects, _)
                | (Files, Create | Read | Delete)
        ),
        "user" => matches!((object, action), (Tenant | Members | Files, Read) | (Projects, Create | Read)),
        "viewer" => matches!((object, action), (Tenant | Members | Projects | Files, Read)),
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
        for object in Object::ALL {
            for action in Action::ALL {
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
    for object in Object::ALL {
        for action in Action::ALL {
            assert!(!auth.allowed("mallory", "tenant-a", object, action, None).unwrap(), "{action} {object}");
        }
    }
    assert!(auth.allowed("mallory", "tenant-b", Object::Projects, Action::Delete, None).unwrap());
}

#[tokio::test]
async fn a_user_changes_only_what_they_own() {
    let auth = authorizer().await;
    assert!(auth.allowed("uma", "tenant-a", Object::Projects, Action::Update, Some("uma")).unwrap());
    assert!(auth.allowed("uma", "tenant-a", Object::Projects, Action::Delete, Some("uma")).unwrap());
    assert!(!auth.allowed("uma", "tenant-a", Object::Projects, Action::Update, Some("alice")).unwrap());
    assert!(!auth.allowed("uma", "tenant-a", Object::Projects, Action::Update, None).unwrap());
    // Files follow their project's owner.
    assert!(auth.allowed("uma", "tenant-a", Object::Files, Action::Create, Some("uma")).unwrap());
    assert!(auth.allowed("uma", "tenant-a", Object::Files, Action::Delete, Some("uma")).unwrap());
    assert!(!auth.allowed("uma", "tenant-a", Object::Files, Action::Create, Some("alice")).unwrap());
    assert!(!auth.allowed("uma", "tenant-a", Object::Files, Action::Delete, None).unwrap());
    // Ownership does not lift a viewer.
    assert!(!auth.allowed("vic", "tenant-a", Object::Projects, Action::Update, Some("vic")).unwrap());
    assert!(!auth.allowed("vic", "tenant-a", Object::Files, Action::Create, Some("vic")).unwrap());
}

#[tokio::test]
async fn removing_a_membership_removes_its_rights() {
    let mut auth = authorizer().await;
    auth.unassign("alice", "tenant-a").await.unwrap();
    assert!(!auth.allowed("alice", "tenant-a", Object::Projects, Action::Read, None).unwrap());
}

#[test]
fn the_policy_file_parses_and_shares_every_rule_across_tenants() {
    let rules = permissions(POLICY).unwrap();
    assert_eq!(rules.len(), 32);
    assert!(rules.iter().all(|r| r.tenant == "*"));
}

#[test]
fn a_malformed_policy_line_is_reported_with_its_number() {
    let err = permissions("p, admin, *, projects, read, any\np, root, *, projects, read, any\n").unwrap_err();
    assert_eq!(err.to_string(), "policy.csv line 2: unknown role");
    let err = permissions("p, admin, *, project, read, any\n").unwrap_err();
    assert_eq!(err.to_string(), "policy.csv line 1: unknown object");
    let err = permissions("p, admin, *, projects, write, any\n").unwrap_err();
    assert_eq!(err.to_string(), "policy.csv line 1: unknown action");
}

#[tokio::test]
async fn a_role_can_be_asked_directly() {
    let auth = Authorizer::new().await.unwrap();
    assert!(auth.role_allows("admin", "tenant-a", Object::Audit, Action::Read, false).unwrap());
    assert!(!auth.role_allows("viewer", "tenant-a", Object::Audit, Action::Read, false).unwrap());
    assert!(auth.role_allows("user", "tenant-a", Object::Projects, Action::Update, true).unwrap());
    assert!(!auth.role_allows("user", "tenant-a", Object::Projects, Action::Update, false).unwrap());
    assert!(!auth.role_allows("nobody", "tenant-a", Object::Projects, Action::Read, false).unwrap());
}

/// The decisions `role_allows` remembers are the enforcer's own, asked
/// twice (the second answer comes from memory), for every role, object,
/// action and ownership, and for any tenant.
#[tokio::test]
async fn remembered_decisions_are_the_enforcers_decisions() {
    let remembering = Authorizer::new().await.unwrap();
    let asking = Authorizer::new().await.unwrap().without_decision_cache();
    for round in 0..2 {
        for role in policies::ROLES.iter().chain(&["nobody"]) {
            for object in Object::ALL {
                for action in Action::ALL {
                    for owns in [false, true] {
                        let tenant = format!("tenant-{round}");
                        let remembered = remembering.role_allows(role, &tenant, object, action, owns).unwrap();
                        let asked = asking.role_allows(role, &tenant, object, action, owns).unwrap();
                        assert_eq!(remembered, asked, "{role} {object} {action} owns={owns} round {round}");
                        if !owns {
                            assert_eq!(asked, expected(role, object, action), "{role} {object} {action}");
                        }
                    }
                }
            }
        }
    }
}
