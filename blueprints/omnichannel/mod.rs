//! `omnichannel`: an order platform in three stacks that reference each other through
//! handles — `OmniData` (key, tables, bus), `OmniServices` (ingest, routing, consumers,
//! projector, notifications, saga, alarms) and `OmniApi` (HTTP API). Synth turns the
//! references into exports and imports and orders the stacks.

mod api;
mod data;
mod services;

use ordersctl::constructs::{App, SynthError};

/// Stacks `OmniData`, `OmniServices`, `OmniApi`.
pub fn omnichannel(app: &App) -> Result<(), SynthError> {
    let data = data::data(app)?;
    let services = services::services(app, &data)?;
    api::api(app, &data, &services)?;
    Ok(())
}
