// `Rc` counts its owners without atomics, so it cannot cross threads. A spawned task may
// resume on another worker after any `.await`, so an `Rc` alive across one makes the
// task's future not `Send` (`scraper::Html` is the same inside).
use std::rc::Rc;

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        tokio::spawn(async {
            let shared = Rc::new(42);
            tokio::task::yield_now().await; // `shared` is still alive here
            println!("{shared}");
        })
        .await
        .unwrap();
    });
}
