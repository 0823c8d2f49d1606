//! `/api/v1/items`: the example resource, showing the pattern for a real one. Each
//! handler's `#[utoipa::path]` describes its route for the OpenAPI document; the error
//! statuses it lists get their problem+json body in [`crate::api_doc`].

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::extract::{Json, Path, Query};
use crate::{
    auth::{self, Scope, Verifier},
    error::{AppError, Result},
    items::{Item, NewItem},
    state::AppState,
};

const MAX_NAME_LEN: usize = 200;
const MAX_DESCRIPTION_LEN: usize = 2000;
const MAX_PAGE_SIZE: i64 = 100;

/// The operations, by the scope a caller's token must grant.
pub fn router(verifier: Option<&Verifier>) -> OpenApiRouter<AppState> {
    let read = OpenApiRouter::new().routes(routes!(list)).routes(routes!(fetch));
    let write = OpenApiRouter::new().routes(routes!(create)).routes(routes!(remove));
    auth::require(Scope::ItemsRead, verifier, read).merge(auth::require(Scope::ItemsWrite, verifier, write))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateItem {
    /// Unique; surrounding white space is dropped. No control characters, and not only
    /// white space.
    // The pattern is `validate`'s rule: a character neither white space (Rust's
    // `char::is_whitespace`) nor control, and no control character anywhere.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$",
        example = "Teapot"
    )]
    name: String,
    /// Line breaks and tabs allowed, no other control characters.
    #[schema(max_length = 2000, pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$", example = "Short and stout")]
    description: Option<String>,
}

impl CreateItem {
    /// The same rules on every database: text that one engine stores and another refuses
    /// (Postgres rejects NUL) is refused here, before either sees it.
    fn validate(self) -> Result<NewItem> {
        let name = self.name.trim();
        if name.is_empty() || self.name.chars().count() > MAX_NAME_LEN {
            return Err(AppError::Validation(format!(
                "name must be 1 to {MAX_NAME_LEN} characters, not all white space"
            )));
        }
        if self.name.chars().any(char::is_control) {
            return Err(AppError::Validation("name must not contain control characters".into()));
        }
        if let Some(description) = &self.description {
            if description.chars().count() > MAX_DESCRIPTION_LEN {
                return Err(AppError::Validation(format!(
                    "description must be at most {MAX_DESCRIPTION_LEN} characters"
                )));
            }
            if description.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                return Err(AppError::Validation(
                    "description must not contain control characters other than line breaks and tabs".into(),
                ));
            }
        }
        Ok(NewItem {
            name: name.to_owned(),
            description: self.description,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Page {
    /// Only items with an id greater than this one (the previous page's `next_after`).
    after: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
struct ItemPage {
    items: Vec<Item>,
    /// Pass as `after` to get the next page; `null` on the last page.
    #[schema(required = true)]
    next_after: Option<i64>,
}

/// Creates an item.
#[utoipa::path(post, path = "/api/v1/items", tag = "items", request_body = CreateItem, responses(
    (status = CREATED, description = "Created", body = Item,
        headers(("location" = String, description = "The new item's URL"))),
    (status = BAD_REQUEST, description = "The body is not JSON"),
    (status = CONFLICT, description = "An item has this name already"),
    (status = UNSUPPORTED_MEDIA_TYPE, description = "The body is not sent as application/json"),
    (status = UNPROCESSABLE_ENTITY, description = "The JSON breaks the rules above"),
    (status = SERVICE_UNAVAILABLE, description = "The database is unavailable"),
))]
async fn create(
    State(state): State<AppState>,
    Json(request): Json<CreateItem>,
) -> Result<impl IntoResponse> {
    let item = state.items.create(request.validate()?).await?;
    let location = format!("/api/v1/items/{}", item.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(item)))
}

/// Lists items, oldest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/items", tag = "items", params(Page), responses(
    (status = OK, description = "A page of items", body = ItemPage),
    (status = BAD_REQUEST, description = "A parameter is not an integer"),
    (status = UNPROCESSABLE_ENTITY, description = "`limit` is out of range"),
    (status = SERVICE_UNAVAILABLE, description = "The database is unavailable"),
))]
async fn list(State(state): State<AppState>, Query(page): Query<Page>) -> Result<Json<ItemPage>> {
    let limit = page.limit.unwrap_or(20);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(AppError::Validation(format!(
            "limit must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    let items = state.items.list(page.after.unwrap_or(0), limit).await?;
    let next_after = match items.last() {
        Some(last) if items.len() as i64 == limit => Some(last.id),
        _ => None,
    };
    Ok(Json(ItemPage { items, next_after }))
}

/// Reads one item.
#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "items", params(("id" = i64, Path, description = "The item's id")), responses(
    (status = OK, description = "The item", body = Item),
    (status = BAD_REQUEST, description = "The id is not an integer"),
    (status = NOT_FOUND, description = "No item has this id"),
    (status = SERVICE_UNAVAILABLE, description = "The database is unavailable"),
))]
async fn fetch(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Item>> {
    state.items.get(id).await?.map(Json).ok_or(AppError::NotFound)
}

/// Deletes one item.
#[utoipa::path(delete, path = "/api/v1/items/{id}", tag = "items", params(("id" = i64, Path, description = "The item's id")), responses(
    (status = NO_CONTENT, description = "Deleted"),
    (status = BAD_REQUEST, description = "The id is not an integer"),
    (status = NOT_FOUND, description = "No item has this id"),
    (status = SERVICE_UNAVAILABLE, description = "The database is unavailable"),
))]
async fn remove(State(state): State<AppState>, Path(id): Path<i64>) -> Result<StatusCode> {
    if state.items.delete(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}
