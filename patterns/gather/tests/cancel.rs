//! Every gather function dropped mid-request: its connections close, none is left open
//! or running on, as each `# Cancel safety` section says. The fixture server counts the
//! open connections, the oracle.

use std::time::Duration;

use fixture_server::FixtureServer;
use gather::{
    Order, fetch, fetch_bounded, fetch_join_all, fetch_join_set, fetch_json, fetch_sequential,
    fetch_try_join_all, user_and_posts,
};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn every_gather_dropped_mid_request_leaves_no_connection_open() {
    let server = FixtureServer::start().await.unwrap();
    let client = reqwest::Client::new();
    let slow = server.url("/delay/20000");
    let urls = vec![slow.clone(); 4];
    let base = server.url("/delay/20000?");
    let drops = [
        (
            "fetch",
            server
                .drop_once_connected(fetch(&client, &slow), 1, LIMIT)
                .await,
        ),
        (
            "fetch_json",
            server
                .drop_once_connected(fetch_json::<gather::User>(&client, slow.clone()), 1, LIMIT)
                .await,
        ),
        (
            "fetch_sequential",
            server
                .drop_once_connected(fetch_sequential(&client, &urls), 1, LIMIT)
                .await,
        ),
        (
            "fetch_join_all",
            server
                .drop_once_connected(fetch_join_all(&client, &urls), 4, LIMIT)
                .await,
        ),
        (
            "fetch_try_join_all",
            server
                .drop_once_connected(fetch_try_join_all(&client, &urls), 4, LIMIT)
                .await,
        ),
        (
            "fetch_join_set",
            server
                .drop_once_connected(fetch_join_set(&client, &urls), 4, LIMIT)
                .await,
        ),
        (
            "fetch_bounded",
            server
                .drop_once_connected(fetch_bounded(&client, &urls, 2, Order::Input), 2, LIMIT)
                .await,
        ),
        (
            "user_and_posts",
            // Both URLs start with the slow path: /delay/20000?/users/1 waits 20 s too.
            server
                .drop_once_connected(user_and_posts(&client, &base, 1), 2, LIMIT)
                .await,
        ),
    ];
    FixtureServer::assert_all_dropped_cleanly(drops);
}
