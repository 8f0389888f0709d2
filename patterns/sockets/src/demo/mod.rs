//! The demo's longer parts, one file each.

pub(crate) mod tls;
pub(crate) mod unix_json;
