//! What every verb that synthesizes needs: the stage and the handlers workspace.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::bundle::HandlerWorkspace;
use crate::checks::{check_rendered, HandlerContract, Report, Severity};
use crate::constructs::App;
use crate::synth::{synthesize, Assembly};
use anyhow::{bail, Context, Result};
use clap::Args;

use crate::cli::config::{Project, StageArgs, CONFIG_FILE};
use crate::cli::program;

/// The assembly directory's default name.
pub const DEFAULT_OUT: &str = "ordersctl.out";

/// Per function (logical ID): its handler crate and the contract that crate declares.
type Contracts = BTreeMap<String, (String, Option<HandlerContract>)>;

/// Options shared by synth, list, bundle and invoke.
#[derive(Debug, Args)]
pub struct AppArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Workspace holding the handler crates (`handlers/<crate>/`) [default: the directory of
    /// the nearest ordersctl.toml, else the current directory]
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// The assembly directory whose fingerprint cache this run reads and keeps (set by the
    /// verbs that write an assembly).
    #[arg(skip)]
    pub fingerprint_cache: Option<PathBuf>,
    #[arg(skip)]
    handlers: std::cell::OnceCell<HandlerWorkspace>,
    #[arg(skip)]
    found: std::cell::OnceCell<Project>,
}

impl AppArgs {
    /// Where the assembly goes: `--out` as given (relative to the current directory), else
    /// the project's `ordersctl.out`, in its root (as cargo's `target/` is the workspace's).
    pub fn resolve_out(&self, given: Option<PathBuf>) -> PathBuf {
        if let Some(out) = given {
            return out;
        }
        match self.project() {
            Ok(Project {
                root,
                config: Some(_),
                ..
            }) => root.join(DEFAULT_OUT),
            _ => PathBuf::from(DEFAULT_OUT),
        }
    }

    /// The project: the nearest ordersctl.toml and its settings.
    pub fn project(&self) -> Result<Project> {
        // Found once per run: every verb asks several times.
        if let Some(p) = self.found.get() {
            return Ok(p.clone());
        }
        let p = Project::discover()?;
        Ok(self.found.get_or_init(|| p).clone())
    }

    /// The handlers workspace: `--workspace`, else the project root. One per run, so each
    /// crate is fingerprinted once.
    pub fn workspace(&self) -> HandlerWorkspace {
        self.handlers
            .get_or_init(|| {
                let root = match &self.workspace {
                    Some(dir) => dir.clone(),
                    None => self
                        .project()
                        .map(|p| p.root)
                        .unwrap_or_else(|_| PathBuf::from(".")),
                };
                let ws = HandlerWorkspace::new(root);
                match &self.fingerprint_cache {
                    Some(dir) => ws.with_fingerprint_cache(dir),
                    None => ws,
                }
            })
            .clone()
    }

    /// Keep this run's fingerprints in the assembly for the next run (a cache: failing to
    /// write it costs only time).
    pub fn save_fingerprints(&self) {
        if let (Some(dir), Some(ws)) = (&self.fingerprint_cache, self.handlers.get()) {
            let _ = ws.save_fingerprint_cache(dir);
        }
    }

    /// The program's stacks, with asset keys fingerprinted from the handler sources.
    pub fn app(&self) -> Result<App> {
        self.check_workspace()?;
        if program::current().defers_to_configured_app()
            && self.workspace.is_none()
            && self.project()?.config.is_none()
        {
            let cwd = std::env::current_dir().unwrap_or_default();
            bail!(
                "no {CONFIG_FILE} in {} or any directory above: run ordersctl in a project (`ordersctl init DIR` writes one), or name the handler crates' workspace with --workspace",
                cwd.display()
            );
        }
        let stage = self.stage.resolve(&self.project()?)?;
        let app = App::with_stage(stage).with_asset_source(Box::new(self.workspace()));
        program::current()
            .build(&app)
            .context("synth failed; the assembly was not changed")?;
        Ok(app)
    }

    /// `--workspace` names a directory with handler crates.
    fn check_workspace(&self) -> Result<()> {
        if let Some(dir) = &self.workspace {
            if !dir.exists() {
                bail!(
                    "--workspace {}: the directory does not exist",
                    dir.display()
                );
            }
            if !dir.is_dir() {
                bail!("--workspace {}: is not a directory", dir.display());
            }
            if !dir.join("handlers").is_dir() {
                bail!(
                    "--workspace {}: there is no handlers/ directory (a workspace holds its handler crates under handlers/<crate>/)",
                    dir.display()
                );
            }
        }
        Ok(())
    }

