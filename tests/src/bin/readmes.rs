//! Writes every pattern's `README.md` from its chapter in `docs/src/patterns/`:
//!
//! ```text
//! cargo run -p workspace-tests --bin readmes
//! ```

fn main() -> anyhow::Result<()> {
    let root = workspace_tests::workspace_root();
    for pattern in workspace_tests::patterns()? {
        let text = workspace_tests::chapters::readme(&root, &pattern.name)?;
        let path = pattern.dir.join("README.md");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
