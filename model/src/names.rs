//! Closed sets of names (roles, statuses): one macro gives each enum its
//! stored name, `Display`, `FromStr` with an error naming what was refused,
//! `ALL`, and (feature `sqlx`) its `text` mapping.

/// `closed_set!(Enum, UnknownError, "what", [Variant => "name", ...])`.
macro_rules! closed_set {
    ($name:ident, $unknown:ident, $what:literal, [$($variant:ident => $text:literal),+ $(,)?]) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name stored in the database and sent on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[doc = concat!("A name that is not a ", $what, ".")]
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $unknown(pub String);

        impl std::fmt::Display for $unknown {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!("unknown ", $what, " `{}`"), self.0)
            }
        }

        impl std::error::Error for $unknown {}

        impl std::str::FromStr for $name {
            type Err = $unknown;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| $unknown(s.to_owned()))
            }
        }

        #[cfg(feature = "sqlx")]
        crate::sql::stored_as_text!($name);
    };
}

pub(crate) use closed_set;
