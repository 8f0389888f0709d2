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
