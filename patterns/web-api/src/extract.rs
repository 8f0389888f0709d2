//! Extractors that check a request against its model, as FastAPI does before a handler
//! runs, and answer what does not fit with an [`ApiError`] naming the field.
//!
//! axum's own `Json`, `Query` and `Path` reject with plain text; these read the same parts
//! and add two steps: serde's error is located with `serde_path_to_error` (which field,
//! how deep), and the value is checked with `validator` (ranges, lengths).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};

// ANCHOR: valid_json
/// A JSON body that parsed into `T` and passed `T`'s checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidJson<T>(pub T);

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::NotJson);
        }
        let body =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection {
                    BytesRejection::FailedToBufferBody(_) => ApiError::TooLarge,
                    other => ApiError::Malformed(other.body_text()),
                })?;
        let value: T = parse_json(&body)?;
        value.validate().map_err(|e| invalid("body", &e))?;
        Ok(Self(value))
    }
}
// ANCHOR_END: valid_json

/// Parses a JSON body: bytes that are not JSON are a 400, JSON that does not fit `T` is
/// a 422 naming the field.
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut reader = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut reader).map_err(|error| {
        let inner = error.inner();
        if inner.is_data() {
            ApiError::Invalid(vec![field_error("body", &error.path().to_string(), inner)])
        } else {
            ApiError::Malformed(format!("the body is not valid JSON: {inner}"))
        }
    })
}

/// A query string that parsed into `T` and passed `T`'s checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ValidQuery<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let reader = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        let value: T = serde_path_to_error::deserialize(reader).map_err(|error| {
            ApiError::Invalid(vec![field_error(
                "query",
                &error.path().to_string(),
                error.inner(),
            )])
        })?;
        value.validate().map_err(|e| invalid("query", &e))?;
        Ok(Self(value))
    }
}

/// Path parameters that parsed into `T` (`/items/{id}` into [`crate::Id`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ValidPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                Err(ApiError::Invalid(vec![path_error(error.kind())]))
            }
            Err(other) => Err(ApiError::Internal(anyhow::anyhow!(other.body_text()))),
        }
    }
}

fn path_error(kind: &axum::extract::path::ErrorKind) -> FieldError {
    use axum::extract::path::ErrorKind;
    match kind {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => FieldError::new(
            "path",
            key,
            "type",
            format!("{value:?} is not a valid {}", short_type(expected_type)),
        ),
        other => FieldError::new("path", "", "type", other.to_string()),
    }
}

/// `i64` from `core::primitive::i64`, as a person would write it.
fn short_type(name: &str) -> &str {
    name.rsplit("::").next().unwrap_or(name)
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence.to_ascii_lowercase().ends_with("+json")
}

// ANCHOR: field_error_of_serde
/// Names the field of a serde error. serde reports a missing field at its parent, so the
/// name is read from the message (serde writes it as "missing field `name`").
fn field_error(part: &str, path: &str, error: &dyn std::fmt::Display) -> FieldError {
    let message = error.to_string();
    let reason = message.split(" at line ").next().unwrap_or(&message);
    if let Some(field) = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        let path = if path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return FieldError::new(part, &path, "missing", "field required");
    }
    let path = if path == "." { "" } else { path };
    FieldError::new(part, path, "type", reason)
}
// ANCHOR_END: field_error_of_serde

/// Every failed check of `validator`, one [`FieldError`] each, in field order.
fn invalid(part: &str, errors: &ValidationErrors) -> ApiError {
    let mut fields = Vec::new();
    collect(part, "", errors, &mut fields);
    fields.sort_by(|a, b| a.loc.cmp(&b.loc));
    ApiError::Invalid(fields)
}

fn collect(part: &str, prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    out.push(FieldError::new(part, &path, &error.code, describe(error)));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(part, &path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(part, &format!("{path}.{index}"), inner, out);
                }
            }
        }
    }
}

/// "must be between 0 and 100", from the check's own parameters.
fn describe(error: &validator::ValidationError) -> String {
    if let Some(message) = &error.message {
        return message.to_string();
    }
    let param = |name: &str| error.params.get(name).map(ToString::to_string);
    let unit = if error.code == "length" {
        " characters"
    } else {
        ""
    };
    match (param("min"), param("max")) {
        (Some(min), Some(max)) => format!("must be between {min} and {max}{unit}"),
        (Some(min), None) => format!("must be at least {min}{unit}"),
        (None, Some(max)) => format!("must be at most {max}{unit}"),
        (None, None) => format!("fails the {} check", error.code),
    }
}
