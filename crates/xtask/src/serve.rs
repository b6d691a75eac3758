//! A small static HTTP server over `std::net`, enough to serve the built site to a browser on
//! this machine (`cargo xtask serve`) and to the end-to-end tests, without another dependency.
//! It only answers GET and HEAD, only from one folder, and only on the loopback address.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::util::Error;

/// A server running on a background thread; dropping it stops it.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts serving `root` on 127.0.0.1:`port` (0 picks a free port) in the background.
pub fn start(root: &Path, port: u16) -> Result<Server, Error> {
    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|error| {
        format!(
            "cannot listen on 127.0.0.1:{port}: {error}; is another server using it? try `--port`"
        )
    })?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let root = root.to_path_buf();
    let thread = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let root = root.clone();
                std::thread::spawn(move || {
                    let _ = handle_connection(stream, &root);
                });
            }
        })
    };
    Ok(Server {
        addr,
        stop,
        thread: Some(thread),
    })
}

/// Serves until the process is stopped (Ctrl-C).
pub fn serve_forever(root: &Path, port: u16) -> Result<(), Error> {
    let server = start(root, port)?;
    println!(
        "\nserving {} on {}  (Ctrl-C to stop)",
        root.display(),
        server.url()
    );
    // `park` may return at any time: spuriously, or at once when this thread was unparked
    // before (`std::thread::scope`, which dist's compressors use, unparks the thread that waits
    // for its threads). Returning would drop the server and end `cargo xtask serve`.
    loop {
        std::thread::park();
    }
}

/// Answers requests on one connection until the client closes it or stays idle (keep-alive
/// matters: Chromium opens few connections, and closing each one slows page loads).
fn handle_connection(stream: TcpStream, root: &Path) -> Result<(), Error> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut content_length = 0usize;
        let mut close = false;
        let mut gzip = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                } else if name.eq_ignore_ascii_case("accept-encoding") {
                    gzip = accepts_gzip(value);
                }
            }
        }
        // Skip any body so the next request on this connection starts where it should.
        std::io::copy(
            &mut (&mut reader).take(content_length as u64),
            &mut std::io::sink(),
        )?;

        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("/");
        let response = respond(root, method, target, gzip);
        stream.write_all(&response)?;
        stream.flush()?;
        if close {
            return Ok(());
        }
    }
}

/// True when an `Accept-Encoding` value takes gzip (`gzip`, `gzip;q=0.5`, `*`; not `gzip;q=0`).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

/// The precompressed copy of `path` (`FILE.gz`, written by dist) when there is one at least as
/// new as the file itself: a file edited by hand after the build is served as it now is.
fn gzip_copy(path: &Path) -> Option<Vec<u8>> {
    let mut name = path.file_name()?.to_os_string();
    name.push(crate::dist::GZ);
    let copy = path.with_file_name(name);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&copy)? < modified(path)? {
        return None;
    }
    std::fs::read(copy).ok()
}

fn respond(root: &Path, method: &str, target: &str, gzip: bool) -> Vec<u8> {
    if method != "GET" && method != "HEAD" {
        return plain(
            405,
            "Method Not Allowed",
            "only GET and HEAD are served\n",
            method == "HEAD",
        );
    }
    let Some(path) = resolve(root, target) else {
        return plain(400, "Bad Request", "bad path\n", false);
    };
    if !path.is_file() {
        return plain(404, "Not Found", "not found\n", method == "HEAD");
    }
    let compressed = if gzip { gzip_copy(&path) } else { None };
    let encoding = if compressed.is_some() {
        "Content-Encoding: gzip\r\n"
    } else {
        ""
    };
    let body = match compressed.map_or_else(|| std::fs::read(&path), Ok) {
        Ok(body) => body,
        Err(_) => return plain(404, "Not Found", "not found\n", method == "HEAD"),
    };
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\n{encoding}Vary: Accept-Encoding\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n\r\n",
        mime_type(&path),
        body.len()
    )
    .into_bytes();
    if method == "GET" {
        response.extend_from_slice(&body);
    }
    response
}

fn plain(code: u16, reason: &str, body: &str, head: bool) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head {
        response.extend_from_slice(body.as_bytes());
    }
    response
}

