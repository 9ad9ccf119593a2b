//! Files attached to projects. The bytes go straight between the client
//! and object storage through presigned URLs; the API signs, checks and
//! keeps the rows:
//!
//! 1. `POST /api/projects/{id}/files` (name, type, size) creates a
//!    `pending` row and answers a PUT URL with the size and type signed in;
//! 2. the client PUTs the bytes to storage;
//! 3. `POST …/files/{file_id}/complete` checks the object (size, type) and
//!    marks the file `ready`, counting its bytes for the tenant;
//! 4. `GET …/files/{file_id}/download` answers a short-lived GET URL.
//!
//! Uploads never completed are swept by the housekeeping task. Objects are
//! deleted after the rows (a queue in PostgreSQL retries while storage is
//! away), so the database never points at an object that is gone.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use policies::{Action, Object};

use super::paging;
use super::projects::project_for;
use super::ApiTags;
use crate::auth::access::Access;
use crate::domain::{ContentType, FileId, FileName, FileStatus, ProjectId, UserId};
use crate::error::{error_json, ApiError, Body, ErrorBody, Fail, FieldProblem, Idempotent, Params, Tenant};
use crate::idempotency::{self, Idempotency};
use crate::payload::JsonBody;
use crate::state::AppState;
use crate::storage::SignedRequest;

#[derive(Debug)]
pub struct FilesApi {
    pub state: AppState,
}

/// A file of a project: `pending` until its upload is completed, then
/// `ready`.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct FileView {
    pub id: FileId,
    pub project_id: ProjectId,
    pub name: String,
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    pub status: FileStatus,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
}

fn view(f: db::files::ProjectFile) -> FileView {
    FileView {
        id: f.id,
        project_id: f.project_id,
        name: f.name,
        content_type: f.content_type,
        size: f.size_bytes,
        status: f.status,
        created_by: f.created_by,
        created_at: f.created_at,
        completed_at: f.completed_at,
    }
}

/// A request for the client to send to storage itself, as given.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct StorageRequest {
    /// `PUT` for uploads, `GET` for downloads.
    pub method: String,
    pub url: String,
    /// Headers to send exactly as given (they are part of the signature),
    /// besides `Host` and `Content-Length`, which the client's HTTP
    /// library sets (to the declared size, for uploads).
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

fn storage_request(signed: SignedRequest, ttl: std::time::Duration) -> StorageRequest {
    StorageRequest {
        method: signed.method,
        url: signed.url,
        // Host and Content-Length are signed too, but every HTTP client
        // sets them itself from the URL and the body (browsers refuse to
        // let scripts set them).
        headers: signed
            .headers
            .into_iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("content-length"))
            .collect(),
        expires_at: Utc::now() + chrono::Duration::from_std(ttl).unwrap_or_default(),
    }
}

/// A file to upload.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateFile {
    /// Shown to people; never part of the storage key.
    pub name: FileName,
    /// `type/subtype`, one of the server's allowed types.
    pub content_type: ContentType,
    /// Exact size in bytes, at most the server's limit.
    #[oai(validator(minimum(value = "0")))]
    pub size: i64,
}

/// A file created, and where to upload its bytes.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct FileUpload {
    pub file: FileView,
    /// PUT exactly `size` bytes with these headers before `expires_at`,
    /// then call `complete`.
    pub upload: StorageRequest,
}

