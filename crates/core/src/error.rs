//! Errors as one line, the way `anyhow` prints `{:#}`, for errors that are not `anyhow`'s.

use std::error::Error;

/// `error: its cause: the root cause`: the error and every `source()` below it.
///
/// reqwest's errors say little at the top (`error sending request`) and the reason
/// (`connection refused`, `operation timed out`) at the bottom of the chain, so a report
/// that prints only `to_string()` hides what went wrong.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

/// The deepest `source()` of `error` (the error itself when it has none).
pub fn root_cause<'a>(error: &'a (dyn Error + 'static)) -> &'a (dyn Error + 'static) {
    let mut deepest = error;
    while let Some(cause) = deepest.source() {
        deepest = cause;
    }
    deepest
}

/// Whether any error in the chain is an `io::Error` of this kind (a refused connection
/// inside a reqwest or hyper error, say).
pub fn has_io_kind(error: &(dyn Error + 'static), kind: std::io::ErrorKind) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == kind)
        {
            return true;
        }
        current = error.source();
    }
    false
}

/// The short reason a network call failed, for a one-line report: the kind of the first
/// `io::Error` in the chain that names one (`connection refused`, `timed out`), else the
/// root cause's text without its `(os error N)` tail (`operation timed out`,
/// `failed to lookup address information: Name or service not known`).
///
/// ```
/// use std::io::{Error, ErrorKind};
/// let refused = Error::new(ErrorKind::ConnectionRefused, "Connection refused (os error 111)");
/// let wrapped = anyhow::Error::new(refused).context("error sending request");
/// assert_eq!(patterns_core::error::reason(wrapped.as_ref()), "connection refused");
/// ```
pub fn reason(error: &(dyn Error + 'static)) -> String {
    use std::io::ErrorKind::*;
    let mut current = Some(error);
    while let Some(error) = current {
        let io = error.downcast_ref::<std::io::Error>();
        if let Some(kind) = io.map(std::io::Error::kind).filter(|kind| {
            matches!(
                kind,
                ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | TimedOut
                    | HostUnreachable
                    | NetworkUnreachable
                    | AddrNotAvailable
                    | BrokenPipe
                    | UnexpectedEof
                    | PermissionDenied
            )
        }) {
            return kind.to_string();
        }
        current = error.source();
    }
    let text = root_cause(error).to_string();
    match text.find(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text,
    }
}

/// The text of a panic's payload, as `catch_unwind` or `JoinError::into_panic` hands it
/// over: `panic!("literal")` gives a `&str`, `panic!("{x}")` a `String`; a payload of
/// another type (`std::panic::panic_any`) has no text to show.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use std::io::{Error as IoError, ErrorKind};

    use super::{chain, has_io_kind, panic_message, reason};

    /// An error that wraps another, the way reqwest wraps hyper's and hyper an `io::Error`.
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Wrapped(
        &'static str,
        #[source] Box<dyn std::error::Error + Send + Sync>,
    );

    fn sending(io: IoError) -> Wrapped {
        Wrapped(
            "error sending request",
            Box::new(Wrapped("client error", Box::new(io))),
        )
    }

    #[test]
    fn a_chain_is_every_error_down_to_the_root() {
        let error = sending(IoError::new(ErrorKind::TimedOut, "operation timed out"));
        assert_eq!(
            chain(&error),
            "error sending request: client error: operation timed out"
        );
        let alone = IoError::other("alone");
        assert_eq!(chain(&alone), "alone");
    }

    #[test]
    fn an_io_kind_is_found_anywhere_in_the_chain_and_only_there() {
        let refused = sending(IoError::from(ErrorKind::ConnectionRefused));
        assert!(has_io_kind(&refused, ErrorKind::ConnectionRefused));
        assert!(!has_io_kind(&refused, ErrorKind::TimedOut));
        let no_io = Wrapped("no io", Box::new(Wrapped("at all", "root".into())));
        assert!(!has_io_kind(&no_io, ErrorKind::ConnectionRefused));
    }

    #[test]
    fn a_reason_drops_the_os_number_only_at_the_end() {
        // A kind the reason does not name: the root cause's text, cut before "(os error N)".
        let numbered = sending(IoError::other("resource busy (os error 16)"));
        assert_eq!(reason(&numbered), "resource busy");
        // A text where the marker is not the tail is kept whole.
        let inside = sending(IoError::other("odd (os error 16) and more"));
        assert_eq!(reason(&inside), "odd (os error 16) and more");
    }

    #[test]
    fn a_panic_message_is_read_from_either_payload_and_never_invented() {
        let literal = std::panic::catch_unwind(|| panic!("literal")).unwrap_err();
        let formatted = std::panic::catch_unwind(|| panic!("{}", 42)).unwrap_err();
        let other = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(panic_message(literal.as_ref()), "literal");
        assert_eq!(panic_message(formatted.as_ref()), "42");
        assert_eq!(panic_message(other.as_ref()), "a panic without a message");
    }
}
