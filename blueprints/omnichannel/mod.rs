//! `omnichannel`: an order platform in three stacks that reference each other through
//! handles — `OmniData` (key, tables, bus), `OmniServices` (ingest, routing, consumers,
//! projector, notifications, saga, alarms) and `OmniApi` (HTTP API). Synth turns the
//! references into exports and imports and orders the stacks. `OmniEdge` (CloudFront and
//! WAF, us-east-1) stands apart and takes the API's domain as a parameter.
//!
//! Seed 004, element by element. Scenario test: `tests/local_moto/omnichannel.rs`
//! (`omnichannel_orders_flow_from_the_api_to_a_fulfilled_or_cancelled_status_view`, "scenario").
//!
//! - [x] HTTP API with JWT; `POST /orders` straight to SQS (no Lambda), 202; `GET /orders/{id}`
//!   from the read model: `api.rs`; scenario (202, 401, 200, 404).
//! - [x] Correlation ID stamped at the edge (the request ID as a message attribute), stored on
//!   the order, carried by OrderCreated to the consumers: `api.rs` `message_attribute`,
//!   `order_ingest_worker::order_item`; scenario.
//! - [x] The client's `orderId` is the idempotency key (required); a retry creates nothing:
//!   `order_ingest_worker::order_item`; scenario (ord-3001 twice, one order, one event).
//! - [x] Ingest queue: batching, partial batch responses, DLQ after 3 receives, bounded
//!   concurrency: `services.rs` `work_queue`, `consume`.
//! - [x] Single table with GSIs, PITR, a customer-managed key and a stream: `data.rs`.
//! - [x] Native outbox: the pipe publishes only a new order's `META` INSERT (stock and
//!   reservation items in the same table would loop), shaped by an input template to
//!   references and lines: `services.rs` `ORDER_CREATED`; scenario (3 events for 3 orders).
//! - [x] Bus, archive (30 days) and a schema registry holding the OrderCreated contract:
//!   `data.rs`, `analytics::schema_registry`; snapshot.
//! - [x] Content-based rules to one queue per consumer, each target with a DLQ and retries;
//!   adding a consumer is one rule and one queue: `services.rs`; scenario.
//! - [x] Idempotent consumers: each effect once per consumer and order (`ConsumerIdempotency`,
//!   `order_created_consumer::handle_once`); scenario (a duplicate OrderCreated delivered
//!   twice more finds the completed record).
//! - [x] Standard saga Reserve -> Pay -> Allocate -> ConfirmWithStore (task token, 4 h) ->
//!   Ship; business errors are not retried; out of stock cancels; a store refusal refunds,
//!   releases and cancels, in that order: `services.rs` `saga`; scenario (ord-3002, ord-3004).
//! - [x] The read model follows the saga (guarded, version-ordered writes; the projector):
//!   `mark`, `status_projector`; scenario (view FULFILLED / CANCELLED).
//! - [x] Customer notified through SNS, filtered by channel: `NotifyCustomer`; scenario
//!   (e-mail recorded, SMS filtered).
//! - [x] Analytics: every event through Firehose to S3 (KMS, versioned, private, a year):
//!   `analytics::analytics`; snapshot, cfn-lint, checkov.
//! - [x] Edge: CloudFront with a web ACL (common rules, known bad inputs, per-IP rate limit),
//!   logged: `edge.rs`. Departure: WAF cannot attach to an HTTP API, so the ACL sits on
//!   CloudFront; a CloudFront-scope ACL exists only in us-east-1, so `OmniEdge` is deployed
//!   there with the API's domain as a parameter (exports do not cross Regions).
//! - [x] Alarms that page the on-call topic: every DLQ, queue age, function errors, saga
//!   failures (business cancellations succeed): `alarms`, `on_call`.
//! - [x] Least privilege from the crates' contracts (ORD024-ORD026); scenario (0 denied).
//! - `ordersctl local` leaves the edge, Firehose and the schema registry out of its deploy
//!   (moto cannot create them); the templates keep them.
//! - Open: `customerId` comes from the body, not the JWT subject (the seed's zero-trust
//!   lesson); the start rule cannot name
//!   executions, so a duplicate OrderCreated starts a second saga (its steps are idempotent
//!   here, a real payment provider needs an idempotency key); x86_64, not Graviton; no EMF
//!   business metrics.

mod analytics;
mod api;
mod data;
mod edge;
mod services;

use ordersctl::constructs::{App, SynthError};

/// Stacks `OmniData`, `OmniServices`, `OmniApi`, and `OmniEdge` (us-east-1).
pub fn omnichannel(app: &App) -> Result<(), SynthError> {
    // The handlers/ crates log IDs and statuses only, hold no secrets in their environment
    // and call AWS APIs alone: the scanner exceptions that follow are recorded.
    app.assure_handlers();
    let data = data::data(app)?;
    let services = services::services(app, &data)?;
    api::api(app, &data, &services)?;
    edge::edge(app)?;
    Ok(())
}
