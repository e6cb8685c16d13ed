//! DynamoDB tables: typed keys, on-demand by default, point-in-time recovery on.

use crate::spec::cfn;
use std::collections::BTreeMap;

use super::error::check_range;
use super::key::KeyRef;
use super::stack::{check_construct_id, handle, Facts, Node};
use super::{Stack, SynthError};
use crate::template::{Expr, Policy, Resource};

/// Scalar type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    String,
    Number,
    Binary,
}

impl Attr {
    fn code(self) -> &'static str {
        match self {
            Attr::String => "S",
            Attr::Number => "N",
            Attr::Binary => "B",
        }
    }
}

/// A key attribute: name and type.
pub type Key<'k> = (&'k str, Attr);

/// Which attributes an index projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

/// What a table stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamView {
    KeysOnly,
    NewImage,
    OldImage,
    NewAndOldImages,
}

impl StreamView {
    fn as_str(self) -> &'static str {
        match self {
            StreamView::KeysOnly => "KEYS_ONLY",
            StreamView::NewImage => "NEW_IMAGE",
            StreamView::OldImage => "OLD_IMAGE",
            StreamView::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }
}

/// Billing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    OnDemand,
    Provisioned { read: u32, write: u32 },
}

/// Encryption at rest. DynamoDB always encrypts; this picks the key.
#[derive(Debug, Clone, Copy)]
pub enum TableEncryption<'a> {
    /// AWS-owned key (the default).
    AwsOwned,
    /// The AWS-managed `aws/dynamodb` key.
    AwsManaged,
    /// A customer-managed key.
    Kms(KeyRef<'a>),
}

/// What happens to the table when it leaves the stack or is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Keep the table (the default, as in CDK: data outlives stacks).
    Retain,
    /// Delete it.
    Destroy,
    /// Keep a backup snapshot, then delete.
    Snapshot,
}

impl Removal {
    pub(crate) fn policy(self) -> Policy {
        match self {
            Removal::Retain => Policy::Retain,
            Removal::Destroy => Policy::Delete,
            Removal::Snapshot => Policy::Snapshot,
        }
    }
}

#[derive(Debug, Clone)]
struct Index {
    name: String,
    partition: (String, Attr),
    sort: Option<(String, Attr)>,
    projection: Projection,
    local: bool,
}

handle!(
    /// A DynamoDB table.
    TableRef
);

/// Builder for an `AWS::DynamoDB::Table`.
///
/// ```
/// use ordersctl::constructs::{App, Attr, Removal};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let orders = stack.table("Orders")
///     .partition_key("orderId", Attr::String)
///     .sort_key("createdAt", Attr::String)
///     .global_index("CustomerIndex", ("customerId", Attr::String), Some(("createdAt", Attr::String)))
///     .removal(Removal::Destroy)
///     .build()?;
/// assert_eq!(orders.logical_id(), "Orders");
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "a table is added by build()"]
pub struct TableBuilder<'a> {
    stack: &'a Stack,
    id: String,
    logical_id: Option<String>,
    table_name: Option<String>,
    partition: Option<(String, Attr)>,
    sort: Option<(String, Attr)>,
    billing: Billing,
    indexes: Vec<Index>,
    ttl: Option<String>,
    stream: Option<StreamView>,
    point_in_time_recovery: bool,
    encryption: TableEncryption<'a>,
    deletion_protection: bool,
    removal: Removal,
}

impl Stack {
    /// Start a table.
    pub fn table(&self, id: &str) -> TableBuilder<'_> {
        TableBuilder {
            stack: self,
            id: id.to_string(),
            logical_id: None,
            table_name: None,
            partition: None,
            sort: None,
            billing: Billing::OnDemand,
            indexes: Vec::new(),
            ttl: None,
            stream: None,
            point_in_time_recovery: true,
            encryption: TableEncryption::AwsOwned,
            deletion_protection: false,
            removal: Removal::Retain,
        }
    }
}

