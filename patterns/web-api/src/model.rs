//! The API's models: what a client sends (checked by `validator`, as pydantic checks a
//! FastAPI model) and what it gets back (described for the OpenAPI document by utoipa).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

// ANCHOR: new_item
/// An item as a client creates it: `POST /items`.
///
/// Fields the model does not name are ignored, as pydantic ignores them by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
pub struct NewItem {
    /// Shown to customers; unique.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, example = "teapot")]
    pub name: String,
    /// Price in cents: whole numbers, so no rounding ever creeps into a total.
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(minimum = 0, maximum = 100_000_000, example = 1250)]
    pub price_cents: i64,
    /// Units in stock.
    #[validate(range(min = 0, max = 1_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000, example = 10)]
    pub stock: i64,
}
// ANCHOR_END: new_item

/// An item as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Item {
    /// Given by the database.
    pub id: i64,
    /// Unique.
    pub name: String,
    /// Price in cents.
    pub price_cents: i64,
    /// Units in stock now.
    pub stock: i64,
}

/// An order as a client places it: `POST /orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
pub struct NewOrder {
    /// The item ordered.
    #[validate(range(min = 1))]
    #[schema(minimum = 1)]
    pub item_id: i64,
    /// How many units; taken from the stock in the same transaction.
    #[validate(range(min = 1, max = 1_000))]
    #[schema(minimum = 1, maximum = 1_000)]
    pub quantity: i64,
}

/// An order as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Order {
    /// Given by the database.
    pub id: i64,
    /// The item ordered.
    pub item_id: i64,
    /// Units ordered.
    pub quantity: i64,
    /// `quantity` times the item's price when the order was placed.
    pub total_cents: i64,
}

/// A page of a listing: `GET /items?limit=20&offset=40`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// At most this many rows (1 to 100; 20 when absent).
    #[serde(default = "Page::default_limit")]
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: i64,
    /// Rows skipped first (0 when absent).
    #[serde(default)]
    #[validate(range(min = 0))]
    #[param(minimum = 0)]
    pub offset: i64,
}

impl Page {
    fn default_limit() -> i64 {
        20
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            limit: Self::default_limit(),
            offset: 0,
        }
    }
}

/// An id in a path: `/items/{id}`, `/orders/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct Id {
    /// The row's id.
    pub id: i64,
}

/// What the event stream (`GET /events`) sends, one Server-Sent Event each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Update {
    /// An order was placed (sent after its transaction committed).
    OrderPlaced {
        /// The order.
        order: Order,
        /// The item's stock after it.
        stock_left: i64,
    },
    /// The lifespan task's periodic summary.
    Summary {
        /// Orders placed so far.
        orders: i64,
        /// Their total.
        revenue_cents: i64,
    },
}
