//! Object storage for project files: any S3 service (Wasabi, AWS, MinIO,
//! the local server of `cargo xtask dev`), and the limits on files. Files
//! are off (their routes answer 503) while no bucket is set.

use std::time::Duration;

use super::env::{ConfigError, Vars};
use super::Secret;

/// Where files are stored and how they are handed out.
#[derive(Clone, Debug)]
pub struct StorageSettings {
    /// `None`: file routes answer 503.
    pub s3: Option<S3Settings>,
    pub limits: FileLimits,
}

/// One S3 bucket.
#[derive(Clone, Debug)]
pub struct S3Settings {
    /// The endpoint the API calls; the provider's default (AWS) when absent.
    pub endpoint: Option<String>,
    /// The endpoint presigned URLs name, when clients reach storage by
    /// another address than the API does (a private network name, say).
    pub public_endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    /// `https://host/bucket/key` rather than `https://bucket.host/key`
    /// (MinIO and most local servers need it).
    pub path_style: bool,
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    /// How long S3 may take to answer one call before the request is
    /// answered 503.
    pub timeout: Duration,
}

/// What files may be, enforced when an upload is signed and again when it
/// is completed.
#[derive(Clone, Debug)]
pub struct FileLimits {
    pub max_bytes: i64,
    /// Content types accepted (`type/subtype`, lowercase); `*` in the list
    /// accepts any.
    pub allowed_types: Vec<String>,
    /// How long a presigned upload URL works.
    pub upload_url_ttl: Duration,
    /// How long a presigned download URL works.
    pub download_url_ttl: Duration,
    /// Uploads still pending after this long are swept.
    pub pending_ttl: Duration,
}

impl FileLimits {
    pub fn allows_type(&self, content_type: &str) -> bool {
        self.allowed_types.iter().any(|t| t == "*" || t == content_type)
    }
}

const DEFAULT_TYPES: &str = "application/pdf,application/json,application/zip,text/plain,text/csv,\
                             image/png,image/jpeg,image/gif,image/webp,application/octet-stream";

pub(super) fn read(env: &Vars) -> Result<StorageSettings, ConfigError> {
    let seconds = |name: &'static str, default: u64, min: u64, max: u64| -> Result<Duration, ConfigError> {
        let secs: u64 = env.parse_or(name, default)?;
        if !(min..=max).contains(&secs) {
            return Err(env.bad(name, format!("must be between {min} and {max}")));
        }
        Ok(Duration::from_secs(secs))
    };
    let max_bytes: i64 = env.parse_or("APP_FILES_MAX_BYTES", 100 * 1024 * 1024)?;
    if max_bytes < 1 {
        return Err(env.bad("APP_FILES_MAX_BYTES", "must be at least 1".into()));
    }
    let allowed_types: Vec<String> = env
        .get("APP_FILES_ALLOWED_TYPES")
        .unwrap_or_else(|| DEFAULT_TYPES.into())
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(bad) = allowed_types.iter().find(|t| *t != "*" && !crate::domain::is_content_type(t)) {
        return Err(env.bad("APP_FILES_ALLOWED_TYPES", format!("`{bad}` is not a type/subtype")));
    }
    let limits = FileLimits {
        max_bytes,
        allowed_types,
        // PUT URLs are for minutes (S3 caps presigned URLs at 7 days).
        upload_url_ttl: seconds("APP_FILES_UPLOAD_URL_SECS", 900, 60, 3600)?,
        download_url_ttl: seconds("APP_FILES_DOWNLOAD_URL_SECS", 300, 10, 3600)?,
        pending_ttl: seconds("APP_FILES_PENDING_SECS", 24 * 3600, 60, 7 * 24 * 3600)?,
    };
    if limits.pending_ttl < limits.upload_url_ttl {
        // A swept upload's URL would still work.
        return Err(env.bad("APP_FILES_PENDING_SECS", "must be at least APP_FILES_UPLOAD_URL_SECS".into()));
    }
    let Some(bucket) = env.get("APP_S3_BUCKET") else {
        return Ok(StorageSettings { s3: None, limits });
    };
    let url = |name: &'static str| -> Result<Option<String>, ConfigError> {
        match env.get(name) {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                Ok(Some(u.trim_end_matches('/').into()))
            }
            Some(_) => Err(env.bad(name, "must start with http:// or https://".into())),
            None => Ok(None),
        }
    };
    let s3 = S3Settings {
        endpoint: url("APP_S3_ENDPOINT")?,
        public_endpoint: url("APP_S3_PUBLIC_ENDPOINT")?,
        region: env.get("APP_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        bucket,
        path_style: env.parse_or("APP_S3_PATH_STYLE", false)?,
        access_key_id: Secret::new(env.required("APP_S3_ACCESS_KEY_ID")?),
        secret_access_key: Secret::new(env.required("APP_S3_SECRET_ACCESS_KEY")?),
        timeout: Duration::from_millis(env.parse_or("APP_S3_TIMEOUT_MS", 5000)?),
    };
    Ok(StorageSettings { s3: Some(s3), limits })
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{vars, BASE};
    use crate::config::Settings;

    #[test]
    fn files_are_off_without_a_bucket_and_need_keys_with_one() {
        assert!(Settings::from_map(&vars(BASE)).unwrap().storage.s3.is_none());
        let mut v = vars(BASE);
        v.insert("APP_S3_BUCKET".into(), "files".into());
        let err = Settings::from_map(&v).unwrap_err().to_string();
        assert!(err.contains("APP_S3_ACCESS_KEY_ID"), "{err}");
        v.insert("APP_S3_ACCESS_KEY_ID".into(), "key".into());
        v.insert("APP_S3_SECRET_ACCESS_KEY".into(), "secret".into());
        v.insert("APP_S3_ENDPOINT".into(), "http://127.0.0.1:9000/".into());
        let s3 = Settings::from_map(&v).unwrap().storage.s3.unwrap();
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    }

    #[test]
    fn storage_keys_may_come_from_files() {
        let dir = std::env::temp_dir().join(format!("tenantry-s3-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("id"), "key-from-file\n").unwrap();
        std::fs::write(dir.join("secret"), "secret-from-file\n").unwrap();
        let mut v = vars(BASE);
        v.insert("APP_S3_BUCKET".into(), "files".into());
        v.insert("APP_S3_ACCESS_KEY_ID_FILE".into(), dir.join("id").to_string_lossy().into_owned());
        v.insert("APP_S3_SECRET_ACCESS_KEY_FILE".into(), dir.join("secret").to_string_lossy().into_owned());
        let s3 = Settings::from_map(&v).unwrap().storage.s3.unwrap();
        assert_eq!((s3.access_key_id.expose(), s3.secret_access_key.expose()), ("key-from-file", "secret-from-file"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn pending_uploads_live_at_least_as_long_as_their_urls() {
        let mut v = vars(BASE);
        v.insert("APP_FILES_PENDING_SECS".into(), "600".into());
        let err = Settings::from_map(&v).unwrap_err().to_string();
        assert!(err.contains("APP_FILES_PENDING_SECS"), "{err}");
        v.insert("APP_FILES_UPLOAD_URL_SECS".into(), "600".into());
        assert!(Settings::from_map(&v).is_ok());
    }

    #[test]
    fn allowed_types_must_be_types() {
        let mut v = vars(BASE);
        v.insert("APP_FILES_ALLOWED_TYPES".into(), "image/png, not a type".into());
        let err = Settings::from_map(&v).unwrap_err().to_string();
        assert!(err.contains("APP_FILES_ALLOWED_TYPES"), "{err}");
    }
}
