//! PDF copies of generated documents, rendered from the .docx by
//! LibreOffice headless (`soffice`, or the program DUBAN_SOFFICE names), the
//! same office suite the tests open the documents in. Without LibreOffice on
//! the server there is no PDF, and asking for one says so.

use std::path::PathBuf;
use std::process::Command;

use crate::error::Error;

fn program() -> PathBuf {
    std::env::var_os("DUBAN_SOFFICE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("soffice"))
}

/// Renders a .docx as PDF. Blocking: seconds, not milliseconds.
pub fn from_docx(docx: &[u8]) -> Result<Vec<u8>, Error> {
    let dir = tempfile::Builder::new().prefix("duban-pdf-").tempdir().map_err(Error::internal)?;
    let source = dir.path().join("document.docx");
    std::fs::write(&source, docx).map_err(Error::internal)?;
    // Its own profile directory, so that renderings never wait on each
    // other's lock or on a user's running LibreOffice.
    let profile = format!("-env:UserInstallation=file://{}", dir.path().join("profile").display());
    let output = Command::new(program())
        .args(["--headless", "--norestore", "--nolockcheck", &profile, "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&source)
        .output()
        .map_err(|error| {
            Error::Unavailable(format!("no PDF: LibreOffice (soffice) cannot be run on the server ({error}); the .docx is available"))
        })?;
    let rendered = dir.path().join("document.pdf");
    if !output.status.success() || !rendered.exists() {
        return Err(Error::internal(anyhow::anyhow!(
            "LibreOffice did not render the document: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    std::fs::read(rendered).map_err(Error::internal)
}
