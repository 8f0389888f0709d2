// Python warns "coroutine ... was never awaited" when the coroutine is collected; Rust's
// `unused_must_use` lint warns at compile time, and a crate can make it an error.
#![deny(unused_must_use)]

async fn save() {}

async fn handler() {
    save(); // forgot `.await`: nothing is saved
}

fn main() {
    let _handler = handler();
}
