//! Whether a tenant is in service.

/// A tenant's status: `active`, or `suspended` by an operator (its members
/// and keys are refused until it is active again).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum), oai(rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    Suspended,
}

crate::names::closed_set!(TenantStatus, UnknownStatus, "tenant status", [Active => "active", Suspended => "suspended"]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_parses() {
        for &status in TenantStatus::ALL {
            assert_eq!(status.as_str().parse::<TenantStatus>().unwrap(), status);
        }
        assert!("deleted".parse::<TenantStatus>().is_err());
    }
}
