//! Every resource function dropped mid-await: what is released, what is left, as each
//! `# Cancel safety` section says.

use std::path::PathBuf;
use std::time::Duration;

use fixture_server::{Blackhole, FixtureServer};
use patterns_core::AsyncResource;
use patterns_core::resource::background_releases;
use resources::{
    Connection, ScratchDir, contend, critical_section, fetch_through_stack, process_file,
    process_files, write_files,
};
use tokio::sync::Mutex;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

/// The entries of the temporary directory whose names start with `prefix`.
fn temp_entries(prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect()
}

#[test]
fn create_dropped_while_the_directory_is_made_leaves_none_behind() {
    let prefix = format!("cancel-create-{}-", std::process::id());
    for _ in 0..20 {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            // The first poll hands the work to the blocking pool; then the future goes.
            cancel_check::drop_pending(ScratchDir::create(&prefix)).await;
        });
        drop(runtime); // waits for the blocking pool, so the directory work is over
    }
    assert_eq!(temp_entries(&prefix), Vec::<PathBuf>::new());
}

#[test]
fn write_files_dropped_finishes_the_writes_it_handed_over_whole() {
    let dir = std::env::temp_dir().join(format!("cancel-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        cancel_check::drop_pending(write_files(&dir, &[1000, 2000, 3000])).await;
    });
    drop(runtime);
    let files: Vec<(String, u64)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    // Some writes were handed over, some not: those that were finished, whole.
    assert!(
        !files.is_empty(),
        "the first poll hands at least one write over"
    );
    for (name, len) in files {
        let expected = match name.as_str() {
            "file1.txt" => 1000,
            "file2.txt" => 2000,
            _ => 3000,
        };
        assert_eq!(len, expected, "{name} is whole");
    }
}

#[tokio::test(start_paused = true)]
async fn a_critical_section_dropped_inside_frees_the_lock_and_is_half_done() {
    let lock = Mutex::new(Vec::new());
    let hold = Duration::from_secs(10);
    cancel_check::drop_pending_after(
        critical_section(&lock, "a", hold),
        tokio::time::sleep(hold / 2),
    )
    .await;
    let journal = lock.try_lock().expect("the lock is free again").clone();
    assert_eq!(journal, ["a acquired"], "half done: no release line");
    cancel_check::drop_pending_after(contend(&["b", "c"], hold), tokio::time::sleep(hold / 2))
        .await;
}

#[tokio::test(start_paused = true)]
async fn processing_dropped_leaves_the_files_as_they_were() {
    let dir = std::env::temp_dir().join(format!("cancel-process-{}", std::process::id()));
    tokio::fs::create_dir_all(&dir).await.unwrap();
    let paths = write_files(&dir, &[10, 20]).await.unwrap();
    let work = Duration::from_secs(60);
    cancel_check::drop_pending_after(process_file(&paths[0], work), tokio::time::sleep(work / 2))
        .await;
    cancel_check::drop_pending_after(process_files(&paths, work), tokio::time::sleep(work / 2))
        .await;
    let sizes: Vec<usize> = paths
        .iter()
        .map(|p| std::fs::read(p).unwrap().len())
        .collect();
    tokio::fs::remove_dir_all(&dir).await.unwrap();
    assert_eq!(sizes, [10, 20]);
}

#[tokio::test]
async fn connect_dropped_mid_connect_leaves_no_task() {
    let hole = Blackhole::start().await.unwrap();
    let url = format!("http://{}", hole.addr());
    cancel_check::drop_pending_after(
        Connection::connect(&url),
        tokio::time::sleep(Duration::from_millis(200)),
    )
    .await;
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        0
    );
}

#[tokio::test]
async fn fetch_dropped_mid_request_spends_the_connection_and_release_still_works() {
    let server = FixtureServer::start().await.unwrap();
    let mut connection = Connection::connect(&server.base_url()).await.unwrap();
    let mut in_flight = server.open_connections();
    in_flight.wait_for(|n| *n == 1).await.unwrap();
    // Dropped once the server has the request.
    let arrived = async {
        while server.stats().requests == 0 {
            tokio::task::yield_now().await;
        }
    };
    cancel_check::drop_pending_after(connection.fetch("/delay/20000"), arrived).await;
    assert!(
        server.connections_close_to(0, LIMIT).await,
        "hyper closed it"
    );
    timeout(LIMIT, connection.release())
        .await
        .expect("release returns")
        .expect("and succeeds");
}

#[tokio::test]
async fn fetch_through_stack_dropped_releases_everything_it_entered() {
    let server = FixtureServer::start().await.unwrap();
    let before = temp_entries("resources-").len();
    let urls = vec![server.base_url(); 3];
    let dropped = server
        .drop_once_connected(fetch_through_stack(&urls, "/delay/20000"), 3, LIMIT)
        .await;
    background_releases().await;
    assert_eq!(dropped, Ok(()));
    assert_eq!(
        temp_entries("resources-").len(),
        before,
        "scratch directory removed"
    );
}
