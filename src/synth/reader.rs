//! Reading an assembly back from disk, so deploy and diff can work from what synth wrote
//! without running blueprint code.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Assembly, StackArtifact, MANIFEST_VERSION};
use crate::constructs::{Architecture, Asset, Stage};
use crate::template::Template;

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

/// Read `dir/manifest.json` and the templates it names.
pub fn read_assembly(dir: &Path) -> Result<Assembly, ReadError> {
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| err(&manifest_path, format!("cannot read: {e}")))?;
    let m: Value =
        serde_json::from_str(&text).map_err(|e| err(&manifest_path, format!("not JSON: {e}")))?;
    if m["version"] != MANIFEST_VERSION {
        return Err(err(
            &manifest_path,
            format!(
                "manifest version {} is not supported; allowed: {MANIFEST_VERSION}",
                m["version"]
            ),
        ));
    }
    let stage = match m["stage"].as_str() {
        Some("prod") => Stage::Prod,
        _ => Stage::Dev,
    };
    let stacks_json = m["stacks"]
        .as_object()
        .ok_or_else(|| err(&manifest_path, "`stacks` is not an object"))?;
    let mut stacks = Vec::new();
    for (name, s) in stacks_json {
        let file = s["template"]
            .as_str()
            .ok_or_else(|| err(&manifest_path, format!("stacks.{name}.template is missing")))?;
        let path = dir.join(file);
        if !file.ends_with(".json") {
            return Err(err(
                &path,
                "only JSON templates can be deployed from an assembly; synth with --format json",
            ));
        }
        let body =
            std::fs::read_to_string(&path).map_err(|e| err(&path, format!("cannot read: {e}")))?;
        let template = Template::from_json_str(&body).map_err(|e| err(&path, e.0))?;
        let dependencies = s["dependencies"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let assets = s["assets"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| Asset {
                        function: x["id"].as_str().unwrap_or_default().to_string(),
                        path: x["path"].as_str().unwrap_or_default().to_string(),
                        handler_crate: x["handlerCrate"].as_str().unwrap_or_default().to_string(),
                        architecture: if x["architecture"] == "arm64" {
                            Architecture::Arm64
                        } else {
                            Architecture::X86_64
                        },
                        s3_key: x["s3Key"].as_str().unwrap_or_default().to_string(),
                        fingerprint: x["fingerprint"].as_str().map(str::to_string),
                    })
                    .collect()
            })
            .unwrap_or_default();
        stacks.push(StackArtifact {
            name: name.clone(),
            template,
            dependencies,
            assets,
        });
    }
    Ok(Assembly { stacks, stage })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let back = read_assembly(&dir).unwrap();
        assert_eq!(back, asm);
        std::fs::write(dir.join("manifest.json"), "{\"version\": \"9\"}").unwrap();
        assert!(read_assembly(&dir)
            .unwrap_err()
            .to_string()
            .contains("not supported"));
    }
}
