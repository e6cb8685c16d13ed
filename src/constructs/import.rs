//! Handles to resources that exist outside the app (made by another stack, another tool, or
//! by hand), as CDK's `Queue.fromQueueArn`: grants, rule targets and event sources take them
//! like owned ones; nothing is declared for them, and their own resource policies (a queue's
//! or topic's policy, a key policy) stay their owner's to change.

use crate::template::Expr;

use super::bus::EventBusRef;
use super::stack::{Facts, Imported};
use super::{FunctionRef, KeyRef, QueueRef, Stack, SynthError, TableRef, TopicRef};

/// An ARN's parts.
struct Arn<'s> {
    region: &'s str,
    account: &'s str,
    resource: &'s str,
}

/// Parse `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` for `service`; the error names the
/// construct and the form wanted.
fn parse<'s>(
    path: &str,
    arn: &'s str,
    service: &str,
    what: &str,
    form: &str,
    regional: bool,
) -> Result<Arn<'s>, SynthError> {
    let bad = || {
        SynthError::invalid(
            path,
            format!("{arn:?} is not {what} ARN; expected arn:PARTITION:{service}:{form}"),
        )
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, svc, region, account, resource] = parts.as_slice() else {
        return Err(bad());
    };
    let region_ok = if regional {
        is_region(region)
    } else {
        region.is_empty()
    };
    let ok = *prefix == "arn"
        && PARTITIONS.contains(partition)
        && *svc == service
        && region_ok
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && !resource.is_empty()
        && !resource.contains(char::is_whitespace);
    if ok {
        Ok(Arn {
            region,
            account,
            resource,
        })
    } else {
        Err(bad())
    }
}

/// The AWS partitions.
pub(crate) const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// A region code: letters in dash-separated groups ending in a number (`eu-west-1`,
/// `us-gov-east-1`).
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    let (number, words) = parts.split_last().unwrap_or((&"", &[]));
    words.len() >= 2
        && words
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `name` is 1 to `max` letters, digits, `-` and `_` (and `extra`).
pub(crate) fn plain_name(name: &str, max: usize, extra: &str) -> bool {
    (1..=max).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || extra.contains(c))
}

/// A queue or topic name: plain, with an optional `.fifo` suffix counted in the length.
fn fifo_capable(name: &str, max: usize) -> bool {
    name.len() <= max && plain_name(name.strip_suffix(".fifo").unwrap_or(name), max, "")
}

/// A KMS key ID: a UUID (8-4-4-4-12 hex digits), or `mrk-` and 32 hex digits for a
/// multi-Region key.
fn is_key_id(k: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(rest) = k.strip_prefix("mrk-") {
        return hex(rest, 32);
    }
    let groups: Vec<&str> = k.split('-').collect();
    groups.len() == 5 && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| hex(g, n))
}

/// `resource` after `prefix`, if non-empty and free of `/` and `:`.
fn name_after<'s>(resource: &'s str, prefix: &str) -> Option<&'s str> {
    resource
        .strip_prefix(prefix)
        .filter(|n| !n.is_empty() && !n.contains(['/', ':']))
}

