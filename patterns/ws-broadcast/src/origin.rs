//! Which pages may open a WebSocket connection to the chat.
//!
//! A browser lets any page open a WebSocket to any server, and sends the visitor's
//! cookies with it. What it does add is an `Origin` header naming the page's site, which
//! a page cannot forge. A server that ignores it lets a page on another site chat in its
//! visitor's name (cross-site WebSocket hijacking). So the upgrade checks `Origin`
//! against an allow-list, as `websockets.serve(origins=[...])` does in Python, and
//! refuses the others with `403 Forbidden`. A client that is not a browser (tungstenite,
//! `websockets.connect`, `websocat`) sends no `Origin`, and is let in: it acts for nobody
//! but itself.

use axum::http::{HeaderMap, header};

// ANCHOR: origins
/// The pages allowed to open a WebSocket connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Origins {
    /// Pages served by this server itself: the `Origin`'s host and port are the request's
    /// own `Host`. The chat page qualifies wherever the server runs.
    #[default]
    SameHost,
    /// Exactly these origins, as [`parse_origin`] writes them (`https://chat.example.com`).
    /// Python: `websockets.serve(..., origins=[None, "https://chat.example.com"])`.
    List(Vec<String>),
    /// Any page: only for a server behind a proxy that checks `Origin` itself.
    Any,
}

impl Origins {
    /// Whether a request with these headers may upgrade. No `Origin` at all is a client
    /// that is not a browser, and it may.
    pub fn allow(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin.to_str().unwrap_or_default();
        let allowed = match self {
            Self::Any => true,
            Self::List(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
            Self::SameHost => {
                let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
                let origin_host = origin.split_once("://").map(|(_, host)| host);
                host.is_some() && origin_host.is_some_and(|o| Some(o) == host.map(|h| h.trim()))
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(format!("origin {origin:?} is not allowed"))
        }
    }
}
// ANCHOR_END: origins

/// An origin as a browser sends it: `scheme://host[:port]`, lowercase, without the
/// default port, path or trailing slash. For `--allow-origin`.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|why| format!("{text:?} is not an origin: {why}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?}: an origin is http:// or https://"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?}: an origin has no path, such as https://chat.example.com"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        headers
    }

    #[test]
    fn same_host_lets_in_the_servers_own_page_and_no_other() {
        let same = Origins::SameHost;
        assert!(
            same.allow(&headers(Some("http://127.0.0.1:8000"), "127.0.0.1:8000"))
                .is_ok()
        );
        assert!(
            same.allow(&headers(Some("https://chat.example"), "chat.example"))
                .is_ok()
        );
        for other in [
            "http://evil.example",
            "http://127.0.0.1:9000",
            "null",
            "127.0.0.1:8000",
        ] {
            assert!(
                same.allow(&headers(Some(other), "127.0.0.1:8000")).is_err(),
                "{other}"
            );
        }
        assert!(
            same.allow(&headers(None, "127.0.0.1:8000")).is_ok(),
            "no Origin: not a browser"
        );
    }

    #[test]
    fn a_list_lets_in_exactly_its_origins() {
        let list = Origins::List(vec!["https://chat.example.com".into()]);
        let host = "127.0.0.1:8000";
        assert!(
            list.allow(&headers(Some("https://chat.example.com"), host))
                .is_ok()
        );
        assert!(
            list.allow(&headers(Some("https://CHAT.example.com"), host))
                .is_ok()
        );
        assert!(
            list.allow(&headers(Some("http://chat.example.com"), host))
                .is_err()
        );
        assert!(
            list.allow(&headers(Some("http://127.0.0.1:8000"), host))
                .is_err()
        );
        assert!(
            Origins::Any
                .allow(&headers(Some("http://evil.example"), host))
                .is_ok()
        );
    }

    #[test]
    fn origins_are_parsed_as_browsers_write_them() {
        assert_eq!(
            parse_origin("HTTPS://Chat.Example.com:443").unwrap(),
            "https://chat.example.com"
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:8000/").unwrap(),
            "http://127.0.0.1:8000"
        );
        for bad in [
            "chat.example.com",
            "ftp://x",
            "https://x/path",
            "https://x/?q",
            "",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
