//! Values of the API's vocabulary that have rules, as types: a `Role` is
//! one of three, in requests (the spec lists them, the body parser refuses
//! anything else) and in answers (read from the database, where a CHECK
//! constraint holds the same three).

use poem_openapi::Enum;

use crate::error::ApiError;

/// What a member or an API key may do in its tenant; what each role allows
/// is `policies/policy.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, serde::Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
    Viewer,
}

impl Role {
    /// The name stored in the database and used by the policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
            Role::Viewer => "viewer",
        }
    }

    /// A role as stored; anything else is a fault of ours, not the caller's.
    pub fn from_stored(stored: &str) -> Result<Self, ApiError> {
        match stored {
            "admin" => Ok(Role::Admin),
            "user" => Ok(Role::User),
            "viewer" => Ok(Role::Viewer),
            other => Err(ApiError::internal(format_args!("unknown role `{other}` stored"))),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_the_policys_roles() {
        let ours: Vec<&str> = [Role::Admin, Role::User, Role::Viewer].iter().map(|r| r.as_str()).collect();
        assert_eq!(ours, policies::ROLES);
        for role in policies::ROLES {
            assert_eq!(Role::from_stored(role).unwrap().as_str(), role);
        }
        assert!(Role::from_stored("owner").is_err());
    }
}
