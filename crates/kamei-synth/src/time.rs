//! Civil dates to and from days since 1970-01-01, for generated dates and timestamps (chrono).

use chrono::{Datelike, NaiveDate};

use crate::rng::Rng;

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

/// Days since 1970-01-01 of a proleptic Gregorian date (0 for a date that does not exist).
pub(crate) fn days(year: i32, month: u32, day: u32) -> i32 {
    NaiveDate::from_ymd_opt(year, month, day).map_or(0, |d| d.num_days_from_ce() - UNIX_EPOCH_FROM_CE)
}

/// The (year, month, day) of a day number; the inverse of [`days`].
pub(crate) fn civil(days: i32) -> (i32, u32, u32) {
    NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_FROM_CE)
        .map_or((1970, 1, 1), |d| (d.year(), d.month(), d.day()))
}

pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A timestamp in microseconds, uniform between the starts of two days.
pub(crate) fn micros_between(rng: &mut Rng, from_day: i32, to_day: i32) -> i64 {
    let span = (i64::from(to_day - from_day) * MICROS_PER_DAY) as u64;
    // Whole seconds: chat timestamps are not sub-second in the demo.
    i64::from(from_day) * MICROS_PER_DAY + (rng.below(span / 1_000_000) * 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_known_dates() {
        assert_eq!(days(1970, 1, 1), 0);
        assert_eq!(days(2000, 3, 1), 11_017);
        assert_eq!(days(2026, 11, 25), 20_782);
        for d in -30_000..30_000 {
            let (y, m, dd) = civil(d);
            assert_eq!(days(y, m, dd), d);
        }
    }
}
