//! RFC 3339 timestamps, parsed and printed by hand: the log needs only UTC instants and their
//! order, not a calendar library.

use std::fmt;

/// An instant: seconds since the Unix epoch (UTC) and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

/// Why a timestamp did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 date-time ({0})")]
pub struct TimeError(&'static str);

// SPEC: RFC 3339 §5.6 date-time; also accepts a bare full-date (midnight UTC) for query bounds.
impl Timestamp {
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Result<i64, TimeError> {
            let part = b.get(r).ok_or(TimeError("too short"))?;
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return Err(TimeError("digits expected"));
            }
            Ok(part.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return Err(TimeError("expected YYYY-MM-DD"));
        }
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(TimeError("no such date"));
        }
        let days = days_from_civil(year, month, day);
        if b.len() == 10 {
            return Ok(Timestamp {
                secs: days * 86_400,
                nanos: 0,
            });
        }
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
            return Err(TimeError("expected T between date and time"));
        }
        let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
            return Err(TimeError("expected HH:MM:SS"));
        }
        if hour > 23 || min > 59 || sec > 60 {
            return Err(TimeError("no such time of day"));
        }
        let mut pos = 19;
        let mut nanos: u32 = 0;
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            let start = pos;
            while b.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            let digits = &b[start..pos];
            if digits.is_empty() || digits.len() > 9 {
                return Err(TimeError("1 to 9 fraction digits expected"));
            }
            let mut n: u32 = 0;
            for i in 0..9 {
                n = n * 10 + digits.get(i).map_or(0, |d| u32::from(d - b'0'));
            }
            nanos = n;
        }
        let offset = match b.get(pos) {
            Some(b'Z' | b'z') if b.len() == pos + 1 => 0,
            Some(sign @ (b'+' | b'-')) if b.len() == pos + 6 && b[pos + 3] == b':' => {
                let (oh, om) = (num(pos + 1..pos + 3)?, num(pos + 4..pos + 6)?);
                if oh > 23 || om > 59 {
                    return Err(TimeError("bad offset"));
                }
                let off = oh * 3600 + om * 60;
                if *sign == b'+' { off } else { -off }
            }
            _ => return Err(TimeError("expected Z or an offset such as +09:00")),
        };
        // A leap second (:60) is counted as the next second's start.
        let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset;
        Ok(Timestamp { secs, nanos })
    }
}

impl fmt::Display for Timestamp {
    /// Canonical form: UTC, `Z`, fraction without trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_canonical_utc() {
        let t = Timestamp::parse("2026-01-05T09:12:00Z").unwrap();
        assert_eq!(t.secs, 1_767_604_320);
        assert_eq!(t.to_string(), "2026-01-05T09:12:00Z");
        let t = Timestamp::parse("2026-01-05T18:12:00.250+09:00").unwrap();
        assert_eq!(t.to_string(), "2026-01-05T09:12:00.25Z");
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z").unwrap().secs, 0);
        assert_eq!(
            Timestamp::parse("2024-02-29").unwrap().to_string(),
            "2024-02-29T00:00:00Z"
        );
        assert_eq!(
            Timestamp::parse("1969-12-31T23:59:59Z").unwrap().to_string(),
            "1969-12-31T23:59:59Z"
        );
    }

    #[test]
    fn refuses_what_is_not_rfc_3339() {
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-01-05 09:12",
            "2026-01-05T09:12:00",
            "2026-01-05T24:00:00Z",
            "2026-01-05T09:12:00.Z",
            "2026-01-05T09:12:00+0900",
            "２０２６-01-05",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips_over_a_range_of_days() {
        for days in (-700_000..2_900_000).step_by(997) {
            let t = Timestamp {
                secs: days * 86_400 + 3_723,
                nanos: 5_000,
            };
            assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }
    }
}
