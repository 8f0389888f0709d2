//! The service's own small store: items and orders over one sqlx [`AnyPool`], SQLite or
//! PostgreSQL by the URL, migrated at start. Handlers reach it through axum's `State`, as
//! FastAPI handlers reach a pool through `Depends`.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Transaction};

use crate::model::{Item, NewItem, NewOrder, Order, Page};

/// Why the store could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row.
    #[error("{what} {id} not found")]
    NotFound {
        /// `item` or `order`.
        what: &'static str,
        /// The id asked for.
        id: i64,
    },
    /// Another item has this name.
    #[error("an item named {0:?} exists")]
    NameTaken(String),
    /// The order wants more than the stock holds.
    #[error("item {item_id} has {stock} in stock")]
    OutOfStock {
        /// The item.
        item_id: i64,
        /// What it holds.
        stock: i64,
    },
    /// The item has orders, so it stays.
    #[error("item {0} has orders")]
    Ordered(i64),
    /// No connection came free within the pool's acquire timeout.
    #[error("no database connection came free in time")]
    Busy,
    /// Anything else the database said.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Items and orders, over sqlx pools: one on PostgreSQL; on SQLite one for reads and one
/// connection for writes. Cloning is cheap: clones share the pools.
#[derive(Debug, Clone)]
pub struct Store {
    /// Reads, and on PostgreSQL writes too.
    pool: AnyPool,
    /// Writes. On SQLite a pool of one connection: the file has one writer at a time,
    /// so writers queue here, in order, instead of in SQLite's busy handler, which
    /// retries by sleeping. On PostgreSQL the same pool as `pool`.
    writer: AnyPool,
}

impl Store {
    // ANCHOR: open
    /// Opens the pools to `url` (`sqlite:...` or `postgres://...`) and applies the
    /// migrations of its database. `max_connections` sizes the pool for reads (on
    /// PostgreSQL, the only pool); on SQLite writes have one connection of their own.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a drop closes the connections opened so far; a
    /// migration cut off half-way is rolled back by its database and applied again by the
    /// next `open`.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let options = url
            .parse::<AnyConnectOptions>()?
            .disable_statement_logging();
        if !url.starts_with("sqlite:") {
            let pool = pool_options(max_connections).connect_with(options).await?;
            sqlx::migrate!("migrations/postgres")
                .run(&pool)
                .await
                .map_err(sqlx::Error::from)?;
            let writer = pool.clone();
            return Ok(Self { pool, writer });
        }
        let writer = sqlite_pool_options(1).connect_with(options.clone()).await?;
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(sqlx::Error::from)?;
        let pool = sqlite_pool_options(max_connections)
            .connect_with(options)
            .await?;
        Ok(Self { pool, writer })
    }
    // ANCHOR_END: open

    /// The pool, for what the store does not cover (health checks, tests).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool writes go through: on SQLite its one connection, on PostgreSQL the same
    /// pool as [`Store::pool`]. A write the store does not cover belongs here, so that on
    /// SQLite it queues behind the others instead of retrying in the busy handler.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    // ANCHOR: create_item
    /// Stores a new item; a taken name is [`StoreError::NameTaken`].
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped while the insert is at the database, the
    /// item may have been stored without the caller learning its id; a retry then gets
    /// `NameTaken`.
    pub async fn create_item(&self, new: &NewItem) -> Result<Item, StoreError> {
        let inserted = sqlx::query_as::<_, (i64,)>(
            "INSERT INTO items (name, price_cents, stock) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(&new.name)
        .bind(new.price_cents)
        .bind(new.stock)
        .fetch_one(&self.writer)
        .await;
        match inserted {
            Ok((id,)) => Ok(Item {
                id,
                name: new.name.clone(),
                price_cents: new.price_cents,
                stock: new.stock,
            }),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::NameTaken(new.name.clone()))
            }
            Err(other) => Err(classify(other)),
        }
    }
    // ANCHOR_END: create_item

    /// The item with this id.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    pub async fn item(&self, id: i64) -> Result<Item, StoreError> {
        sqlx::query_as::<_, (i64, String, i64, i64)>(
            "SELECT id, name, price_cents, stock FROM items WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .map(item_of_row)
        .ok_or(StoreError::NotFound { what: "item", id })
    }

    /// One page of the items, by id.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    pub async fn items(&self, page: Page) -> Result<Vec<Item>, StoreError> {
        let rows = sqlx::query_as::<_, (i64, String, i64, i64)>(
            "SELECT id, name, price_cents, stock FROM items ORDER BY id LIMIT $1 OFFSET $2",
        )
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(item_of_row).collect())
    }

    /// Deletes an item that has no orders.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped while the delete is at the database, the
    /// item may be gone without the caller knowing; a retry then gets `NotFound`.
    pub async fn delete_item(&self, id: i64) -> Result<(), StoreError> {
        let deleted = sqlx::query("DELETE FROM items WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await;
        match deleted {
            Ok(done) if done.rows_affected() == 1 => Ok(()),
            Ok(_) => Err(StoreError::NotFound { what: "item", id }),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                Err(StoreError::Ordered(id))
            }
            Err(other) => Err(classify(other)),
        }
    }

    // ANCHOR: place_order
    /// Places an order: takes the quantity from the item's stock and records the order,
    /// in one transaction, so both happen or neither does. Returns the order and the
    /// stock left.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. Dropped before the commit (a client that hung up,
    /// a request timeout), the transaction rolls back: neither the stock nor the orders
    /// change. Dropped during the commit, the caller cannot know whether the order was
    /// placed.
    pub async fn place_order(&self, new: &NewOrder) -> Result<(Order, i64), StoreError> {
        let mut tx = self.writer.begin().await.map_err(classify)?;
        let Some((price_cents, stock_left)) = take_stock(&mut tx, new).await? else {
            drop(tx); // rolls back; then say why nothing was taken
            let item = self.item(new.item_id).await?;
            return Err(StoreError::OutOfStock {
                item_id: item.id,
                stock: item.stock,
            });
        };
        let order = record_order(&mut tx, new, price_cents * new.quantity).await?;
        tx.commit().await.map_err(classify)?;
        Ok((order, stock_left))
    }
    // ANCHOR_END: place_order

    /// The order with this id.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    pub async fn order(&self, id: i64) -> Result<Order, StoreError> {
        sqlx::query_as::<_, (i64, i64, i64, i64)>(
            "SELECT id, item_id, quantity, total_cents FROM orders WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .map(|(id, item_id, quantity, total_cents)| Order {
            id,
            item_id,
            quantity,
            total_cents,
        })
        .ok_or(StoreError::NotFound { what: "order", id })
    }

    /// How many orders there are, and their total.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    pub async fn summary(&self) -> Result<(i64, i64), StoreError> {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT COUNT(*), CAST(COALESCE(SUM(total_cents), 0) AS BIGINT) FROM orders",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(classify)
    }

    /// Closes every connection, waiting for those in use to come back.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: the pools are closed at the first poll (no new
    /// acquires); a drop only stops the wait for connections in use, which close when they
    /// come back.
    pub async fn close(&self) {
        tokio::join!(self.pool.close(), self.writer.close());
    }
}

