//! Asset fingerprints, computed at synth without compiling: a SHA-256 over everything that
//! decides the bytes of a handler's binary — the crate's sources and those of its path
//! dependencies, the workspace manifest and lockfile, the build profile and the target.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::fingerprint_cache::{stamp, FingerprintCache, Input};
use super::BundleError;
use crate::checks::HandlerContract;
use crate::constructs::{Architecture, AssetKey, AssetSource};

/// Cargo profile the bundler builds with (defined in the workspace `Cargo.toml`).
pub const PROFILE: &str = "lambda";

/// Rust target triple of an architecture (Lambda runs glibc Linux).
pub fn target_triple(arch: Architecture) -> &'static str {
    match arch {
        Architecture::X86_64 => "x86_64-unknown-linux-gnu",
        Architecture::Arm64 => "aarch64-unknown-linux-gnu",
    }
}

/// A workspace holding handler crates under `handlers/<name>/`.
///
/// ```no_run
/// use ordersctl::bundle::HandlerWorkspace;
/// use ordersctl::constructs::Architecture;
/// let ws = HandlerWorkspace::new(".");
/// let fp = ws.fingerprint("order-processor", Architecture::X86_64)?;
/// assert_eq!(fp.len(), 64);
/// # Ok::<(), ordersctl::bundle::BundleError>(())
/// ```
#[derive(Debug, Clone)]
pub struct HandlerWorkspace {
    root: PathBuf,
    target_dir: Option<PathBuf>,
    /// Fingerprints of this run (a crate used by several functions is read once) and the
    /// metadata cache they may come from.
    cache: Arc<Mutex<Cache>>,
}

#[derive(Debug, Default)]
struct Cache {
    files: FingerprintCache,
    computed: HashMap<String, String>,
}