/// A page of a project's files, oldest first.
#[derive(Debug, Object)]
pub struct FilePage {
    pub items: Vec<FileView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

/// What the tenant stores.
#[derive(Debug, Object)]
pub struct StorageUsage {
    /// Bytes of ready files.
    pub bytes: i64,
    /// Ready files.
    pub files: i64,
}

#[derive(Debug, ApiResponse)]
pub enum CreateFileResponse {
    /// Created `pending` (or, for a repeated `Idempotency-Key`, the same
    /// file, still pending, with a fresh URL).
    #[oai(status = 201)]
    Created(Json<FileUpload>),
    /// No such project in this tenant (or, for a repeated
    /// `Idempotency-Key`, the file it created is gone).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// `already_completed`: a repeated `Idempotency-Key` whose file is
    /// uploaded and completed already.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum CompleteFileResponse {
    /// The file is ready.
    #[oai(status = 200)]
    Ok(Json<FileView>),
    /// No such file of this project in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// `upload_missing` (nothing was uploaded yet) or `upload_mismatch`
    /// (the object's size or type is not what was declared; it is removed,
    /// and the file stays pending for another upload).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum ListFilesResponse {
    #[oai(status = 200)]
    Ok(Json<FilePage>),
    /// No such project in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum GetFileResponse {
    #[oai(status = 200)]
    Ok(Json<FileView>),
    /// No such file of this project in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum DownloadFileResponse {
    /// GET this URL before `expires_at`.
    #[oai(status = 200)]
    Ok(Json<StorageRequest>),
    /// No such file of this project in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// `not_ready`: the upload was not completed.
    #[oai(status = 409)]
    NotReady(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum DeleteFileResponse {
    /// Deleted.
    #[oai(status = 204)]
    Deleted,
    /// No such file of this project in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum UsageResponse {
    #[oai(status = 200)]
    Ok(Json<StorageUsage>),
}

fn no_project() -> Json<ErrorBody> {
    error_json("not_found", "no such project")
}

fn no_file() -> Json<ErrorBody> {
    error_json("not_found", "no such file")
}

#[OpenApi(tag = "ApiTags::Files")]
impl FilesApi {
    /// Start a file upload
    ///
    /// Creates the file `pending` and answers a presigned PUT URL: upload
    /// the bytes there, then call `complete`. The size and type are signed
    /// in, so storage refuses anything else. 503 when storage is not
    /// configured. Users attach files to projects they own.
    #[oai(path = "/api/projects/:id/files", method = "post", operation_id = "createFile")]
    async fn create(
        &self,
        req: &Request,
        auth: Access,
        /// The project's id.
        id: Path<ProjectId>,
        /// Any unique string, kept 24 hours: a retry with the same key and
        /// body answers the same file with a fresh URL while it is pending.
        #[oai(name = "Idempotency-Key", validator(pattern = r"^[\x21-\x7E]{1,255}$"))]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CreateFile>,
    ) -> Result<CreateFileResponse, Fail<(Tenant, (Body, Idempotent))>> {
        let CreateFile { name, content_type, size } = body.0;
        let storage = &self.state.storage;
        let limits = &storage.limits;
        let mut problems = Vec::new();
        if size < 0 {
            problems.push(FieldProblem::new("size", "must not be negative"));
        } else if size > limits.max_bytes {
            problems.push(FieldProblem::new("size", format!("must be at most {} bytes", limits.max_bytes)));
        }
        if !limits.allows_type(content_type.as_str()) {
            problems.push(FieldProblem::new(
                "content_type",
                format!("must be one of: {}", limits.allowed_types.join(", ")),
            ));
        }
        if !problems.is_empty() {
            return Err(ApiError::validation(problems).into());
        }
        let mut scope = auth.scope(&self.state).await?;
        if project_for(&mut scope, id.0, Object::Files, Action::Create).await?.is_none() {
            return Ok(CreateFileResponse::NotFound(no_project()));
        }
        if !storage.is_configured() {
            return Err(ApiError::from(crate::storage::StorageError::Off).into());
        }
        let request = (id.0, name.as_str(), content_type.as_str(), size);
        let file = match idempotency::claim::<FileView>(&mut scope, idempotency_key.0, "createFile", &request).await? {
            // The first answer named this file: it is answered as it is now.
            // Only a file still pending gets a fresh upload URL; one that
            // was deleted or swept is gone, and a ready one is not
            // overwritten.
            Idempotency::Replay(first) => match db::files::get(scope.tx(), id.0, first.id).await? {
                None => return Ok(CreateFileResponse::NotFound(no_file())),
                Some(file) if file.status != FileStatus::Pending => {
                    return Ok(CreateFileResponse::Conflict(error_json(
                        "already_completed",
                        "the file of this Idempotency-Key was uploaded and completed already",
                    )))
                }
                Some(file) => view(file),
            },
            Idempotency::Fresh(claimed) => {
                let file = view(db::files::create(scope.tx(), id.0, name.as_str(), content_type.as_str(), size).await?);
                claimed.remember(&mut scope, StatusCode::CREATED, &file).await?;
                scope.audit(req, "file.created", &file.id.to_string()).await?;
                file
            }
        };
        // Signing is local: it needs no answer from storage.
        let key = db::files::object_key(scope.principal().tenant(), file.project_id, file.id);
        let signed = storage.presign_upload(&key, file.size, &file.content_type).await?;
        let answer = FileUpload { file, upload: storage_request(signed, limits.upload_url_ttl) };
        scope.commit().await?;
        Ok(CreateFileResponse::Created(Json(answer)))
    }

    /// Complete a file upload
    ///
    /// Checks the uploaded object's size and type against what was
    /// declared and marks the file ready. Completing a ready file answers
    /// it again. 503 when storage cannot be reached (nothing changes).
    #[oai(path = "/api/projects/:id/files/:file_id/complete", method = "post", operation_id = "completeFile")]
    async fn complete(
        &self,
        req: &Request,
        auth: Access,
        /// The project's id.
        id: Path<ProjectId>,
        /// The file's id.
        file_id: Path<FileId>,
    ) -> Result<CompleteFileResponse, Fail<(Tenant, Params)>> {
        let mut scope = auth.scope(&self.state).await?;
        if project_for(&mut scope, id.0, Object::Files, Action::Create).await?.is_none() {
            return Ok(CompleteFileResponse::NotFound(no_file()));
        }
        let Some(file) = db::files::get(scope.tx(), id.0, file_id.0).await? else {
            return Ok(CompleteFileResponse::NotFound(no_file()));
        };
        if file.status == FileStatus::Ready {
            scope.commit().await?;
            return Ok(CompleteFileResponse::Ok(Json(view(file))));
        }
        let key = file.object_key();
        let storage = &self.state.storage;
        let Some(stored) = storage.head(&key).await? else {
            return Ok(CompleteFileResponse::Conflict(error_json(
                "upload_missing",
                "nothing was uploaded for this file yet; PUT the bytes to the upload URL first",
            )));
        };
        let limits = &storage.limits;
        let type_ok = stored.content_type.as_deref() == Some(file.content_type.as_str())
            && limits.allows_type(&file.content_type);
        if stored.size != file.size_bytes || stored.size > limits.max_bytes || !type_ok {
            storage.delete(&key).await?;
            return Ok(CompleteFileResponse::Conflict(error_json(
                "upload_mismatch",
                format!(
                    "the uploaded object ({} bytes, {}) is not the declared {} bytes of {}; it was removed",
                    stored.size,
                    stored.content_type.as_deref().unwrap_or("no type"),
                    file.size_bytes,
                    file.content_type
                ),
            )));
        }
        let Some(ready) = db::files::mark_ready(scope.tx(), file.id).await? else {
            return Ok(CompleteFileResponse::NotFound(no_file()));
        };
        scope.audit(req, "file.completed", &ready.id.to_string()).await?;
        scope.commit().await?;
        Ok(CompleteFileResponse::Ok(Json(view(ready))))
    }

    /// List a project's files
    ///
    /// Oldest first, a page at a time (see `cursor`), pending uploads
    /// included.
    #[oai(path = "/api/projects/:id/files", method = "get", operation_id = "listFiles")]
    async fn list(
        &self,
        auth: Access,
        /// The project's id.
        id: Path<ProjectId>,
        /// The previous page's `next`.
        cursor: Query<Option<String>>,
        /// Page size, 1–100.
        #[oai(default = "paging::default_limit", validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<i64>,
    ) -> Result<ListFilesResponse, Fail<(Tenant, Params)>> {
        let after = paging::decode(cursor.0.as_deref())?;
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Files, Action::Read).await?;
        if db::projects::get(scope.tx(), id.0).await?.is_none() {
            return Ok(ListFilesResponse::NotFound(no_project()));
        }
        let page = db::files::list(scope.tx(), id.0, after, limit.0).await?;
        scope.commit().await?;
        Ok(ListFilesResponse::Ok(Json(FilePage {
            items: page.items.into_iter().map(view).collect(),
            next: page.next.map(paging::encode),
        })))
    }

    /// Read a file's details
    #[oai(path = "/api/projects/:id/files/:file_id", method = "get", operation_id = "getFile")]
    async fn get(
        &self,
        auth: Access,
        /// The project's id.
        id: Path<ProjectId>,
        /// The file's id.
        file_id: Path<FileId>,
    ) -> Result<GetFileResponse, Fail<(Tenant, Params)>> {
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Files, Action::Read).await?;
        let file = db::files::get(scope.tx(), id.0, file_id.0).await?;
        scope.commit().await?;
        Ok(match file {
            Some(file) => GetFileResponse::Ok(Json(view(file))),
            None => GetFileResponse::NotFound(no_file()),
        })
    }

