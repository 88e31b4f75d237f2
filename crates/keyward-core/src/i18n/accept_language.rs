//! `Accept-Language` (RFC 9110 §12.5.4) read for the languages keyward
//! speaks: each range with its quality value (`q`, 0 to 1, 1 when absent),
//! the highest first and, among equals, the browser's order. A range
//! matches by its primary subtag (`es-419` is Spanish); `*` and unknown
//! languages match nothing, so they fall through to English.

use super::Locale;

/// The supported language the header prefers, if any.
pub(super) fn best(header: &str) -> Option<Locale> {
    let mut ranges: Vec<(u16, usize, Locale)> = header
        .split(',')
        .take(32)
        .enumerate()
        .filter_map(|(order, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .map_or(Some(1000), quality)?;
            let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
            let locale = Locale::parse(&primary)?;
            (quality > 0).then_some((quality, order, locale))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.first().map(|&(_, _, locale)| locale)
}

/// A quality value in thousandths (`0.8` → 800); `None` when malformed.
fn quality(text: &str) -> Option<u16> {
    let value: f64 = text.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}
