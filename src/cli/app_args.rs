//! What every verb that synthesizes needs: the stage and the handlers workspace.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use ordersctl::bundle::HandlerWorkspace;
use ordersctl::constructs::App;
use ordersctl::synth::{synthesize, Assembly};

use crate::blueprints;
use crate::cli::config::StageArgs;

/// Options shared by synth, list, bundle and invoke.
#[derive(Debug, Args)]
pub struct AppArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Workspace holding the handler crates (`handlers/<crate>/`) [default: the checkout
    /// ordersctl was built from]
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
}

impl AppArgs {
    /// The handlers workspace.
    pub fn workspace(&self) -> HandlerWorkspace {
        HandlerWorkspace::new(
            self.workspace
                .clone()
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
        )
    }

    /// Every blueprint, with asset keys fingerprinted from the handler sources.
    pub fn app(&self) -> Result<App> {
        let stage = self.stage.resolve()?;
        blueprints::app_with(App::with_stage(stage).with_asset_source(Box::new(self.workspace())))
            .context("synth failed; the assembly was not changed")
    }

    /// The synthesized assembly.
    pub fn assembly(&self) -> Result<Assembly> {
        let app = self.app()?;
        synthesize(&app).context("synth failed; the assembly was not changed")
    }
}