    /// Download a file
    ///
    /// Answers a presigned GET URL, valid for a few minutes, after checking
    /// that the caller may read the file.
    #[oai(path = "/api/projects/:id/files/:file_id/download", method = "get", operation_id = "downloadFile")]
    async fn download(
        &self,
        auth: Access,
        /// The project's id.
        id: Path<ProjectId>,
        /// The file's id.
        file_id: Path<FileId>,
    ) -> Result<DownloadFileResponse, Fail<(Tenant, Params)>> {
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Files, Action::Read).await?;
        let file = db::files::get(scope.tx(), id.0, file_id.0).await?;
        scope.commit().await?;
        let Some(file) = file else { return Ok(DownloadFileResponse::NotFound(no_file())) };
        if file.status != FileStatus::Ready {
            return Ok(DownloadFileResponse::NotReady(error_json("not_ready", "the upload was not completed")));
        }
        let storage = &self.state.storage;
        let signed = storage.presign_download(&file.object_key(), &file.name, &file.content_type).await?;
        Ok(DownloadFileResponse::Ok(Json(storage_request(signed, storage.limits.download_url_ttl))))
    }

    /// Delete a file
    ///
    /// The row goes at once; the object is deleted from storage right after,
    /// or by the housekeeping task if storage is away. Users delete files of
    /// projects they own.
    #[oai(path = "/api/projects/:id/files/:file_id", method = "delete", operation_id = "deleteFile")]
    async fn delete(
        &self,
        req: &Request,
        auth: Access,
        /// The project's id.
        id: Path<ProjectId>,
        /// The file's id.
        file_id: Path<FileId>,
    ) -> Result<DeleteFileResponse, Fail<(Tenant, Params)>> {
        let mut scope = auth.scope(&self.state).await?;
        if project_for(&mut scope, id.0, Object::Files, Action::Delete).await?.is_none() {
            return Ok(DeleteFileResponse::NotFound(no_file()));
        }
        let Some(key) = db::files::delete(scope.tx(), id.0, file_id.0).await? else {
            return Ok(DeleteFileResponse::NotFound(no_file()));
        };
        scope.audit(req, "file.deleted", &file_id.0.to_string()).await?;
        scope.commit().await?;
        delete_objects_soon(&self.state, vec![key]);
        Ok(DeleteFileResponse::Deleted)
    }

    /// Storage used by the tenant
    ///
    /// Bytes and count of ready files, kept by the database as files are
    /// completed and deleted.
    #[oai(path = "/api/files/usage", method = "get", operation_id = "getStorageUsage")]
    async fn usage(&self, auth: Access) -> Result<UsageResponse, Fail<Tenant>> {
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Files, Action::Read).await?;
        let usage = db::files::usage(scope.tx()).await?;
        scope.commit().await?;
        Ok(UsageResponse::Ok(Json(StorageUsage { bytes: usage.bytes, files: usage.files })))
    }
}

/// Deletes objects whose rows are gone, in the background. Their keys stay
/// queued until every upload URL signed for them has expired, and
/// housekeeping deletes them again meanwhile: a PUT through a URL handed out
/// before the deletion cannot leave an object behind.
pub(crate) fn delete_objects_soon(state: &AppState, keys: Vec<String>) {
    if keys.is_empty() || !state.storage.is_configured() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        for key in keys {
            if let Err(err) = state.storage.delete(&key).await {
                tracing::warn!(error = %err, "object left for housekeeping to delete");
                return;
            }
        }
    });
}
