//! Writing the assembly to disk, atomically: everything goes to a fresh sibling directory
//! first and replaces the old assembly only once complete, so a failed synth leaves the
//! previous assembly intact.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::lock::{base_name, parent_of, real_dir, AssemblyLock};
use super::Assembly;
use crate::template::Format;

/// Why the assembly could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    // The cause is in the message, not a `source`: it would print twice.
    #[error("cannot write the assembly to {path}: {cause}")]
    Io { path: PathBuf, cause: io::Error },
    #[error(
        "{0} exists and is not an ordersctl assembly (no manifest.json of ours, with a format version); refusing to replace it"
    )]
    NotAnAssembly(PathBuf),
    #[error(
        "{0} is not a file ordersctl wrote, and the new assembly writes one of that name; move it, or pick another --out"
    )]
    Foreign(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |cause| WriteError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// Sub-directory of the assembly holding bundled zips (`<fingerprint>.zip`).
pub const ASSETS_DIR: &str = "assets";

/// The manifest of an assembly ordersctl wrote in `dir`: one that names our format version and
/// has a `stacks` table (a web site's `manifest.json` is not one).
fn our_manifest(dir: &Path) -> Option<serde_json::Value> {
    fs::read(dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .filter(|m| {
            m.get("version").and_then(|v| v.as_str()) == Some(super::assembly::MANIFEST_VERSION)
                && m.get("stacks").is_some_and(|s| s.is_object())
        })
}

/// Write `manifest.json` and one template per stack into `dir`, replacing what was there.
pub fn write_assembly(
    assembly: &Assembly,
    dir: &Path,
    format: Format,
) -> Result<Vec<PathBuf>, WriteError> {
    write_rendered(assembly, dir, format, None)
}

/// As [`write_assembly`], with each stack's template already rendered in `format` (in stack
/// order), so it is not rendered again.
pub fn write_rendered(
    assembly: &Assembly,
    dir: &Path,
    format: Format,
    rendered: Option<&[String]>,
) -> Result<Vec<PathBuf>, WriteError> {
    // Through a symlink, the assembly goes where the link points and the link stays: the
    // staging directory and the swap happen beside the real directory, not beside the link.
    let dir = &real_dir(dir).map_err(io_err(dir))?;
    // A file where a directory of the path should be: say which, not "File exists".
    if let Some(blocker) = dir.ancestors().skip(1).find(|a| a.exists() && !a.is_dir()) {
        return Err(WriteError::Io {
            path: dir.to_path_buf(),
            cause: io::Error::other(format!("{} is not a directory", blocker.display())),
        });
    }
    let _lock = AssemblyLock::acquire(dir).map_err(io_err(dir))?;
    let previous = our_manifest(dir);
    if dir.exists() && !(dir.is_dir() && (previous.is_some() || is_empty_dir(dir))) {
        return Err(WriteError::NotAnAssembly(dir.to_path_buf()));
    }
    // The directory a shell is in (`--out .`) is written in place: replacing it as a whole
    // would leave that shell, and this process, in a deleted directory.
    if holds_current_dir(dir) {
        return write_in_place(assembly, dir, format, rendered, previous.as_ref());
    }
    let parent = parent_of(dir);
    let base = base_name(dir);
    // Under the lock, any staging or old directory of this assembly is a killed run's.
    remove_leftovers(parent, &base);
    let staging = parent.join(format!(".{base}.staging-{}", std::process::id()));
    // Messages name the assembly's own paths, never the staging directory's.
    fs::create_dir(&staging).map_err(io_err(dir))?;
    let result = fill(assembly, &staging, dir, format, rendered);
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    // Bundled assets are keyed by fingerprint and outlive a synth: carry them over. So do
    // files ordersctl did not write (a README, a .gitignore): only its own are replaced.
    let assets = dir.join(ASSETS_DIR);
    if assets.is_dir() {
        fs::rename(&assets, staging.join(ASSETS_DIR)).map_err(io_err(&assets))?;
    }
    let ours = written_by_us(previous.as_ref());
    let foreign: Vec<std::ffi::OsString> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != ASSETS_DIR && !ours.contains(&*n.to_string_lossy()))
        .collect();
    // Someone else's file where the new assembly writes one of its own: refused before
    // anything moves.
    if let Some(clash) = foreign.iter().find(|n| staging.join(n).exists()) {
        if staging.join(ASSETS_DIR).is_dir() {
            let _ = fs::rename(staging.join(ASSETS_DIR), &assets);
        }
        let _ = fs::remove_dir_all(&staging);
        return Err(WriteError::Foreign(dir.join(clash)));
    }
    for name in &foreign {
        fs::rename(dir.join(name), staging.join(name)).map_err(io_err(&dir.join(name)))?;
    }
    let old = parent.join(format!(".{base}.old-{}", std::process::id()));
    if dir.exists() {
        fs::rename(dir, &old).map_err(io_err(dir))?;
    }
    if let Err(cause) = fs::rename(&staging, dir) {
        // Put the previous assembly back before reporting.
        if old.exists() {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&staging);
        return Err(WriteError::Io {
            path: dir.to_path_buf(),
            cause,
        });
    }
    if old.exists() {
        // The new assembly is in place; a previous one left behind is cleared by the next run.
        let _ = fs::remove_dir_all(&old);
    }
    let mut written = vec![dir.join("manifest.json")];
    written.extend(
        assembly
            .stacks
            .iter()
            .map(|s| dir.join(s.template_file(format))),
    );
    Ok(written)
}

/// Whether `dir` is the current directory or one of its ancestors.
fn holds_current_dir(dir: &Path) -> bool {
    match (std::env::current_dir(), dir.canonicalize()) {
        (Ok(cwd), Ok(dir)) => cwd.canonicalize().unwrap_or(cwd).starts_with(&dir),
        _ => false,
    }
}

/// Write the assembly into `dir` file by file: each template and then the manifest through a
/// temporary file renamed into place (a reader sees a whole file, old or new), then the
/// previous assembly's templates that are no longer named are removed. Files ordersctl did
/// not write stay; one in the way of a template is refused before anything is written.
fn write_in_place(
    assembly: &Assembly,
    dir: &Path,
    format: Format,
    given: Option<&[String]>,
    previous: Option<&serde_json::Value>,
) -> Result<Vec<PathBuf>, WriteError> {
    let ours = written_by_us(previous);
    let files: Vec<String> = assembly
        .stacks
        .iter()
        .map(|s| s.template_file(format))
        .collect();
    if let Some(clash) = files
        .iter()
        .find(|f| !ours.contains(*f) && fs::symlink_metadata(dir.join(f)).is_ok())
    {
        return Err(WriteError::Foreign(dir.join(clash)));
    }
    let rendered = templates(assembly, format, given);
    let put = |name: &str, text: &str| -> Result<(), WriteError> {
        let target = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        fs::write(&tmp, text)
            .and_then(|()| fs::rename(&tmp, &target))
            .map_err(|cause| {
                let _ = fs::remove_file(&tmp);
                WriteError::Io {
                    path: target.clone(),
                    cause,
                }
            })
    };
    for (file, text) in files.iter().zip(rendered.iter()) {
        put(file, text)?;
    }
    put("manifest.json", &manifest_text(assembly, format, &rendered))?;
    // Only plain names of this directory: the previous manifest is not trusted further.
    let plain = |f: &&String| !f.contains(['/', '\\', '\0']) && *f != "." && *f != "..";
    for gone in ours
        .iter()
        .filter(plain)
        .filter(|f| *f != "manifest.json" && !files.contains(f))
    {
        if fs::symlink_metadata(dir.join(gone)).is_ok_and(|m| m.is_file()) {
            let _ = fs::remove_file(dir.join(gone));
        }
    }
    let mut written = vec![dir.join("manifest.json")];
    written.extend(files.iter().map(|f| dir.join(f)));
    Ok(written)
}

/// The files the previous manifest says ordersctl wrote (the manifest and its templates).
fn written_by_us(manifest: Option<&serde_json::Value>) -> std::collections::BTreeSet<String> {
    let mut ours: std::collections::BTreeSet<String> = ["manifest.json".to_string()].into();
    if let Some(serde_json::Value::Object(stacks)) = manifest.map(|m| &m["stacks"]) {
        for s in stacks.values() {
            if let Some(t) = s["template"].as_str() {
                ours.insert(t.to_string());
            }
        }
    }
    ours
}

fn remove_leftovers(parent: &Path, base: &str) {
    let prefixes = [format!(".{base}.staging-"), format!(".{base}.old-")];
    for e in fs::read_dir(parent).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if prefixes.iter().any(|p| name.starts_with(p.as_str())) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Empty, or holding nothing but an `assets/` directory of bundled zips (what `invoke` or
/// `bundle` leave in a fresh directory): nothing of anyone else's to lose.
fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .all(|e| e.file_name() == ASSETS_DIR && e.path().is_dir() && only_zips(&e.path()))
        })
        .unwrap_or(false)
}

