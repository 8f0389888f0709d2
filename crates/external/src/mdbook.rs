//! mdBook, pinned: the book test builds the book with the same version `.ci/run` installs,
//! so a page that fits today does not overflow under another release's theme.

use std::path::PathBuf;
use std::process::Command;

/// The mdBook release the book is built and tested with (`.ci/run` installs it).
pub const VERSION: &str = "0.5.4";

/// The pinned `mdbook` on `PATH` or in `~/.cargo/bin`, or what is missing.
pub fn find() -> Result<PathBuf, String> {
    let install = format!("cargo install --locked mdbook --version {VERSION}");
    // `cargo install` puts it in ~/.cargo/bin, which a CI shell may not have on PATH.
    let installed = std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cargo/bin/mdbook"))
        .filter(|path| path.is_file());
    let Some(mdbook) = crate::on_path("mdbook").or(installed) else {
        return Err(format!("no mdbook on PATH or in ~/.cargo/bin ({install})"));
    };
    let output = Command::new(&mdbook)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", mdbook.display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if version != format!("mdbook v{VERSION}") {
        return Err(format!(
            "{} is {version:?}, the book is tested with v{VERSION} ({install})",
            mdbook.display()
        ));
    }
    Ok(mdbook)
}

/// The mdbook-i18n-helpers release the Japanese edition is built with (`.ci/run` installs
/// it): `mdbook-gettext` translates the chapters, `mdbook-xgettext` extracts the messages.
pub const I18N_HELPERS_VERSION: &str = "0.4.0";

/// The folder holding `mdbook-gettext` and `mdbook-xgettext`, or what is missing. mdBook
/// runs them by name, so a caller puts this folder on the child's `PATH`.
pub fn find_i18n_helpers() -> Result<PathBuf, String> {
    let install =
        format!("cargo install --locked mdbook-i18n-helpers --version {I18N_HELPERS_VERSION}");
    let on_path = crate::on_path("mdbook-gettext").and_then(|p| p.parent().map(PathBuf::from));
    let in_cargo = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo/bin"));
    [on_path, in_cargo]
        .into_iter()
        .flatten()
        .find(|dir| dir.join("mdbook-gettext").is_file() && dir.join("mdbook-xgettext").is_file())
        .ok_or_else(|| format!("no mdbook-gettext and mdbook-xgettext ({install})"))
}

/// What builds either edition of the book: the pinned mdBook, and the folder holding the
/// pinned mdbook-gettext and mdbook-xgettext, which mdBook runs by name.
#[derive(Debug, Clone)]
pub struct BookTools {
    pub mdbook: PathBuf,
    pub helpers: PathBuf,
}

/// Both of the book's tools, or the first one missing and how to install it.
pub fn find_book_tools() -> Result<BookTools, String> {
    Ok(BookTools {
        mdbook: find()?,
        helpers: find_i18n_helpers()?,
    })
}

/// `PATH` with `dir` in front: for a child that must find the i18n helpers.
pub fn path_with(dir: &std::path::Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// The Japanese edition's title (mdbook-gettext translates the chapters, not `book.title`).
pub const JAPANESE_TITLE: &str = "asyncio から Tokio へ: 非同期パターンのカタログ";

/// The book's two editions: English, the source, and Japanese, translated from it by
/// `docs/po/ja.po`. Generated text (figures, what to copy, READMEs) is written in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Japanese,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::Japanese];

    /// The code mdBook's `book.language` takes.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Japanese => "ja",
        }
    }

    /// Where an edition's files go below the English ones: its generated fragments under
    /// `docs/src/figures` and `docs/src/copy`, and its build under the English book
    /// (`book/ja/`). `""` for English, `"ja"` for Japanese.
    pub fn folder(self) -> &'static str {
        match self {
            Language::English => "",
            Language::Japanese => "ja",
        }
    }

    /// A README's file name in this language.
    pub fn readme(self) -> &'static str {
        match self {
            Language::English => "README.md",
            Language::Japanese => "README.ja.md",
        }
    }
}
