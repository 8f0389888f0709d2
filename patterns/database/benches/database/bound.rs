//! The SQLite bounds: SQLite's C library called in a loop on the calling thread, with no
//! runtime, no pool and no hand-off to a worker. rusqlite is the thinnest safe way to call
//! it: a statement prepared once, then `bind`, `step` and `reset` per row.

use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

/// How the bound commits its rows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Commits {
    /// All rows in one transaction, as a bulk insert does.
    Once,
    /// Each row in a transaction of its own, as an insert one by one does.
    EachRow,
}

/// The rows as the bounds (and the pattern's `insert_users_sqlite`) take them.
pub(crate) fn pairs(names: &[String], emails: &[String]) -> Vec<(String, String)> {
    names.iter().cloned().zip(emails.iter().cloned()).collect()
}

/// Opens `path` as the pattern's pool opens it: write-ahead log, `synchronous = NORMAL`.
fn open(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

/// Inserts `rows` into `users`, committed as `commits` says.
pub(crate) fn insert_rows(
    path: &str,
    rows: &[(String, String)],
    commits: Commits,
) -> anyhow::Result<()> {
    const INSERT: &str = "INSERT INTO users (name, email) VALUES (?1, ?2)";
    let mut conn = open(path)?;
    match commits {
        Commits::Once => {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut insert = tx.prepare(INSERT)?;
                for (name, email) in rows {
                    insert.execute((name, email))?;
                }
            }
            tx.commit()?;
        }
        // Outside a transaction, SQLite commits each statement on its own.
        Commits::EachRow => {
            let mut insert = conn.prepare(INSERT)?;
            for (name, email) in rows {
                insert.execute((name, email))?;
            }
        }
    }
    Ok(())
}

/// Selects ids `1..=n` of `users` one after another; returns how many were found.
pub(crate) fn select_rows(path: &str, n: i64) -> anyhow::Result<usize> {
    let conn = open(path)?;
    let mut select = conn.prepare("SELECT id, name, email FROM users WHERE id = ?1")?;
    let mut found = 0;
    for id in 1..=n {
        let mut rows = select.query([id])?;
        if let Some(row) = rows.next()? {
            let _: (i64, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
            found += 1;
        }
    }
    Ok(found)
}
