//! TLS: `kassa serve --tls-cert --tls-key` serves HTTPS, and the webhook
//! worker delivers to `https://` receivers. Both use rustls with aws-lc-rs,
//! the crypto library the signing crate already uses.

use std::sync::Arc;

/// Installs aws-lc-rs as the process's rustls crypto provider (idempotent).
pub fn install_crypto_provider() {
    // Fails only when a provider is already installed, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The server's TLS settings from a PEM certificate chain and a PEM private key.
pub async fn server_config(cert: &std::path::Path, key: &std::path::Path) -> Result<axum_server::tls_rustls::RustlsConfig, String> {
    install_crypto_provider();
    axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|e| format!("cannot load the TLS certificate {} and key {}: {e}", cert.display(), key.display()))
}

/// The roots webhook deliveries trust: the certificates of `pem` when given
/// (a private CA), else Mozilla's roots (webpki-roots).
// ureq's `PemItem` is non-exhaustive: its match needs a catch-all.
#[allow(clippy::wildcard_enum_match_arm)]
pub fn webhook_tls(pem: Option<&[u8]>) -> Result<ureq::tls::TlsConfig, String> {
    install_crypto_provider();
    let roots = match pem {
        None => ureq::tls::RootCerts::WebPki,
        Some(pem) => {
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(pem) {
                match item.map_err(|e| format!("webhook CA file: {e}"))? {
                    ureq::tls::PemItem::Certificate(c) => certs.push(c),
                    _ => return Err("webhook CA file: only certificates are allowed".into()),
                }
            }
            if certs.is_empty() {
                return Err("webhook CA file: no certificate found".into());
            }
            ureq::tls::RootCerts::Specific(Arc::new(certs))
        }
    };
    Ok(ureq::tls::TlsConfig::builder().root_certs(roots).build())
}
