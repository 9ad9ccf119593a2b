//! Typed identifiers, so that a tenant id can never be passed where a user id
//! is expected. On the wire and in the database each is a UUID; in the
//! OpenAPI spec a `string` of format `uuid`, in paths as in bodies.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn new(id: Uuid) -> Self {
                Self(id)
            }

            #[cfg(feature = "random")]
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        #[cfg(feature = "openapi")]
        crate::openapi::uuid_schema!($name);
    };
}

uuid_id!(
    /// A tenant (customer organisation).
    TenantId
);
uuid_id!(
    /// A person; global, may belong to several tenants.
    UserId
);
uuid_id!(
    /// A project, the example tenant-scoped resource.
    ProjectId
);
uuid_id!(
    /// A file attached to a project.
    FileId
);
uuid_id!(
    /// An API key of a tenant.
    ApiKeyId
);
uuid_id!(
    /// An invitation into a tenant.
    InvitationId
);
uuid_id!(
    /// A signed-in session (one refresh-token family).
    SessionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bare_uuids_on_the_wire() {
        let raw = "6f1c2b1e-8a57-4c1b-9d1e-0e5f3c8a7b21";
        let id: TenantId = serde_json::from_str(&format!("\"{raw}\"")).unwrap();
        assert_eq!(id.to_string(), raw);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{raw}\""));
        assert_eq!(raw.parse::<TenantId>().unwrap(), id);
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
