//! The validated strings of projects and their files.

use poem_openapi::registry::MetaSchema;

use super::text::{checked_name, string_schema, validated_text, written_as_is, NOT_BLANK};

/// A project's name: 1–200 characters after trimming, no control
/// characters, unique in the tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        checked_name(raw, 1, 200).map(Self)
    }

    fn schema() -> MetaSchema {
        string_schema(None, 200, Some(NOT_BLANK))
    }
}
validated_text!(ProjectName);

/// A project's description: at most 2000 characters, no control characters
/// other than line breaks and tabs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectDescription(String);

/// Line breaks and tabs are allowed in descriptions; other controls not.
const DESCRIPTION: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

impl ProjectDescription {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let text = raw.trim();
        if text.chars().count() > 2000 {
            return Err("must be at most 2000 characters");
        }
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err("must not contain control characters other than line breaks and tabs");
        }
        Ok(Self(text.to_owned()))
    }

    fn schema() -> MetaSchema {
        string_schema(None, 2000, Some(DESCRIPTION))
    }
}
validated_text!(ProjectDescription);

/// A file's name as shown (never used to build a storage key): 1–255
/// characters, no control characters, no path separators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName(String);

const FILE_NAME: &str =
    r"^[^\u0000-\u001F\u007F-\u009F/\\]*[^\s\u0000-\u001F\u007F-\u009F/\\][^\u0000-\u001F\u007F-\u009F/\\]*$";

impl FileName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = checked_name(raw, 1, 255)?;
        if name.contains(['/', '\\']) {
            return Err("must not contain / or \\");
        }
        Ok(Self(name))
    }

    fn schema() -> MetaSchema {
        string_schema(None, 255, Some(FILE_NAME))
    }
}
validated_text!(FileName);

/// A media type without parameters (`type/subtype`), lowercased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentType(String);

const CONTENT_TYPE: &str = r"^[A-Za-z0-9.+-]{1,127}/[A-Za-z0-9.+-]{1,127}$";

/// Whether `text` is a `type/subtype` of the characters media types use.
pub fn is_content_type(text: &str) -> bool {
    let part =
        |p: &str| (1..=127).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"-+.".contains(&b));
    matches!(text.split_once('/'), Some((a, b)) if part(a) && part(b))
}

impl ContentType {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let text = raw.trim().to_ascii_lowercase();
        if is_content_type(&text) {
            Ok(Self(text))
        } else {
            Err("must be a media type such as `application/pdf`, without parameters")
        }
    }

    fn schema() -> MetaSchema {
        string_schema(None, 255, Some(CONTENT_TYPE))
    }
}
validated_text!(ContentType);

written_as_is!(ProjectName, ProjectDescription, FileName, ContentType);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_names_without_paths() {
        assert_eq!(FileName::parse(" report.pdf ").unwrap().as_str(), "report.pdf");
        assert!(FileName::parse("../etc/passwd").is_err());
        assert!(FileName::parse("a\\b").is_err());
        assert!(FileName::parse("  ").is_err());
        assert!(FileName::parse(&"x".repeat(256)).is_err());
    }

    #[test]
    fn content_types_are_bare_media_types() {
        assert_eq!(ContentType::parse("Image/PNG").unwrap().as_str(), "image/png");
        assert!(ContentType::parse("text/plain; charset=utf-8").is_err());
        assert!(ContentType::parse("text").is_err());
        assert!(ContentType::parse("a/b/c").is_err());
    }

    #[test]
    fn descriptions_keep_line_breaks_and_refuse_other_controls() {
        assert!(ProjectDescription::parse("line one\nline two\ttab").is_ok());
        assert!(ProjectDescription::parse("bell\u{7}").is_err());
        assert!(ProjectDescription::parse(&"d".repeat(2001)).is_err());
        assert!(ProjectDescription::parse("").is_ok());
    }
}
