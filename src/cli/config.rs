//! Settings shared by the verbs: the stage, from `--stage` or `ordersctl.toml`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use clap::Args;
use ordersctl::constructs::Stage;
use serde::Deserialize;

/// Name of the optional project settings file, read from the current directory.
pub const CONFIG_FILE: &str = "ordersctl.toml";

/// Options every verb that synthesizes takes.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// Deployment stage the blueprints are synthesized for: prod retains tables and queues,
    /// dev destroys them [default: `stage` in ordersctl.toml, else dev]
    #[arg(long, value_parser = ["dev", "prod"])]
    pub stage: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    stage: Option<String>,
}

impl StageArgs {
    /// The flag, else the config file, else dev.
    pub fn resolve(&self) -> Result<Stage> {
        if let Some(s) = &self.stage {
            return s.parse().map_err(anyhow::Error::msg).context("--stage");
        }
        resolve_from_file(Path::new(CONFIG_FILE))
    }
}

fn resolve_from_file(path: &Path) -> Result<Stage> {
    if !path.exists() {
        return Ok(Stage::Dev);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let cfg: ConfigFile = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))?;
    match cfg.stage {
        None => Ok(Stage::Dev),
        Some(s) => match s.parse() {
            Ok(stage) => Ok(stage),
            Err(msg) => bail!("{}: {msg}", path.display()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ordersctl.toml");
        assert_eq!(resolve_from_file(&f).unwrap(), Stage::Dev);
        std::fs::write(&f, "stage = \"prod\"\n").unwrap();
        assert_eq!(resolve_from_file(&f).unwrap(), Stage::Prod);
        std::fs::write(&f, "stage = \"qa\"\n").unwrap();
        let e = resolve_from_file(&f).unwrap_err().to_string();
        assert!(
            e.contains("ordersctl.toml") && e.contains("allowed: dev, prod"),
            "{e}"
        );
        std::fs::write(&f, "stag = \"dev\"\n").unwrap();
        let e = resolve_from_file(&f).unwrap_err().to_string();
        assert!(
            e.contains("ordersctl.toml") && e.contains("unknown field"),
            "{e}"
        );
    }
}
