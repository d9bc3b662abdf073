//! HTTPS served directly, for a site without a TLS-terminating proxy: the
//! certificate chain and key come from PEM files (tls_cert_file,
//! tls_key_file). TLS 1.2 and 1.3 only, rustls's safe cipher suites, with
//! the ring provider named explicitly (another crate of the build brings a
//! second provider, so none is the process default).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsFiles;

pub fn server_config(files: &TlsFiles) -> anyhow::Result<rustls::ServerConfig> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert_file)
        .and_then(|certificates| certificates.collect::<Result<_, _>>())
        .map_err(|error| anyhow::anyhow!("tls_cert_file {}: {error}", files.cert_file.display()))?;
    if chain.is_empty() {
        anyhow::bail!("tls_cert_file {}: no certificate in the file", files.cert_file.display());
    }
    let key = PrivateKeyDer::from_pem_file(&files.key_file)
        .map_err(|error| anyhow::anyhow!("tls_key_file {}: {error}", files.key_file.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| anyhow::anyhow!("TLS: {error}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| anyhow::anyhow!("the TLS certificate and key do not go together: {error}"))?;
    Ok(config)
}
