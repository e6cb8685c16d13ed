//! EventBridge archives: keep a bus's events (all, or those matching a pattern) for replay.

use super::bus::EventBusRef;
use super::{check_description, check_name, check_pattern};
use crate::constructs::pattern::EventPattern;
use crate::constructs::stack::{check_construct_id, handle, Facts, Node};
use crate::constructs::{Duration, Stack, SynthError};
use crate::spec::cfn;
use crate::template::{Expr, Resource};

handle!(
    /// An EventBridge archive.
    ArchiveRef
);

impl ArchiveRef<'_> {
    /// Archive ARN.
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
}

/// Builder for an `AWS::Events::Archive`.
///
/// ```
/// use ordersctl::constructs::{App, Duration, EventPattern};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let bus = stack.event_bus("OrdersBus").build()?;
/// stack.archive("OrdersArchive").source(&bus)
///     .pattern(EventPattern::new().source(["shop.orders"]))
///     .retention(Duration::days(30)).build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "an archive is added by build()"]
pub struct ArchiveBuilder<'a> {
    stack: &'a Stack,
    id: String,
    logical_id: Option<String>,
    archive_name: Option<String>,
    source: Option<EventBusRef<'a>>,
    pattern: Option<EventPattern>,
    retention: Option<Duration>,
    description: Option<String>,
}

impl Stack {
    /// Start an archive.
    pub fn archive(&self, id: &str) -> ArchiveBuilder<'_> {
        ArchiveBuilder {
            stack: self,
            id: id.to_string(),
            logical_id: None,
            archive_name: None,
            source: None,
            pattern: None,
            retention: None,
            description: None,
        }
    }
}

impl<'a> ArchiveBuilder<'a> {
    /// The bus whose events are archived (required; may be the default bus).
    pub fn source(mut self, bus: &EventBusRef<'a>) -> Self {
        self.source = Some(*bus);
        self
    }
    /// Archive only events matching this pattern (all events when not set).
    pub fn pattern(mut self, pattern: EventPattern) -> Self {
        self.pattern = Some(pattern);
        self
    }
    /// Keep events this many whole days, at least 1 (forever when not set).
    pub fn retention(mut self, d: Duration) -> Self {
        self.retention = Some(d);
        self
    }
    /// Physical archive name, 1 to 48 letters, digits, `.`, `-` and `_`.
    pub fn archive_name(mut self, name: &str) -> Self {
        self.archive_name = Some(name.to_string());
        self
    }
    /// Keep a logical ID stable through a rename of the construct.
    pub fn logical_id(mut self, id: &str) -> Self {
        self.logical_id = Some(id.to_string());
        self
    }
    /// Description, up to 512 characters.
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }

    /// Validate and add the archive.
    pub fn build(self) -> Result<ArchiveRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let source = self.source.ok_or_else(|| {
            SynthError::invalid(
                p,
                "source is required: the event bus to archive, .source(&bus)",
            )
        })?;
        let mut r = Resource::new("AWS::Events::Archive");
        r.set(cfn::SourceArn, source.arn());
        if let Some(pattern) = &self.pattern {
            check_pattern(p, "pattern", pattern)?;
            r.set(cfn::EventPattern, Expr::from_json(&pattern.to_json()));
        }
        if let Some(d) = self.retention {
            let days = d.whole_days().filter(|n| *n >= 1).ok_or_else(|| {
                SynthError::out_of_range(
                    p,
                    "retention",
                    d.to_string(),
                    "whole days, at least 1 (leave unset to keep forever)",
                )
            })?;
            r.set(cfn::RetentionDays, days);
        }
        if let Some(name) = &self.archive_name {
            check_name(p, "archive_name", name, 48)?;
        }
        if let Some(text) = &self.description {
            check_description(p, text)?;
        }
        r.set_opt(cfn::ArchiveName, self.archive_name.clone())
            .set_opt(cfn::Description, self.description.clone());
        let logical_id = self.logical_id.clone().unwrap_or_else(|| self.id.clone());
        self.stack.add_resource(&logical_id, p, r)?;
        let node = self.stack.add_node(Node {
            path,
            logical_id,
            facts: Facts::default(),
            imported: None,
        });
        Ok(ArchiveRef {
            stack: self.stack,
            node,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::constructs::{App, Duration, EventPattern, Stack, SynthError};
    use serde_json::json;

    fn err(f: impl FnOnce(&Stack) -> Result<(), SynthError>) -> String {
        let app = App::new();
        let s = app.stack("S");
        f(s).expect_err("must fail").to_string()
    }

    #[test]
    fn every_limit_names_the_construct_path() {
        let cases: Vec<(&str, String)> = vec![
            ("source", err(|s| s.archive("A").build().map(|_| ()))),
            (
                "retention",
                err(|s| {
                    s.archive("A")
                        .source(&s.default_event_bus())
                        .retention(Duration::hours(36))
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "retention",
                err(|s| {
                    s.archive("A")
                        .source(&s.default_event_bus())
                        .retention(Duration::secs(0))
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "archive_name",
                err(|s| {
                    s.archive("A")
                        .source(&s.default_event_bus())
                        .archive_name(&"a".repeat(49))
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "pattern",
                err(|s| {
                    s.archive("A")
                        .source(&s.default_event_bus())
                        .pattern(EventPattern::new())
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "description",
                err(|s| {
                    s.archive("A")
                        .source(&s.default_event_bus())
                        .description(&"d".repeat(513))
                        .build()
                        .map(|_| ())
                }),
            ),
        ];
        for (needle, msg) in cases {
            assert!(msg.starts_with("S/A"), "{msg}");
            assert!(msg.contains(needle), "{needle} not in {msg}");
        }
    }

    #[test]
    fn archive_properties() {
        let app = App::new();
        let s = app.stack("S");
        let bus = s.event_bus("B").build().unwrap();
        s.archive("A")
            .source(&bus)
            .pattern(EventPattern::new().source(["shop"]))
            .retention(Duration::days(7))
            .build()
            .unwrap();
        let t = s.state_for_tests().finalize().unwrap();
        let props = &t.resources["A"].properties;
        assert_eq!(
            props["SourceArn"].to_json(),
            json!({"Fn::GetAtt": ["B", "Arn"]})
        );
        assert_eq!(props["EventPattern"].to_json(), json!({"source": ["shop"]}));
        assert_eq!(props["RetentionDays"].to_json(), json!(7));
    }
}
