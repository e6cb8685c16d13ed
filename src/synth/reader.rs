//! Reading an assembly back from disk, so deploy and diff can work from what synth wrote
//! without running blueprint code.

use std::path::{Path, PathBuf};

use super::manifest::Manifest;
use super::{Assembly, StackArtifact};
use crate::constructs::{Architecture, Asset, Stage};
use crate::template::Template;

/// Read an input file (a template, a manifest, an inject file) as text: a regular file only
/// (a device or a named pipe would read forever or block before the first byte), and no more
/// than [`MAX_TEMPLATE_BYTES`](crate::template::input_limits::MAX_TEMPLATE_BYTES) of it, whatever size it claims.
///
/// ```
/// use ordersctl::synth::reader::read_input;
/// assert!(read_input("/dev/zero".as_ref()).unwrap_err().contains("not a regular file"));
/// ```
pub fn read_input(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(
            "is not a regular file (a directory, device or named pipe); refusing to read it".into(),
        );
    }
    crate::template::input_limits::check_size(meta.len() as usize)?;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut text = String::new();
    file.take(crate::template::input_limits::MAX_TEMPLATE_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read: {e}"))?;
    crate::template::input_limits::check_size(text.len())?;
    Ok(text)
}

/// Why an assembly directory could not be read; names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ReadError {
    pub path: PathBuf,
    pub message: String,
}

fn err(path: &Path, message: impl Into<String>) -> ReadError {
    ReadError {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// A file the manifest names must be a plain name inside the assembly: no separator, no
/// `..`, not absolute. A manifest is input like any other, and a crafted one must not make
/// `diff` read, or `deploy` upload, a file elsewhere.
fn plain_file_name<'a>(manifest: &Path, field: &str, value: &'a str) -> Result<&'a str, ReadError> {
    let ok =
        !value.is_empty() && value != "." && value != ".." && !value.contains(['/', '\\', '\0']);
    if ok {
        Ok(value)
    } else {
        Err(err(
            manifest,
            format!("{field} {value:?} is not a plain file name inside the assembly (no `/`, no `..`, not absolute)"),
        ))
    }
}

/// A symlink inside the assembly may point within it, never out of it.
fn stays_inside(dir: &Path, path: &Path) -> Result<(), ReadError> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(());
    }
    let root = std::fs::canonicalize(dir).map_err(|e| err(dir, format!("cannot read: {e}")))?;
    match std::fs::canonicalize(path) {
        Ok(target) if target.starts_with(&root) => Ok(()),
        Ok(target) => Err(err(
            path,
            format!(
                "is a symlink to {}, outside the assembly; refusing to read it",
                target.display()
            ),
        )),
        Err(e) => Err(err(
            path,
            format!("is a symlink that cannot be followed: {e}"),
        )),
    }
}

