//! The nginx configuration, both variants, rendered as `cargo xtask stack`
//! and the web image render it: checked with `nginx -t`, then served by a
//! real nginx on free loopback ports in front of a stand-in API, and its
//! response headers read with curl (over HTTPS with a self-signed
//! certificate made here with the openssl CLI).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::procs::Supervisor;
use xtask::stack::{NginxOptions, NginxTls};

use super::run;

const HSTS: &str = "max-age=63072000; includeSubDomains";
const ASSET: &str = "app-0123456789ab.js";

/// A scratch folder the service user can reach, with a console in it.
fn scratch(name: &str) -> PathBuf {
    xtask::install::service_user().unwrap();
    let base = xtask::paths::data_root().unwrap().join(format!("{name}-{}", std::process::id()));
    let console = base.join("console");
    std::fs::create_dir_all(&console).unwrap();
    std::fs::write(console.join("index.html"), "<!doctype html><title>console</title>").unwrap();
    std::fs::write(console.join(ASSET), "console.log('hashed');").unwrap();
    base
}

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate, key).
fn self_signed_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = run(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

#[test]
fn both_nginx_variants_render_and_pass_nginx_t() {
    let base = scratch("nginx-t");
    let (cert, key) = self_signed_certificate(&base);
    let (console, plain_dir, tls_dir) = (base.join("console"), base.join("plain"), base.join("tls"));
    let opts =
        |dir| NginxOptions { dir, port: 18080, console: &console, upstreams: &[13001, 13002], storage_origin: "" };
    let plain = xtask::stack::render_nginx(&opts(&plain_dir));
    let tls = NginxTls { port: 18443, certificate: &cert, certificate_key: &key };
    let secure = xtask::stack::render_nginx_tls(&opts(&tls_dir), &tls);
    let read = |dir: &Path, main: &str| {
        ["tenantry/http.conf", "tenantry/site.conf", main]
            .iter()
            .map(|f| std::fs::read_to_string(dir.join(f)).unwrap_or_default())
            .collect::<String>()
    };
    let (plain_conf, tls_conf) = (read(&plain_dir, "nginx.conf"), read(&tls_dir, "nginx-tls.conf"));
    let _ = std::fs::remove_dir_all(&base);
    plain.expect("nginx -t accepts the plain variant");
    secure.expect("nginx -t accepts the TLS variant");
    for conf in [&plain_conf, &tls_conf] {
        for placeholder in ["${NGINX_", "${API_"] {
            assert!(!conf.contains(placeholder), "a placeholder was left: {conf}");
        }
        for expected in ["keepalive 32;", "max_fails=3", "limit_req zone=auth", "client_max_body_size", "gzip_types"] {
            assert!(conf.contains(expected), "{expected}");
        }
    }
    assert!(tls_conf.contains("listen 18443 ssl http2;") && tls_conf.contains("return 301 https://"));
}

/// A stand-in for the API replicas: 200 to everything, with the headers
/// the API sends or might, so that what nginx adds, keeps, replaces and
/// de-duplicates can be told apart.
fn stand_in_api() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    port
}