fn imported(ref_value: Expr, attributes: Vec<(&'static str, Expr)>) -> Imported {
    Imported {
        ref_value,
        attributes,
    }
}

impl<'a> QueueRef<'a> {
    /// A queue that exists outside the app, by ARN. A rule or topic delivering to it needs
    /// the queue's own policy to allow that service (ordersctl will not replace it).
    ///
    /// ```
    /// use ordersctl::constructs::{App, QueueRef};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let jobs = QueueRef::from_arn(stack, "Jobs", "arn:aws:sqs:eu-west-1:123456789012:jobs")?;
    /// assert!(jobs.is_imported() && !jobs.is_fifo());
    /// assert!(QueueRef::from_arn(stack, "Bad", "jobs").is_err());
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn from_arn(stack: &'a Stack, id: &str, arn: &str) -> Result<QueueRef<'a>, SynthError> {
        let a = parse(
            &stack.child_path(id),
            arn,
            "sqs",
            "an SQS queue",
            "REGION:ACCOUNT:NAME",
            true,
        )?;
        let name = a.resource;
        if !fifo_capable(name, 80) {
            return Err(SynthError::invalid(
                stack.child_path(id),
                format!("{name:?} is not a queue name (1 to 80 letters, digits, `-` and `_`, `.fifo` at the end for a FIFO queue)"),
            ));
        }
        let url = Expr::sub(format!(
            "https://sqs.{}.${{AWS::URLSuffix}}/{}/{name}",
            a.region, a.account
        ));
        let node = stack.import_node(
            id,
            imported(
                url,
                vec![("Arn", Expr::from(arn)), ("QueueName", Expr::from(name))],
            ),
            Facts {
                fifo: name.ends_with(".fifo"),
                ..Facts::default()
            },
        )?;
        Ok(QueueRef { stack, node })
    }
}

impl<'a> TableRef<'a> {
    /// A DynamoDB table that exists outside the app, by name (in the stack's account and
    /// region).
    ///
    /// ```
    /// use ordersctl::constructs::{App, TableRef};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let f = stack.function("Reader").handler_crate("reader").build()?;
    /// let orders = TableRef::from_name(stack, "Orders", "orders")?;
    /// orders.grant(&f, &["dynamodb:GetItem"]);
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn from_name(stack: &'a Stack, id: &str, name: &str) -> Result<TableRef<'a>, SynthError> {
        let valid = (3..=255).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            return Err(SynthError::invalid(
                stack.child_path(id),
                format!(
                    "{name:?} is not a table name (3 to 255 letters, digits, `_`, `-` and `.`)"
                ),
            ));
        }
        let arn = Expr::arn("dynamodb", &format!("table/{name}"));
        Self::imported(stack, id, name, arn)
    }

    /// A DynamoDB table that exists outside the app, by ARN.
    ///
    /// ```
    /// use ordersctl::constructs::{App, TableRef};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let t = TableRef::from_arn(stack, "Orders", "arn:aws:dynamodb:eu-west-1:123456789012:table/orders")?;
    /// assert!(t.is_imported());
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn from_arn(stack: &'a Stack, id: &str, arn: &str) -> Result<TableRef<'a>, SynthError> {
        let path = stack.child_path(id);
        let a = parse(
            &path,
            arn,
            "dynamodb",
            "a DynamoDB table",
            "REGION:ACCOUNT:table/NAME",
            true,
        )?;
        let Some(name) =
            name_after(a.resource, "table/").filter(|n| n.len() >= 3 && plain_name(n, 255, "."))
        else {
            return Err(SynthError::invalid(
                path,
                format!("{arn:?} is not a DynamoDB table ARN; expected arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME"),
            ));
        };
        Self::imported(stack, id, name, Expr::from(arn))
    }

    fn imported(
        stack: &'a Stack,
        id: &str,
        name: &str,
        arn: Expr,
    ) -> Result<TableRef<'a>, SynthError> {
        let node = stack.import_node(
            id,
            imported(Expr::from(name), vec![("Arn", arn)]),
            Facts::default(),
        )?;
        Ok(TableRef { stack, node })
    }
}

impl<'a> TopicRef<'a> {
    /// An SNS topic that exists outside the app, by ARN. A rule delivering to it needs the
    /// topic's own policy to allow EventBridge (ordersctl will not replace it).
    ///
    /// ```
    /// use ordersctl::constructs::{App, TopicRef};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let t = TopicRef::from_arn(stack, "Alerts", "arn:aws:sns:eu-west-1:123456789012:alerts")?;
    /// assert!(t.is_imported());
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn from_arn(stack: &'a Stack, id: &str, arn: &str) -> Result<TopicRef<'a>, SynthError> {
        let a = parse(
            &stack.child_path(id),
            arn,
            "sns",
            "an SNS topic",
            "REGION:ACCOUNT:NAME",
            true,
        )?;
        let name = a.resource;
        if !fifo_capable(name, 256) {
            return Err(SynthError::invalid(
                stack.child_path(id),
                format!("{name:?} is not a topic name (1 to 256 letters, digits, `-` and `_`, `.fifo` at the end for a FIFO topic)"),
            ));
        }
        let node = stack.import_node(
            id,
            imported(
                Expr::from(arn),
                vec![
                    ("TopicArn", Expr::from(arn)),
                    ("TopicName", Expr::from(name)),
                ],
            ),
            Facts {
                fifo: name.ends_with(".fifo"),
                ..Facts::default()
            },
        )?;
        Ok(TopicRef { stack, node })
    }
}

impl<'a> FunctionRef<'a> {
    /// A Lambda function that exists outside the app, by ARN (optionally qualified). Rules
    /// and APIs can invoke it (ordersctl adds the `AWS::Lambda::Permission`); it cannot be
    /// granted to, since its role is not in the stack: import the role
    /// ([`RoleRef::from_arn`](super::RoleRef::from_arn)) and grant to that.
    ///
    /// ```
    /// use ordersctl::constructs::{App, FunctionRef};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let f = FunctionRef::from_arn(stack, "Audit", "arn:aws:lambda:eu-west-1:123456789012:function:audit")?;
    /// assert!(f.is_imported());
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn from_arn(stack: &'a Stack, id: &str, arn: &str) -> Result<FunctionRef<'a>, SynthError> {
        let path = stack.child_path(id);
        let a = parse(
            &path,
            arn,
            "lambda",
            "a Lambda function",
            "REGION:ACCOUNT:function:NAME",
            true,
        )?;
        // `function:NAME`, or `function:NAME:QUALIFIER` (a version or an alias).
        let parts: Option<Vec<&str>> = a
            .resource
            .strip_prefix("function:")
            .map(|r| r.split(':').collect());
        let ok = match parts.as_deref() {
            Some([name]) => plain_name(name, 64, ""),
            // A version ($LATEST or a number) or an alias (not starting with a digit).
            Some([name, qualifier]) => {
                plain_name(name, 64, "")
                    && (*qualifier == "$LATEST"
                        || (!qualifier.is_empty() && qualifier.bytes().all(|b| b.is_ascii_digit()))
                        || (plain_name(qualifier, 128, "")
                            && !qualifier.starts_with(|c: char| c.is_ascii_digit())))
            }
            _ => false,
        };
        if !ok {
            return Err(SynthError::invalid(
                path,
                format!("{arn:?} is not a Lambda function ARN; expected arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], a name of 1 to 64 letters, digits, `-` and `_`"),
            ));
        }
        // Lambda takes the ARN wherever it takes a function name (permissions, mappings).
        let node = stack.import_node(
            id,
            imported(Expr::from(arn), vec![("Arn", Expr::from(arn))]),
            Facts::default(),
        )?;
        Ok(FunctionRef { stack, node })
    }
}

impl<'a> KeyRef<'a> {
    /// A KMS key that exists outside the app, by ARN. Its key policy stays its owner's: a
    /// service that must use it (EventBridge sending to a queue it encrypts) needs that
    /// policy to allow it.
    ///
    /// ```
    /// use ordersctl::constructs::{App, KeyRef, QueueEncryption};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let key = KeyRef::from_arn(stack, "Shared",
    ///     "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")?;
    /// stack.queue("Jobs").encryption(QueueEncryption::Kms(key)).build()?;
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn from_arn(stack: &'a Stack, id: &str, arn: &str) -> Result<KeyRef<'a>, SynthError> {
        let path = stack.child_path(id);
        let a = parse(
            &path,
            arn,
            "kms",
            "a KMS key",
            "REGION:ACCOUNT:key/KEY-ID",
            true,
        )?;
        let Some(key_id) = name_after(a.resource, "key/").filter(|k| is_key_id(k)) else {
            return Err(SynthError::invalid(
                path,
                format!("{arn:?} is not a KMS key ARN; expected arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID"),
            ));
        };
        let node = stack.import_node(
            id,
            imported(
                Expr::from(key_id),
                vec![("Arn", Expr::from(arn)), ("KeyId", Expr::from(key_id))],
            ),
            Facts::default(),
        )?;
        Ok(KeyRef { stack, node })
    }
}

impl<'a> EventBusRef<'a> {
    /// A custom event bus that exists outside the app, by name (in the stack's account and
    /// region). Rules can live on it and deliver to it.
    ///
    /// ```
    /// use ordersctl::constructs::{App, EventBusRef};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let bus = EventBusRef::from_name(stack, "Orders", "orders")?;
    /// assert!(!bus.is_default());
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn from_name(
        stack: &'a Stack,
        id: &str,
        name: &str,
    ) -> Result<EventBusRef<'a>, SynthError> {
        let valid = !name.is_empty()
            && name.len() <= 256
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if name.starts_with("arn:") {
            return Err(SynthError::invalid(
                stack.child_path(id),
                format!("{name:?} is an ARN; EventBusRef::from_name takes the bus name (the part after `event-bus/`)"),
            ));
        }
        if !valid || name == "default" {
            return Err(SynthError::invalid(
                stack.child_path(id),
                format!("{name:?} is not a custom event bus name (1 to 256 letters, digits, `.`, `-` and `_`; the default bus is stack.default_event_bus())"),
            ));
        }
        let arn = Expr::arn("events", &format!("event-bus/{name}"));
        let node = stack.import_node(
            id,
            imported(
                Expr::from(name),
                vec![("Arn", arn), ("Name", Expr::from(name))],
            ),
            Facts::default(),
        )?;
        Ok(EventBusRef {
            stack,
            node: Some(node),
        })
    }
}
