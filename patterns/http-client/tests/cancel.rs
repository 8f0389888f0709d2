//! Every http-client function dropped mid-request: its connections close, as each
//! `# Cancel safety` section says. The fixture server's count of open connections is the
//! oracle.

use std::time::Duration;

use fixture_server::FixtureServer;
use http_client::{
    ExponentialBuilder, HttpTimeouts, User, client, get_bytes, get_json, send_with_retry,
    user_and_first_posts,
};
use reqwest::{Method, Request};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn every_call_dropped_mid_request_leaves_no_connection_open() {
    let server = FixtureServer::start().await.unwrap();
    let client = client(HttpTimeouts {
        connect: LIMIT,
        read: LIMIT,
        total: LIMIT,
    })
    .unwrap();
    let slow = server.url("/delay/20000");
    let base = server.url("/delay/20000?");
    let request = Request::new(Method::GET, slow.parse().unwrap());
    let backoff = ExponentialBuilder::default().with_max_times(3);
    let drops = [
        (
            "get_bytes",
            server
                .drop_once_connected(get_bytes(&client, &slow), 1, LIMIT)
                .await,
        ),
        (
            "get_json",
            server
                .drop_once_connected(get_json::<User>(&client, &slow), 1, LIMIT)
                .await,
        ),
        (
            "user_and_first_posts",
            server
                .drop_once_connected(user_and_first_posts(&client, &base, 1, 3), 4, LIMIT)
                .await,
        ),
        (
            "send_with_retry",
            server
                .drop_once_connected(send_with_retry(&client, request, backoff), 1, LIMIT)
                .await,
        ),
    ];
    FixtureServer::assert_all_dropped_cleanly(drops);
}
