//! Projects, the example tenant resource: list (paged, filtered, searched),
//! create (idempotent with a key), read, change and delete with ETags, so
//! that two editors cannot overwrite each other unknowingly. Who may do
//! what is `policies/policy.csv`: viewers read, users create and change
//! what they own, admins everything.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use policies::{Action, Object};

use super::paging;
use super::ApiTags;
use crate::auth::access::Access;
use crate::auth::authorize::TenantScope;
use crate::domain::{ProjectDescription, ProjectId, ProjectName, ProjectStatus, UserId};
use crate::error::{error_json, ApiError, Body, ErrorBody, Fail, FieldProblem, Idempotent, Params, Tenant};
use crate::idempotency::{self, Idempotency};
use crate::payload::JsonBody;
use crate::state::AppState;

#[derive(Debug)]
pub struct ProjectsApi {
    pub state: AppState,
}

/// A project.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct ProjectView {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
    /// The member who owns it (who created it, unless handed over); absent
    /// when an API key created it or the owner's account is gone.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Grows with every change; the `ETag` is `"<version>"`.
    pub version: i64,
}

impl ProjectView {
    pub fn etag(&self) -> String {
        etag(self.version)
    }
}

pub fn view(p: db::projects::Project) -> ProjectView {
    ProjectView {
        id: p.id,
        name: p.name,
        description: p.description,
        status: p.status,
        owner_id: p.owner_id,
        created_at: p.created_at,
        updated_at: p.updated_at,
        version: p.version,
    }
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A page of projects, oldest first.
#[derive(Debug, Object)]
pub struct ProjectPage {
    pub items: Vec<ProjectView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

/// A new project.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// Unique in the tenant.
    pub name: ProjectName,
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub description: Option<ProjectDescription>,
}

/// A change to a project: absent fields stay as they are. `status`
/// `archived` keeps the project and its files; `active` brings it back.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub name: Option<ProjectName>,
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub description: Option<ProjectDescription>,
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub status: Option<ProjectStatus>,
    /// Hands the project to another member of the tenant.
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub owner_id: Option<UserId>,
}

#[derive(Debug, ApiResponse)]
pub enum ListProjectsResponse {
    #[oai(status = 200)]
    Ok(Json<ProjectPage>),
}

