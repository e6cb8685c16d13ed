//! Reproducible Lambda zips: one entry `bootstrap`, mode 0755, a fixed timestamp, so the
//! same binary always gives the same bytes and the same SHA-256.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Zip a binary as `bootstrap`.
///
/// ```
/// let a = ordersctl::bundle::zip_bootstrap(b"\x7fELF...").unwrap();
/// let b = ordersctl::bundle::zip_bootstrap(b"\x7fELF...").unwrap();
/// assert_eq!(a, b);
/// ```
pub fn zip_bootstrap(binary: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .unix_permissions(0o755)
        .last_modified_time(DateTime::default());
    w.start_file("bootstrap", options)
        .map_err(std::io::Error::other)?;
    w.write_all(binary)?;
    let cursor = w.finish().map_err(std::io::Error::other)?;
    Ok(cursor.into_inner())
}

/// The `bootstrap` entry of a Lambda zip.
pub fn unzip_bootstrap(zip_bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(Cursor::new(zip_bytes)).map_err(std::io::Error::other)?;
    let mut f = z.by_name("bootstrap").map_err(std::io::Error::other)?;
    let mut out = Vec::new();
    f.read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_an_executable_bootstrap_with_a_fixed_time() {
        let bytes = zip_bootstrap(b"#!/bin/sh\necho hi\n").unwrap();
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(z.len(), 1);
        let f = z.by_index(0).unwrap();
        assert_eq!(f.name().unwrap(), "bootstrap");
        assert_eq!(f.unix_mode().map(|m| m & 0o777), Some(0o755));
        assert_eq!(f.last_modified(), Some(DateTime::default()));
    }
}
