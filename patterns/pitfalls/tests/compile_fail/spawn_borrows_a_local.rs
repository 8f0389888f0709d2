// `tokio::spawn` takes a `'static` future: the task may outlive the function that spawned
// it, so it cannot borrow that function's locals. Move them in (`async move`), or share
// them (`Arc`).
fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let names = vec!["ada".to_owned(), "bob".to_owned()];
        let task = tokio::spawn(async {
            println!("{}", names.len()); // a borrow of `names`, a local of the caller
        });
        task.await.unwrap();
    });
}
