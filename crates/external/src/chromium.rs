//! Headless Chromium for the page tests: Debian's `chromium`, driven over WebDriver by
//! Debian's `chromedriver`, which this starts on a free loopback port and stops on drop.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

/// A running chromedriver.
#[derive(Debug)]
pub struct ChromeDriver {
    child: Child,
    port: u16,
    chromium: PathBuf,
}

impl ChromeDriver {
    /// Starts chromedriver, or says what is missing (`.ci/run` installs Debian's
    /// `chromium` and `chromium-driver`).
    pub fn start() -> Result<Self, String> {
        let chromium = find(&["chromium", "chromium-browser", "google-chrome"])?;
        let driver = find(&["chromedriver"])?;
        let port = crate::free_port()?;
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", driver.display()))?;
        let mut driver = Self {
            child,
            port,
            chromium,
        };
        driver.wait_until_listening(Duration::from_secs(20))?;
        Ok(driver)
    }

    /// The WebDriver endpoint, for `fantoccini::ClientBuilder::connect`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Capabilities for a headless session of this machine's Chromium, with a profile of
    /// its own. The flags keep it off the network (this machine has none) and work as root.
    pub fn headless_capabilities(&self) -> Map<String, Value> {
        let options = json!({
            "binary": self.chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=900,700",
            ],
        });
        let mut capabilities = Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        capabilities
    }

    fn wait_until_listening(&mut self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("chromedriver exited at start: {status}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "chromedriver not listening on {} within {within:?}",
            self.port
        ))
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(names: &[&str]) -> Result<PathBuf, String> {
    names
        .iter()
        .find_map(|name| crate::on_path(name))
        .ok_or_else(|| {
            format!("none of {names:?} on PATH (Debian: apt-get install chromium chromium-driver)")
        })
}
