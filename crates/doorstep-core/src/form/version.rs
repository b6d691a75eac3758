//! Form versions: the author's text (`YYYYMMDDNN` by convention), ordered as its author means it.

/// Orders two form versions the way their authors mean them: runs of digits by their number,
/// the rest as text, so `10` comes after `9` and `1.10` after `1.9` (and the `YYYYMMDDNN`
/// convention as it reads).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(v: &str) -> impl Iterator<Item = (bool, &str)> {
        let mut rest = v;
        std::iter::from_fn(move || {
            let digits = rest.chars().next()?.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digits)
                .unwrap_or(rest.len());
            let (run, after) = rest.split_at(end);
            rest = after;
            Some((digits, run))
        })
    }
    let (mut x, mut y) = (runs(a), runs(b));
    loop {
        let order = match (x.next(), y.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some((true, m)), Some((true, n))) => {
                let (m, n) = (m.trim_start_matches('0'), n.trim_start_matches('0'));
                m.len().cmp(&n.len()).then_with(|| m.cmp(n))
            }
            (Some((_, m)), Some((_, n))) => m.cmp(n),
        };
        if order.is_ne() {
            return order;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_their_authors_mean_them() {
        use std::cmp::Ordering::*;
        for (a, b, want) in [
            ("9", "10", Less),
            ("2026112301", "2026112401", Less),
            ("1.9", "1.10", Less),
            ("v2", "v10", Less),
            ("1.0", "1.0-beta", Less),
            ("02", "2", Less), // equal numbers: the text decides, so the order is total
            ("2", "2", Equal),
            ("b", "a", Greater),
        ] {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
            assert_eq!(compare_versions(b, a), want.reverse(), "{b} vs {a}");
        }
    }
}
