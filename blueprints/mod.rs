//! The reference order-processing architectures, written in the public DSL only.
//!
//! Compiled into the `ordersctl` binary (and the integration tests) by path, so a blueprint
//! can use nothing but what a user of the crate gets.

use ordersctl::constructs::{App, Stage, SynthError};

mod durable_chain;
mod event_consumer;
mod fulfillment_saga;
mod omnichannel;
mod on_call;
mod order_pipeline;
mod order_status;

/// A named blueprint: the function that adds its stacks to an app.
pub struct Blueprint {
    pub name: &'static str,
    pub summary: &'static str,
    pub build: fn(&App) -> Result<(), SynthError>,
}

/// Every blueprint, in the order `ordersctl list` shows them.
pub const ALL: &[Blueprint] = &[
    Blueprint {
        name: "order-pipeline",
        summary: "SQS -> Lambda -> DynamoDB order pipeline with a dead-letter queue",
        build: order_pipeline::order_pipeline,
    },
    Blueprint {
        name: "event-consumer",
        summary: "Idempotent EventBridge consumer, ETL state machine and daily maintenance schedule",
        build: event_consumer::event_consumer,
    },
    Blueprint {
        name: "fulfillment-saga",
        summary: "HTTP ingress, payments queue, notifications and a Step Functions saga with compensation",
        build: fulfillment_saga::fulfillment_saga,
    },
    Blueprint {
        name: "omnichannel",
        summary: "Order platform: data, services (pipe, routing, saga, analytics, alarms), HTTP API, CloudFront and WAF edge",
        build: omnichannel::omnichannel,
    },
    Blueprint {
        name: "durable-chain",
        summary: "Lambda durable function chaining validate, payment, inventory and fulfillment",
        build: durable_chain::durable_chain,
    },
];

/// An app holding every blueprint's stacks, for a stage (placeholder asset keys).
#[allow(dead_code)] // the tests and benches include this module and use it; the binary does not
pub fn app(stage: Stage) -> Result<App, SynthError> {
    app_with(App::with_stage(stage))
}

/// Every blueprint's stacks added to `app`.
pub fn app_with(app: App) -> Result<App, SynthError> {
    for b in ALL {
        (b.build)(&app)?;
    }
    Ok(app)
}

/// The blueprints as the CLI's groups of stacks (what `ordersctl list` shows).
#[allow(dead_code)] // the binary and the tests use this; the benches do not
pub fn groups() -> Vec<ordersctl::cli::Group> {
    ALL.iter()
        .map(|b| ordersctl::cli::Group {
            name: b.name,
            summary: b.summary,
            build: b.build,
        })
        .collect()
}
