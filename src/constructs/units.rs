//! Durations and sizes as types, so `60` can never mean minutes where seconds were meant.

use std::fmt;

/// A length of time, whole seconds.
///
/// ```
/// use ordersctl::constructs::Duration;
/// assert_eq!(Duration::days(14).as_secs(), 1_209_600);
/// assert_eq!(Duration::minutes(15).to_string(), "900 s");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(u64);

impl Duration {
    /// Seconds.
    pub const fn secs(s: u64) -> Self {
        Duration(s)
    }
    /// Minutes.
    pub const fn minutes(m: u64) -> Self {
        Duration(m * 60)
    }
    /// Hours.
    pub const fn hours(h: u64) -> Self {
        Duration(h * 3600)
    }
    /// Days.
    pub const fn days(d: u64) -> Self {
        Duration(d * 86_400)
    }
    /// Whole seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }
    /// Seconds as the i64 the range checks use.
    pub(crate) fn secs_i64(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
    /// Whole days, if the duration is a whole number of days.
    pub fn whole_days(self) -> Option<u64> {
        self.0.is_multiple_of(86_400).then_some(self.0 / 86_400)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0)
    }
}

/// A size in bytes.
///
/// ```
/// use ordersctl::constructs::Size;
/// assert_eq!(Size::kib(256).as_bytes(), 262_144);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(u64);

impl Size {
    /// Bytes.
    pub const fn bytes(b: u64) -> Self {
        Size(b)
    }
    /// Kibibytes.
    pub const fn kib(k: u64) -> Self {
        Size(k * 1024)
    }
    /// Mebibytes.
    pub const fn mib(m: u64) -> Self {
        Size(m * 1024 * 1024)
    }
    /// Bytes.
    pub const fn as_bytes(self) -> u64 {
        self.0
    }
    pub(crate) fn bytes_i64(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes", self.0)
    }
}
