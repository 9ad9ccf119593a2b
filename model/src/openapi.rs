//! poem-openapi mappings for the shared types (feature `openapi`).

/// Implements poem-openapi's type traits for a UUID newtype by delegating to
/// `Uuid`'s: the spec says `string`/`uuid`, and a path segment or JSON value
/// that is not a UUID is refused the way a bare `Uuid` is.
macro_rules! uuid_schema {
    ($name:ident) => {
        impl poem_openapi::types::Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                <uuid::Uuid as poem_openapi::types::Type>::name()
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                <uuid::Uuid as poem_openapi::types::Type>::schema_ref()
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
                <uuid::Uuid as poem_openapi::types::ParseFromJSON>::parse_from_json(value)
                    .map(Self)
                    .map_err(poem_openapi::types::ParseError::propagate)
            }
        }

        impl poem_openapi::types::ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
                <uuid::Uuid as poem_openapi::types::ParseFromParameter>::parse_from_parameter(value)
                    .map(Self)
                    .map_err(poem_openapi::types::ParseError::propagate)
            }
        }

        impl poem_openapi::types::ToJSON for $name {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(serde_json::Value::String(self.0.to_string()))
            }
        }
    };
}

pub(crate) use uuid_schema;
