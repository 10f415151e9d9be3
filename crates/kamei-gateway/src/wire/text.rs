//! PostgreSQL's text form of Arrow values, written straight into a reused buffer.
//!
//! A full scan sends every cell in this form (psql's results, `COPY … TO STDOUT`). Going
//! through `ArrayFormatter` and a `String` per cell cost a third of the gateway's CPU on a scan;
//! the common types (text, integers, booleans, dates, timestamps without a zone) are written
//! here directly, byte for byte as that formatter writes them, and everything else still goes
//! through it.

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, GenericStringArray, PrimitiveArray, StringViewArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use pgwire::error::PgWireResult;

use super::user_error;

/// How every column is formatted: NULL is not written (the caller marks it), timestamps as
/// PostgreSQL prints them.
pub(super) fn options() -> FormatOptions<'static> {
    FormatOptions::default()
        .with_null("")
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f%:z"))
}

/// Writes row `r` of an integer column of any width.
type WriteInt<'a> = Box<dyn Fn(usize, &mut itoa::Buffer, &mut String) + 'a>;

/// One column, ready to write its values as text.
pub(super) enum TextColumn<'a> {
    Utf8(&'a GenericStringArray<i32>),
    LargeUtf8(&'a GenericStringArray<i64>),
    Utf8View(&'a StringViewArray),
    Int(WriteInt<'a>),
    Bool(&'a BooleanArray),
    Date(&'a Date32Array, ArrayFormatter<'a>),
    Timestamp(&'a TimestampMicrosecondArray, ArrayFormatter<'a>),
    Other(ArrayFormatter<'a>),
}

impl<'a> TextColumn<'a> {
    pub(super) fn new(array: &'a ArrayRef, options: &'a FormatOptions<'a>) -> PgWireResult<TextColumn<'a>> {
        let formatter = || {
            ArrayFormatter::try_new(array.as_ref(), options).map_err(|e| user_error("XX000", &e.to_string()))
        };
        Ok(match array.data_type() {
            DataType::Utf8 => TextColumn::Utf8(array.as_string()),
            DataType::LargeUtf8 => TextColumn::LargeUtf8(array.as_string()),
            DataType::Utf8View => TextColumn::Utf8View(array.as_string_view()),
            DataType::Int8 => int::<Int8Type>(array),
            DataType::Int16 => int::<Int16Type>(array),
            DataType::Int32 => int::<Int32Type>(array),
            DataType::Int64 => int::<Int64Type>(array),
            DataType::UInt8 => int::<UInt8Type>(array),
            DataType::UInt16 => int::<UInt16Type>(array),
            DataType::UInt32 => int::<UInt32Type>(array),
            DataType::UInt64 => int::<UInt64Type>(array),
            DataType::Boolean => TextColumn::Bool(array.as_boolean()),
            DataType::Date32 => TextColumn::Date(array.as_primitive(), formatter()?),
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                TextColumn::Timestamp(array.as_primitive(), formatter()?)
            }
            _ => TextColumn::Other(formatter()?),
        })
    }

    /// Whether a value can hold a byte COPY's text format must escape (a tab, a newline, a
    /// backslash): only text and the types left to the formatter can.
    fn may_need_escaping(&self) -> bool {
        matches!(
            self,
            TextColumn::Utf8(_) | TextColumn::LargeUtf8(_) | TextColumn::Utf8View(_) | TextColumn::Other(_)
        )
    }

    /// Row `r`'s value (not null) of a text column, as stored.
    fn text(&self, r: usize) -> Option<&'a str> {
        match self {
            TextColumn::Utf8(a) => Some(a.value(r)),
            TextColumn::LargeUtf8(a) => Some(a.value(r)),
            TextColumn::Utf8View(a) => Some(a.value(r)),
            _ => None,
        }
    }

    /// Appends row `r`'s value (not null) to `out`.
    pub(super) fn write(&self, r: usize, ints: &mut itoa::Buffer, out: &mut String) {
        match self {
            TextColumn::Utf8(a) => out.push_str(a.value(r)),
            TextColumn::LargeUtf8(a) => out.push_str(a.value(r)),
            TextColumn::Utf8View(a) => out.push_str(a.value(r)),
            TextColumn::Int(write) => write(r, ints, out),
            TextColumn::Bool(a) => out.push(if a.value(r) { 't' } else { 'f' }),
            TextColumn::Date(a, formatter) => {
                if !write_date(i64::from(a.value(r)), out) {
                    let _ = write!(out, "{}", formatter.value(r));
                }
            }
            TextColumn::Timestamp(a, formatter) => {
                if !write_timestamp(a.value(r), out) {
                    let _ = write!(out, "{}", formatter.value(r));
                }
            }
            TextColumn::Other(formatter) => {
                let _ = write!(out, "{}", formatter.value(r));
            }
        }
    }
}

fn int<'a, T>(array: &'a ArrayRef) -> TextColumn<'a>
where
    T: ArrowPrimitiveType,
    T::Native: itoa::Integer,
{
    let a: &'a PrimitiveArray<T> = array.as_primitive();
    TextColumn::Int(Box::new(move |r, ints, out| {
        out.push_str(ints.format(a.value(r)))
    }))
}

/// Appends one COPY text line (tab-separated fields, `\N` for NULL, a newline at the end);
/// `nulls` are the columns' [`logical_nulls`].
pub(super) fn copy_line(
    columns: &[TextColumn<'_>],
    nulls: &[Option<NullBuffer>],
    r: usize,
    scratch: &mut Scratch,
    line: &mut BytesMut,
) {
    for (i, (column, nulls)) in columns.iter().zip(nulls).enumerate() {
        if i > 0 {
            line.put_u8(b'\t');
        }
        if is_null(nulls, r) {
            line.put_slice(b"\\N");
            continue;
        }
        if let Some(text) = column.text(r) {
            escape(text.as_bytes(), line);
            continue;
        }
        scratch.text.clear();
        column.write(r, &mut scratch.ints, &mut scratch.text);
        if column.may_need_escaping() {
            escape(scratch.text.as_bytes(), line);
        } else {
            line.put_slice(scratch.text.as_bytes());
        }
    }
    line.put_u8(b'\n');
}

/// An array's nulls as a reader sees them: a `NullArray`'s every row, a dictionary's null
/// values, a run-end encoded array's null runs (`Array::is_null` sees none of these, and they
/// went out as empty text).
pub(super) fn logical_nulls(array: &ArrayRef) -> Option<NullBuffer> {
    array.logical_nulls()
}

pub(super) fn is_null(nulls: &Option<NullBuffer>, r: usize) -> bool {
    nulls.as_ref().is_some_and(|n| n.is_null(r))
}

/// The buffers one batch's cells are formatted in.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) ints: itoa::Buffer,
    pub(super) text: String,
}

/// COPY's text escapes: a backslash, tab, newline or carriage return in a value.
fn escape(value: &[u8], line: &mut BytesMut) {
    if !holds_copy_specials(value) {
        line.put_slice(value);
        return;
    }
    let mut rest = value;
    while let Some(at) = rest
        .iter()
        .position(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        let (plain, special) = rest.split_at(at);
        line.put_slice(plain);
        let Some((&b, after)) = special.split_first() else {
            break;
        };
        line.put_slice(match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            _ => b"\\r",
        });
        rest = after;
    }
    line.put_slice(rest);
}

/// False only if `value` holds no backslash and no byte below 0x0E (tab, newline and carriage
/// return are 0x09, 0x0A, 0x0D), looked at eight bytes at a time: almost no cell needs an
/// escape, and the byte-by-byte search cost a full scan about 4 % of its CPU.
fn holds_copy_specials(value: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Any byte of `x` below `n` (n <= 128) leaves its high bit set here (Hacker's Delight 6-1).
    let has_below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH != 0;
    let mut words = value.chunks_exact(8);
    for word in words.by_ref() {
        let x = word.iter().rev().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        if has_below(x, 0x0E) || has_below(x ^ (ONES * u64::from(b'\\')), 1) {
            return true;
        }
    }
    words.remainder().iter().any(|b| *b < 0x0E || *b == b'\\')
}

/// Writes a date of the years 1000–9999 as `YYYY-MM-DD`; false for any other (left to the
/// formatter, which knows how chrono writes them).
fn write_date(days: i64, out: &mut String) -> bool {
    let (y, m, d) = civil_from_days(days);
    if !(1000..=9999).contains(&y) {
        return false;
    }
    push_digits(out, y, 4);
    out.push('-');
    push_digits(out, m, 2);
    out.push('-');
    push_digits(out, d, 2);
    true
}

/// Writes a timestamp (microseconds since 1970) as chrono's `%Y-%m-%d %H:%M:%S%.f`: the
/// fraction left out when zero, else in 3 or 6 digits.
fn write_timestamp(micros: i64, out: &mut String) -> bool {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    if !write_date(seconds.div_euclid(86_400), out) {
        return false;
    }
    let of_day = seconds.rem_euclid(86_400);
    out.push(' ');
    push_digits(out, of_day / 3600, 2);
    out.push(':');
    push_digits(out, of_day / 60 % 60, 2);
    out.push(':');
    push_digits(out, of_day % 60, 2);
    if fraction != 0 {
        out.push('.');
        if fraction % 1000 == 0 {
            push_digits(out, fraction / 1000, 3);
        } else {
            push_digits(out, fraction, 6);
        }
    }
    true
}

/// Writes `n` (0 ≤ n < 10^width) in exactly `width` decimal digits: `write!` with `{:02}` cost
/// a few percent of a full scan's CPU through the formatting machinery.
fn push_digits(out: &mut String, n: i64, width: u32) {
    for place in (0..width).rev() {
        let digit = n / 10_i64.pow(place) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use proptest::prelude::*;
    use std::sync::Arc;

    /// What the formatter alone writes, the reference these fast paths must match.
    fn formatted(array: &ArrayRef, r: usize) -> String {
        let options = options();
        ArrayFormatter::try_new(array.as_ref(), &options)
            .unwrap()
            .value(r)
            .to_string()
    }

    fn written(array: &ArrayRef, r: usize) -> String {
        let options = options();
        let column = TextColumn::new(array, &options).unwrap();
        let mut out = String::new();
        column.write(r, &mut itoa::Buffer::new(), &mut out);
        out
    }

    proptest! {
        /// The word-at-a-time test is exact, and escaping equals the plain byte-by-byte rule.
        #[test]
        fn escapes_are_found_in_any_position(value in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b'\\'), Just(b'\t'), Just(b'\n'), Just(b'\r'), Just(0x0E), Just(0x5D)],
            0..40,
        )) {
            prop_assert_eq!(holds_copy_specials(&value), value.iter().any(|b| *b < 0x0E || *b == b'\\'));
            let mut line = BytesMut::new();
            escape(&value, &mut line);
            let mut naive = Vec::new();
            for b in &value {
                match b {
                    b'\\' => naive.extend_from_slice(b"\\\\"),
                    b'\t' => naive.extend_from_slice(b"\\t"),
                    b'\n' => naive.extend_from_slice(b"\\n"),
                    b'\r' => naive.extend_from_slice(b"\\r"),
                    _ => naive.push(*b),
                }
            }
            prop_assert_eq!(&line[..], &naive[..]);
        }

        #[test]
        fn dates_and_timestamps_are_written_as_the_formatter_writes_them(
            days in -1_000_000i32..3_000_000,
            micros in any::<i64>(),
            millis in -100_000_000_000_000i64..300_000_000_000_000,
        ) {
            let dates: ArrayRef = Arc::new(Date32Array::from(vec![days]));
            prop_assert_eq!(written(&dates, 0), formatted(&dates, 0));
            // Any microsecond, and whole milliseconds and seconds (the 3-digit and no fraction).
            let stamps: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![micros, millis * 1000, millis / 1000 * 1_000_000]));
            for r in 0..3 {
                prop_assert_eq!(written(&stamps, r), formatted(&stamps, r));
            }
        }

        #[test]
        fn integers_and_text_are_written_as_the_formatter_writes_them(n in any::<i64>(), s in "\\PC{0,20}") {
            let ints: ArrayRef = Arc::new(Int64Array::from(vec![n]));
            prop_assert_eq!(written(&ints, 0), formatted(&ints, 0));
            let texts: ArrayRef = Arc::new(StringArray::from(vec![s.as_str()]));
            prop_assert_eq!(written(&texts, 0), formatted(&texts, 0));
        }
    }

    #[test]
    fn copy_lines_escape_text_and_mark_nulls() {
        let texts: ArrayRef = Arc::new(StringArray::from(vec![Some("a\tb\\c\nd\re"), None]));
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(-7), Some(8)]));
        let options = options();
        let arrays = [texts, ints];
        let columns: Vec<TextColumn> = arrays
            .iter()
            .map(|a| TextColumn::new(a, &options).unwrap())
            .collect();
        let nulls: Vec<_> = arrays.iter().map(logical_nulls).collect();
        let mut line = BytesMut::new();
        let mut scratch = Scratch::default();
        copy_line(&columns, &nulls, 0, &mut scratch, &mut line);
        copy_line(&columns, &nulls, 1, &mut scratch, &mut line);
        assert_eq!(&line[..], b"a\\tb\\\\c\\nd\\re\t-7\n\\N\t8\n");
    }
}
