//! Validated strings. Each type has one `parse` (which normalises, then
//! checks) and gets from [`validated_text!`] the rest: serde and
//! poem-openapi parsing through that `parse`, its rule as the spec's
//! schema, and `as_str`.

use std::fmt;

use poem_openapi::registry::MetaSchema;

/// Control characters (C0, DEL and C1), which names must not contain: they
/// end up in emails, logs and PostgreSQL, which refuses NUL.
const NO_CONTROLS: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// As [`NO_CONTROLS`], with at least one character that is not white space.
pub(super) const NOT_BLANK: &str =
    r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";
/// What clients should send as an email address; other RFC 5322 dot-atom
/// addresses are accepted too.
const EMAIL: &str = r"^([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}|[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31}\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}|[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,21})@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,3}$";
const SLUG: &str = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$";

pub(super) fn string_schema(min_length: Option<usize>, max_length: usize, pattern: Option<&str>) -> MetaSchema {
    MetaSchema {
        min_length,
        max_length: Some(max_length),
        pattern: pattern.map(str::to_owned),
        ..MetaSchema::new("string")
    }
}

/// A name, trimmed, when it has `min`–`max` characters and no control
/// character; otherwise why it is refused.
pub(super) fn checked_name(raw: &str, min: usize, max: usize) -> Result<String, &'static str> {
    let name = raw.trim();
    let length = name.chars().count();
    if length < min || length > max {
        return Err(match (min, max) {
            (0, 200) => "must be at most 200 characters",
            (1, 200) => "must be 1–200 characters",
            (1, 100) => "must be 1–100 characters",
            (1, 255) => "must be 1–255 characters",
            (0, 2000) => "must be at most 2000 characters",
            _ => "has a length out of bounds",
        });
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(name.to_owned())
}

/// Gives a newtype over `String` with a `parse(&str) -> Result<Self,
/// &'static str>` and a `schema() -> MetaSchema` its plumbing.
macro_rules! validated_text {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        impl poem_openapi::types::Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                concat!("string_", stringify!($name)).into()
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                poem_openapi::registry::MetaSchemaRef::Inline(Box::new(Self::schema()))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl poem_openapi::types::ParseFromJSON for $name {
            fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
                match value {
                    Some(serde_json::Value::String(raw)) => {
                        Self::parse(&raw).map_err(poem_openapi::types::ParseError::custom)
                    }
                    other => Err(poem_openapi::types::ParseError::expected_type(other.unwrap_or_default())),
                }
            }
        }
    };
}

/// A tenant slug: 1–63 lowercase letters, digits and inner hyphens (the
/// database's own rule); surrounding white space is dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let slug = raw.trim();
        let bytes = slug.as_bytes();
        let valid = (1..=63).contains(&bytes.len())
            && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes.first() != Some(&b'-')
            && bytes.last() != Some(&b'-');
        if valid {
            Ok(Self(slug.to_owned()))
        } else {
            Err("must be 1–63 lowercase letters, digits or hyphens, not starting or ending with a hyphen")
        }
    }

    fn schema() -> MetaSchema {
        string_schema(None, 63, Some(SLUG))
    }
}
validated_text!(Slug);

/// A tenant's name: 1–200 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantName(String);

impl TenantName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        checked_name(raw, 1, 200).map(Self)
    }

    fn schema() -> MetaSchema {
        string_schema(None, 200, Some(NOT_BLANK))
    }
}
validated_text!(TenantName);

/// A person's name: at most 200 characters after trimming (empty allowed),
/// no control characters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        checked_name(raw, 0, 200).map(Self)
    }

    fn schema() -> MetaSchema {
        string_schema(None, 200, Some(NO_CONTROLS))
    }
}
validated_text!(DisplayName);

/// An API key's name: 1–100 characters after trimming, no control
/// characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyName(String);

impl ApiKeyName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        checked_name(raw, 1, 100).map(Self)
    }

    fn schema() -> MetaSchema {
        string_schema(None, 100, Some(NOT_BLANK))
    }
}
validated_text!(ApiKeyName);

/// An email address an email can be sent to, normalised (trimmed, lower
/// case); at most 254 characters, the longest SMTP carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        crate::mail::normalize_address(raw).map(Self).ok_or("is not an email address")
    }

    fn schema() -> MetaSchema {
        string_schema(Some(3), 254, Some(EMAIL))
    }
}
validated_text!(EmailAddress);

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password being chosen: 8–128 characters, not among the 10,000 most
/// common passwords. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        match crate::password::weakness(raw) {
            None => Ok(Self(raw.to_owned())),
            Some(problem) => Err(problem),
        }
    }

    fn schema() -> MetaSchema {
        string_schema(Some(8), 128, None)
    }
}
validated_text!(NewPassword);

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

/// Request types derive poem-openapi's `Object`, which wants every field
/// writable as JSON; these are only ever read, and a password never leaves
/// the server.
macro_rules! never_written {
    ($($name:ident),*) => {$(
        impl poem_openapi::types::ToJSON for $name {
            fn to_json(&self) -> Option<serde_json::Value> {
                None
            }
        }
    )*};
}
never_written!(NewPassword);

macro_rules! written_as_is {
    ($($name:ident),*) => {$(
        impl poem_openapi::types::ToJSON for $name {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(serde_json::Value::String(self.0.clone()))
            }
        }
    )*};
}
written_as_is!(Slug, TenantName, DisplayName, ApiKeyName, EmailAddress);

pub(super) use validated_text;

pub(super) use written_as_is;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_databases_rule() {
        for good in ["a", "acme", "acme-2", "a1", &"a".repeat(63)] {
            assert!(Slug::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "Acme", "a_b", "a b", &"a".repeat(64), "é"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Slug::parse("  acme ").unwrap().as_str(), "acme");
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(TenantName::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert_eq!(TenantName::parse("   "), Err("must be 1–200 characters"));
        assert_eq!(TenantName::parse(&"x".repeat(201)), Err("must be 1–200 characters"));
        assert_eq!(TenantName::parse("a\u{0}b"), Err("must not contain control characters"));
        assert_eq!(DisplayName::parse("").unwrap().as_str(), "");
        assert_eq!(DisplayName::parse(&"x".repeat(201)), Err("must be at most 200 characters"));
        assert_eq!(ApiKeyName::parse(&"x".repeat(101)), Err("must be 1–100 characters"));
        assert_eq!(ApiKeyName::parse("c\u{85}i"), Err("must not contain control characters"));
    }

    #[test]
    fn addresses_are_normalised_or_refused() {
        assert_eq!(EmailAddress::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in ["", "ann", "@example.com", "ann@", "a b@example.com"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_passwords_are_checked_and_never_shown() {
        assert!(NewPassword::parse("password").is_err());
        let chosen = NewPassword::parse("correct horse battery staple").unwrap();
        assert!(!format!("{chosen:?}").contains("horse"));
        assert_eq!(poem_openapi::types::ToJSON::to_json(&chosen), None);
    }

    #[test]
    fn a_json_field_is_refused_with_its_rule() {
        let err = serde_json::from_str::<Slug>("\"Not A Slug\"").unwrap_err();
        assert!(err.to_string().starts_with("must be 1–63"), "{err}");
    }
}
