//! One vocabulary for the demos' flags: what a bad value is told, in one line.
//!
//! Each function here is a clap value parser (`#[arg(long, value_parser = cli::http_url)]`),
//! so a bad value is refused before the demo starts, and clap's one line names the flag and
//! the value once; the reason is ours:
//!
//! ```text
//! error: invalid value 'ftp://x' for '--url <URL>': only http and https are supported, not ftp
//! ```
//!
//! The same checks are plain functions, so a library or a test can call them too.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

pub use url::Url;

/// An absolute `http` or `https` URL with a host: what every `--url` flag takes.
///
/// ```
/// use patterns_core::cli::http_url;
/// assert!(http_url("https://tokio.rs/blog").is_ok());
/// assert_eq!(http_url("tokio.rs").unwrap_err(), "not an absolute URL: expected http://host/...");
/// assert_eq!(http_url("ftp://x").unwrap_err(), "only http and https are supported, not ftp");
/// ```
pub fn http_url(value: &str) -> Result<Url, String> {
    let url = match Url::parse(value.trim()) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            return Err("not an absolute URL: expected http://host/...".into());
        }
        Err(error) => return Err(format!("not a valid URL: {error}")),
    };
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("only http and https are supported, not {other}")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(url)
}

/// `HOST:PORT` to listen on: an IP address (`127.0.0.1:8080`, `[::1]:0`) or a name the
/// machine resolves (`localhost:8080`), taking its first address.
pub fn listen_addr(value: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = value.parse() {
        return Ok(addr);
    }
    let Some((host, port)) = value.rsplit_once(':') else {
        return Err("expected HOST:PORT, for example 127.0.0.1:8080".into());
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("the port must be a number from 0 to 65535, not '{port}'"))?;
    match (host, port).to_socket_addrs() {
        Ok(mut addrs) => addrs
            .next()
            .ok_or_else(|| format!("'{host}' has no address")),
        Err(_) => Err(format!("cannot resolve '{host}'")),
    }
}

/// A directory that exists and can be read.
pub fn existing_dir(value: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(value);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => match std::fs::read_dir(&path) {
            Ok(_) => Ok(path),
            Err(error) => Err(format!("cannot read the directory: {}", io_reason(&error))),
        },
        Ok(_) => Err("is a file, not a directory".into()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Err("no such directory".into())
        }
        Err(error) => Err(io_reason(&error)),
    }
}

/// "permission denied", not "Permission denied (os error 13)".
fn io_reason(error: &std::io::Error) -> String {
    let text = error.kind().to_string();
    text.strip_suffix('.').unwrap_or(&text).to_lowercase()
}

/// `1 task`, `2 tasks`: a count and its noun, plural when it is not one.
///
/// ```
/// use patterns_core::cli::count;
/// assert_eq!(count(1, "request"), "1 request");
/// assert_eq!(count(0, "URL"), "0 URLs");
/// ```
pub fn count(n: impl TryInto<u64>, noun: &str) -> String {
    // Every unsigned count fits in a u64 on the machines Rust supports.
    match n.try_into().unwrap_or(u64::MAX) {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_web_urls_pass() {
        for bad in [
            "not a url",
            "ftp://x",
            "mailto:ada@example.com",
            "file:///etc/passwd",
            "http://",
            "http://[::1",
            "",
        ] {
            let reason = http_url(bad).expect_err(bad);
            assert!(!reason.contains(bad) || bad.is_empty(), "{reason}");
        }
        for good in [
            "http://127.0.0.1:1/",
            "https://tokio.rs",
            " http://x/a?b=c ",
        ] {
            assert!(http_url(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn listen_addresses_resolve_names() {
        assert_eq!(listen_addr("127.0.0.1:80").unwrap().port(), 80);
        assert!(listen_addr("localhost:8080").unwrap().ip().is_loopback());
        assert_eq!(
            listen_addr("localhost").unwrap_err(),
            "expected HOST:PORT, for example 127.0.0.1:8080"
        );
        assert_eq!(
            listen_addr("localhost:99999").unwrap_err(),
            "the port must be a number from 0 to 65535, not '99999'"
        );
        assert!(listen_addr("no-such-host.invalid:80").is_err());
    }

    #[test]
    fn directories_are_told_apart_from_files() {
        let dir = tempfile_dir();
        let file = dir.join("page.html");
        std::fs::write(&file, "x").unwrap();
        assert!(existing_dir(dir.to_str().unwrap()).is_ok());
        assert_eq!(
            existing_dir(file.to_str().unwrap()).unwrap_err(),
            "is a file, not a directory"
        );
        assert_eq!(
            existing_dir(dir.join("absent").to_str().unwrap()).unwrap_err(),
            "no such directory"
        );
        // Any other failure is named by its kind, in lower case, without the OS number.
        assert_eq!(
            existing_dir(file.join("inside").to_str().unwrap()).unwrap_err(),
            "not a directory"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cli-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1u8, "task"), "1 task");
        assert_eq!(count(3u32, "task"), "3 tasks");
    }
}
