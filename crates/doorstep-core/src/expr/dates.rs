//! Calendar arithmetic for the expression language, written out so the engine needs no date crate.
//!
//! Dates count as days since 1970-01-01 (proleptic Gregorian calendar, Howard Hinnant's
//! `days_from_civil` / `civil_from_days`). A date-time counts in the local time it was written in: its
//! offset is read and checked but not applied, so `2026-11-22T01:00:00+08:00` is day 20779 plus 1/24.
//! This is what JavaRosa does with the device's own time zone, and it keeps `date(${start})` and
//! `format-date-time(${start}, '%H:%M')` showing what the surveyor saw. The engine carries no time-zone
//! database: the host's clock brings the offset (see [`super::Clock`]).

use super::value::Clock;

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date; `m` is 1..=12, `d` 1..=31.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day number (inverse of [`days_from_civil`]). Day numbers
/// beyond ±10^12 (some 2.7 billion years) are clamped, so that no input can overflow.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z.clamp(-1_000_000_000_000, 1_000_000_000_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
pub fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

fn num(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, b| {
        acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// `YYYY-MM-DD` (a real date) as days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(&b[..4])?, num(&b[5..7])?, num(&b[8..10])?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(i64::from(y), m) {
        return None;
    }
    Some(days_from_civil(i64::from(y), m, d))
}

/// `HH:MM[:SS[.fff]]` as seconds since midnight, and the rest of the string.
fn parse_clock(s: &str) -> Option<(f64, &str)> {
    let b = s.as_bytes();
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let (h, mi) = (num(&b[..2])?, num(&b[3..5])?);
    let mut rest = 5;
    let mut sec = 0.0;
    if b.len() >= 8 && b[5] == b':' {
        sec = f64::from(num(&b[6..8])?);
        rest = 8;
        if b.len() > 8 && b[8] == b'.' {
            let end = b[9..]
                .iter()
                .position(|c| !c.is_ascii_digit())
                .map_or(b.len(), |p| p + 9);
            if end == 9 {
                return None;
            }
            sec += s[8..end].parse::<f64>().ok()?;
            rest = end;
        }
    }
    // 24:00:00 is not accepted: ODK never writes it and it would be the next day.
    if h > 23 || mi > 59 || sec >= 60.0 {
        return None;
    }
    Some((
        f64::from(h) * 3600.0 + f64::from(mi) * 60.0 + sec,
        &s[rest..],
    ))
}

/// `Z`, `+HH:MM`, `-HH:MM` or `+HHMM`: the offset in minutes. Empty is accepted as "local".
fn parse_offset(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    match b {
        [] => Some(0),
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (num(&[*h1, *h2])?, num(&[*m1, *m2])?),
                [h1, h2] => (num(&[*h1, *h2])?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let off = (h * 60 + m) as i32;
            Some(if *sign == b'-' { -off } else { off })
        }
        _ => None,
    }
}

/// An RFC 3339 date-time (`YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]`) as days since 1970-01-01 with a
/// fraction, in the local time it was written in (see the module comment).
pub fn parse_datetime(s: &str) -> Option<f64> {
    parse_datetime_offset(s).map(|(days, _)| days)
}

/// [`parse_datetime`] and the offset it was written with, in minutes (0 for `Z` or none).
pub fn parse_datetime_offset(s: &str) -> Option<(f64, i32)> {
    if s.len() < 16 || !s.is_char_boundary(10) {
        return None;
    }
    let days = parse_date(&s[..10])?;
    if !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        return None;
    }
    let (secs, rest) = parse_clock(&s[11..])?;
    let offset = parse_offset(rest)?;
    Some((days as f64 + secs / 86_400.0, offset))
}

/// A time of day `HH:MM[:SS[.fff]][offset]` as a fraction of a day.
pub fn parse_time(s: &str) -> Option<f64> {
    let (secs, rest) = parse_clock(s)?;
    parse_offset(rest)?;
    Some(secs / 86_400.0)
}

/// Any of date, date-time or time as a number of days.
pub fn to_days(s: &str) -> Option<f64> {
    if let Some(d) = parse_date(s) {
        return Some(d as f64);
    }
    parse_datetime(s).or_else(|| parse_time(s))
}

/// `YYYY-MM-DD` of a day number (years outside 0..=9999 keep their sign and width).
pub fn format_days(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        // `{y:04}-{m:02}-{d:02}` without the formatting machinery (`today()` is read by many
        // constraints, for every stored submission the office re-validates).
        let y = y as u32;
        let digit = |x: u32| char::from(b'0' + (x % 10) as u8);
        let mut out = String::with_capacity(10);
        for c in [
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            '-',
            digit(m / 10),
            digit(m),
            '-',
            digit(d / 10),
            digit(d),
        ] {
            out.push(c);
        }
        out
    } else {
        format!("{y}-{m:02}-{d:02}")
    }
}

/// The local day number of the host's clock.
pub fn today(clock: Clock) -> i64 {
    local_millis(clock).div_euclid(MS_PER_DAY)
}

fn local_millis(clock: Clock) -> i64 {
    clock
        .utc_millis
        .saturating_add(i64::from(clock.offset_minutes) * 60_000)
}