fn only_zips(assets: &Path) -> bool {
    fs::read_dir(assets)
        .map(|d| {
            d.flatten()
                .all(|e| e.path().extension().is_some_and(|x| x == "zip"))
        })
        .unwrap_or(false)
}

/// Each stack's template text: the renderings given (in stack order), else rendered now.
fn templates<'a>(
    assembly: &Assembly,
    format: Format,
    given: Option<&'a [String]>,
) -> std::borrow::Cow<'a, [String]> {
    match given {
        Some(texts) if texts.len() == assembly.stacks.len() => std::borrow::Cow::Borrowed(texts),
        _ => std::borrow::Cow::Owned(
            assembly
                .stacks
                .iter()
                .map(|s| s.template.render(format))
                .collect(),
        ),
    }
}

/// `manifest.json` as written: pretty JSON with a final newline.
fn manifest_text(assembly: &Assembly, format: Format, rendered: &[String]) -> String {
    let mut text = serde_json::to_string_pretty(&assembly.manifest_of(format, rendered))
        .expect("manifest is JSON");
    text.push('\n');
    text
}

/// Write into `staging`; an error names the file as it will be in `dir`.
fn fill(
    assembly: &Assembly,
    staging: &Path,
    dir: &Path,
    format: Format,
    given: Option<&[String]>,
) -> Result<(), WriteError> {
    let rendered = templates(assembly, format, given);
    for (s, text) in assembly.stacks.iter().zip(rendered.iter()) {
        let file = s.template_file(format);
        fs::write(staging.join(&file), text).map_err(io_err(&dir.join(&file)))?;
    }
    fs::write(
        staging.join("manifest.json"),
        manifest_text(assembly, format, &rendered),
    )
    .map_err(io_err(&dir.join("manifest.json")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_the_assembly_never_the_staging_directory() {
        let app = crate::constructs::App::new();
        app.stack("A").queue("Q").build().unwrap();
        let asm = crate::synth::synthesize(&app).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("asm");
        // A file where the staging directory would go: creating it fails.
        let blocker = tmp
            .path()
            .join(format!(".asm.staging-{}", std::process::id()));
        fs::write(&blocker, "in the way").unwrap();
        let e = write_assembly(&asm, &dir, Format::Json)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&*dir.to_string_lossy()), "{e}");
        assert!(!e.contains("staging"), "{e}");
    }
}