impl<'a> TableBuilder<'a> {
    /// Physical table name.
    pub fn table_name(mut self, name: &str) -> Self {
        self.table_name = Some(name.to_string());
        self
    }
    /// Keep a logical ID stable through a rename of the construct.
    pub fn logical_id(mut self, id: &str) -> Self {
        self.logical_id = Some(id.to_string());
        self
    }
    /// Partition (hash) key.
    pub fn partition_key(mut self, name: &str, attr: Attr) -> Self {
        self.partition = Some((name.to_string(), attr));
        self
    }
    /// Sort (range) key.
    pub fn sort_key(mut self, name: &str, attr: Attr) -> Self {
        self.sort = Some((name.to_string(), attr));
        self
    }
    /// Billing mode (on-demand by default).
    pub fn billing(mut self, billing: Billing) -> Self {
        self.billing = billing;
        self
    }
    /// A global secondary index projecting all attributes.
    pub fn global_index(self, name: &str, partition: Key<'_>, sort: Option<Key<'_>>) -> Self {
        self.global_index_with(name, partition, sort, Projection::All)
    }
    /// A global secondary index with a chosen projection.
    pub fn global_index_with(
        mut self,
        name: &str,
        partition: Key<'_>,
        sort: Option<Key<'_>>,
        projection: Projection,
    ) -> Self {
        self.indexes.push(Index {
            name: name.to_string(),
            partition: (partition.0.to_string(), partition.1),
            sort: sort.map(|(n, a)| (n.to_string(), a)),
            projection,
            local: false,
        });
        self
    }
    /// A local secondary index (same partition key, another sort key).
    pub fn local_index(mut self, name: &str, sort: Key<'_>, projection: Projection) -> Self {
        self.indexes.push(Index {
            name: name.to_string(),
            partition: (String::new(), Attr::String),
            sort: Some((sort.0.to_string(), sort.1)),
            projection,
            local: true,
        });
        self
    }
    /// Expire items by this epoch-seconds attribute.
    pub fn ttl_attribute(mut self, name: &str) -> Self {
        self.ttl = Some(name.to_string());
        self
    }
    /// Turn the stream on.
    pub fn stream(mut self, view: StreamView) -> Self {
        self.stream = Some(view);
        self
    }
    /// Turn point-in-time recovery off (it is on by default).
    pub fn without_point_in_time_recovery(mut self) -> Self {
        self.point_in_time_recovery = false;
        self
    }
    /// Choose the encryption key.
    pub fn encryption(mut self, e: TableEncryption<'a>) -> Self {
        self.encryption = e;
        self
    }
    /// Refuse DeleteTable while on.
    pub fn deletion_protection(mut self) -> Self {
        self.deletion_protection = true;
        self
    }
    /// DeletionPolicy and UpdateReplacePolicy (Retain by default).
    pub fn removal(mut self, removal: Removal) -> Self {
        self.removal = removal;
        self
    }

    /// Validate against the DynamoDB limits and add the table.
    pub fn build(self) -> Result<TableRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let partition = self
            .partition
            .clone()
            .ok_or_else(|| SynthError::invalid(p, "partition_key is required"))?;
        if let Some(name) = &self.table_name {
            let ok = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !ok || name.len() < 3 || name.len() > 255 {
                return Err(SynthError::invalid(
                    p,
                    format!("table_name `{name}` is not allowed; allowed: 3 to 255 characters, letters, digits, `_`, `-` and `.`"),
                ));
            }
        }
        let globals = self.indexes.iter().filter(|i| !i.local).count();
        let locals = self.indexes.len() - globals;
        check_range(p, "global indexes", globals as i64, 0, 20, "")?;
        check_range(p, "local indexes", locals as i64, 0, 5, "")?;
        if locals > 0 && self.sort.is_none() {
            return Err(SynthError::invalid(
                p,
                "a local index needs the table to have a sort key",
            ));
        }
        if let Billing::Provisioned { read, write } = self.billing {
            check_range(p, "read capacity", i64::from(read), 1, 40_000, "units")?;
            check_range(p, "write capacity", i64::from(write), 1, 40_000, "units")?;
        }

        let mut attrs: BTreeMap<String, Attr> = BTreeMap::new();
        let mut define = |name: &str, attr: Attr| -> Result<(), SynthError> {
            match attrs.insert(name.to_string(), attr) {
                Some(prev) if prev != attr => Err(SynthError::invalid(
                    p,
                    format!("key attribute `{name}` is declared with two types"),
                )),
                _ => Ok(()),
            }
        };
        define(&partition.0, partition.1)?;
        if let Some((n, a)) = &self.sort {
            define(n, *a)?;
        }
        let mut gsis = Vec::new();
        let mut lsis = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for ix in &self.indexes {
            if !seen.insert(ix.name.clone()) {
                return Err(SynthError::invalid(
                    p,
                    format!("index `{}` is declared twice", ix.name),
                ));
            }
            let ok = ix
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !ok || ix.name.len() < 3 || ix.name.len() > 255 {
                return Err(SynthError::invalid(p, format!("index name `{}` is not allowed; allowed: 3 to 255 characters, letters, digits, `_`, `-` and `.`", ix.name)));
            }
            let part = if ix.local {
                partition.clone()
            } else {
                ix.partition.clone()
            };
            define(&part.0, part.1)?;
            if let Some((n, a)) = &ix.sort {
                define(n, *a)?;
            }
            let mut m = BTreeMap::new();
            m.insert(cfn::IndexName.to_string(), Expr::from(ix.name.as_str()));
            m.insert(
                cfn::KeySchema.to_string(),
                key_schema(&part.0, ix.sort.as_ref().map(|s| s.0.as_str())),
            );
            m.insert(
                cfn::Projection.to_string(),
                projection_expr(p, &ix.projection)?,
            );
            if let (Billing::Provisioned { read, write }, false) = (self.billing, ix.local) {
                m.insert(
                    cfn::ProvisionedThroughput.to_string(),
                    throughput(read, write),
                );
            }
            if ix.local {
                lsis.push(Expr::Map(m));
            } else {
                gsis.push(Expr::Map(m));
            }
        }

