//! The authorized tenant scope of a request: the caller (a member's access
//! token or an API key) with its open tenant transaction, and the one way to
//! ask whether the caller may act. A tenant route is: open the scope,
//! `require` the permission, call the repositories with `scope.tx()`,
//! commit; a read may instead end with `finish_reading()` and a repository
//! call that commits with its statement.
//!
//! The caller's role is read from their membership in the same transaction
//! as the work (so a role change or removal counts from the next request, on
//! every replica, within the access cache's invalidation), and the Casbin
//! policy in `policies/` decides what the role may do.

use db::{Role, TenantTx};
use policies::{Action, Object};

use crate::auth::access::{Access, Principal};
use crate::auth::access_cache::Invalidation;
use crate::error::ApiError;
use crate::state::AppState;

/// A caller and its tenant transaction.
#[derive(Debug)]
pub struct TenantScope {
    state: AppState,
    principal: Principal,
    tx: TenantTx,
    /// Published to every replica's access cache once the work is
    /// committed, never before (a replica would reload the old state).
    after_commit: Vec<Invalidation>,
}

impl Access {
    /// Opens the tenant transaction of the caller's tenant.
    pub async fn scope(self, state: &AppState) -> Result<TenantScope, ApiError> {
        let principal = self.principal();
        let tx = TenantTx::begin(&state.db, principal.tenant(), principal.user()).await?;
        Ok(TenantScope { state: state.clone(), principal, tx, after_commit: Vec::new() })
    }
}

impl TenantScope {
    /// Checks that the caller may perform `action` on `object`; returns the
    /// caller's role. Refusals are 401 (not, or no longer, a member of the
    /// tenant) or 403 (the role does not allow it); an API key over its
    /// limit is 429.
    pub async fn require(&mut self, object: Object, action: Action) -> Result<Role, ApiError> {
        self.require_owned(object, action, false).await
    }

    /// [`require`](Self::require) for one object owned by `owner`: `owner`
    /// rules of the policy allow it when the caller is that owner. API keys
    /// act for no one, so they own nothing.
    pub async fn require_on(
        &mut self,
        object: Object,
        action: Action,
        owner: Option<db::UserId>,
    ) -> Result<Role, ApiError> {
        let owns = owner.is_some() && owner == self.principal.user();
        self.require_owned(object, action, owns).await
    }

    /// Whether the role could perform `action` on `object` if it owned it:
    /// the check before looking the object up, so that a role that may
    /// never act is refused without learning whether the object exists.
    pub async fn require_some(&mut self, object: Object, action: Action) -> Result<Role, ApiError> {
        self.require_owned(object, action, true).await
    }

    /// For each of `objects`, whether the caller may perform `action` on
    /// every one (not only owned ones), the role read once and nothing
    /// refused: for answers that leave out what the role may not see. A
    /// caller who is no member is still refused (401).
    pub async fn may_each<const N: usize>(
        &mut self,
        objects: [Object; N],
        action: Action,
    ) -> Result<[bool; N], ApiError> {
        let role = self.role().await?;
        let mut allowed = [false; N];
        for (object, allowed) in objects.into_iter().zip(&mut allowed) {
            *allowed = self.role_allows(role, object, action, false)?;
        }
        Ok(allowed)
    }

    async fn require_owned(&mut self, object: Object, action: Action, owns: bool) -> Result<Role, ApiError> {
        let role = self.role().await?;
        if self.role_allows(role, object, action, owns)? {
            Ok(role)
        } else {
            Err(ApiError::forbidden("your role does not allow this"))
        }
    }

    fn role_allows(&self, role: Role, object: Object, action: Action, owns: bool) -> Result<bool, ApiError> {
        let tenant = self.principal.tenant().to_string();
        self.state.authorizer.role_allows(role.as_str(), &tenant, object, action, owns).map_err(ApiError::internal)
    }

    /// The caller's role in the tenant: the membership's (through the
    /// access cache) or the API key's.
    async fn role(&mut self) -> Result<Role, ApiError> {
        let state = &self.state;
        match &self.principal {
            Principal::User(user) => {
                let load = db::members::role_of(&mut self.tx, user.user);
                match state.access_cache.role(user.tenant, user.user, load).await? {
                    Some(role) => Ok(role),
                    None => Err(ApiError::unauthenticated("the session is not valid for this tenant")),
                }
            }
            Principal::Key(key) => match key.throttled {
                None => Ok(key.role),
                Some(crate::auth::api_key::Throttled::RetryAfter(secs)) => Err(ApiError::rate_limited(secs)),
                Some(crate::auth::api_key::Throttled::Unavailable) => {
                    Err(ApiError::unavailable("the API key's limit cannot be counted"))
                }
            },
        }
    }

    /// Appends to the tenant's audit log, in this transaction, as the
    /// caller, from where the request came.
    pub async fn audit(&mut self, req: &poem::Request, action: &str, target: &str) -> Result<(), ApiError> {
        let origin = crate::request_meta::origin_of(req, &self.state);
        db::auth::audit(&mut self.tx, action, target, &origin).await?;
        Ok(())
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The transaction, for the repositories.
    pub fn tx(&mut self) -> &mut TenantTx {
        &mut self.tx
    }

    /// Hands the transaction over to a repository call that commits with
    /// its last statement (a read in one round trip). Only for work that
    /// has nothing to publish after its commit.
    pub fn finish_reading(self) -> TenantTx {
        assert!(self.after_commit.is_empty(), "invalidations to publish: commit the scope instead");
        self.tx
    }

    /// Drops cached access facts on every replica once this work commits.
    pub fn invalidate_on_commit(&mut self, change: Invalidation) {
        self.after_commit.push(change);
    }

    /// Commits, then publishes the invalidations asked for.
    pub async fn commit(self) -> Result<(), ApiError> {
        self.tx.commit().await?;
        for change in self.after_commit {
            self.state.access_cache.publish(&self.state.redis, change).await;
        }
        Ok(())
    }
}
