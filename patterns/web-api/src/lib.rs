//! A JSON API in axum, as a FastAPI or aiohttp.web service is written: routes with typed
//! extractors, models checked before the handler runs, one error type answered as JSON,
//! a sqlx pool in the app's state, middleware from tower-http, a lifespan task, Server-Sent
//! Events, an OpenAPI document, and a server that stops gracefully within a grace period.
//!
//! | Python (FastAPI, aiohttp.web) | Rust (axum, tower-http) |
//! |---|---|
//! | `app = FastAPI()`, `web.Application()` | [`app`]: an `axum::Router` |
//! | `@app.get("/items/{id}")`, `add_routes` | [`routes`]: `.routes(routes!(get_item, ...))` |
//! | a pydantic model | a `serde` struct with `#[derive(Validate)]`: [`NewItem`] |
//! | `RequestValidationError`, 422 | [`ValidJson`], [`ValidQuery`], [`ValidPath`]: 422 naming each field |
//! | `HTTPException(404)` | [`ApiError`], an enum that is `IntoResponse` |
//! | `Depends(get_db)`, `app.state` | `State<AppState>`: [`AppState`] |
//! | `app.add_middleware(...)` | [`with_middleware`]: tower-http layers |
//! | `lifespan`, `cleanup_ctx` | [`Lifespan`] |
//! | `StreamingResponse`, `EventSourceResponse` | `axum::response::Sse`: [`Events`] |
//! | `app.openapi()`, `/openapi.json` | utoipa: [`routes`] collects the document |
//! | `uvicorn.run(app)`, `web.run_app` | [`serve`], with a header timeout and a grace period |
//! | `TestClient(app)` | `tower::ServiceExt::oneshot` on the `Router` |
//!
//! # Layout
//!
//! - [`model`]: what clients send and get back.
//! - [`extract`]: extractors that check a request against its model.
//! - [`error`]: [`ApiError`] and the JSON error bodies.
//! - [`store`]: items and orders over a sqlx pool.
//! - [`routes`]: the handlers and the OpenAPI document.
//! - [`events`]: the Server-Sent Events stream.
//! - [`middleware`]: the tower-http layers.
//! - [`lifespan`]: what starts before the first request and stops after the last.
//! - [`serve`]: accepting connections, and the graceful shutdown.

pub mod error;
pub mod events;
pub mod extract;
pub mod lifespan;
pub mod middleware;
pub mod model;
pub mod routes;
pub mod serve;
pub mod store;

pub use error::{ApiError, FieldError};
pub use events::Events;
pub use extract::{ValidJson, ValidPath, ValidQuery};
pub use lifespan::{Lifespan, LifespanConfig};
pub use middleware::{Limits, with_middleware};
pub use model::{Id, Item, NewItem, NewOrder, Order, Page, Update};
pub use routes::{AppState, routes};
pub use serve::{ServeConfig, Served, serve};
pub use store::{Store, StoreError};

use axum::Json;
use axum::routing::get;

// ANCHOR: app
/// The whole app: `extra` routes (a service's own, or none: `OpenApiRouter::new()`) merged
/// with [`routes`], the OpenAPI document at `/openapi.json`, and the middleware around all.
pub fn app(
    state: AppState,
    limits: &Limits,
    extra: utoipa_axum::router::OpenApiRouter<AppState>,
) -> axum::Router {
    let (router, document) = routes().merge(extra).split_for_parts();
    let router = router
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json(document) }
            }),
        )
        .with_state(state);
    with_middleware(router, limits)
}
// ANCHOR_END: app
