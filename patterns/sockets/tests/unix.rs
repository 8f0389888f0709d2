//! The Unix socket listener: its file removed on drop, a stale file taken over, a live
//! one refused, a file that is not a socket left alone, and its permissions.

use std::os::unix::fs::PermissionsExt;

use sockets::unix::UnixServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

#[tokio::test]
async fn a_client_connects_and_the_file_goes_with_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.sock");
    let server = UnixServer::bind(&path, 0o600).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let mut client = UnixStream::connect(&path).await.unwrap();
    let mut accepted = server.accept().await.unwrap();
    client.write_all(b"hi").await.unwrap();
    let mut got = [0; 2];
    accepted.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"hi");
    drop(server);
    assert!(!path.exists(), "the socket file is removed on drop");
}

#[tokio::test]
async fn a_stale_socket_file_is_taken_over_and_a_live_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    // A crashed server: its listener gone, its file left (std's listener never removes it).
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let live = UnixServer::bind(&path, 0o600).await.unwrap();
    let refused = UnixServer::bind(&path, 0o600).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::AddrInUse, "{refused}");
    assert!(path.exists(), "the live server's file is untouched");
    drop(live);
}

#[tokio::test]
async fn a_file_that_is_not_a_socket_is_never_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "keep me").unwrap();
    let refused = UnixServer::bind(&path, 0o600).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
}