// ANCHOR: order_statements
/// Takes the quantity from the stock, if there is enough; returns the item's price and
/// the stock left, or `None`. The guarded `UPDATE` takes the row's lock first, so two
/// orders for the last unit cannot both succeed.
async fn take_stock(
    tx: &mut Transaction<'_, Any>,
    new: &NewOrder,
) -> Result<Option<(i64, i64)>, StoreError> {
    sqlx::query_as::<_, (i64, i64)>(
        "UPDATE items SET stock = stock - $1 WHERE id = $2 AND stock >= $1 \
         RETURNING price_cents, stock",
    )
    .bind(new.quantity)
    .bind(new.item_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(classify)
}

/// Records the order in the same transaction.
async fn record_order(
    tx: &mut Transaction<'_, Any>,
    new: &NewOrder,
    total_cents: i64,
) -> Result<Order, StoreError> {
    let (id,) = sqlx::query_as::<_, (i64,)>(
        "INSERT INTO orders (item_id, quantity, total_cents) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(new.item_id)
    .bind(new.quantity)
    .bind(total_cents)
    .fetch_one(&mut **tx)
    .await
    .map_err(classify)?;
    Ok(Order {
        id,
        item_id: new.item_id,
        quantity: new.quantity,
        total_cents,
    })
}
// ANCHOR_END: order_statements

// ANCHOR: pool_options
/// What every pool of the store shares: how many connections, and how long a request
/// waits for one before it is answered 503.
fn pool_options(max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
}

/// SQLite's connections: writers wait for the lock instead of failing, readers never
/// block the writer, foreign keys are checked. `synchronous = NORMAL`, WAL mode's usual
/// setting, leaves out the fsync at each commit: a crash of the process loses nothing,
/// a power cut may lose the last commits, and the file is never corrupted. No ping
/// before each use: a SQLite connection is a handle on a file in this process, never
/// dropped by a server, and the ping would be one more trip to its worker thread.
fn sqlite_pool_options(max_connections: u32) -> AnyPoolOptions {
    pool_options(max_connections)
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA busy_timeout = 5000").await?;
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                Ok(())
            })
        })
}
// ANCHOR_END: pool_options

fn item_of_row((id, name, price_cents, stock): (i64, String, i64, i64)) -> Item {
    Item {
        id,
        name,
        price_cents,
        stock,
    }
}

/// A pool that timed out is [`StoreError::Busy`] (503, try again), not a fault.
fn classify(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut => StoreError::Busy,
        other => StoreError::Database(other),
    }
}
