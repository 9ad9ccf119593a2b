//! Tenants and members seeded through SQL (testkit), signed in or not: the
//! worlds the tests act in, made without the routes under test. Every
//! seeded member's password is [`PASSWORD`]. `tenant_with_member`,
//! `sign_in_as` and `two_tenants` each make the tenant `acme`: one of them
//! per app.

use api::domain::Role;
use uuid::Uuid;

use crate::helpers::{access_token, password_hash, TestApp, PASSWORD};

/// A seeded member, not signed in.
pub struct Member {
    pub tenant: Uuid,
    pub user_id: Uuid,
    pub email: String,
}

/// A seeded member, signed in: whom a test acts as.
pub struct SignedIn {
    pub tenant: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub token: String,
}

/// Two tenants for cross-tenant tests, `acme` and `globex`, each member
/// signed in once (so acme's audit log holds three sign-ins, one each of
/// Ada, Bob and Cyd). Each tenant also has the admin `seed_tenant` makes
/// (`admin@<slug>.test`, who cannot sign in).
pub struct TwoTenants {
    /// `ada@acme.test`, admin of acme.
    pub admin: SignedIn,
    /// `bob@acme.test`, user in acme.
    pub user: SignedIn,
    /// `cyd@acme.test`, viewer in acme.
    pub viewer: SignedIn,
    /// `mal@globex.test`, admin of globex.
    pub other_admin: SignedIn,
}

/// Who holds `role` in acme, in [`TestApp::sign_in_as`] and [`TestApp::two_tenants`].
fn acme_email(role: Role) -> &'static str {
    match role {
        Role::Admin => "ada@acme.test",
        Role::User => "bob@acme.test",
        Role::Viewer => "cyd@acme.test",
    }
}

impl TestApp {
    /// A new tenant `slug` as `testkit::seed_tenant` makes it: an admin
    /// `admin@<slug>.test` who cannot sign in, a project and an open
    /// invitation, so that every tenant table has a row of it.
    pub async fn seed_tenant(&self, slug: &str) -> Uuid {
        testkit::seed_tenant(&self.db, slug, 1).await.expect("a seeded tenant")
    }

    /// Adds `email` to `tenant` as `role`; not signed in.
    pub async fn seed_member(&self, tenant: Uuid, email: &str, role: Role) -> Member {
        let user_id = testkit::seed_member(&self.db, tenant, email, password_hash(), role.as_str())
            .await
            .expect("a seeded member");
        Member { tenant, user_id, email: email.to_owned() }
    }

    /// Adds `email` to `tenant` as `role`, and signs in as them.
    pub async fn member(&self, tenant: Uuid, email: &str, role: Role) -> SignedIn {
        let Member { tenant, user_id, email } = self.seed_member(tenant, email, role).await;
        let token = access_token(self, &email, PASSWORD).await;
        SignedIn { tenant, user_id, email, token }
    }

    /// A fresh tenant `acme` with `email` in it as `role`; not signed in.
    pub async fn tenant_with_member(&self, email: &str, role: Role) -> Member {
        let acme = self.seed_tenant("acme").await;
        self.seed_member(acme, email, role).await
    }

    /// A member of a fresh tenant `acme` with `role`, signed in: Ada the
    /// admin, Bob the user or Cyd the viewer, as in [`Self::two_tenants`].
    pub async fn sign_in_as(&self, role: Role) -> SignedIn {
        let acme = self.seed_tenant("acme").await;
        self.member(acme, acme_email(role), role).await
    }

    /// Tenants `acme` and `globex`; see [`TwoTenants`].
    pub async fn two_tenants(&self) -> TwoTenants {
        let acme = self.seed_tenant("acme").await;
        let globex = self.seed_tenant("globex").await;
        TwoTenants {
            admin: self.member(acme, acme_email(Role::Admin), Role::Admin).await,
            user: self.member(acme, acme_email(Role::User), Role::User).await,
            viewer: self.member(acme, acme_email(Role::Viewer), Role::Viewer).await,
            other_admin: self.member(globex, "mal@globex.test", Role::Admin).await,
        }
    }
}
