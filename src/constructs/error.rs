//! The error every construct's `build()` and synth return.

/// What went wrong while building constructs or synthesizing; always names where.
///
/// ```
/// use ordersctl::constructs::SynthError;
/// let e = SynthError::out_of_range("OrderPipeline/Queue", "visibility_timeout", "43201 s", "0 s to 43200 s");
/// assert_eq!(
///     e.to_string(),
///     "OrderPipeline/Queue: visibility_timeout is 43201 s; allowed: 0 s to 43200 s"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SynthError {
    /// A value outside the range AWS accepts.
    #[error("{path}: {property} is {value}; allowed: {allowed}")]
    OutOfRange {
        path: String,
        property: String,
        value: String,
        allowed: String,
    },
    /// Any other invalid construct configuration.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// Two constructs would get the same logical ID.
    #[error("{path}: logical ID `{logical_id}` is already used by {other}; give one of them another ID or override its logical ID")]
    DuplicateLogicalId {
        path: String,
        logical_id: String,
        other: String,
    },
    /// Stacks that import from each other in a circle.
    #[error("stacks depend on each other in a cycle: {0}")]
    StackCycle(String),
}

impl SynthError {
    /// A value out of its allowed range.
    pub fn out_of_range(
        path: impl Into<String>,
        property: impl Into<String>,
        value: impl Into<String>,
        allowed: impl Into<String>,
    ) -> Self {
        SynthError::OutOfRange {
            path: path.into(),
            property: property.into(),
            value: value.into(),
            allowed: allowed.into(),
        }
    }

    /// An invalid configuration with a message that says what is allowed.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        SynthError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Check `min <= value <= max`, naming the construct path and property on failure.
pub(crate) fn check_range(
    path: &str,
    property: &str,
    value: i64,
    min: i64,
    max: i64,
    unit: &str,
) -> Result<(), SynthError> {
    if value < min || value > max {
        let u = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        return Err(SynthError::out_of_range(
            path,
            property,
            format!("{value}{u}"),
            format!("{min}{u} to {max}{u}"),
        ));
    }
    Ok(())
}

/// Check a queue or topic name: letters, digits, `-` and `_`, at most `max_len` characters,
/// ending in `.fifo` exactly when `fifo`.
pub(crate) fn check_fifo_capable_name(
    path: &str,
    property: &str,
    kind: &str,
    name: &str,
    fifo: bool,
    max_len: usize,
) -> Result<(), SynthError> {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    let chars_ok = !base.is_empty()
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !chars_ok || name.len() > max_len {
        return Err(SynthError::invalid(
            path,
            format!("{property} `{name}` is not allowed; allowed: 1 to {max_len} characters, letters, digits, `-` and `_` (FIFO names end in `.fifo`)"),
        ));
    }
    if fifo && !name.ends_with(".fifo") {
        return Err(SynthError::invalid(
            path,
            format!("{property} `{name}` of a FIFO {kind} must end in `.fifo`"),
        ));
    }
    Ok(())
}
