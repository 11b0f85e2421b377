//! Built-in HTTPS: TLS 1.2 and 1.3 only, with the AEAD suites of Mozilla's "intermediate"
//! profile (rustls offers nothing weaker), and a certificate that is reloaded on SIGHUP or when
//! its files change, without dropping connections: each handshake asks the resolver for the
//! certificate of the moment, and an open connection keeps the one it began with.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::ring as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

/// The certificate chain and key files, both PEM.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Mozilla "intermediate" (v5.7) suites that rustls implements: every one it offers. The
/// intermediate list's DHE suites have no rustls implementation and are not offered.
fn intermediate_suites() -> Vec<rustls::SupportedCipherSuite> {
    vec![
        provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
        provider::cipher_suite::TLS13_AES_256_GCM_SHA384,
        provider::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        provider::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        provider::cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        provider::cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
}

/// Reads and checks the certificate chain and its key.
pub fn load(files: &TlsFiles) -> anyhow::Result<Arc<CertifiedKey>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", files.cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|err| {
            anyhow::anyhow!(
                "{} is no PEM certificate chain: {err}",
                files.cert.display()
            )
        })?;
    if chain.is_empty() {
        anyhow::bail!("{} holds no certificate", files.cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|err| anyhow::anyhow!("{} is no PEM private key: {err}", files.key.display()))?;
    let provider = provider::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|err| anyhow::anyhow!("{}: unusable key: {err}", files.key.display()))?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified
        .keys_match()
        .map_err(|err| anyhow::anyhow!("the key does not match the certificate: {err}"))?;
    Ok(Arc::new(certified))
}

/// The certificate every new handshake gets; swapped whole on reload.
#[derive(Debug)]
pub struct CurrentCertificate(RwLock<Arc<CertifiedKey>>);

impl CurrentCertificate {
    fn replace(&self, key: Arc<CertifiedKey>) {
        if let Ok(mut current) = self.0.write() {
            *current = key;
        }
    }
}

impl ResolvesServerCert for CurrentCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.read().ok().map(|current| current.clone())
    }
}

/// The acceptor for `files` and the certificate it serves (for [`keep_current`]).
pub fn acceptor(files: &TlsFiles) -> anyhow::Result<(TlsAcceptor, Arc<CurrentCertificate>)> {
    let current = Arc::new(CurrentCertificate(RwLock::new(load(files)?)));
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: intermediate_suites(),
        ..provider::default_provider()
    };
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|err| anyhow::anyhow!("TLS configuration: {err}"))?
        .with_no_client_auth()
        .with_cert_resolver(current.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(config)), current))
}

fn modified(files: &TlsFiles) -> Option<(SystemTime, SystemTime)> {
    let time = |path: &PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    Some((time(&files.cert)?, time(&files.key)?))
}

/// Reloads the certificate on SIGHUP and whenever either file changes (checked every `poll`).
/// A file that does not load (half-written, mismatched) is logged and the old certificate kept.
pub async fn keep_current(files: TlsFiles, current: Arc<CurrentCertificate>, poll: Duration) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut seen = modified(&files);
    loop {
        #[cfg(unix)]
        let signalled = async {
            match hangup.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let signalled = std::future::pending::<()>();
        let forced = tokio::select! {
            () = signalled => true,
            () = tokio::time::sleep(poll) => false,
        };
        let now = modified(&files);
        if !forced && now == seen {
            continue;
        }
        seen = now;
        match load(&files) {
            Ok(key) => {
                current.replace(key);
                tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
            }
            Err(err) => {
                tracing::error!(error = %err, "TLS certificate not reloaded; the old one stays");
            }
        }
    }
}