/// `now()`: the host's local time as RFC 3339 with milliseconds and offset, as ODK writes it.
pub fn now_string(clock: Clock) -> String {
    let local = local_millis(clock);
    let (days, ms) = (local.div_euclid(MS_PER_DAY), local.rem_euclid(MS_PER_DAY));
    let (h, mi, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let off = clock.offset_minutes;
    let sign = if off < 0 { '-' } else { '+' };
    let off = off.unsigned_abs();
    format!(
        "{}T{h:02}:{mi:02}:{s:02}.{milli:03}{sign}{:02}:{:02}",
        format_days(days),
        off / 60,
        off % 60
    )
}

/// The parts of a moment given as days since 1970 (with a fraction).
pub struct Parts {
    pub days: i64,
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milli: u32,
}

pub fn parts(days: f64) -> Option<Parts> {
    // About ±27 million years: beyond that the day count does not fit comfortably and no form means it.
    if !days.is_finite() || days.abs() > 1e10 {
        return None;
    }
    let ms = (days * MS_PER_DAY as f64).round() as i64;
    let (d, rem) = (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY));
    let (year, month, day) = civil_from_days(d);
    Some(Parts {
        days: d,
        year,
        month,
        day,
        hour: (rem / 3_600_000) as u32,
        minute: (rem / 60_000 % 60) as u32,
        second: (rem / 1000 % 60) as u32,
        milli: (rem % 1000) as u32,
    })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// ODK's `format-date` / `format-date-time` directives: `%Y %y %m %n %b %d %e %a %H %h %M %S %3 %%`.
/// Unknown directives are copied as written.
pub fn format(days: f64, fmt: &str) -> String {
    let Some(p) = parts(days) else {
        return String::new();
    };
    let mut out = String::with_capacity(fmt.len() + 8);
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&if (0..=9999).contains(&p.year) {
                format!("{:04}", p.year)
            } else {
                p.year.to_string()
            }),
            Some('y') => out.push_str(&format!("{:02}", p.year.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{:02}", p.month)),
            Some('n') => out.push_str(&p.month.to_string()),
            Some('b') => out.push_str(MONTHS[(p.month - 1) as usize]),
            Some('d') => out.push_str(&format!("{:02}", p.day)),
            Some('e') => out.push_str(&p.day.to_string()),
            Some('a') => out.push_str(WEEKDAYS[weekday(p.days) as usize]),
            Some('H') => out.push_str(&format!("{:02}", p.hour)),
            Some('h') => out.push_str(&p.hour.to_string()),
            Some('M') => out.push_str(&format!("{:02}", p.minute)),
            Some('S') => out.push_str(&format!("{:02}", p.second)),
            Some('3') => out.push_str(&format!("{:03}", p.milli)),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Whole years from `birth` to `on` (both day numbers), birthday-exact: the year counts from the
/// birthday itself. Someone born on 29 February has their birthday on 1 March in other years (the
/// rule of most civil codes); a birth after `on` gives a negative count.
pub fn age(birth: i64, on: i64) -> i64 {
    let (by, bm, bd) = civil_from_days(birth);
    let (oy, om, od) = civil_from_days(on);
    let mut years = oy - by;
    if (om, od) < (bm, bd) {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for d in [-800_000i64, -1, 0, 1, 20_779, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        // Absurd day numbers (a NaN or huge number cast to i64) do not overflow.
        let _ = format_days(i64::MAX);
        let _ = format_days(i64::MIN);
        assert_eq!(days_from_civil(2026, 11, 22), 20_779);
        assert_eq!(format_days(20_779), "2026-11-22");
    }

    #[test]
    fn parsing() {
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_datetime("2026-11-22T12:00:00+08:00"), Some(20_779.5));
        assert_eq!(parse_datetime("2026-11-22T12:00:00.000Z"), Some(20_779.5));
        assert_eq!(parse_datetime("2026-11-22T12:00+08"), Some(20_779.5));
        assert_eq!(parse_datetime("2026-11-22T25:00:00Z"), None);
        assert_eq!(parse_time("06:00:00"), Some(0.25));
        for s in [
            "2026-11-22T12:00:00+08:00",
            "2026-11-22T12:00:00+0800",
            "2026-11-22T12:00+08",
        ] {
            assert_eq!(parse_datetime_offset(s), Some((20_779.5, 480)), "{s}");
        }
        assert_eq!(
            parse_datetime_offset("2026-11-22T12:00:00-05:30"),
            Some((20_779.5, -330))
        );
    }

    #[test]
    fn clock() {
        let c = Clock {
            utc_millis: 1_795_309_200_000,
            offset_minutes: 480,
        };
        assert_eq!(now_string(c), "2026-11-22T09:00:00.000+08:00");
        assert_eq!(today(c), 20_779);
    }

    #[test]
    fn leap_day_birthdays() {
        let b = days_from_civil(2000, 2, 29);
        assert_eq!(age(b, days_from_civil(2001, 2, 28)), 0);
        assert_eq!(age(b, days_from_civil(2001, 3, 1)), 1);
        assert_eq!(age(b, days_from_civil(2004, 2, 29)), 4);
    }
}
