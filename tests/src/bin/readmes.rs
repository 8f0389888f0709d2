//! Writes every pattern's copy section (`docs/src/copy/<name>.md`, what to copy and its
//! `[dependencies]`, and its Japanese `docs/src/copy/ja/<name>.md`), then its `README.md`
//! and `README.ja.md` from its chapter in `docs/src/patterns/` (the Japanese translated by
//! `docs/po/ja.po`):
//!
//! ```text
//! cargo run -p workspace-tests --bin readmes
//! ```

use external_tools::mdbook::Language;
use workspace_tests::{chapters, copy};

fn main() -> anyhow::Result<()> {
    let root = workspace_tests::workspace_root();
    for language in Language::ALL {
        let sections = root.join(copy::SECTIONS).join(language.folder());
        std::fs::create_dir_all(&sections)?;
        for pattern in workspace_tests::patterns()? {
            let library = copy::library(&root, &pattern.dir)?;
            let section = copy::section(&root, &library, language);
            write_if_changed(&sections.join(format!("{}.md", pattern.name)), &section)?;
        }
    }
    for language in Language::ALL {
        let catalog = chapters::catalog(&root, language)?;
        for pattern in workspace_tests::patterns()? {
            let text = chapters::readme(&root, &pattern.name, language, catalog.as_ref())?;
            write_if_changed(&pattern.dir.join(language.readme()), &text)?;
        }
    }
    Ok(())
}

fn write_if_changed(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