impl HandlerWorkspace {
    /// The workspace at `root` (its `Cargo.toml` declares `handlers/*` as members).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        HandlerWorkspace {
            root: root.into(),
            target_dir: None,
            cache: Arc::default(),
        }
    }

    /// Take fingerprints from the cache an earlier run left in the assembly `dir`, when the
    /// files they were computed from are unchanged (size and modification time, as cargo
    /// judges freshness).
    pub fn with_fingerprint_cache(self, dir: &Path) -> Self {
        self.lock().files = FingerprintCache::load(dir);
        self
    }

    /// Keep this run's fingerprints in the assembly `dir` for the next run.
    pub fn save_fingerprint_cache(&self, dir: &Path) -> std::io::Result<()> {
        self.lock().files.save(dir)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Build into this directory instead of `CARGO_TARGET_DIR` or `<root>/target`.
    pub fn with_target_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.target_dir = Some(dir.into());
        self
    }

    /// Where cargo puts build output: the chosen directory, `CARGO_TARGET_DIR`, else
    /// `<root>/target`.
    pub fn target_dir(&self) -> PathBuf {
        self.target_dir
            .clone()
            .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
            .unwrap_or_else(|| self.root.join("target"))
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Directory of a handler crate.
    pub fn crate_dir(&self, name: &str) -> PathBuf {
        self.root.join("handlers").join(name)
    }

    /// Names of the crates under `handlers/` (directories with a `Cargo.toml`).
    pub fn crates(&self) -> Vec<String> {
        let Ok(entries) = fs::read_dir(self.root.join("handlers")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("Cargo.toml").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The `[package] name` of a handler crate (its binary's name).
    pub fn package_name(&self, name: &str) -> Result<String, BundleError> {
        let manifest = self.crate_dir(name).join("Cargo.toml");
        let text = read_to_string(&manifest)?;
        let value: toml::Table = toml::from_str(&text).map_err(|e| BundleError::Manifest {
            path: manifest.clone(),
            message: e.message().to_string(),
        })?;
        value
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_string)
            .ok_or(BundleError::Manifest {
                path: manifest,
                message: "no [package] name".into(),
            })
    }

    /// The crate's handler contract (`[package.metadata.ordersctl]`), if it declares one.
    pub fn contract(&self, name: &str) -> Result<Option<HandlerContract>, BundleError> {
        let manifest = self.crate_dir(name).join("Cargo.toml");
        let text = read_to_string(&manifest)?;
        let bad = |message: String| BundleError::Manifest {
            path: manifest.clone(),
            message,
        };
        let value: toml::Table = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
        let Some(meta) = value
            .get("package")
            .and_then(|p| p.get("metadata"))
            .and_then(|m| m.get("ordersctl"))
        else {
            return Ok(None);
        };
        let contract: HandlerContract = meta.clone().try_into().map_err(|e: toml::de::Error| {
            bad(format!("[package.metadata.ordersctl]: {}", e.message()))
        })?;
        contract
            .validate()
            .map_err(|e| bad(format!("[package.metadata.ordersctl]: {e}")))?;
        Ok(Some(contract))
    }

    /// The fingerprint (64 hex digits) of a handler crate built for `arch`, from the files
    /// as they are now (a cache entry is used only if every file's size and modification
    /// time are unchanged).
    pub fn fingerprint(&self, name: &str, arch: Architecture) -> Result<String, BundleError> {
        self.fingerprint_in(name, arch, false)
    }

    /// As [`fingerprint`](Self::fingerprint); `one_snapshot` takes the workspace as unchanged
    /// for the rest of this value's life (one synth): each crate is fingerprinted once, and
    /// each directory listed once.
    fn fingerprint_in(
        &self,
        name: &str,
        arch: Architecture,
        one_snapshot: bool,
    ) -> Result<String, BundleError> {
        let dir = self.crate_dir(name);
        if !dir.join("Cargo.toml").is_file() {
            return Err(BundleError::MissingCrate {
                name: name.to_string(),
                available: self.crates(),
            });
        }
        let key = format!("{name}/{}", arch.as_str());
        let mut cache = self.lock();
        if one_snapshot {
            if let Some(digest) = cache.computed.get(&key) {
                return Ok(digest.clone());
            }
        } else {
            cache.files.forget_listings();
        }
        let mut workspace_files: Vec<Input> = Vec::new();
        for file in ["Cargo.toml", "Cargo.lock"] {
            if let Ok(meta) = fs::metadata(self.root.join(file)) {
                if meta.is_file() {
                    let (size, mtime) = stamp(&meta);
                    workspace_files.push((file.to_string(), size, mtime));
                }
            }
        }
        if let Some(digest) = cache.files.fresh(&key, &self.root, &workspace_files) {
            if one_snapshot {
                cache.computed.insert(key, digest.clone());
            }
            return Ok(digest);
        }
        let mut h = Sha256::new();
        h.update(b"ordersctl-asset-v1\0");
        h.update(target_triple(arch).as_bytes());
        h.update(b"\0");
        h.update(PROFILE.as_bytes());
        h.update(b"\0");
        for (file, _, _) in &workspace_files {
            hash_file(&mut h, file, &self.root.join(file))?;
        }
        let mut dirs = Vec::new();
        let mut inputs = workspace_files;
        for crate_dir in self.path_dependency_closure(&dir)? {
            let rel = crate_dir
                .strip_prefix(&self.root)
                .unwrap_or(&crate_dir)
                .to_string_lossy()
                .replace('\\', "/");
            for (file_rel, path, size, mtime) in cache.files.listing(&crate_dir)? {
                let name = format!("{rel}/{file_rel}");
                hash_file(&mut h, &name, &path)?;
                inputs.push((name, size, mtime));
            }
            dirs.push(rel);
        }
        let digest = hex(&h.finalize());
        cache.files.remember(&key, &digest, dirs, inputs);
        if one_snapshot {
            cache.computed.insert(key, digest.clone());
        }
        Ok(digest)
    }

    /// The crate directory and every path dependency reachable from it, sorted.
    fn path_dependency_closure(&self, dir: &Path) -> Result<BTreeSet<PathBuf>, BundleError> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([normalize(dir)]);
        while let Some(d) = queue.pop_front() {
            if !seen.insert(d.clone()) {
                continue;
            }
            let manifest = d.join("Cargo.toml");
            let text = read_to_string(&manifest)?;
            let value: toml::Table = toml::from_str(&text).map_err(|e| BundleError::Manifest {
                path: manifest.clone(),
                message: e.message().to_string(),
            })?;
            for section in ["dependencies", "build-dependencies"] {
                let Some(deps) = value.get(section).and_then(|d| d.as_table()) else {
                    continue;
                };
                for dep in deps.values() {
                    if let Some(p) = dep.get("path").and_then(|p| p.as_str()) {
                        queue.push_back(normalize(&d.join(p)));
                    }
                }
            }
        }
        Ok(seen)
    }
}

impl AssetSource for HandlerWorkspace {
    fn asset_key(&self, handler_crate: &str, arch: Architecture) -> Result<AssetKey, String> {
        let fp = self
            .fingerprint_in(handler_crate, arch, true)
            .map_err(|e| e.to_string())?;
        Ok(AssetKey {
            s3_key: format!("{fp}.zip"),
            fingerprint: Some(fp),
        })
    }
}

/// Lexically resolve `..` and `.` so the same directory is seen once.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Files that can change the binary: everything but build output, sample events, tests and
/// hidden files; relative paths with `/`, sorted.
pub(crate) fn source_files(dir: &Path) -> Result<Vec<(String, PathBuf, u64, i128)>, BundleError> {
    const SKIP: [&str; 5] = ["target", "events", "tests", "benches", "examples"];
    let mut out = Vec::new();
    let real = |p: &Path| {
        fs::canonicalize(p).map_err(|source| BundleError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    // Directories by their real path: a symlink back up the tree would walk forever.
    let mut seen: BTreeSet<PathBuf> = BTreeSet::from([real(dir)?]);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = fs::read_dir(&d).map_err(|source| BundleError::Io {
            path: d.clone(),
            source,
        })?;
        for e in entries {
            let e = e.map_err(|source| BundleError::Io {
                path: d.clone(),
                source,
            })?;
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if name.starts_with('.') || (d == dir && SKIP.contains(&name.as_str())) {
                continue;
            }
            // Followed like is_dir() would (a symlinked directory is walked), stat once.
            let meta = fs::metadata(&path).map_err(|source| BundleError::Io {
                path: path.clone(),
                source,
            })?;
            if meta.is_dir() {
                let target = real(&path)?;
                if !seen.insert(target.clone()) {
                    return Err(BundleError::SymlinkLoop { path, target });
                }
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                let (size, mtime) = stamp(&meta);
                out.push((rel, path, size, mtime));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_to_string(p: &Path) -> Result<String, BundleError> {
    fs::read_to_string(p).map_err(|source| BundleError::Io {
        path: p.to_path_buf(),
        source,
    })
}

fn hash_file(h: &mut Sha256, rel: &str, path: &Path) -> Result<(), BundleError> {
    let bytes = fs::read(path).map_err(|source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    h.update(rel.as_bytes());
    h.update(b"\0");
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(&bytes);
    Ok(())
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> (tempfile::TempDir, HandlerWorkspace) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"handlers/*\"]\n",
        )
        .unwrap();
        for (name, deps) in [
            ("common", ""),
            ("worker", "common = { path = \"../common\" }\n"),
        ] {
            let d = root.join("handlers").join(name);
            fs::create_dir_all(d.join("src")).unwrap();
            fs::create_dir_all(d.join("events")).unwrap();
            fs::write(
                d.join("Cargo.toml"),
                format!("[package]\nname = \"{name}\"\n\n[dependencies]\n{deps}"),
            )
            .unwrap();
            fs::write(d.join("src/main.rs"), "fn main() {}\n").unwrap();
            fs::write(d.join("events/sample.json"), "{}").unwrap();
        }
        let ws = HandlerWorkspace::new(root);
        (tmp, ws)
    }

    #[test]
    fn the_metadata_cache_spares_reading_unchanged_files_and_notices_changes() {
        let (tmp, ws) = workspace();
        let asm = tmp.path().join("asm");
        fs::create_dir_all(&asm).unwrap();
        let fresh = ws.fingerprint("worker", Architecture::X86_64).unwrap();
        ws.save_fingerprint_cache(&asm).unwrap();
        assert!(asm
            .join(super::super::fingerprint_cache::CACHE_FILE)
            .is_file());

        // Same bytes' size and modification time, other content: a cached run does not read
        // the file (as cargo would not), so it gives the old fingerprint...
        let main = tmp.path().join("handlers/common/src/main.rs");
        let stamp = fs::metadata(&main).unwrap().modified().unwrap();
        fs::write(&main, "fn main() {}\n".replace('{', "[")).unwrap();
        fs::File::options()
            .write(true)
            .open(&main)
            .unwrap()
            .set_modified(stamp)
            .unwrap();
        let cached = HandlerWorkspace::new(tmp.path()).with_fingerprint_cache(&asm);
        assert_eq!(
            cached.fingerprint("worker", Architecture::X86_64).unwrap(),
            fresh
        );
        // ...while any change of size or time is noticed.
        fs::write(&main, "fn main() { }\n").unwrap();
        let changed = cached.fingerprint("worker", Architecture::X86_64).unwrap();
        assert_ne!(changed, fresh);
        assert_eq!(
            changed,
            HandlerWorkspace::new(tmp.path())
                .fingerprint("worker", Architecture::X86_64)
                .unwrap()
        );
        // A new file in a crate is noticed too.
        fs::write(tmp.path().join("handlers/worker/src/extra.rs"), "").unwrap();
        assert_ne!(
            cached.fingerprint("worker", Architecture::X86_64).unwrap(),
            changed
        );

        // A damaged cache is no cache.
        fs::write(
            asm.join(super::super::fingerprint_cache::CACHE_FILE),
            "{not json",
        )
        .unwrap();
        let damaged = HandlerWorkspace::new(tmp.path()).with_fingerprint_cache(&asm);
        assert_eq!(
            damaged.fingerprint("worker", Architecture::X86_64).unwrap(),
            HandlerWorkspace::new(tmp.path())
                .fingerprint("worker", Architecture::X86_64)
                .unwrap()
        );
    }

    #[test]
    fn fingerprint_follows_sources_path_deps_and_target_but_not_events() {
        let (tmp, ws) = workspace();
        let a = ws.fingerprint("worker", Architecture::X86_64).unwrap();
        assert_eq!(a, ws.fingerprint("worker", Architecture::X86_64).unwrap());
        assert_ne!(a, ws.fingerprint("worker", Architecture::Arm64).unwrap());
        fs::write(
            tmp.path().join("handlers/worker/events/sample.json"),
            "{\"x\":1}",
        )
        .unwrap();
        assert_eq!(
            a,
            ws.fingerprint("worker", Architecture::X86_64).unwrap(),
            "sample events are not inputs"
        );
        fs::write(
            tmp.path().join("handlers/common/src/main.rs"),
            "fn main() { }\n",
        )
        .unwrap();
        let b = ws.fingerprint("worker", Architecture::X86_64).unwrap();
        assert_ne!(a, b, "a path dependency's source is an input");
        fs::write(tmp.path().join("Cargo.lock"), "# lock\n").unwrap();
        assert_ne!(
            b,
            ws.fingerprint("worker", Architecture::X86_64).unwrap(),
            "the lockfile is an input"
        );
    }

    #[test]
    fn a_missing_crate_names_the_crates_there_are() {
        let (_tmp, ws) = workspace();
        let e = ws
            .fingerprint("wroker", Architecture::X86_64)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`wroker`") && e.contains("common, worker"),
            "{e}"
        );
        assert_eq!(ws.package_name("worker").unwrap(), "worker");
    }
}
