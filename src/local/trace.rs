//! The trace of a local run: one [`Hop`] per delivery, invocation, state transition or AWS
//! call, written as JSON lines and rendered one line each for people.

use serde::{Deserialize, Serialize};

/// What kind of hop.
pub const KINDS: &[&str] = &[
    "inject",
    "esm",
    "rule",
    "target",
    "archive",
    "schedule",
    "invoke",
    "state",
    "task",
    "execution",
    "call",
    "redrive",
    "destination",
];

/// One hop of an event through the stacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct Hop {
    pub seq: u64,
    /// Engine (virtual) time, RFC 3339 with milliseconds.
    pub time: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    /// ok, failed, denied, retry, matched, moved, partial ...
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Hop {
    /// A hop with the required fields; the rest empty.
    pub fn new(kind: &str, from: impl Into<String>, to: impl Into<String>, outcome: &str) -> Hop {
        Hop {
            seq: 0,
            time: String::new(),
            kind: kind.into(),
            from: from.into(),
            to: to.into(),
            outcome: outcome.into(),
            message_ids: Vec::new(),
            execution_id: None,
            correlation_id: None,
            error: None,
            detail: None,
        }
    }

    /// Whether any of its IDs is `id`.
    pub fn mentions(&self, id: &str) -> bool {
        self.message_ids.iter().any(|m| m == id)
            || self.execution_id.as_deref() == Some(id)
            || self.correlation_id.as_deref() == Some(id)
    }

    /// `2026-12-01T10:00:01.500Z  esm    OrderCreatedQueue -> OrderProcessor  ok  [ids] error`
    pub fn human(&self) -> String {
        let mut line = format!(
            "{}  {:<11} {} -> {}  {}",
            &self.time, self.kind, self.from, self.to, self.outcome
        );
        if !self.message_ids.is_empty() {
            line.push_str(&format!("  msg {}", self.message_ids.join(",")));
        }
        if let Some(x) = &self.execution_id {
            line.push_str(&format!("  exec {x}"));
        }
        if let Some(c) = &self.correlation_id {
            line.push_str(&format!("  corr {c}"));
        }
        if let Some(d) = &self.detail {
            line.push_str(&format!("  ({d})"));
        }
        if let Some(e) = &self.error {
            line.push_str(&format!("  error: {e}"));
        }
        line
    }
}

/// Read a JSON-lines trace; names the line that is not a hop.
pub fn parse(text: &str) -> Result<Vec<Hop>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("line {}: not a trace hop: {e}", i + 1))
        })
        .collect()
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds.
pub fn rfc3339_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_as_rfc3339() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_ms(951_782_400_000 + 1_500),
            "2000-02-29T00:00:01.500Z"
        );
        assert_eq!(rfc3339_ms(1_796_083_200_000), "2026-12-01T00:00:00.000Z");
    }

    #[test]
    fn hops_round_trip_and_filter_by_any_id() {
        let mut h = Hop::new("esm", "OrderCreatedQueue", "OrderProcessor", "ok");
        h.message_ids = vec!["m-1".into()];
        h.correlation_id = Some("c-1".into());
        let line = serde_json::to_string(&h).unwrap();
        let back = parse(&format!("{line}\n\n")).unwrap();
        assert_eq!(back, vec![h.clone()]);
        assert!(h.mentions("m-1") && h.mentions("c-1") && !h.mentions("x"));
        assert!(h
            .human()
            .contains("OrderCreatedQueue -> OrderProcessor  ok  msg m-1"));
        assert!(parse("{\"nope\": 1}").unwrap_err().starts_with("line 1:"));
    }
}
