//! The newest glibc symbol version a binary needs, so a binary built against a newer glibc
//! than the Lambda runtime's fails at bundle time rather than at cold start.

/// glibc of `provided.al2023`.
pub const LAMBDA_GLIBC: (u32, u32) = (2, 34);

/// The highest `GLIBC_x.y` version named in the binary, if any.
///
/// ```
/// use ordersctl::bundle::max_glibc_version;
/// assert_eq!(max_glibc_version(b"..GLIBC_2.17\0..GLIBC_2.34\0..GLIBC_2.2.5\0"), Some((2, 34)));
/// ```
pub fn max_glibc_version(binary: &[u8]) -> Option<(u32, u32)> {
    const TAG: &[u8] = b"GLIBC_";
    let mut best: Option<(u32, u32)> = None;
    let mut i = 0;
    while let Some(pos) = find(&binary[i..], TAG) {
        let start = i + pos + TAG.len();
        let end = binary[start..]
            .iter()
            .position(|b| !(b.is_ascii_digit() || *b == b'.'))
            .map_or(binary.len(), |e| start + e);
        let text = std::str::from_utf8(&binary[start..end]).unwrap_or("");
        let mut parts = text.split('.').filter_map(|p| p.parse::<u32>().ok());
        if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
            best = best.max(Some((major, minor)));
        }
        i = end.max(start);
    }
    best
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
