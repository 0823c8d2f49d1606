//! `/api/v1/items`: the example resource, showing the pattern for a real one.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use serde::{Deserialize, Serialize};

use super::extract::{Json, Path, Query};
use crate::{
    error::{AppError, Result},
    items::{Item, NewItem},
    state::AppState,
};

const MAX_NAME_LEN: usize = 200;
const MAX_DESCRIPTION_LEN: usize = 2000;
const MAX_PAGE_SIZE: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/{id}", get(fetch).delete(remove))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateItem {
    name: String,
    description: Option<String>,
}

impl CreateItem {
    /// The same rules on every database: text that one engine stores and another refuses
    /// (Postgres rejects NUL) is refused here, before either sees it.
    fn validate(self) -> Result<NewItem> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
            return Err(AppError::Validation(format!(
                "name must be 1 to {MAX_NAME_LEN} characters"
            )));
        }
        if name.chars().any(char::is_control) {
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

#[derive(Debug, Deserialize)]
struct Page {
    /// Only items with an id greater than this one (the previous page's `next_after`).
    after: Option<i64>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct ItemPage {
    items: Vec<Item>,
    /// Pass as `after` to get the next page; `null` on the last page.
    next_after: Option<i64>,
}

async fn create(
    State(state): State<AppState>,
    Json(request): Json<CreateItem>,
) -> Result<impl IntoResponse> {
    let item = state.items.create(request.validate()?).await?;
    let location = format!("/api/v1/items/{}", item.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(item)))
}

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

async fn fetch(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Item>> {
    state.items.get(id).await?.map(Json).ok_or(AppError::NotFound)
}

async fn remove(State(state): State<AppState>, Path(id): Path<i64>) -> Result<StatusCode> {
    if state.items.delete(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}
