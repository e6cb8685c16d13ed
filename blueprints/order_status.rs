//! The sagas' status write on a single-table order (`pk = ORDER#<orderId>`, `sk = META`).

use ordersctl::constructs::state_machine::{DynamoValue, Task};
use ordersctl::constructs::TableRef;

/// A task setting the order's `status` (and `updatedAt` from the state's entry time, and
/// `version` + 1, which readers order writes by), on `condition`: e.g. FULFILLED only over an
/// open order, CANCELLED only on an existing, unfulfilled one. `operand` is the condition's
/// one value (`(":fulfilled", "FULFILLED")`). The caller adds its retry and catch.
pub fn set_order_status(
    name: &str,
    orders: &TableRef<'_>,
    status: &str,
    condition: &str,
    operand: (&str, &str),
) -> Task {
    Task::update_item(
        name,
        orders,
        [
            (
                "pk",
                DynamoValue::string_format("ORDER#{}", ["$.detail.orderId"]),
            ),
            ("sk", DynamoValue::string("META")),
        ],
        "SET #status = :status, updatedAt = :now ADD version :one",
        [
            (":status", DynamoValue::string(status)),
            (":now", DynamoValue::string_at("$$.State.EnteredTime")),
            (":one", DynamoValue::number(1.0)),
            (operand.0, DynamoValue::string(operand.1)),
        ],
    )
    .expression_names([("#status", "status")])
    .condition_expression(condition)
    .result_path("$.statusUpdate")
}
