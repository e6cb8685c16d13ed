//! The typed DSL: builders that validate AWS limits on `build()` and return small `Copy`
//! handles. Handles, not strings, are how constructs point at each other.
//!
//! ```
//! use ordersctl::constructs::{App, Attr, Duration};
//! let app = App::new();
//! let stack = app.stack("Orders");
//! let dlq = stack.queue("OrdersDLQ").retention(Duration::days(14)).build()?;
//! let queue = stack.queue("Orders").visibility_timeout(Duration::secs(60)).dead_letter_queue(&dlq, 3).build()?;
//! let table = stack.table("OrderTable").partition_key("orderId", Attr::String).build()?;
//! let f = stack.function("Store").handler_crate("order-processor").timeout(Duration::secs(10))
//!     .env("TABLE_NAME", table.name()).build()?;
//! table.grant(&f, &["dynamodb:PutItem"]);
//! f.consume(&queue).report_batch_item_failures().build()?;
//! # Ok::<(), ordersctl::constructs::SynthError>(())
//! ```

mod app;
mod asset_source;
pub(crate) mod bus;
mod error;
mod event_source;
mod function;
pub mod iam;
mod import;
mod key;
mod log_group;
mod node;
mod pattern;
mod queue;
mod role;
pub(crate) mod stack;
mod subscription;
mod table;
mod topic;
mod units;

pub use app::{App, Stage};
pub use asset_source::{AssetKey, AssetSource, PlaceholderAssets};
pub use error::SynthError;
pub use event_source::{
    EventSourceRef, SqsEventSourceBuilder, StartingPosition, StreamEventSourceBuilder,
};
pub use function::{Architecture, Destination, FunctionBuilder, FunctionRef, Tracing};
pub use key::{KeyBuilder, KeyRef};
pub use log_group::LOG_RETENTION_DAYS;
pub use pattern::{EventPattern, Match, NumericOp};
pub use queue::{QueueBuilder, QueueEncryption, QueueRef, RedriveAllow};
pub use role::RoleRef;
pub use stack::{Asset, OutputBuilder, Stack, ASSET_BUCKET_PARAMETER};
pub use table::{
    Attr, Billing, Key, Projection, Removal, StreamView, TableBuilder, TableEncryption, TableRef,
};
pub use units::{Duration, Size};
mod http_api;
pub use http_api::{HttpApiBuilder, HttpApiRef, HttpMethod, RouteBuilder, RouteRef, Throttle};
mod scanner;
mod schedule;
mod suppression;
pub use schedule::{ScheduleBuilder, ScheduleRef};
pub(crate) mod alarm;
pub use alarm::{AlarmBuilder, AlarmRef, Comparison, Metric, Statistic};
pub mod state_machine;
pub use bus::{
    ArchiveBuilder, ArchiveRef, EventBusBuilder, EventBusRef, RuleBuilder, RuleContext, RuleRef,
    RuleTarget, Target, TargetBinding,
};
pub use state_machine::{LogLevel, StateMachineBuilder, StateMachineKind, StateMachineRef};
pub use subscription::{FilterPolicyScope, SubscriptionBuilder, SubscriptionRef};
pub use topic::{TopicBuilder, TopicEncryption, TopicRef};
mod pipe;
pub use pipe::{PipeBuilder, PipeRef};
