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

/// Why a zip found in `assets/` cannot be deployed as it is, if it cannot: not a zip, or no
/// executable `bootstrap` entry (a truncated write, or a file someone else put there).
pub fn unusable_reason(zip_bytes: &[u8]) -> Option<String> {
    let mut z = match zip::ZipArchive::new(Cursor::new(zip_bytes)) {
        Ok(z) => z,
        Err(e) => return Some(format!("not a readable zip ({e})")),
    };
    let f = match z.by_name("bootstrap") {
        Ok(f) => f,
        Err(_) => return Some("it has no `bootstrap` entry".into()),
    };
    match f.unix_mode() {
        Some(m) if m & 0o111 != 0 => None,
        _ => Some("its `bootstrap` entry is not executable".into()),
    }
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
        drop(f);
        assert_eq!(unusable_reason(&zip_bootstrap(b"x").unwrap()), None);
    }

    #[test]
    fn a_corrupt_or_bootstrap_less_zip_is_unusable() {
        let good = zip_bootstrap(b"binary").unwrap();
        let truncated = &good[..good.len() / 2];
        assert!(unusable_reason(truncated)
            .unwrap()
            .contains("not a readable zip"));
        assert!(unusable_reason(b"hello")
            .unwrap()
            .contains("not a readable zip"));
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("main", SimpleFileOptions::default()).unwrap();
        w.write_all(b"x").unwrap();
        let other = w.finish().unwrap().into_inner();
        assert!(unusable_reason(&other).unwrap().contains("no `bootstrap`"));
    }
}
