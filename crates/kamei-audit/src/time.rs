//! RFC 3339 timestamps in the log's canonical form: UTC instants, parsed and printed with
//! chrono (the calendar crate Arrow already brings).

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime};

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
        if s.len() == 10 {
            let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| TimeError("no such date"))?;
            let secs = date.and_time(NaiveTime::MIN).and_utc().timestamp();
            return Ok(Timestamp { secs, nanos: 0 });
        }
        let t = DateTime::parse_from_rfc3339(s)
            .map_err(|_| TimeError("expected such as 2026-01-05T09:12:00Z"))?;
        let (mut secs, mut nanos) = (t.timestamp(), t.timestamp_subsec_nanos());
        // A leap second (:60) is counted as the next second's start.
        if nanos >= 1_000_000_000 {
            secs += 1;
            nanos -= 1_000_000_000;
        }
        Ok(Timestamp { secs, nanos })
    }
}

impl fmt::Display for Timestamp {
    /// Canonical form: UTC, `Z`, fraction without trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(t) = DateTime::from_timestamp(self.secs, 0) else {
            return Err(fmt::Error);
        };
        write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S"))?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
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
