//! What a table grants: item actions on the table and its indexes, and reading its stream,
//! with the table key's use when it has a customer-managed one.

use super::TableRef;
use crate::constructs::iam::{Grantee, Statement};
use crate::constructs::key::key_use;
use crate::template::Expr;

const READ_ACTIONS: [&str; 5] = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];
const WRITE_ACTIONS: [&str; 5] = [
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
];

impl<'a> TableRef<'a> {
    /// Table name (`Ref`).
    pub fn name(&self) -> Expr {
        self.ref_()
    }
    /// Table ARN.
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
    /// Stream ARN (the table must have a stream).
    pub fn stream_arn(&self) -> Expr {
        self.att("StreamArn")
    }
    /// Whether the table has a stream.
    pub fn has_stream(&self) -> bool {
        self.facts().stream.is_some()
    }

    /// The table ARN plus, when the table has indexes, `<arn>/index/*`.
    fn data_resources(&self) -> Vec<Expr> {
        let mut out = vec![self.arn()];
        if self.facts().has_indexes {
            out.push(Expr::join("", [self.arn(), Expr::from("/index/*")]));
        }
        out
    }

    /// Exactly these item actions on the table and its indexes (and the table key's use, when
    /// it has a customer-managed one): least privilege when a handler's contract names them.
    ///
    /// ```
    /// use ordersctl::constructs::{App, Attr};
    /// let app = App::new();
    /// let stack = app.stack("S");
    /// let t = stack.table("Orders").partition_key("pk", Attr::String).build().unwrap();
    /// let f = stack.function("Writer").handler_crate("order-processor").build().unwrap();
    /// t.grant(&f, &["dynamodb:PutItem"]);
    /// ```
    pub fn grant(&self, grantee: &dyn Grantee, actions: &[&str]) {
        grantee.add_to_principal_policy(Statement::allow(
            actions.iter().copied(),
            self.data_resources(),
        ));
        if let Some(key) = self.facts().kms_key_arn {
            grantee.add_to_principal_policy(key_use(key));
        }
    }

    /// Read items (Get, BatchGet, Query, Scan, ConditionCheck), on the table and its indexes.
    pub fn grant_read(&self, grantee: &dyn Grantee) {
        self.grant(grantee, &READ_ACTIONS);
    }
    /// Write items (Put, Update, Delete, BatchWrite, ConditionCheck).
    pub fn grant_write(&self, grantee: &dyn Grantee) {
        self.grant(grantee, &WRITE_ACTIONS);
    }
    /// Read and write items.
    pub fn grant_read_write(&self, grantee: &dyn Grantee) {
        let all: Vec<&str> = READ_ACTIONS
            .iter()
            .chain(WRITE_ACTIONS.iter())
            .copied()
            .collect();
        self.grant(grantee, &all);
    }
    /// Read the stream (what a stream event source needs).
    pub fn grant_stream_read(&self, grantee: &dyn Grantee) {
        self.stream_read_statements()
            .into_iter()
            .for_each(|s| grantee.add_to_principal_policy(s));
    }

    /// What a stream reader needs: the stream actions and, for a table encrypted with a
    /// customer-managed key, decrypting with that key.
    pub(crate) fn stream_read_statements(&self) -> Vec<Statement> {
        // ListStreams is included because the Lambda stream poller calls it; it is scoped to the
        // table's streams rather than `*`.
        let mut v = vec![Statement::allow(
            [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            [self.stream_arn()],
        )];
        if let Some(key) = self.facts().kms_key_arn {
            v.push(Statement::allow(["kms:Decrypt"], [key]));
        }
        v
    }
}
