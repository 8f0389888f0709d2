//! The routes and their handlers. Each handler names what it needs as extractors (the
//! state, a checked body, a path id), as a FastAPI handler names its parameters and
//! `Depends`; each `#[utoipa::path]` describes it for the OpenAPI document, which
//! [`routes`] collects as it registers them.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Detail, FieldError};
use crate::events::{self, Events};
use crate::extract::{ValidJson, ValidPath, ValidQuery};
use crate::model::{Id, Item, NewItem, NewOrder, Order, Page, Update};
use crate::store::Store;

// ANCHOR: state
/// What every handler can reach through `State` (FastAPI's app state and `Depends`).
/// Cloned per request, so it holds only cheap handles.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The items and orders.
    pub store: Store,
    /// The updates `GET /events` streams.
    pub events: Events,
}
// ANCHOR_END: state

/// The OpenAPI document's header; the paths and schemas come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shop API",
        description = "Items and orders: the web-api pattern's service."
    ),
    components(schemas(FieldError))
)]
struct ApiDoc;

// ANCHOR: routes
/// Every route of the API, with its OpenAPI document (served at `/openapi.json`).
/// Layers are added by [`crate::app`]; a service adds its own routes here first.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(list_items, create_item))
        .routes(routes!(get_item, delete_item))
        .routes(routes!(create_order))
        .routes(routes!(get_order))
        .routes(routes!(events::updates))
}
// ANCHOR_END: routes

// ANCHOR: create_item
/// Creates an item: 201 with its `Location`, 409 when the name is taken.
#[utoipa::path(
    post, path = "/items", tag = "items", request_body = NewItem,
    responses(
        (status = 201, description = "created", body = Item),
        (status = 409, description = "the name is taken", body = Detail<String>),
        (status = 422, description = "the body does not fit", body = Detail<Vec<FieldError>>),
    )
)]
async fn create_item(
    State(state): State<AppState>,
    ValidJson(new): ValidJson<NewItem>,
) -> Result<Response, ApiError> {
    let item = state.store.create_item(&new).await?;
    let location = format!("/items/{}", item.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(item),
    )
        .into_response())
}
// ANCHOR_END: create_item

/// Lists items by id, a page at a time.
#[utoipa::path(
    get, path = "/items", tag = "items", params(Page),
    responses(
        (status = 200, description = "one page", body = Vec<Item>),
        (status = 422, description = "a bad page", body = Detail<Vec<FieldError>>),
    )
)]
async fn list_items(
    State(state): State<AppState>,
    ValidQuery(page): ValidQuery<Page>,
) -> Result<Json<Vec<Item>>, ApiError> {
    Ok(Json(state.store.items(page).await?))
}

// ANCHOR: get_item
/// One item, or 404.
#[utoipa::path(
    get, path = "/items/{id}", tag = "items", params(Id),
    responses(
        (status = 200, description = "the item", body = Item),
        (status = 404, description = "no such item", body = Detail<String>),
    )
)]
async fn get_item(
    State(state): State<AppState>,
    ValidPath(Id { id }): ValidPath<Id>,
) -> Result<Json<Item>, ApiError> {
    Ok(Json(state.store.item(id).await?))
}
// ANCHOR_END: get_item

/// Deletes an item without orders: 204, 404, or 409.
#[utoipa::path(
    delete, path = "/items/{id}", tag = "items", params(Id),
    responses(
        (status = 204, description = "deleted"),
        (status = 404, description = "no such item", body = Detail<String>),
        (status = 409, description = "the item has orders", body = Detail<String>),
    )
)]
async fn delete_item(
    State(state): State<AppState>,
    ValidPath(Id { id }): ValidPath<Id>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_item(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ANCHOR: create_order
/// Places an order and tells the event stream, after the commit.
#[utoipa::path(
    post, path = "/orders", tag = "orders", request_body = NewOrder,
    responses(
        (status = 201, description = "placed", body = Order),
        (status = 404, description = "no such item", body = Detail<String>),
        (status = 409, description = "too little stock", body = Detail<String>),
        (status = 422, description = "the body does not fit", body = Detail<Vec<FieldError>>),
    )
)]
async fn create_order(
    State(state): State<AppState>,
    ValidJson(new): ValidJson<NewOrder>,
) -> Result<Response, ApiError> {
    let (order, stock_left) = state.store.place_order(&new).await?;
    state.events.publish(Update::OrderPlaced {
        order: order.clone(),
        stock_left,
    });
    let location = format!("/orders/{}", order.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(order),
    )
        .into_response())
}
// ANCHOR_END: create_order

/// One order, or 404.
#[utoipa::path(
    get, path = "/orders/{id}", tag = "orders", params(Id),
    responses(
        (status = 200, description = "the order", body = Order),
        (status = 404, description = "no such order", body = Detail<String>),
    )
)]
async fn get_order(
    State(state): State<AppState>,
    ValidPath(Id { id }): ValidPath<Id>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(state.store.order(id).await?))
}
