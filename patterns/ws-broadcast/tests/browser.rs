//! The chat page in a real browser: headless Chromium, driven over WebDriver (chromedriver
//! and the fantoccini crate), opens the page twice, and the two tabs chat. A screenshot of
//! one of them is saved as a test artifact. Skips visibly without Chromium; fails under
//! `CI=true`.

use external_tools::chromium::ChromeDriver;
use external_tools::require;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use ws_broadcast::server::{Server, ServerConfig};

async fn open_and_join(driver: &ChromeDriver, page: &str, name: &str) -> Client {
    let browser = ClientBuilder::new(HttpConnector::new())
        .capabilities(driver.headless_capabilities())
        .connect(&driver.url())
        .await
        .expect("a WebDriver session");
    browser.goto(page).await.unwrap();
    browser
        .find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys(name)
        .await
        .unwrap();
    browser
        .find(Locator::Id("join"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    see(&browser, "present", name).await;
    browser
}

/// Waits (fantoccini polls the page, up to its 30 s default) for a list item with exactly
/// `text` in the list `id`.
async fn see(browser: &Client, id: &str, text: &str) {
    let item = format!("//ul[@id='{id}']/li[normalize-space(.)='{text}']");
    browser
        .wait()
        .for_element(Locator::XPath(&item))
        .await
        .unwrap_or_else(|e| panic!("no {text:?} in #{id}: {e}"));
}

async fn say(browser: &Client, text: &str) {
    browser
        .find(Locator::Id("text"))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
    browser
        .find(Locator::Id("send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

// ANCHOR: browser
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browser_tabs_chat_through_the_page() {
    let Some(driver) = require("headless Chromium (the page test)", ChromeDriver::start()) else {
        return;
    };
    let server = Server::start(ServerConfig::loopback()).unwrap();
    let page = format!("http://{}/", server.http_addr());
    let alice = open_and_join(&driver, &page, "alice").await;
    let bob = open_and_join(&driver, &page, "bob").await;
    see(&alice, "present", "bob").await;
    see(&bob, "present", "alice").await;

    say(&alice, "hello from alice").await;
    see(&bob, "log", "alice: hello from alice").await;
    say(&bob, "hi alice, bob here").await;
    see(&alice, "log", "bob: hi alice, bob here").await;

    let screenshot = alice.screenshot().await.unwrap();
    assert!(screenshot.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ws-broadcast-chat.png");
    std::fs::write(&path, screenshot).unwrap();
    eprintln!("screenshot: {}", path.display());

    alice.close().await.unwrap();
    bob.close().await.unwrap();
    let report = server.shut_down(std::time::Duration::from_secs(5)).await;
    assert!(report.is_clean());
}
// ANCHOR_END: browser
