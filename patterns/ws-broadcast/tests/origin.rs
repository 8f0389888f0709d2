//! The upgrade checks where a browser connection comes from: a page on another site is
//! refused with 403 before it joins, a client without `Origin` (not a browser) and the
//! server's own page are let in, and `--allow-origin` replaces the default. Real
//! tokio-tungstenite clients on loopback.

use std::time::Duration;

use tokio::time::timeout;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error, http::StatusCode};
use ws_broadcast::origin::Origins;
use ws_broadcast::server::{Server, ServerConfig};

const LIMIT: Duration = Duration::from_secs(20);

async fn start(origins: Origins) -> Server {
    let mut config = ServerConfig::loopback();
    config.origins = origins;
    Server::start(config).unwrap()
}

/// Opens `/ws?name=NAME`, with `Origin: origin` when given; the handshake's status.
async fn upgrade(server: &Server, name: &str, origin: Option<&str>) -> StatusCode {
    let mut request = format!("{}?name={name}", server.ws_url())
        .into_client_request()
        .unwrap();
    if let Some(origin) = origin {
        let value = HeaderValue::from_str(origin).unwrap();
        request.headers_mut().insert("origin", value);
    }
    match timeout(LIMIT, connect_async(request))
        .await
        .expect("an answer")
    {
        Ok((_socket, response)) => response.status(),
        Err(Error::Http(response)) => response.status(),
        Err(other) => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_cross_site_upgrade_is_refused_before_it_joins() {
    let server = start(Origins::default()).await;
    let status = upgrade(&server, "mallory", Some("http://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let other_port = format!("http://{}", server.tcp_addr());
    assert_eq!(
        upgrade(&server, "mallory", Some(&other_port)).await,
        StatusCode::FORBIDDEN
    );
    assert!(
        server.hub().members().is_empty(),
        "the refused client never joined"
    );
}

#[tokio::test]
async fn the_servers_own_page_and_a_client_without_origin_are_let_in() {
    let server = start(Origins::default()).await;
    let own = format!("http://{}", server.http_addr());
    assert_eq!(
        upgrade(&server, "ada", Some(&own)).await,
        StatusCode::SWITCHING_PROTOCOLS
    );
    assert_eq!(
        upgrade(&server, "bob", None).await,
        StatusCode::SWITCHING_PROTOCOLS
    );
}

#[tokio::test]
async fn an_allow_list_lets_in_exactly_its_origins() {
    let listed = "https://chat.example.com";
    let server = start(Origins::List(vec![listed.into()])).await;
    assert_eq!(
        upgrade(&server, "ada", Some(listed)).await,
        StatusCode::SWITCHING_PROTOCOLS
    );
    let own = format!("http://{}", server.http_addr());
    assert_eq!(
        upgrade(&server, "bob", Some(&own)).await,
        StatusCode::FORBIDDEN
    );
}
