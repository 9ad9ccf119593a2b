//! Authorization as data: the Casbin model and base policy in this folder
//! (`model.conf`, `policy.csv`), embedded in the binary, and a thin wrapper
//! that asks `(subject, tenant, object, action, owner)`.
//!
//! Role permissions are shared by all tenants; role assignments are added
//! per tenant from memberships.

use std::sync::atomic::{AtomicU8, Ordering};

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};

/// The model, as written in `policies/model.conf`.
pub const MODEL: &str = include_str!("../model.conf");
/// The base policy, as written in `policies/policy.csv`.
pub const POLICY: &str = include_str!("../policy.csv");

/// The roles a membership may carry.
pub const ROLES: [&str; 3] = ["admin", "user", "viewer"];

/// What a permission is about: `obj` in the model, the third field of a
/// `policy.csv` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Object {
    Tenant,
    Members,
    Invitations,
    ApiKeys,
    Audit,
    Projects,
    /// Files attached to projects; `owner` rules mean the project's owner.
    Files,
    Sessions,
}

impl Object {
    pub const ALL: [Object; 8] = [
        Object::Tenant,
        Object::Members,
        Object::Invitations,
        Object::ApiKeys,
        Object::Audit,
        Object::Projects,
        Object::Files,
        Object::Sessions,
    ];

    /// The name `policy.csv` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Object::Tenant => "tenant",
            Object::Members => "members",
            Object::Invitations => "invitations",
            Object::ApiKeys => "api_keys",
            Object::Audit => "audit",
            Object::Projects => "projects",
            Object::Files => "files",
            Object::Sessions => "sessions",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is done to an object: `act` in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Create, Action::Read, Action::Update, Action::Delete];

    /// The name `policy.csv` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy.csv line {line}: {problem}")]
    Malformed { line: usize, problem: String },
    #[error(transparent)]
    Casbin(#[from] casbin::Error),
}

/// One permission rule of `policy.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permission {
    pub role: String,
    pub tenant: String,
    pub object: String,
    pub action: String,
    pub condition: String,
}

/// Parses `policy.csv`: `p` lines only; `#` starts a comment.
pub fn permissions(csv: &str) -> Result<Vec<Permission>, PolicyError> {
    let mut rules = Vec::new();
    for (i, raw) in csv.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let malformed = |problem: &str| PolicyError::Malformed { line: i + 1, problem: problem.to_owned() };
        match fields.as_slice() {
            ["p", role, tenant, object, action, condition] => {
                if !ROLES.contains(role) {
                    return Err(malformed("unknown role"));
                }
                if !matches!(*condition, "any" | "owner") {
                    return Err(malformed("condition must be `any` or `owner`"));
                }
                if Object::parse(object).is_none() {
                    return Err(malformed("unknown object"));
                }
                if Action::parse(action).is_none() {
                    return Err(malformed("unknown action"));
                }
                rules.push(Permission {
                    role: role.to_string(),
                    tenant: tenant.to_string(),
                    object: object.to_string(),
                    action: action.to_string(),
                    condition: condition.to_string(),
                });
            }
            _ => return Err(malformed("expected `p, role, tenant, object, action, condition`")),
        }
    }
    Ok(rules)
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The enforcer with the base policy loaded.
pub struct Authorizer {
    enforcer: Enforcer,
    /// `role_allows` decisions once made, by role, object, action and
    /// ownership: 0 not yet asked, 1 denied, 2 allowed. They cannot depend
    /// on the tenant while every permission rule is for all tenants (`*`)
    /// and no subject has been assigned a role — true of the policy the
    /// API loads. `None` otherwise, or when built without it.
    decisions: Option<Vec<AtomicU8>>,
}

const UNDECIDED: u8 = 0;
const DENIED: u8 = 1;
const ALLOWED: u8 = 2;

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer").finish_non_exhaustive()
    }
}