#[derive(Debug, ApiResponse)]
pub enum CreateProjectResponse {
    /// Created (or, for a repeated `Idempotency-Key`, the first answer again).
    #[oai(status = 201)]
    Created(Json<ProjectView>, #[oai(header = "ETag")] String, #[oai(header = "Location")] String),
    /// The name is taken in this tenant.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum GetProjectResponse {
    #[oai(status = 200)]
    Ok(Json<ProjectView>, #[oai(header = "ETag")] String),
    /// No such project in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum UpdateProjectResponse {
    #[oai(status = 200)]
    Ok(Json<ProjectView>, #[oai(header = "ETag")] String),
    /// No such project in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The name is taken in this tenant.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// `If-Match` names another version: the project changed since it was
    /// read. The `ETag` header carries the current one.
    #[oai(status = 412)]
    PreconditionFailed(Json<ErrorBody>, #[oai(header = "ETag")] String),
}

#[derive(Debug, ApiResponse)]
pub enum DeleteProjectResponse {
    /// Deleted, with its files.
    #[oai(status = 204)]
    Deleted,
    /// No such project in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// `If-Match` names another version; the `ETag` header carries the
    /// current one.
    #[oai(status = 412)]
    PreconditionFailed(Json<ErrorBody>, #[oai(header = "ETag")] String),
}

fn not_found() -> Json<ErrorBody> {
    error_json("not_found", "no such project")
}

/// Whether an `If-Match` value lets a change to `current` go ahead: absent,
/// `*`, or a list naming it (strong comparison, RFC 9110).
fn if_match_allows(if_match: Option<&str>, current: &str) -> bool {
    match if_match {
        None => true,
        Some(value) => value.split(',').map(str::trim).any(|tag| tag == "*" || tag == current),
    }
}

fn precondition_failed(current: &str) -> Json<ErrorBody> {
    error_json("precondition_failed", format!("the project has changed; its current ETag is {current}"))
}

/// Reads the project for a change by the caller, locking it until the
/// transaction ends: 404 for another tenant's or a missing id (before any
/// ownership is judged), 403 when the caller may not `action` it (a user,
/// on a colleague's project).
pub(crate) async fn project_for_change(
    scope: &mut TenantScope,
    id: ProjectId,
    object: Object,
    action: Action,
) -> Result<Option<db::projects::Project>, ApiError> {
    authorized_project(scope, id, object, action, true).await
}

/// [`project_for_change`] without the lock: for work on what belongs to the
/// project (its files), which must not hold the project's row while it
/// waits for storage.
pub(crate) async fn project_for(
    scope: &mut TenantScope,
    id: ProjectId,
    object: Object,
    action: Action,
) -> Result<Option<db::projects::Project>, ApiError> {
    authorized_project(scope, id, object, action, false).await
}

async fn authorized_project(
    scope: &mut TenantScope,
    id: ProjectId,
    object: Object,
    action: Action,
    lock: bool,
) -> Result<Option<db::projects::Project>, ApiError> {
    scope.require_some(object, action).await?;
    let found = if lock {
        db::projects::get_for_update(scope.tx(), id).await?
    } else {
        db::projects::get(scope.tx(), id).await?
    };
    let Some(project) = found else { return Ok(None) };
    scope.require_on(object, action, project.owner_id).await?;
    Ok(Some(project))
}

#[OpenApi(tag = "ApiTags::Projects")]
impl ProjectsApi {
    /// List projects
    ///
    /// Oldest first, a page at a time (see `cursor`); filter by `status` and
    /// `owner_id`, search by part of the name with `q`.
    #[oai(path = "/api/projects", method = "get", operation_id = "listProjects")]
    async fn list(
        &self,
        auth: Access,
        /// The previous page's `next`.
        cursor: Query<Option<String>>,
        /// Page size, 1–100.
        #[oai(default = "paging::default_limit", validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<i64>,
        /// Only projects with this status.
        status: Query<Option<ProjectStatus>>,
        /// Only projects this member owns.
        owner_id: Query<Option<UserId>>,
        /// Only projects whose name contains this, in any case.
        #[oai(validator(min_length = 1, max_length = 200))]
        q: Query<Option<String>>,
    ) -> Result<ListProjectsResponse, Fail<(Tenant, Params)>> {
        let after = paging::decode(cursor.0.as_deref())?;
        let q = paging::search(q.0)?;
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Projects, Action::Read).await?;
        let query =
            db::projects::ProjectQuery { after, limit: limit.0, status: status.0, owner: owner_id.0, name_contains: q };
        let page = db::projects::list(scope.tx(), &query).await?;
        scope.commit().await?;
        Ok(ListProjectsResponse::Ok(Json(ProjectPage {
            items: page.items.into_iter().map(view).collect(),
            next: page.next.map(paging::encode),
        })))
    }

    /// Create a project
    ///
    /// The caller becomes its owner. Send an `Idempotency-Key` to make a
    /// retry safe: the same key and body answer the first result again.
    #[oai(path = "/api/projects", method = "post", operation_id = "createProject")]
    async fn create(
        &self,
        req: &Request,
        auth: Access,
        /// Any unique string (a UUID, say), kept 24 hours.
        #[oai(name = "Idempotency-Key", validator(pattern = r"^[\x21-\x7E]{1,255}$"))]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CreateProject>,
    ) -> Result<CreateProjectResponse, Fail<(Tenant, (Body, Idempotent))>> {
        let CreateProject { name, description } = body.0;
        let description = description.map(ProjectDescription::into_inner).unwrap_or_default();
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Projects, Action::Create).await?;
        let request = (name.as_str(), description.as_str());
        let claimed = match idempotency::claim(&mut scope, idempotency_key.0, "createProject", &request).await? {
            Idempotency::Replay(project) => {
                scope.commit().await?;
                return Ok(created(project));
            }
            Idempotency::Fresh(claimed) => claimed,
        };
        let project = match db::projects::create(scope.tx(), name.as_str(), &description).await {
            Ok(project) => view(project),
            Err(db::DbError::Conflict) => {
                return Ok(CreateProjectResponse::Conflict(error_json("conflict", "a project of that name exists")))
            }
            Err(err) => return Err(err.into()),
        };
        claimed.remember(&mut scope, StatusCode::CREATED, &project).await?;
        scope.audit(req, "project.created", &project.id.to_string()).await?;
        scope.commit().await?;
        Ok(created(project))
    }

    /// Read a project
    #[oai(path = "/api/projects/:id", method = "get", operation_id = "getProject")]
    async fn get(&self, auth: Access, id: Path<ProjectId>) -> Result<GetProjectResponse, Fail<(Tenant, Params)>> {
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Projects, Action::Read).await?;
        let project = db::projects::get(scope.tx(), id.0).await?;
        scope.commit().await?;
        Ok(match project {
            Some(project) => {
                let project = view(project);
                let tag = project.etag();
                GetProjectResponse::Ok(Json(project), tag)
            }
            None => GetProjectResponse::NotFound(not_found()),
        })
    }

    /// Change a project
    ///
    /// Send the `ETag` of what you read as `If-Match`: if the project
    /// changed since, nothing is written and the answer is 412 with the
    /// current `ETag`. Users change only projects they own.
    #[oai(path = "/api/projects/:id", method = "patch", operation_id = "updateProject")]
    async fn update(
        &self,
        req: &Request,
        auth: Access,
        id: Path<ProjectId>,
        /// The `ETag` the change is based on.
        #[oai(name = "If-Match", validator(pattern = r#"^\s*(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)\s*$"#))]
        if_match: Header<Option<String>>,
        body: JsonBody<UpdateProject>,
    ) -> Result<UpdateProjectResponse, Fail<(Tenant, (Body, Params))>> {
        let UpdateProject { name, description, status, owner_id } = body.0;
        let mut scope = auth.scope(&self.state).await?;
        let Some(current) = project_for_change(&mut scope, id.0, Object::Projects, Action::Update).await? else {
            return Ok(UpdateProjectResponse::NotFound(not_found()));
        };
        let current_tag = etag(current.version);
        if !if_match_allows(if_match.0.as_deref(), &current_tag) {
            return Ok(UpdateProjectResponse::PreconditionFailed(precondition_failed(&current_tag), current_tag));
        }
        if let Some(owner) = owner_id {
            if !db::projects::is_member(scope.tx(), owner).await? {
                return Err(ApiError::validation(vec![FieldProblem::new(
                    "owner_id",
                    "must be a member of this tenant",
                )])
                .into());
            }
        }
        if name.is_none() && description.is_none() && status.is_none() && owner_id.is_none() {
            // Nothing to change: no new version either.
            scope.commit().await?;
            let project = view(current);
            let tag = project.etag();
            return Ok(UpdateProjectResponse::Ok(Json(project), tag));
        }
        let change = db::projects::ProjectChange {
            name: name.map(ProjectName::into_inner),
            description: description.map(ProjectDescription::into_inner),
            status,
            owner: owner_id,
        };
        let project = match db::projects::update(scope.tx(), id.0, &change).await {
            Ok(Some(project)) => view(project),
            Ok(None) => return Ok(UpdateProjectResponse::NotFound(not_found())),
            Err(db::DbError::Conflict) => {
                return Ok(UpdateProjectResponse::Conflict(error_json("conflict", "a project of that name exists")))
            }
            Err(err) => return Err(err.into()),
        };
        scope.audit(req, "project.updated", &project.id.to_string()).await?;
        scope.commit().await?;
        let tag = project.etag();
        Ok(UpdateProjectResponse::Ok(Json(project), tag))
    }

    /// Delete a project
    ///
    /// Its files go with it. `If-Match` works as for changes.
    #[oai(path = "/api/projects/:id", method = "delete", operation_id = "deleteProject")]
    async fn delete(
        &self,
        req: &Request,
        auth: Access,
        id: Path<ProjectId>,
        /// The `ETag` the deletion is based on.
        #[oai(name = "If-Match", validator(pattern = r#"^\s*(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)\s*$"#))]
        if_match: Header<Option<String>>,
    ) -> Result<DeleteProjectResponse, Fail<(Tenant, Params)>> {
        let mut scope = auth.scope(&self.state).await?;
        let Some(current) = project_for_change(&mut scope, id.0, Object::Projects, Action::Delete).await? else {
            return Ok(DeleteProjectResponse::NotFound(not_found()));
        };
        let current_tag = etag(current.version);
        if !if_match_allows(if_match.0.as_deref(), &current_tag) {
            return Ok(DeleteProjectResponse::PreconditionFailed(precondition_failed(&current_tag), current_tag));
        }
        let Some(keys) = db::projects::delete(scope.tx(), id.0).await? else {
            return Ok(DeleteProjectResponse::NotFound(not_found()));
        };
        scope.audit(req, "project.deleted", &id.0.to_string()).await?;
        scope.commit().await?;
        super::files::delete_objects_soon(&self.state, keys);
        Ok(DeleteProjectResponse::Deleted)
    }
}

fn created(project: ProjectView) -> CreateProjectResponse {
    let tag = project.etag();
    let location = format!("/api/projects/{}", project.id);
    CreateProjectResponse::Created(Json(project), tag, location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_strongly_and_accepts_lists_and_star() {
        assert!(if_match_allows(None, "\"3\""));
        assert!(if_match_allows(Some("\"3\""), "\"3\""));
        assert!(if_match_allows(Some("\"1\", \"3\""), "\"3\""));
        assert!(if_match_allows(Some("*"), "\"3\""));
        assert!(!if_match_allows(Some("\"2\""), "\"3\""));
        assert!(!if_match_allows(Some("W/\"3\""), "\"3\""));
        assert!(!if_match_allows(Some("3"), "\"3\""));
    }
}
