//! Civil dates to and from days since 1970-01-01, enough for generated dates and timestamps.

use crate::rng::Rng;

/// Days since 1970-01-01 of a proleptic Gregorian date.
///
/// SPEC: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil.
pub(crate) fn days(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number; the inverse of [`days`] (civil_from_days).
pub(crate) fn civil(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i32::from(month <= 2);
    (year, month, day)
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
