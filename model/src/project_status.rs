//! Whether a project is in use.

/// A project's status: `active`, or `archived` (kept, read-only by
/// convention, hidden from default views by clients).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum), oai(rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum ProjectStatus {
    Active,
    Archived,
}

crate::names::closed_set!(ProjectStatus, UnknownProjectStatus, "project status", [Active => "active", Archived => "archived"]);

/// Whether a file's bytes are in storage: `pending` until its upload is
/// checked, then `ready`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum), oai(rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Pending,
    Ready,
}

crate::names::closed_set!(FileStatus, UnknownFileStatus, "file status", [Pending => "pending", Ready => "ready"]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_parses() {
        for &status in ProjectStatus::ALL {
            assert_eq!(status.as_str().parse::<ProjectStatus>().unwrap(), status);
        }
        for &status in FileStatus::ALL {
            assert_eq!(status.as_str().parse::<FileStatus>().unwrap(), status);
        }
        assert!("deleted".parse::<ProjectStatus>().is_err());
        assert!("uploaded".parse::<FileStatus>().is_err());
    }
}
