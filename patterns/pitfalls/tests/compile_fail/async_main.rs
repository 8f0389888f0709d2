// Python needs `asyncio.run(main())`; Rust needs a runtime too: `#[tokio::main]`.
async fn main() {
    println!("no runtime runs this");
}
