//! A real SIGINT triggers the shutdown. In a file of its own, so the signal reaches a
//! process whose only test is this one.
#![cfg(unix)]

use std::time::Duration;

use patterns_core::Shutdown;

#[tokio::test]
async fn ctrl_c_triggers_the_shutdown() {
    let shutdown = Shutdown::new();
    shutdown.trigger_on_ctrl_c().unwrap();
    external_tools::interrupt(std::process::id()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), shutdown.triggered())
        .await
        .expect("SIGINT cancels the token");
}
