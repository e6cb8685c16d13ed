//! Bundling handler crates into Lambda zips: one `cargo build` for every crate that needs
//! building, a glibc check, reproducible zips keyed by fingerprint, and work skipped when a
//! zip for the fingerprint already exists.
//!
//! ```no_run
//! use ordersctl::bundle::HandlerWorkspace;
//! use ordersctl::constructs::Architecture;
//! // The key a function's code is uploaded under: the fingerprint of its crate's sources.
//! let ws = HandlerWorkspace::new(".");
//! let fingerprint = ws.fingerprint("order-processor", Architecture::X86_64)?;
//! println!("assets/{fingerprint}.zip");
//! # Ok::<(), ordersctl::bundle::BundleError>(())
//! ```

mod archive;
mod fingerprint;
mod fingerprint_cache;
mod glibc;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

pub use archive::{unusable_reason, unzip_bootstrap, zip_bootstrap};
pub use fingerprint::{hex, target_triple, HandlerWorkspace, PROFILE};
pub use glibc::{max_glibc_version, LAMBDA_GLIBC};

use crate::constructs::Architecture;
use crate::synth::lock::AssemblyLock;

/// Why bundling failed; each names the crate, file or target involved.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{function}: the assembly names code of crate `{handler_crate}` with fingerprint {recorded}, and its zip is not in the assembly's assets/; the workspace's sources now give {now}, so building would upload other code under that name; synthesize again (`ordersctl synth`) or bring the zip")]
    StaleSources {
        function: String,
        handler_crate: String,
        recorded: String,
        now: String,
    },
    #[error("handler crate `{name}` does not exist under handlers/; crates there: {}", if available.is_empty() { "none (is the project's directory, or --workspace, the one holding handlers/?)".to_string() } else { available.join(", ") })]
    MissingCrate {
        name: String,
        available: Vec<String>,
    },
    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("the Rust target {triple} is not installed, so {arch} functions cannot be built here; install it with `rustup target add {triple}` or build for another architecture")]
    TargetNotInstalled { triple: String, arch: String },
    #[error("`cargo build` failed ({status}); its output is above")]
    CargoFailed { status: String },
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{binary} needs glibc {}.{} but the Lambda runtime (provided.al2023) has {}.{}; build on an older glibc or with `cargo zigbuild`", found.0, found.1, LAMBDA_GLIBC.0, LAMBDA_GLIBC.1)]
    Glibc { binary: PathBuf, found: (u32, u32) },
    #[error("{path} leads to {target}, which the walk has read already (a symlink loop, or a second link to one directory); remove the link or point it outside the crate")]
    SymlinkLoop { path: PathBuf, target: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One function's asset to bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRequest {
    /// Construct path of the function (for the report).
    pub function: String,
    pub handler_crate: String,
    pub architecture: Architecture,
    /// Fingerprint from synth; the zip is `<fingerprint>.zip`.
    pub fingerprint: String,
}

/// Whether a zip was built now or found from an earlier run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleStatus {
    Built,
    Cached,
    /// A zip was there but could not be deployed (`reason` names the file and why); it was
    /// built again.
    Rebuilt {
        reason: String,
    },
}

/// One bundled asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleOutcome {
    pub function: String,
    pub handler_crate: String,
    pub zip: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub status: BundleStatus,
}

impl BundleOutcome {
    /// What the user should hear about this asset beyond its status line, if anything.
    pub fn note(&self) -> Option<String> {
        match &self.status {
            BundleStatus::Rebuilt { reason } => Some(format!("{reason}; built it again")),
            _ => None,
        }
    }
}

/// Fail clearly when the standard library for `arch` is not installed.
pub fn check_target_installed(arch: Architecture) -> Result<(), BundleError> {
    let triple = target_triple(arch);
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|source| BundleError::Spawn {
            program: "rustc".into(),
            source,
        })?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if sysroot
        .join("lib/rustlib")
        .join(triple)
        .join("lib")
        .is_dir()
    {
        Ok(())
    } else {
        Err(BundleError::TargetNotInstalled {
            triple: triple.to_string(),
            arch: arch.as_str().to_string(),
        })
    }
}