    /// The synthesized assembly, after the checks: an error (an unsuppressed rule of error
    /// severity) fails synth like a construct error does.
    pub fn assembly(&self) -> Result<Assembly> {
        self.checked_assembly().map(|(assembly, _)| assembly)
    }

    /// The synthesized assembly and its check reports (errors already refused).
    pub fn checked_assembly(&self) -> Result<(Assembly, Vec<Report>)> {
        self.checked_rendered()
            .map(|(assembly, reports, _)| (assembly, reports))
    }

    /// The synthesized assembly, its check reports (errors already refused) and each
    /// template rendered as JSON (the size checks weigh it; synth writes it).
    pub fn checked_rendered(&self) -> Result<(Assembly, Vec<Report>, Vec<String>)> {
        let assembly = self.assembly_unchecked()?;
        let contracts = self.contracts(&assembly)?;
        let rendered: Vec<String> = assembly
            .stacks
            .iter()
            .map(|s| s.template.to_json_string())
            .collect();
        let reports: Vec<Report> = assembly
            .stacks
            .iter()
            .zip(&contracts)
            .zip(&rendered)
            .map(|((s, c), json)| check_rendered(&s.name, &s.template, c, json.len()))
            .collect();
        let errors: Vec<String> = reports
            .iter()
            .flat_map(|r| r.findings.iter().filter(|f| f.severity == Severity::Error))
            .map(|f| {
                format!(
                    "  {} {}: {}. Fix: {}.",
                    f.rule, f.location, f.message, f.fix
                )
            })
            .collect();
        if !errors.is_empty() {
            bail!(
                "synth failed the checks; the assembly was not changed (details: ordersctl check):\n{}",
                errors.join("\n")
            );
        }
        Ok((assembly, reports, rendered))
    }

    /// Per stack, each function's handler crate and the contract it declares.
    pub fn contracts(&self, assembly: &Assembly) -> Result<Vec<Contracts>> {
        let ws = self.workspace();
        let mut read: BTreeMap<String, Option<HandlerContract>> = BTreeMap::new();
        let mut out = Vec::new();
        for s in &assembly.stacks {
            let mut functions = BTreeMap::new();
            for a in &s.assets {
                if !read.contains_key(&a.handler_crate) {
                    let c = ws.contract(&a.handler_crate).with_context(|| {
                        format!("synth failed at {}; the assembly was not changed", a.path)
                    })?;
                    read.insert(a.handler_crate.clone(), c);
                }
                let c = read.get(&a.handler_crate).cloned().flatten();
                functions.insert(a.function.clone(), (a.handler_crate.clone(), c));
            }
            out.push(functions);
        }
        Ok(out)
    }

    /// The `app` command of ordersctl.toml, when it (not the program's own stacks) makes
    /// the assembly.
    pub fn app_command(&self) -> Result<Option<String>> {
        let project = self.project()?;
        Ok(project
            .app
            .filter(|_| program::current().defers_to_configured_app()))
    }

    /// The synthesized assembly, before the checks: from the `app` command of
    /// ordersctl.toml when the program defers to it, else from the program's own stacks.
    pub fn assembly_unchecked(&self) -> Result<Assembly> {
        let project = self.project()?;
        if let Some(command) = self.app_command()? {
            self.check_workspace()?;
            let stage = self.stage.resolve(&project)?;
            let config = project
                .config
                .clone()
                .unwrap_or_else(|| project.root.join(CONFIG_FILE));
            return super::app_command::assembly_from_command(
                &command,
                &config,
                stage,
                // The app runs in the project root: a relative --workspace is made absolute.
                &std::path::absolute(self.workspace().root())
                    .unwrap_or_else(|_| self.workspace().root().to_path_buf()),
            )
            .context("synth failed; the assembly was not changed");
        }
        let app = self.app()?;
        synthesize(&app).map_err(|e| {
            let missing_crate = e.to_string().contains("does not exist under handlers/");
            let e = anyhow::Error::new(e).context("synth failed; the assembly was not changed");
            // The prebuilt binary in a project that names no app synthesizes its blueprints:
            // say so when that is what fails.
            match (&project.config, program::current().defers_to_configured_app()) {
                (Some(config), true) if missing_crate && self.workspace.is_none() => e.context(format!(
                    "{} names no `app`, so this ordersctl synthesized its built-in blueprints; for your own stacks add app = \"cargo run --quiet --bin infra --\" (any command that runs ordersctl::cli::main)",
                    config.display()
                )),
                _ => e,
            }
        })
    }
}
