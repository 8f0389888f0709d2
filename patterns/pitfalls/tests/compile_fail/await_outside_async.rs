// Python: `await` in a plain `def` is a SyntaxError. Rust: error E0728.
async fn fetch() -> u32 {
    42
}

fn main() {
    let answer = fetch().await;
    println!("{answer}");
}