impl Authorizer {
    /// Builds the enforcer from the embedded model and policy.
    pub async fn new() -> Result<Self, PolicyError> {
        Self::from_sources(MODEL, POLICY).await
    }

    /// Builds the enforcer from a model and a policy given as text.
    pub async fn from_sources(model: &str, policy: &str) -> Result<Self, PolicyError> {
        let model = DefaultModel::from_str(model).await?;
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default()).await?;
        let rules: Vec<Vec<String>> =
            permissions(policy)?.into_iter().map(|p| vec![p.role, p.tenant, p.object, p.action, p.condition]).collect();
        let for_all_tenants = rules.iter().all(|rule| rule[1] == "*");
        enforcer.add_policies(rules).await?;
        let slots = ROLES.len() * Object::ALL.len() * Action::ALL.len() * 2;
        let decisions = for_all_tenants.then(|| (0..slots).map(|_| AtomicU8::new(UNDECIDED)).collect());
        Ok(Self { enforcer, decisions })
    }

    /// The same authorizer asking the enforcer every time: for measuring
    /// what the remembered decisions save, and for checking them.
    pub fn without_decision_cache(mut self) -> Self {
        self.decisions = None;
        self
    }

    /// Where `role_allows` keeps a decision, when it keeps it.
    fn decision_slot(&self, role: &str, object: Object, action: Action, owns_object: bool) -> Option<&AtomicU8> {
        let decisions = self.decisions.as_ref()?;
        let role = ROLES.iter().position(|r| *r == role)?;
        let object = Object::ALL.iter().position(|o| *o == object)?;
        let action = Action::ALL.iter().position(|a| *a == action)?;
        let index = ((role * Object::ALL.len() + object) * Action::ALL.len() + action) * 2 + usize::from(owns_object);
        decisions.get(index)
    }

    /// Gives `subject` the `role` in `tenant` (from a membership).
    pub async fn assign(&mut self, subject: &str, role: &str, tenant: &str) -> Result<(), PolicyError> {
        // With assignments, decisions may differ by tenant.
        self.decisions = None;
        self.enforcer.add_grouping_policy(vec![subject.to_owned(), role.to_owned(), tenant.to_owned()]).await?;
        Ok(())
    }

    /// Removes every role of `subject` in `tenant`.
    pub async fn unassign(&mut self, subject: &str, tenant: &str) -> Result<(), PolicyError> {
        self.enforcer
            .remove_filtered_grouping_policy(0, vec![subject.to_owned(), String::new(), tenant.to_owned()])
            .await?;
        Ok(())
    }

    /// May a member with `role` perform `action` on `object` in `tenant`?
    /// `owns_object`: the member owns the object (for `owner` rules). The
    /// role comes from the member's membership, read with the request; a
    /// role is linked to itself, so it can stand as the subject.
    pub fn role_allows(
        &self,
        role: &str,
        tenant: &str,
        object: Object,
        action: Action,
        owns_object: bool,
    ) -> Result<bool, PolicyError> {
        let slot = self.decision_slot(role, object, action, owns_object);
        match slot.map(|slot| slot.load(Ordering::Relaxed)) {
            Some(ALLOWED) => return Ok(true),
            Some(DENIED) => return Ok(false),
            _ => {}
        }
        let owner = if owns_object { role } else { "" };
        let allowed = self.enforcer.enforce((role, tenant, object.as_str(), action.as_str(), owner))?;
        if let Some(slot) = slot {
            slot.store(if allowed { ALLOWED } else { DENIED }, Ordering::Relaxed);
        }
        Ok(allowed)
    }

    /// May `subject`, in `tenant`, perform `action` on `object`? `owner` is
    /// the object's owner, when it has one.
    pub fn allowed(
        &self,
        subject: &str,
        tenant: &str,
        object: Object,
        action: Action,
        owner: Option<&str>,
    ) -> Result<bool, PolicyError> {
        Ok(self.enforcer.enforce((subject, tenant, object.as_str(), action.as_str(), owner.unwrap_or("")))?)
    }
}
