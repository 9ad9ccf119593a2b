//! Object storage for project files through aws-sdk-s3: presigned uploads
//! and downloads (the bytes never pass through the API), the check of an
//! uploaded object, deletion. One code path for every S3 service; which one
//! is configuration (`config::storage`).
//!
//! Every call is bounded by `APP_S3_TIMEOUT_MS`; a failure of storage is
//! [`StorageError::Unavailable`], which routes answer 503 after leaving the
//! database as it was.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::Client;

use crate::config::{FileLimits, S3Settings, StorageSettings};
use crate::error::ApiError;

/// Files' storage; cheap to clone.
#[derive(Clone, Debug)]
pub struct Storage {
    bucket: Option<Arc<Bucket>>,
    pub limits: Arc<FileLimits>,
}

#[derive(Debug)]
struct Bucket {
    name: String,
    /// Calls from the API.
    client: Client,
    /// Signs URLs for clients, with the endpoint they reach.
    signer: Client,
}

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No bucket is configured.
    #[error("file storage is not configured")]
    Off,
    /// Storage did not answer, or not in time, or refused our credentials.
    #[error("object storage is unavailable: {0}")]
    Unavailable(String),
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Off => ApiError::refusal(
                poem::http::StatusCode::SERVICE_UNAVAILABLE,
                "storage_off",
                "file storage is not configured on this server",
            ),
            StorageError::Unavailable(cause) => ApiError::unavailable(format_args!("object storage: {cause}")),
        }
    }
}

impl<S> From<StorageError> for crate::error::Fail<S> {
    fn from(err: StorageError) -> Self {
        ApiError::from(err).into()
    }
}

/// A request the client sends to storage itself.
#[derive(Clone, Debug)]
pub struct SignedRequest {
    pub method: String,
    pub url: String,
    /// Headers the client must send as they are (they are signed).
    pub headers: Vec<(String, String)>,
}

/// What storage holds under a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub size: i64,
    pub content_type: Option<String>,
}

impl Storage {
    pub fn new(settings: &StorageSettings) -> Self {
        let bucket = settings.s3.as_ref().map(|s3| {
            Arc::new(Bucket {
                name: s3.bucket.clone(),
                client: client(s3, s3.endpoint.as_deref()),
                signer: client(s3, s3.public_endpoint.as_deref().or(s3.endpoint.as_deref())),
            })
        });
        Self { bucket, limits: Arc::new(settings.limits.clone()) }
    }

    fn bucket(&self) -> Result<&Bucket, StorageError> {
        self.bucket.as_deref().ok_or(StorageError::Off)
    }

    pub fn is_configured(&self) -> bool {
        self.bucket.is_some()
    }

    /// A PUT of exactly `size` bytes of `content_type` to `key`, valid for
    /// the upload TTL: both are in the signature, so storage refuses any
    /// other length or type.
    pub async fn presign_upload(
        &self,
        key: &str,
        size: i64,
        content_type: &str,
    ) -> Result<SignedRequest, StorageError> {
        let bucket = self.bucket()?;
        let presigned = bucket
            .signer
            .put_object()
            .bucket(&bucket.name)
            .key(key)
            .content_length(size)
            .content_type(content_type)
            .presigned(presigning(self.limits.upload_url_ttl)?)
            .await
            .map_err(unavailable)?;
        Ok(signed(&presigned))
    }

    /// A GET of `key` valid for the download TTL, answered as an attachment
    /// named `file_name`.
    pub async fn presign_download(
        &self,
        key: &str,
        file_name: &str,
        content_type: &str,
    ) -> Result<SignedRequest, StorageError> {
        let bucket = self.bucket()?;
        let presigned = bucket
            .signer
            .get_object()
            .bucket(&bucket.name)
            .key(key)
            .response_content_disposition(attachment(file_name))
            .response_content_type(content_type)
            .presigned(presigning(self.limits.download_url_ttl)?)
            .await
            .map_err(unavailable)?;
        Ok(signed(&presigned))
    }

    /// What is stored under `key`; `None` when nothing is.
    pub async fn head(&self, key: &str) -> Result<Option<StoredObject>, StorageError> {
        let bucket = self.bucket()?;
        match bucket.client.head_object().bucket(&bucket.name).key(key).send().await {
            Ok(head) => Ok(Some(StoredObject {
                size: head.content_length().unwrap_or(0),
                content_type: head.content_type().map(|t| t.to_ascii_lowercase()),
            })),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) => Err(unavailable(err)),
        }
    }

    /// Deletes `key`; deleting what is not there succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let bucket = self.bucket()?;
        match bucket.client.delete_object().bucket(&bucket.name).key(key).send().await {
            Ok(_) => Ok(()),
            // S3 answers 204 for a missing key; some compatible servers 404.
            Err(err) if err.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(()),
            Err(err) => Err(unavailable(err)),
        }
    }

    /// Whether the bucket answers (readiness).
    pub async fn ping(&self) -> Result<(), StorageError> {
        let bucket = self.bucket()?;
        bucket.client.head_bucket().bucket(&bucket.name).send().await.map_err(unavailable)?;
        Ok(())
    }
}

fn client(s3: &S3Settings, endpoint: Option<&str>) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let credentials =
        Credentials::new(s3.access_key_id.expose(), s3.secret_access_key.expose(), None, None, "tenantry-settings");
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
        .region(Region::new(s3.region.clone()))
        .credentials_provider(credentials)
        .force_path_style(s3.path_style)
        // S3-compatible services other than AWS may refuse the checksums
        // the SDK otherwise adds to every upload.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(s3.timeout.min(Duration::from_secs(2)))
                .operation_timeout(s3.timeout)
                .build(),
        )
        // One retry inside the timeout: a request waits for storage at
        // most `APP_S3_TIMEOUT_MS`, then answers 503.
        .retry_config(RetryConfig::standard().with_max_attempts(2));
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    Client::from_conf(config.build())
}

fn presigning(ttl: Duration) -> Result<PresigningConfig, StorageError> {
    PresigningConfig::expires_in(ttl).map_err(unavailable)
}

fn signed(presigned: &aws_sdk_s3::presigning::PresignedRequest) -> SignedRequest {
    SignedRequest {
        method: presigned.method().to_owned(),
        url: presigned.uri().to_owned(),
        headers: presigned.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
    }
}

fn unavailable(err: impl std::error::Error) -> StorageError {
    // The SDK's Display is terse; its Debug names the cause (timeout,
    // connection refused, the service's error code).
    StorageError::Unavailable(format!("{err}: {err:?}").chars().take(600).collect())
}

/// `Content-Disposition` for a download: the name as UTF-8, percent-encoded
/// (RFC 6266), plus an ASCII fallback.
fn attachment(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_survive_quotes_and_unicode() {
        let header = attachment("räpport \"final\".pdf");
        assert!(header.starts_with("attachment; filename=\"r_pport _final_.pdf\"; filename*=UTF-8''r%C3%A4pport"));
    }
}
