//! Roles: what a member or an API key may do in its tenant. The database
//! holds the same three (a CHECK constraint) and `policies/policy.csv` says
//! what each allows.

/// What a member or an API key may do in its tenant; what each role allows
/// is `policies/policy.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum), oai(rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
    Viewer,
}

crate::names::closed_set!(Role, UnknownRole, "role", [Admin => "admin", User => "user", Viewer => "viewer"]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_parses() {
        for &role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{role}\""));
        }
        assert_eq!("owner".parse::<Role>(), Err(UnknownRole("owner".into())));
        assert!("Admin".parse::<Role>().is_err());
    }
}
