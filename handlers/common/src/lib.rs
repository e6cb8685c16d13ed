//! What the ordersctl Lambda handlers share: idempotency, correlation IDs, partial batch
//! responses. (Filled in by the handlers issue.)
