//! `vaskem serve --tls-cert --tls-key`: HTTPS with TLS 1.2 and 1.3 and intermediate suites, HSTS
//! on every answer, and a certificate replaced on disk taken up by new handshakes while an open
//! connection keeps working.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::on_both_databases;
use crate::support::process::ServiceProcess;
use crate::support::{Backend, TestDatabase};

on_both_databases!(https_speaks_tls_1_2_and_1_3_sets_hsts_and_reloads_its_certificate);

/// A fresh self-signed certificate for `localhost` (EC P-256) at `cert` and `key`.
fn make_certificate(cert: &Path, key: &Path) {
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        // An end-entity certificate, as a real one is: webpki refuses a CA certificate there.
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl (Debian's openssl package)");
    assert!(status.success());
}

fn client(trusted: &[&Path], version: &'static rustls::SupportedProtocolVersion) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in trusted {
        roots
            .add(CertificateDer::from_pem_file(cert).expect("PEM"))
            .expect("root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[version])
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn connect(connector: &TlsConnector, port: u16) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    connector
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
}

/// Sends one keep-alive GET and reads its answer (headers and a small body) as text.
async fn get(stream: &mut TlsStream<TcpStream>, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("an answer in time")
            .expect("read");
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            assert!(read > 0, "closed mid-answer: {text}");
            continue;
        };
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if body.len() >= length || read == 0 {
            return text;
        }
    }
}

fn peer_certificate(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .expect("certificates")[0]
        .to_vec()
}

async fn https_speaks_tls_1_2_and_1_3_sets_hsts_and_reloads_its_certificate(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    make_certificate(&cert, &key);
    let service = ServiceProcess::start_with(
        &database,
        &database.serving_url,
        &[
            "--tls-cert",
            cert.to_str().expect("path"),
            "--tls-key",
            key.to_str().expect("path"),
        ],
    );
    let port: u16 = service
        .base_url
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("port");
    let tls13 = client(&[&cert], &rustls::version::TLS13);
    let mut ready = Err(std::io::Error::other("not tried"));
    for _ in 0..100 {
        ready = connect(&tls13, port).await;
        if ready.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut kept =
        ready.unwrap_or_else(|err| panic!("no HTTPS ({err}); the log:\n{}", service.log()));
    assert!(
        service.log().contains("HTTPS, TLS 1.2 and 1.3"),
        "{}",
        service.log()
    );

    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let mut stream = connect(&client(&[&cert], version), port)
            .await
            .expect("handshake");
        let connection = stream.get_ref().1;
        assert_eq!(connection.protocol_version(), Some(version.version));
        let suite = format!(
            "{:?}",
            connection.negotiated_cipher_suite().expect("suite").suite()
        );
        assert!(
            suite.contains("GCM") || suite.contains("CHACHA20_POLY1305"),
            "an AEAD suite of the intermediate profile: {suite}"
        );
        let answer = get(&mut stream, "/healthz").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer
                .to_lowercase()
                .contains("strict-transport-security: max-age=63072000; includesubdomains"),
            "{answer}"
        );
    }
    // Errors carry HSTS too.
    let mut stream = connect(&tls13, port).await.expect("handshake");
    let answer = get(&mut stream, "/no-such-page").await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer.to_lowercase().contains("strict-transport-security"),
        "{answer}"
    );

    // A new certificate replaces the old one on disk (written aside, then renamed in).
    let old = peer_certificate(&kept);
    let (new_cert, new_key) = (
        dir.path().join("new-cert.pem"),
        dir.path().join("new-key.pem"),
    );
    make_certificate(&new_cert, &new_key);
    std::fs::rename(&new_key, &key).expect("key");
    std::fs::rename(&new_cert, &cert).expect("cert");
    let both = client(
        &[&cert, &dir.path().join("cert.pem")],
        &rustls::version::TLS13,
    );
    let mut renewed = None;
    for _ in 0..100 {
        // Trust the new certificate only: a handshake succeeds once it is served.
        if let Ok(stream) = connect(&both, port).await
            && peer_certificate(&stream) != old
        {
            renewed = Some(stream);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut renewed =
        renewed.unwrap_or_else(|| panic!("not reloaded; the log:\n{}", service.log()));
    assert!(
        get(&mut renewed, "/healthz")
            .await
            .starts_with("HTTP/1.1 200")
    );
    // The connection opened before the reload was not dropped.
    let answer = get(&mut kept, "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // SIGHUP reloads at once, even when the files look unchanged: here a third certificate is
    // renamed in with the old files' modification times, which the polling cannot see.
    let second = peer_certificate(&renewed);
    let (third_cert, third_key) = (
        dir.path().join("third-cert.pem"),
        dir.path().join("third-key.pem"),
    );
    make_certificate(&third_cert, &third_key);
    for (new, old) in [(&third_cert, &cert), (&third_key, &key)] {
        let unchanged = std::fs::metadata(old)
            .and_then(|meta| meta.modified())
            .expect("mtime");
        std::fs::File::options()
            .write(true)
            .open(new)
            .and_then(|file| file.set_modified(unchanged))
            .expect("set mtime");
        std::fs::rename(new, old).expect("rename");
    }
    // Three polls later the old certificate is still served: only the signal will reload it.
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    let stream = connect(&both, port).await.expect("handshake");
    assert_eq!(
        peer_certificate(&stream),
        second,
        "reloaded without a signal; the log:\n{}",
        service.log()
    );
    let third = client(&[&cert], &rustls::version::TLS13);
    assert!(
        connect(&third, port).await.is_err(),
        "the third is not served yet"
    );
    let pid = rustix::process::Pid::from_raw(service.pid() as i32).expect("pid");
    rustix::process::kill_process(pid, rustix::process::Signal::HUP).expect("SIGHUP");
    let mut signalled = false;
    for _ in 0..50 {
        // Trusting the third certificate only: a handshake succeeds once it is served.
        if connect(&third, port).await.is_ok() {
            signalled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        signalled,
        "not reloaded on SIGHUP; the log:\n{}",
        service.log()
    );
}