        let mut r = Resource::new("AWS::DynamoDB::Table");
        r.set_opt(cfn::TableName, self.table_name.clone());
        r.set(
            cfn::KeySchema,
            key_schema(&partition.0, self.sort.as_ref().map(|s| s.0.as_str())),
        );
        r.set(
            cfn::AttributeDefinitions,
            Expr::List(
                attrs
                    .iter()
                    .map(|(n, a)| {
                        Expr::map([
                            (cfn::AttributeName, Expr::from(n.as_str())),
                            (cfn::AttributeType, Expr::from(a.code())),
                        ])
                    })
                    .collect(),
            ),
        );
        match self.billing {
            Billing::OnDemand => r.set(cfn::BillingMode, "PAY_PER_REQUEST"),
            Billing::Provisioned { read, write } => r
                .set(cfn::BillingMode, "PROVISIONED")
                .set(cfn::ProvisionedThroughput, throughput(read, write)),
        };
        if !gsis.is_empty() {
            r.set(cfn::GlobalSecondaryIndexes, Expr::List(gsis));
        }
        if !lsis.is_empty() {
            r.set(cfn::LocalSecondaryIndexes, Expr::List(lsis));
        }
        if let Some(ttl) = &self.ttl {
            r.set(
                cfn::TimeToLiveSpecification,
                Expr::map([
                    (cfn::AttributeName, Expr::from(ttl.as_str())),
                    (cfn::Enabled, Expr::from(true)),
                ]),
            );
        }
        if let Some(view) = self.stream {
            r.set(
                cfn::StreamSpecification,
                Expr::map([(cfn::StreamViewType, Expr::from(view.as_str()))]),
            );
        }
        r.set(
            cfn::PointInTimeRecoverySpecification,
            Expr::map([(
                cfn::PointInTimeRecoveryEnabled,
                Expr::from(self.point_in_time_recovery),
            )]),
        );
        let mut facts = Facts {
            has_indexes: !self.indexes.is_empty(),
            stream: self.stream.map(|v| v.as_str().to_string()),
            ..Facts::default()
        };
        match self.encryption {
            TableEncryption::AwsOwned => {}
            TableEncryption::AwsManaged => {
                r.set(
                    cfn::SSESpecification,
                    Expr::map([
                        (cfn::SSEEnabled, Expr::from(true)),
                        (cfn::SSEType, Expr::from("KMS")),
                    ]),
                );
            }
            TableEncryption::Kms(key) => {
                r.set(
                    cfn::SSESpecification,
                    Expr::map([
                        (cfn::SSEEnabled, Expr::from(true)),
                        (cfn::SSEType, Expr::from("KMS")),
                        (cfn::KMSMasterKeyId, key.arn()),
                    ]),
                );
                facts.kms_key_arn = Some(key.arn());
            }
        }
        if self.deletion_protection {
            r.set(cfn::DeletionProtectionEnabled, true);
        }
        r.removal(self.removal.policy());
        let logical_id = self.logical_id.clone().unwrap_or_else(|| self.id.clone());
        self.stack.add_resource(&logical_id, p, r)?;
        let node = self.stack.add_node(Node {
            path,
            logical_id,
            facts,
            imported: None,
        });
        Ok(TableRef {
            stack: self.stack,
            node,
        })
    }
}

fn key_schema(partition: &str, sort: Option<&str>) -> Expr {
    let mut keys = vec![Expr::map([
        (cfn::AttributeName, Expr::from(partition)),
        (cfn::KeyType, Expr::from("HASH")),
    ])];
    if let Some(s) = sort {
        keys.push(Expr::map([
            (cfn::AttributeName, Expr::from(s)),
            (cfn::KeyType, Expr::from("RANGE")),
        ]));
    }
    Expr::List(keys)
}

fn throughput(read: u32, write: u32) -> Expr {
    Expr::map([
        (cfn::ReadCapacityUnits, Expr::from(read)),
        (cfn::WriteCapacityUnits, Expr::from(write)),
    ])
}

fn projection_expr(path: &str, p: &Projection) -> Result<Expr, SynthError> {
    Ok(match p {
        Projection::All => Expr::map([(cfn::ProjectionType, Expr::from("ALL"))]),
        Projection::KeysOnly => Expr::map([(cfn::ProjectionType, Expr::from("KEYS_ONLY"))]),
        Projection::Include(attrs) => {
            check_range(
                path,
                "projected non-key attributes",
                attrs.len() as i64,
                1,
                100,
                "",
            )?;
            Expr::map([
                (cfn::ProjectionType, Expr::from("INCLUDE")),
                (cfn::NonKeyAttributes, Expr::strings(attrs.iter().cloned())),
            ])
        }
    })
}

// What a table grants: the grant family of `TableRef`.
#[path = "table_grants.rs"]
mod grants;

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