/// Build (in one `cargo build` per architecture) and zip what is not in `assets_dir` yet.
pub fn bundle(
    ws: &HandlerWorkspace,
    requests: &[BundleRequest],
    assets_dir: &Path,
) -> Result<Vec<BundleOutcome>, BundleError> {
    // assets/ is the assembly's own directory: a link could put any zip in front of deploy.
    if fs::symlink_metadata(assets_dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(BundleError::Io {
            path: assets_dir.to_path_buf(),
            source: std::io::Error::other(
                "is a symlink; an assembly's assets/ must be a directory of its own",
            ),
        });
    }
    let zip_of = |r: &BundleRequest| assets_dir.join(format!("{}.zip", r.fingerprint));
    // A zip left corrupt (a killed write, a hand edit) is named and rebuilt, never uploaded.
    let mut rebuilt: BTreeMap<String, String> = BTreeMap::new();
    for r in requests {
        let path = zip_of(r);
        // A link is never uploaded: it could point anywhere. The link goes, its target stays.
        if fs::symlink_metadata(&path).is_ok_and(|m| !m.file_type().is_file()) {
            rebuilt.insert(
                r.fingerprint.clone(),
                format!(
                    "{} was not a plain file of the assembly (a symlink or other)",
                    path.display()
                ),
            );
            fs::remove_file(&path).map_err(|source| BundleError::Io { path, source })?;
            continue;
        }
        if let Ok(bytes) = fs::read(&path) {
            if let Some(why) = unusable_reason(&bytes) {
                rebuilt.insert(
                    r.fingerprint.clone(),
                    format!("{} was unusable: {why}", path.display()),
                );
                fs::remove_file(&path).map_err(|source| BundleError::Io { path, source })?;
            }
        }
    }
    // Crates to build, per architecture (several functions may share a crate).
    let mut to_build: BTreeMap<&'static str, Vec<&BundleRequest>> = BTreeMap::new();
    for r in requests {
        if !zip_of(r).exists() {
            let list = to_build.entry(target_triple(r.architecture)).or_default();
            if !list.iter().any(|x| x.handler_crate == r.handler_crate) {
                list.push(r);
            }
        }
    }
    // What is built is the workspace as it is now: it must be what the fingerprint names, or
    // the zip would carry other code under the assembly's name for it.
    for list in to_build.values() {
        for r in list {
            let now = ws.fingerprint(&r.handler_crate, r.architecture)?;
            if now != r.fingerprint {
                return Err(BundleError::StaleSources {
                    function: r.function.clone(),
                    handler_crate: r.handler_crate.clone(),
                    recorded: r.fingerprint.clone(),
                    now,
                });
            }
        }
    }
    let mut built_now = Vec::new();
    for (triple, list) in &to_build {
        check_target_installed(list[0].architecture)?;
        let mut packages = Vec::new();
        for r in list {
            packages.push(ws.package_name(&r.handler_crate)?);
        }
        cargo_build(ws, triple, &packages)?;
        for (r, package) in list.iter().zip(&packages) {
            let binary = ws.target_dir().join(triple).join(PROFILE).join(package);
            let bytes = fs::read(&binary).map_err(|source| BundleError::Io {
                path: binary.clone(),
                source,
            })?;
            if let Some(found) = max_glibc_version(&bytes) {
                if found > LAMBDA_GLIBC {
                    return Err(BundleError::Glibc { binary, found });
                }
            }
            let zip = zip_bootstrap(&bytes).map_err(|source| BundleError::Io {
                path: binary.clone(),
                source,
            })?;
            write_atomically(&zip_of(r), &zip)?;
            built_now.push(r.fingerprint.clone());
        }
    }
    requests
        .iter()
        .map(|r| {
            let path = zip_of(r);
            let bytes = fs::read(&path).map_err(|source| BundleError::Io {
                path: path.clone(),
                source,
            })?;
            Ok(BundleOutcome {
                function: r.function.clone(),
                handler_crate: r.handler_crate.clone(),
                size: bytes.len() as u64,
                sha256: hex(&Sha256::digest(&bytes)),
                zip: path,
                status: if let Some(reason) = rebuilt.get(&r.fingerprint) {
                    BundleStatus::Rebuilt {
                        reason: reason.clone(),
                    }
                } else if built_now.contains(&r.fingerprint) {
                    BundleStatus::Built
                } else {
                    BundleStatus::Cached
                },
            })
        })
        .collect()
}

