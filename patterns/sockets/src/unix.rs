//! Unix domain sockets beside asyncio's `start_unix_server` and `open_unix_connection`:
//! a listener whose socket file is removed when it is dropped, that takes over a file a
//! crashed server left behind but refuses one a live server is using, and that sets the
//! file's permissions.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::{UnixListener, UnixStream};

/// A bound Unix socket whose file goes with it: dropped (at the end of `main`, or when
/// Ctrl-C ends the task that holds it), it removes the file.
#[derive(Debug)]
pub struct UnixServer {
    listener: UnixListener,
    path: PathBuf,
}

impl UnixServer {
    // ANCHOR: bind
    /// Binds `path`, with permissions `mode` (0o600: only this user may connect).
    ///
    /// A socket file already at `path` is removed first if no server answers on it (a
    /// crash left it behind); if one answers, binding fails with `AddrInUse`. A file at
    /// `path` that is not a socket is never removed: that fails with `AlreadyExists`.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it waits only while it asks whether a server answers
    /// on a socket file already at `path`; dropped then, it has bound nothing and
    /// removed nothing.
    pub async fn bind(path: impl AsRef<Path>, mode: u32) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if !meta.file_type().is_socket() => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ));
            }
            Ok(_) => match UnixStream::connect(&path).await {
                Ok(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!("a server is listening on {}", path.display()),
                    ));
                }
                Err(_) => std::fs::remove_file(&path)?, // stale: nobody listens
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = UnixListener::bind(&path)?;
        let server = Self { listener, path };
        std::fs::set_permissions(&server.path, std::fs::Permissions::from_mode(mode))?;
        Ok(server)
    }
    // ANCHOR_END: bind

    /// The next connection.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a connection not yet returned stays in the backlog.
    pub async fn accept(&self) -> io::Result<UnixStream> {
        Ok(self.listener.accept().await?.0)
    }

    /// Where the socket file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for UnixServer {
    fn drop(&mut self) {
        // Another server may have taken the path over since; removing a file that is not
        // ours would be worse than leaving ours, so only a socket file is removed.
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.file_type().is_socket()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