fn answer(mut stream: TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let (content_type, cache_control) = match path.as_str() {
        p if p.starts_with("/api/docs") => ("text/html", None),
        // Sent by a careless API: nginx must still say no-store.
        "/api/auth/cacheable" => ("application/json", Some("public, max-age=600")),
        "/api/health" => ("application/json", None),
        _ => ("application/json", Some("no-store")),
    };
    let body = if content_type == "text/html" { "<!doctype html><title>docs</title>" } else { "{}" };
    let cache = cache_control.map(|c| format!("Cache-Control: {c}\r\n")).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{cache}\
         X-Content-Type-Options: nosniff\r\nX-Request-Id: from-the-api\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

/// One response: its protocol, status and headers, names lowercased.
struct Answer {
    protocol: String,
    status: u16,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The header's one value; fails when it is missing or repeated.
    fn one(&self, name: &str) -> &str {
        match self.all(name)[..] {
            [value] => value,
            ref values => panic!("{name}: {values:?} in {:?}", self.headers),
        }
    }
}

/// `curl` one request, trusting `ca` for HTTPS; `args` go before the URL.
fn fetch(url: &str, ca: &Path, args: &[&str]) -> Answer {
    let out = run(Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-D", "-", "--max-time", "10", "--cacert"])
        .arg(ca)
        .args(args)
        .arg(url));
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let first: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    let protocol = first.first().copied().unwrap_or_default().to_owned();
    let status = first.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer { protocol, status, headers }
}

/// The headers of every response, and the policy of each kind of page.
fn check_headers(base_url: &str, ca: &Path, tls: bool) {
    let hsts = |answer: &Answer, what: &str| {
        if tls {
            assert_eq!(answer.one("strict-transport-security"), HSTS, "{what}");
        } else {
            assert!(answer.all("strict-transport-security").is_empty(), "HSTS over plain HTTP: {what}");
        }
    };
    let pages = [
        ("/", "console"),
        ("/members/7", "console"),
        (&format!("/{ASSET}") as &str, "asset"),
        ("/api/health", "api"),
        ("/api/tenants", "api"),
        ("/api/auth/refresh", "auth"),
        ("/api/auth/cacheable", "auth"),
        ("/api/docs", "docs"),
        ("/api/docs/", "docs"),
    ];
    for (path, kind) in pages {
        let answer = fetch(&format!("{base_url}{path}"), ca, &[]);
        let what = format!("{path} ({})", if tls { "TLS" } else { "plain" });
        assert_eq!(answer.status, 200, "{what}");
        hsts(&answer, &what);
        assert_eq!(answer.one("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(answer.one("x-frame-options"), "DENY", "{what}");
        assert_eq!(answer.one("cross-origin-opener-policy"), "same-origin", "{what}");
        assert_eq!(answer.one("referrer-policy"), "strict-origin-when-cross-origin", "{what}");
        assert!(answer.one("x-request-id").len() >= 16, "nginx's request id, once: {what}");
        let csp = answer.all("content-security-policy").join(" | ");
        if kind != "asset" {
            assert!(csp.contains("base-uri 'none'") && csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        }
        match kind {
            "console" => {
                assert!(csp.contains("'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"), "{what}: {csp}");
                assert_eq!(answer.one("cache-control"), "no-cache", "{what}");
            }
            "asset" => assert!(answer.one("cache-control").contains("immutable"), "{what}"),
            "api" | "auth" => assert!(csp.starts_with("default-src 'none'"), "{what}: {csp}"),
            _ => assert!(
                csp.starts_with("default-src 'none'") && csp.contains("script-src 'unsafe-inline'"),
                "{what}: {csp}"
            ),
        }
        match (kind, path) {
            // Tokens: no-store whatever the API says, once.
            ("auth", _) => assert_eq!(answer.one("cache-control"), "no-store", "{what}"),
            // Elsewhere the API's own no-store goes through untouched.
            (_, "/api/tenants") => assert_eq!(answer.one("cache-control"), "no-store", "{what}"),
            _ => {}
        }
    }
    // Answers nginx makes itself carry the same headers.
    let big = std::env::temp_dir().join(format!("tenantry-big-body-{}", std::process::id()));
    std::fs::write(&big, vec![b'x'; 2 * 1024 * 1024]).unwrap();
    let body = format!("@{}", big.display());
    let answer = fetch(
        &format!("{base_url}/api/tenants"),
        ca,
        &["-H", "content-type: application/json", "--data-binary", &body],
    );
    let _ = std::fs::remove_file(&big);
    assert_eq!(answer.status, 413);
    hsts(&answer, "413");
    assert_eq!(answer.one("x-content-type-options"), "nosniff");
    assert_eq!(answer.one("cache-control"), "no-store");
}

#[test]
fn nginx_sends_its_security_headers_in_both_variants_and_hsts_over_tls_only() {
    let base = scratch("nginx-headers");
    let (cert, key) = self_signed_certificate(&base);
    let api = stand_in_api();
    let console = base.join("console");
    let mut sup = Supervisor::new();
    let free = || xtask::paths::free_port().unwrap();

    let (plain_port, plain_dir) = (free(), base.join("plain"));
    let opts =
        NginxOptions { dir: &plain_dir, port: plain_port, console: &console, upstreams: &[api], storage_origin: "" };
    xtask::stack::start_nginx(&mut sup, &opts).expect("the plain variant starts");
    check_headers(&format!("http://127.0.0.1:{plain_port}"), &cert, false);
    sup.stop_all();

    let (http_port, https_port, tls_dir) = (free(), free(), base.join("tls"));
    let opts =
        NginxOptions { dir: &tls_dir, port: http_port, console: &console, upstreams: &[api], storage_origin: "" };
    let tls = NginxTls { port: https_port, certificate: &cert, certificate_key: &key };
    xtask::stack::start_nginx_tls(&mut sup, &opts, &tls).expect("the TLS variant starts");
    check_headers(&format!("https://127.0.0.1:{https_port}"), &cert, true);
    // HTTP/2 is offered, and plain HTTP only redirects.
    let h2 = fetch(&format!("https://127.0.0.1:{https_port}/"), &cert, &["--http2"]);
    assert_eq!((h2.protocol.as_str(), h2.status), ("HTTP/2", 200));
    let redirect = fetch(&format!("http://127.0.0.1:{http_port}/members?x=1"), &cert, &[]);
    assert_eq!((redirect.status, redirect.one("location")), (301, "https://127.0.0.1/members?x=1"));
    sup.stop_all();
    let _ = std::fs::remove_dir_all(&base);
}
