//! The async-resource vocabulary shared by every pattern of the catalogue.
//!
//! | Python                          | here                                   |
//! |---------------------------------|----------------------------------------|
//! | `__aenter__` / `__aexit__`      | an `async fn` opener + [`AsyncResource`] |
//! | `async with res as r:`          | [`scoped`]                             |
//! | `AsyncExitStack`                | [`ExitStack`], [`with_exit_stack`]     |
//! | `@asynccontextmanager` timer    | [`Timer`], [`timed`]                   |
//! | `KeyboardInterrupt` + cancel all | [`Shutdown`]                           |
//! | `argparse` type checks          | [`cli`]: clap value parsers            |
//!
//! Rust has no async `Drop`: a release that must `await` has to be awaited by someone.
//! [`scoped`] and [`with_exit_stack`] do that on every path (success, error, panic); when
//! the scope itself is cancelled, the release is spawned on the runtime and logged (see
//! [`resource`]).

pub mod app;
pub mod cli;
pub mod error;
pub mod exit_stack;
pub mod resource;
pub mod shutdown;
pub mod timer;

pub use exit_stack::{ExitStack, Handle, ReleaseErrors, ReleaseFailure, with_exit_stack};
pub use resource::{AsyncResource, Guarded, ScopeError, scoped};
pub use shutdown::{Shutdown, ShutdownReport};
pub use timer::{Timer, timed};