/// Read `dir/manifest.json` and the templates it names.
pub fn read_assembly(dir: &Path) -> Result<Assembly, ReadError> {
    let manifest_path = dir.join("manifest.json");
    stays_inside(dir, &manifest_path)?;
    let text = read_input(&manifest_path).map_err(|e| err(&manifest_path, e))?;
    let m = Manifest::parse(&text).map_err(|e| err(&manifest_path, e))?;
    let stage = match m.stage.as_str() {
        "prod" => Stage::Prod,
        "dev" => Stage::Dev,
        other => {
            return Err(err(
                &manifest_path,
                format!("stage {other:?} is not one ordersctl knows; allowed: dev, prod"),
            ))
        }
    };
    if m.stacks.is_empty() {
        return Err(err(
            &manifest_path,
            "has no stacks; synthesize an app with at least one",
        ));
    }
    let plain = |v: &str| {
        !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let mut stacks = Vec::new();
    for (name, s) in &m.stacks {
        for dep in &s.dependencies {
            if !m.stacks.contains_key(dep) {
                return Err(err(
                    &manifest_path,
                    format!("`{name}` depends on `{dep}`, which this assembly does not hold, so it is partial; synthesize it again (`ordersctl synth --out DIR`)"),
                ));
            }
        }
        if !s.fingerprint.is_empty() && (!plain(&s.fingerprint) || s.fingerprint.len() > 128) {
            return Err(err(
                &manifest_path,
                format!("stacks.{name}.fingerprint {:?} is not a fingerprint (letters, digits, `-` and `_` only)", s.fingerprint),
            ));
        }
        let env = &s.environment;
        let account_ok = env.account == "unknown-account"
            || (env.account.len() == 12 && env.account.chars().all(|c| c.is_ascii_digit()));
        // A region: letter groups then a number, dash-separated (`eu-west-1`).
        let region_ok = env.region == "unknown-region" || {
            let parts: Vec<&str> = env.region.split('-').collect();
            parts.len() >= 3
                && parts[..parts.len() - 1]
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
                && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
                && !parts[parts.len() - 1].is_empty()
        };
        if !account_ok || !region_ok {
            return Err(err(
                &manifest_path,
                format!("stacks.{name}.environment is {:?}/{:?}; allowed: a 12-digit account or unknown-account, a region or unknown-region", env.account, env.region),
            ));
        }
        // CloudFormation's stack names: a letter, then letters, digits and hyphens, at most 128.
        let valid_name = name.len() <= 128
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid_name {
            return Err(err(
                &manifest_path,
                format!("stack name {name:?} is not one CloudFormation accepts (a letter, then letters, digits and `-`, at most 128)"),
            ));
        }
        let file = plain_file_name(
            &manifest_path,
            &format!("stacks.{name}.template"),
            &s.template,
        )?;
        let path = dir.join(file);
        stays_inside(dir, &path)?;
        if !file.ends_with(".json") {
            return Err(err(
                &path,
                "only JSON templates can be deployed from an assembly; synth with --format json",
            ));
        }
        let body = read_input(&path).map_err(|e| {
            if !path.exists() {
                err(
                    &path,
                    format!("stack {name}'s template is missing, so the assembly is partial; synthesize it again (`ordersctl synth --out DIR`)"),
                )
            } else {
                err(&path, e)
            }
        })?;
        let template = Template::from_json_str(&body).map_err(|e| err(&path, e.0))?;
        let body = Some(body);
        if s.dependencies.contains(name) {
            return Err(err(
                &manifest_path,
                format!("stacks.{name}.dependencies names the stack itself"),
            ));
        }
        let field = |i: usize, key: &str| format!("stacks.{name}.assets[{i}].{key}");
        let mut assets = Vec::new();
        for (i, x) in s.assets.iter().enumerate() {
            // The zip is `assets/<fingerprint>.zip`, and the key is the object uploaded.
            if let Some(fp) = &x.fingerprint {
                if fp.is_empty()
                    || !fp
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    return Err(err(
                        &manifest_path,
                        format!(
                            "{} {fp:?} is not a fingerprint (letters, digits, `-` and `_` only)",
                            field(i, "fingerprint")
                        ),
                    ));
                }
            }
            let key = &x.s3_key;
            if key.is_empty() || key.chars().any(char::is_control) {
                return Err(err(
                    &manifest_path,
                    format!(
                        "{} {key:?} is not an object key (printable, not empty)",
                        field(i, "s3Key")
                    ),
                ));
            }
            if key.starts_with('/')
                || key.split('/').any(|seg| seg == "..")
                || key.contains(['\\', '\0'])
            {
                return Err(err(
                    &manifest_path,
                    format!(
                        "{} {key:?} is not a relative object key (no leading `/`, no `..`)",
                        field(i, "s3Key")
                    ),
                ));
            }
            // What a terminal will show: logical IDs and construct paths of plain characters.
            if !plain(&x.id) {
                return Err(err(
                    &manifest_path,
                    format!(
                        "{} {:?} is not a logical ID (letters and digits)",
                        field(i, "id"),
                        x.id
                    ),
                ));
            }
            if x.path.is_empty() || x.path.chars().any(char::is_control) || x.path.len() > 1024 {
                return Err(err(
                    &manifest_path,
                    format!(
                        "{} {:?} is not a construct path (Stack/Id, printable)",
                        field(i, "path"),
                        x.path
                    ),
                ));
            }
            if s.assets[..i].iter().any(|earlier| earlier.id == x.id) {
                return Err(err(
                    &manifest_path,
                    format!("{} {:?} is listed twice", field(i, "id"), x.id),
                ));
            }
            if !plain(&x.handler_crate) {
                return Err(err(
                    &manifest_path,
                    format!(
                        "{} {:?} is not a crate name (letters, digits, `-` and `_`)",
                        field(i, "handlerCrate"),
                        x.handler_crate
                    ),
                ));
            }
            if x.bucket_parameter != crate::constructs::ASSET_BUCKET_PARAMETER {
                return Err(err(
                    &manifest_path,
                    format!(
                        "{} {:?} is not a parameter ordersctl sets; allowed: {}",
                        field(i, "bucketParameter"),
                        x.bucket_parameter,
                        crate::constructs::ASSET_BUCKET_PARAMETER
                    ),
                ));
            }
            if x.kind != "lambda-zip" {
                return Err(err(
                    &manifest_path,
                    format!(
                        "{} {:?} is not an asset kind ordersctl knows; allowed: lambda-zip",
                        field(i, "type"),
                        x.kind
                    ),
                ));
            }
            let architecture = match x.architecture.as_str() {
                "arm64" => Architecture::Arm64,
                "x86_64" => Architecture::X86_64,
                other => {
                    return Err(err(
                        &manifest_path,
                        format!(
                            "{} {other:?} is not one Lambda runs; allowed: x86_64, arm64",
                            field(i, "architecture")
                        ),
                    ))
                }
            };
            assets.push(Asset {
                function: x.id.clone(),
                path: x.path.clone(),
                handler_crate: x.handler_crate.clone(),
                architecture,
                s3_key: x.s3_key.clone(),
                fingerprint: x.fingerprint.clone(),
            });
        }
        stays_inside(dir, &dir.join(super::writer::ASSETS_DIR))?;
        stacks.push(StackArtifact {
            name: name.clone(),
            template,
            dependencies: s.dependencies.clone(),
            assets,
            body,
        });
    }
    // Dependencies that go round in a circle would leave every stack of it waiting forever
    // (a deploy that deploys nothing and says nothing).
    let mut remaining: Vec<&StackArtifact> = stacks.iter().collect();
    loop {
        let before = remaining.len();
        let names: Vec<&str> = remaining.iter().map(|s| s.name.as_str()).collect();
        remaining.retain(|s| s.dependencies.iter().any(|d| names.contains(&d.as_str())));
        if remaining.len() == before {
            break;
        }
    }
    if !remaining.is_empty() {
        let circle: Vec<&str> = remaining.iter().map(|s| s.name.as_str()).collect();
        return Err(err(
            &manifest_path,
            format!(
                "the stacks' dependencies go round in a circle: {}",
                circle.join(", ")
            ),
        ));
    }
    Ok(Assembly { stacks, stage })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn what_the_writer_writes_the_reader_reads() {
        let app = crate::constructs::App::new();
        let a = app.stack("A");
        let q = a.queue("Q").build().unwrap();
        app.stack("B").output("U", q.url());
        let asm = crate::synth::synthesize(&app).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("asm");
        crate::synth::writer::write_assembly(&asm, &dir, crate::template::Format::Json).unwrap();
        let mut back = read_assembly(&dir).unwrap();
        for s in &mut back.stacks {
            // Kept exactly as the file holds it, for deploy to send.
            let file =
                std::fs::read_to_string(dir.join(s.template_file(crate::template::Format::Json)));
            assert_eq!(s.body.take(), Some(file.unwrap()));
        }
        assert_eq!(back, asm);
        std::fs::write(dir.join("manifest.json"), "{\"version\": \"9\"}").unwrap();
        let e = read_assembly(&dir).unwrap_err().to_string();
        assert!(
            e.contains("format version 9, newer") && e.contains("reads version 1"),
            "{e}"
        );
        let mut m: Value =
            serde_json::to_value(asm.manifest(crate::template::Format::Json)).unwrap();
        m["stacks"]["A"]["colour"] = "blue".into();
        std::fs::write(dir.join("manifest.json"), m.to_string()).unwrap();
        let e = read_assembly(&dir).unwrap_err().to_string();
        assert!(e.contains("unknown field `colour`"), "{e}");
        std::fs::write(
            dir.join("manifest.json"),
            r#"{"version": "1", "stage": "dev", "stacks": {}, "stacks": {}}"#,
        )
        .unwrap();
        let e = read_assembly(&dir).unwrap_err().to_string();
        assert!(
            e.contains("stacks") && e.contains("more than once") || e.contains("duplicate"),
            "{e}"
        );
        std::fs::write(
            dir.join("manifest.json"),
            r#"{"version": "1", "stage": "dev", "stacks": {}}"#,
        )
        .unwrap();
        let e = read_assembly(&dir).unwrap_err().to_string();
        assert!(e.contains("has no stacks"), "{e}");
    }

    /// Writes a one-stack assembly and lets `edit` change its manifest.
    fn crafted(edit: impl FnOnce(&mut Value)) -> (tempfile::TempDir, PathBuf) {
        let app = crate::constructs::App::new();
        app.stack("A").queue("Q").build().unwrap();
        let asm = crate::synth::synthesize(&app).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("asm");
        crate::synth::writer::write_assembly(&asm, &dir, crate::template::Format::Json).unwrap();
        let path = dir.join("manifest.json");
        let mut m: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        edit(&mut m);
        std::fs::write(&path, m.to_string()).unwrap();
        (tmp, dir)
    }

    #[test]
    fn manifest_values_are_checked_before_anything_uses_them() {
        let asset = |krate: &str, bucket: &str| serde_json::json!([{"id": "F", "path": "A/F", "handlerCrate": krate, "s3Key": "k.zip", "bucketParameter": bucket}]);
        for (edit, wanted) in [
            (
                serde_json::json!({"dependencies": ["Ghost"]}),
                "depends on `Ghost`, which this assembly does not hold",
            ),
            (
                serde_json::json!({"fingerprint": "../../etc"}),
                "stacks.A.fingerprint",
            ),
            (
                serde_json::json!({"environment": {"account": "x; rm -rf /", "region": "unknown-region"}}),
                "12-digit account",
            ),
            (
                serde_json::json!({"assets": asset("../../../etc", "AssetBucket")}),
                "assets[0].handlerCrate",
            ),
            (
                serde_json::json!({"assets": [{"id": "F", "path": "\u{1b}[2Jfake: all good", "handlerCrate": "c", "s3Key": "k.zip"}]}),
                "assets[0].path",
            ),
            (
                serde_json::json!({"assets": [{"id": "F", "path": "A/F", "handlerCrate": "c", "s3Key": ""}]}),
                "assets[0].s3Key",
            ),
            (
                serde_json::json!({"assets": [{"id": "F", "path": "A/F", "handlerCrate": "c", "s3Key": "k.zip"}, {"id": "F", "path": "A/F", "handlerCrate": "c", "s3Key": "k.zip"}]}),
                "listed twice",
            ),
            (
                serde_json::json!({"environment": {"account": "unknown-account", "region": "-"}}),
                "a region or unknown-region",
            ),
            (
                serde_json::json!({"assets": asset("c", "Other")}),
                "allowed: AssetBucket",
            ),
        ] {
            let (_t, dir) = crafted(|m| {
                for (k, v) in edit.as_object().unwrap() {
                    m["stacks"]["A"][k] = v.clone();
                }
            });
            let e = read_assembly(&dir).unwrap_err().to_string();
            assert!(e.contains(wanted), "{edit}: {e}");
        }
    }

    #[test]
    fn manifest_paths_cannot_leave_the_assembly() {
        for bad in [
            "../../etc/passwd.json",
            "/etc/x.json",
            "sub/A.template.json",
            "..",
        ] {
            let (_t, dir) = crafted(|m| m["stacks"]["A"]["template"] = bad.into());
            let e = read_assembly(&dir).unwrap_err().to_string();
            assert!(
                e.contains("stacks.A.template") && e.contains("not a plain file name"),
                "{bad}: {e}"
            );
        }
        let asset = |fp: &str, key: &str| serde_json::json!([{"id": "F", "path": "A/F", "type": "lambda-zip", "handlerCrate": "c", "architecture": "arm64", "s3Key": key, "fingerprint": fp, "bucketParameter": "AssetBucket"}]);
        let (_t, dir) =
            crafted(|m| m["stacks"]["A"]["assets"] = asset("../../loot/secret", "k.zip"));
        let e = read_assembly(&dir).unwrap_err().to_string();
        assert!(
            e.contains("stacks.A.assets[0].fingerprint") && e.contains("not a fingerprint"),
            "{e}"
        );
        let (_t, dir) = crafted(|m| m["stacks"]["A"]["assets"] = asset("abc123", "../x.zip"));
        let e = read_assembly(&dir).unwrap_err().to_string();
        assert!(e.contains("stacks.A.assets[0].s3Key"), "{e}");
        let (_t, dir) = crafted(|m| m["stacks"]["A"]["assets"] = asset("abc123", "abc123.zip"));
        assert_eq!(read_assembly(&dir).unwrap().stacks[0].assets.len(), 1);
    }

    #[test]
    fn dependencies_in_a_circle_are_refused() {
        let (_t, dir) = crafted(|m| {
            let a = m["stacks"]["A"].clone();
            m["stacks"]["B"] = a;
            m["stacks"]["A"]["dependencies"] = serde_json::json!(["B"]);
            m["stacks"]["B"]["dependencies"] = serde_json::json!(["A"]);
        });
        let e = read_assembly(&dir).unwrap_err().to_string();
        assert!(e.contains("go round in a circle: A, B"), "{e}");
    }

    #[test]
    fn a_symlink_may_point_inside_the_assembly_but_not_out_of_it() {
        let (tmp, dir) = crafted(|_| {});
        let outside = tmp.path().join("secret.json");
        std::fs::write(&outside, "{\"Resources\": {}}").unwrap();
        let template = dir.join("A.template.json");
        let inside = dir.join("A.copy.json");
        std::fs::rename(&template, &inside).unwrap();
        std::os::unix::fs::symlink(&inside, &template).unwrap();
        assert!(read_assembly(&dir).is_ok());
        std::fs::remove_file(&template).unwrap();
        std::os::unix::fs::symlink(&outside, &template).unwrap();
        let e = read_assembly(&dir).unwrap_err().to_string();
        assert!(e.contains("outside the assembly"), "{e}");
        std::fs::remove_file(&template).unwrap();
        std::fs::rename(&inside, &template).unwrap();
        std::os::unix::fs::symlink(tmp.path(), dir.join("assets")).unwrap();
        let e = read_assembly(&dir).unwrap_err().to_string();
        assert!(
            e.contains("assets") && e.contains("outside the assembly"),
            "{e}"
        );
    }
}
