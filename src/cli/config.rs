//! The project: the nearest `ordersctl.toml` (from the current directory up) and its
//! settings, `stage` and `app`. Its directory is the project root, which holds the handler
//! crates under `handlers/`; with no such file the current directory is the root.

use std::path::{Path, PathBuf};

use crate::constructs::Stage;
use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Deserialize;

/// Name of the project settings file.
pub const CONFIG_FILE: &str = "ordersctl.toml";

/// Options every verb that synthesizes takes.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// Deployment stage the stacks are synthesized for: prod retains tables and queues,
    /// dev destroys them [default: `stage` in ordersctl.toml, else dev]
    #[arg(long, value_parser = ["dev", "prod"])]
    pub stage: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    stage: Option<String>,
    app: Option<String>,
}

/// The project a command runs in.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory of `ordersctl.toml`, else the current directory.
    pub root: PathBuf,
    /// The settings file, if one was found.
    pub config: Option<PathBuf>,
    /// `stage` from the file.
    pub stage: Option<Stage>,
    /// `app` from the file: the command that writes the assembly.
    pub app: Option<String>,
}

impl Project {
    /// The nearest `ordersctl.toml` from the current directory up, read.
    pub fn discover() -> Result<Project> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        Project::discover_from(&cwd)
    }

    fn discover_from(start: &Path) -> Result<Project> {
        for dir in start.ancestors() {
            let file = dir.join(CONFIG_FILE);
            match std::fs::symlink_metadata(&file) {
                Ok(_) if file.is_file() => return Project::read(dir, &file),
                // Something else by that name is a mistake to say, not to walk past.
                Ok(_) => bail!(
                    "{}: is not a regular file; the project settings file must be one (or remove it)",
                    file.display()
                ),
                Err(_) => {}
            }
        }
        Ok(Project {
            root: start.to_path_buf(),
            config: None,
            stage: None,
            app: None,
        })
    }

    fn read(root: &Path, path: &Path) -> Result<Project> {
        let text = crate::synth::reader::read_input(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let cfg: ConfigFile = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(n) => anyhow::anyhow!("{}:{n}: {}", path.display(), e.message()),
                None => anyhow::anyhow!("{}: {}", path.display(), e.message()),
            }
        })?;
        let stage = match cfg.stage {
            None => None,
            Some(s) => match s.parse() {
                Ok(stage) => Some(stage),
                Err(msg) => bail!("{}: stage: {msg}", path.display()),
            },
        };
        if let Some(app) = &cfg.app {
            if app.trim().is_empty() {
                bail!(
                    "{}: app is empty; name the command that writes the assembly, e.g. app = \"cargo run --quiet --bin infra --\"",
                    path.display()
                );
            }
        }
        Ok(Project {
            root: root.to_path_buf(),
            config: Some(path.to_path_buf()),
            stage,
            app: cfg.app,
        })
    }
}

impl StageArgs {
    /// The flag, else the project's settings, else dev.
    pub fn resolve(&self, project: &Project) -> Result<Stage> {
        if let Some(s) = &self.stage {
            return s.parse().map_err(anyhow::Error::msg).context("--stage");
        }
        Ok(project.stage.unwrap_or(Stage::Dev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_file_is_the_project_and_errors_name_it() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(Project::discover_from(&nested).unwrap().app, None);
        let f = dir.path().join("ordersctl.toml");
        std::fs::write(
            &f,
            "stage = \"prod\"\napp = \"cargo run --quiet --bin infra --\"\n",
        )
        .unwrap();
        let p = Project::discover_from(&nested).unwrap();
        assert_eq!(p.root, dir.path());
        assert_eq!(p.stage, Some(Stage::Prod));
        assert_eq!(p.app.as_deref(), Some("cargo run --quiet --bin infra --"));
        for (text, wanted) in [
            ("stage = \"qa\"\n", "allowed: dev, prod"),
            ("stag = \"dev\"\n", "ordersctl.toml:1: unknown field"),
            ("app = \" \"\n", "app is empty"),
        ] {
            std::fs::write(&f, text).unwrap();
            let e = Project::discover_from(&nested).unwrap_err().to_string();
            assert!(e.contains("ordersctl.toml") && e.contains(wanted), "{e}");
        }
    }
}