/// Build handler crates with cargo's `dev` profile for the host (what local runs execute).
/// The whole workspace is built, as `cargo test --workspace` builds it: cargo unifies
/// dependency features over the packages of one build, and a different package set (one
/// stack's crates, then another's, then the test suite's) would rebuild the shared
/// dependencies back and forth. Returns the binary of each crate asked for.
pub fn build_dev(
    ws: &HandlerWorkspace,
    crates: &[String],
) -> Result<BTreeMap<String, PathBuf>, BundleError> {
    if crates.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut binaries = BTreeMap::new();
    for c in crates {
        binaries.insert(
            c.clone(),
            ws.target_dir().join("debug").join(ws.package_name(c)?),
        );
    }
    run_cargo(ws, &["build", "--workspace"])?;
    Ok(binaries)
}

fn cargo_build(
    ws: &HandlerWorkspace,
    triple: &str,
    packages: &[String],
) -> Result<(), BundleError> {
    let mut args = vec!["build", "--profile", PROFILE, "--target", triple];
    for p in packages {
        args.extend(["-p", p.as_str()]);
    }
    run_cargo(ws, &args)
}

/// The variables cargo sets for a binary or test it runs (not configuration the user set).
fn set_by_cargo_for_its_child(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

/// Run cargo in the workspace, building into its target directory.
fn run_cargo(ws: &HandlerWorkspace, args: &[&str]) -> Result<(), BundleError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    // What cargo sets for the process it runs (ordersctl under `cargo run` or a test) is not
    // the user's environment: build scripts that read it (ring's reads CARGO_MANIFEST_DIR)
    // would rerun, and every build would invalidate the last one in the shared target dir.
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_for_its_child) {
            command.env_remove(&name);
        }
    }
    let status = command
        .current_dir(ws.root())
        .env("CARGO_TARGET_DIR", ws.target_dir())
        .args(args)
        .status()
        .map_err(|source| BundleError::Spawn {
            program: cargo.to_string_lossy().into_owned(),
            source,
        })?;
    if !status.success() {
        return Err(BundleError::CargoFailed {
            status: status.to_string(),
        });
    }
    Ok(())
}

/// Write to a sibling temporary file, then rename: a zip is either whole or absent.
/// Under the assembly's lock: a synth swapping the assembly at the same moment would
/// otherwise move `assets/` from under the rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BundleError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BundleError::Io { path, source }
    };
    let assets_dir = path.parent().unwrap_or(Path::new("."));
    let _lock =
        AssemblyLock::acquire(crate::synth::lock::parent_of(assets_dir)).map_err(io(assets_dir))?;
    fs::create_dir_all(assets_dir).map_err(io(assets_dir))?;
    let tmp = path.with_extension(format!("zip.tmp-{}", std::process::id()));
    fs::write(&tmp, bytes).map_err(|source| BundleError::Io {
        path: tmp.clone(),
        source,
    })?;
    fs::rename(&tmp, path).map_err(|source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::set_by_cargo_for_its_child;

    #[test]
    fn sources_that_changed_since_synth_are_never_built_under_the_old_name() {
        use super::{bundle, BundleError, BundleRequest, HandlerWorkspace};
        use crate::constructs::Architecture;
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("handlers/worker");
        std::fs::create_dir_all(d.join("src")).unwrap();
        std::fs::write(d.join("Cargo.toml"), "[package]\nname = \"worker\"\n").unwrap();
        std::fs::write(d.join("src/main.rs"), "fn main() {}\n").unwrap();
        let ws = HandlerWorkspace::new(tmp.path());
        let request = BundleRequest {
            function: "S/Worker".into(),
            handler_crate: "worker".into(),
            architecture: Architecture::X86_64,
            fingerprint: "0".repeat(64),
        };
        let e = bundle(&ws, &[request], &tmp.path().join("assets")).unwrap_err();
        assert!(matches!(e, BundleError::StaleSources { .. }), "{e}");
        assert!(
            e.to_string().contains("S/Worker") && e.to_string().contains("synthesize again"),
            "{e}"
        );
    }

    #[test]
    fn only_what_cargo_sets_for_its_child_is_dropped() {
        for dropped in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_BIN_EXE_ordersctl",
            "CARGO_CRATE_NAME",
        ] {
            assert!(set_by_cargo_for_its_child(dropped), "{dropped}");
        }
        for kept in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO",
            "CARGO_BUILD_JOBS",
            "PATH",
        ] {
            assert!(!set_by_cargo_for_its_child(kept), "{kept}");
        }
    }
}