/// Maps a request target to a file under `root`, refusing anything that would leave it.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path)?;
    let mut file = root.to_path_buf();
    for component in Path::new(decoded.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    Some(file)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

pub fn mime_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("");
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_root_only() {
        let root = std::env::temp_dir().join("xtask-serve-test");
        std::fs::create_dir_all(root.join("forms")).unwrap();
        assert_eq!(
            resolve(&root, "/forms/a%20b.json?x=1"),
            Some(root.join("forms/a b.json"))
        );
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(resolve(&root, "/../etc/passwd"), None);
        assert_eq!(resolve(&root, "/forms/%2e%2e/%2e%2e/x"), None);
    }

    #[test]
    fn knows_the_types_the_app_needs() {
        assert_eq!(
            mime_type(Path::new("a/doorstep_web_bg.wasm")),
            "application/wasm"
        );
        assert_eq!(
            mime_type(Path::new("manifest.webmanifest")),
            "application/manifest+json"
        );
        assert_eq!(mime_type(Path::new("forms/index.json")), "application/json");
    }

    #[test]
    fn serves_files_over_http() {
        let root = std::env::temp_dir().join("xtask-serve-http-test");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("index.html"), "<title>t</title>").unwrap();
        let server = start(&root, 0).unwrap();
        let response = String::from_utf8(get(server.addr, "/", "")).unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(response.contains("Cache-Control: no-cache"));
        assert!(response.ends_with("<title>t</title>"));
    }

    /// `cargo xtask serve` serves on after something unparked its thread (dist's compressors do,
    /// through `std::thread::scope`): one `park` returned at once and ended it.
    #[test]
    fn serves_on_after_its_thread_was_unparked() {
        let root = std::env::temp_dir().join(format!("xtask-serve-forever-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("index.html"), "<title>t</title>").unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let served = root.clone();
        std::thread::spawn(move || {
            std::thread::current().unpark();
            serve_forever(&served, port)
        });
        std::thread::sleep(Duration::from_millis(300));
        let response = get(SocketAddr::from(([127, 0, 0, 1], port)), "/", "");
        assert!(response.starts_with(b"HTTP/1.1 200 OK"), "still serving");
        let _ = std::fs::remove_dir_all(&root);
    }

    /// The whole response to one GET (the connection closed after it).
    fn get(addr: SocketAddr, path: &str, headers: &str) -> Vec<u8> {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        response
    }

    #[test]
    fn sends_the_gzip_copy_to_browsers_that_take_it() {
        let root = std::env::temp_dir().join(format!("xtask-serve-gzip-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let text = "let answer = 42;\n".repeat(200);
        std::fs::write(root.join("app.js"), &text).unwrap();
        let copy = crate::dist::zopfli_gzip(text.as_bytes()).unwrap();
        std::fs::write(root.join("app.js.gz"), &copy).unwrap();
        let server = start(&root, 0).unwrap();

        let zipped = get(
            server.addr,
            "/app.js",
            "Accept-Encoding: gzip, deflate, br\r\n",
        );
        let head = String::from_utf8_lossy(&zipped[..zipped.len() - copy.len()]).into_owned();
        assert!(head.contains("Content-Encoding: gzip\r\n"), "{head}");
        assert!(head.contains("Content-Type: text/javascript"), "{head}");
        assert!(head.contains("Vary: Accept-Encoding"), "{head}");
        assert!(
            head.contains(&format!("Content-Length: {}\r\n", copy.len())),
            "{head}"
        );
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&zipped[zipped.len() - copy.len()..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, text, "the copy is the file");

        for refusal in [
            "",
            "Accept-Encoding: br\r\n",
            "Accept-Encoding: gzip;q=0, br\r\n",
        ] {
            let plain = String::from_utf8(get(server.addr, "/app.js", refusal)).unwrap();
            assert!(!plain.contains("Content-Encoding"), "{refusal}: {plain}");
            assert!(plain.ends_with(&text), "{refusal}");
        }

        // A file changed after the build is served as it now is, not from its stale copy.
        std::fs::write(root.join("app.js"), "changed").unwrap();
        std::fs::File::options()
            .write(true)
            .open(root.join("app.js"))
            .and_then(|f| f.set_modified(std::time::SystemTime::now() + Duration::from_secs(10)))
            .unwrap();
        let fresh =
            String::from_utf8(get(server.addr, "/app.js", "Accept-Encoding: gzip\r\n")).unwrap();
        assert!(
            fresh.ends_with("changed") && !fresh.contains("Content-Encoding"),
            "{fresh}"
        );
        drop(server);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
