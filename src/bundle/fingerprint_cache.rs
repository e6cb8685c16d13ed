//! Fingerprints remembered with the file metadata they were computed from, as cargo
//! remembers fresh units: a crate whose files all have the size and modification time they
//! had is not read again. Kept in the assembly (`fingerprints.cache.json`); a missing, damaged or
//! older cache only means the files are read.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

/// The cache file's name inside an assembly.
pub const CACHE_FILE: &str = "fingerprints.cache.json";
const CACHE_VERSION: u32 = 1;

/// One input file: path relative to the workspace root, size, modification time (ns).
pub(crate) type Input = (String, u64, i128);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Stored {
    version: u32,
    /// `crate/arch` -> what its fingerprint was computed from.
    entries: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    digest: String,
    /// The crate's directory and its path dependencies', relative to the root.
    dirs: Vec<String>,
    inputs: Vec<Input>,
}

/// The cache of one run: what was loaded, what this run computed, and directory listings
/// already taken (the shared `common` crate is listed once, not once per handler).
#[derive(Debug, Default)]
pub(crate) struct FingerprintCache {
    stored: Stored,
    changed: bool,
    listings: HashMap<PathBuf, Vec<(String, PathBuf, u64, i128)>>,
}

impl FingerprintCache {
    /// Load `dir/fingerprints.cache.json` (anything unreadable is an empty cache).
    pub(crate) fn load(dir: &Path) -> FingerprintCache {
        let stored = fs::read(dir.join(CACHE_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<Stored>(&b).ok())
            .filter(|s| s.version == CACHE_VERSION)
            .unwrap_or_default();
        FingerprintCache {
            stored,
            ..Default::default()
        }
    }

    /// Write it to `dir/fingerprints.cache.json` if this run learned anything (by rename: a
    /// reader never sees half a file).
    pub(crate) fn save(&self, dir: &Path) -> std::io::Result<()> {
        if !self.changed || !dir.is_dir() {
            return Ok(());
        }
        let stored = Stored {
            version: CACHE_VERSION,
            entries: self.stored.entries.clone(),
        };
        let tmp = dir.join(format!("{CACHE_FILE}.tmp-{}", std::process::id()));
        fs::write(
            &tmp,
            serde_json::to_vec(&stored).map_err(std::io::Error::other)?,
        )?;
        fs::rename(&tmp, dir.join(CACHE_FILE)).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
    }

    /// The digest remembered for `key`, if its directories' files are as they were.
    pub(crate) fn fresh(&mut self, key: &str, root: &Path, extra: &[Input]) -> Option<String> {
        let entry = self.stored.entries.get(key)?.clone();
        let mut inputs: Vec<Input> = extra.to_vec();
        for dir in &entry.dirs {
            let listing = self.listing(&root.join(dir)).ok()?;
            inputs.extend(
                listing
                    .into_iter()
                    .map(|(rel, _, size, mtime)| (format!("{dir}/{rel}"), size, mtime)),
            );
        }
        (inputs == entry.inputs).then_some(entry.digest)
    }

    /// Remember what `key`'s digest was computed from.
    pub(crate) fn remember(
        &mut self,
        key: &str,
        digest: &str,
        dirs: Vec<String>,
        inputs: Vec<Input>,
    ) {
        let entry = Entry {
            digest: digest.to_string(),
            dirs,
            inputs,
        };
        if self.stored.entries.get(key) != Some(&entry) {
            self.stored.entries.insert(key.to_string(), entry);
            self.changed = true;
        }
    }

    /// Drop the directory listings taken so far (the files may have changed since).
    pub(crate) fn forget_listings(&mut self) {
        self.listings.clear();
    }

    /// The source files of a crate directory, with their metadata, listed once per run.
    pub(crate) fn listing(
        &mut self,
        dir: &Path,
    ) -> Result<Vec<(String, PathBuf, u64, i128)>, super::BundleError> {
        if let Some(l) = self.listings.get(dir) {
            return Ok(l.clone());
        }
        let l = super::fingerprint::source_files(dir)?;
        self.listings.insert(dir.to_path_buf(), l.clone());
        Ok(l)
    }
}

/// Size and modification time (ns since the epoch) of a file.
pub(crate) fn stamp(meta: &fs::Metadata) -> (u64, i128) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    (meta.len(), mtime)
}
