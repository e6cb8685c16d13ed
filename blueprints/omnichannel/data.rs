//! `OmniData`: the stateful core — a customer-managed key, the single-table `Orders` with its
//! stream, the `OrderStatusView` read model, and the `lakeside-orders` bus with an archive.

use ordersctl::constructs::{
    App, Attr, Duration, EventBusRef, StreamView, SynthError, TableEncryption, TableRef,
};

/// Handles the other omnichannel stacks use.
pub struct Data<'a> {
    pub orders: TableRef<'a>,
    pub status_view: TableRef<'a>,
    pub bus: EventBusRef<'a>,
}

pub fn data(app: &App) -> Result<Data<'_>, SynthError> {
    let stack = app.stack("OmniData");
    stack.description("Omnichannel order platform: data (ordersctl blueprint omnichannel)");
    let removal = app.stage().removal();

    let key = stack
        .key("OmniDataKey")
        .description("Encrypts the omnichannel order data")
        .alias("omnichannel-data")
        .build()?;
    let orders = stack
        .table("Orders")
        .partition_key("pk", Attr::String)
        .sort_key("sk", Attr::String)
        .global_index(
            "ByCustomer",
            ("customerId", Attr::String),
            Some(("createdAt", Attr::String)),
        )
        .global_index(
            "ByStore",
            ("storeId", Attr::String),
            Some(("createdAt", Attr::String)),
        )
        .stream(StreamView::NewAndOldImages)
        .encryption(TableEncryption::Kms(key))
        .removal(removal)
        .build()?;
    let status_view = stack
        .table("OrderStatusView")
        .partition_key("orderId", Attr::String)
        .encryption(TableEncryption::Kms(key))
        .removal(removal)
        .build()?;
    let bus = stack
        .event_bus("LakesideOrdersBus")
        .bus_name("lakeside-orders")
        .build()?;
    stack
        .archive("LakesideOrdersArchive")
        .source(&bus)
        .description("Every order event, for replay")
        .retention(Duration::days(30))
        .build()?;
    // The contracts of the events the bus carries.
    super::analytics::schema_registry(stack)?;

    stack
        .output("OrdersTableName", orders.name())
        .description("Name of the single-table Orders table");
    stack
        .output("EventBusName", bus.name())
        .description("Name of the lakeside-orders bus");
    Ok(Data {
        orders,
        status_view,
        bus,
    })
}
