//! Arrow values to PostgreSQL rows (text and binary formats) and parameters back to Arrow.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
    UInt8Type, UInt16Type, UInt32Type,
};
use datafusion::arrow::util::display::FormatOptions;
use datafusion::common::ScalarValue;
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions as WireOptions;

use super::text::{self, Scratch, TextColumn};
use super::user_error;

/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// The PostgreSQL type a column of this Arrow type is sent as.
pub fn pg_type(dt: &DataType) -> Type {
    match dt {
        DataType::Null | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Type::TEXT,
        DataType::Boolean => Type::BOOL,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => Type::INT2,
        DataType::Int32 | DataType::UInt16 => Type::INT4,
        DataType::Int64 | DataType::UInt32 => Type::INT8,
        DataType::Float16 | DataType::Float32 => Type::FLOAT4,
        DataType::Float64 => Type::FLOAT8,
        DataType::Date32 | DataType::Date64 => Type::DATE,
        DataType::Timestamp(_, None) => Type::TIMESTAMP,
        DataType::Timestamp(_, Some(_)) => Type::TIMESTAMPTZ,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Type::BYTEA,
        DataType::Decimal128(..) | DataType::Decimal256(..) | DataType::UInt64 => Type::NUMERIC,
        // Everything else (intervals, lists, structs) goes as its text form.
        _ => Type::TEXT,
    }
}

/// Whether a type of [`pg_type`] has a binary form here; others are sent as text even when
/// the client asks for binary.
fn has_binary(t: &Type) -> bool {
    [
        Type::TEXT,
        Type::BOOL,
        Type::INT2,
        Type::INT4,
        Type::INT8,
        Type::FLOAT4,
        Type::FLOAT8,
        Type::DATE,
        Type::TIMESTAMP,
        Type::TIMESTAMPTZ,
        Type::BYTEA,
    ]
    .contains(t)
}

/// The row description of a result schema, in the formats the client asked for.
pub fn fields(schema: &datafusion::arrow::datatypes::Schema, format: &Format) -> Vec<FieldInfo> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let t = pg_type(f.data_type());
            let wire = if format.is_binary(i) && has_binary(&t) {
                FieldFormat::Binary
            } else {
                FieldFormat::Text
            };
            FieldInfo::new(f.name().clone(), None, None, t, wire)
        })
        .collect()
}

/// Encodes one batch as data rows.
pub fn rows(batch: &RecordBatch, fields: &Arc<Vec<FieldInfo>>) -> PgWireResult<Vec<DataRow>> {
    let options = text::options();
    let arrays = arrays(batch)?;
    let columns: Vec<Column> = arrays
        .iter()
        .zip(fields.iter())
        .map(|(a, f)| Column::new(a, f, &options))
        .collect::<PgWireResult<_>>()?;
    let mut encoder = DataRowEncoder::new(fields.clone());
    let mut scratch = Scratch::default();
    let wire_options = WireOptions::default();
    let mut out = Vec::with_capacity(batch.num_rows());
    for r in 0..batch.num_rows() {
        for c in &columns {
            c.encode(r, &mut encoder, &mut scratch, &wire_options)?;
        }
        out.push(encoder.take_row());
    }
    Ok(out)
}

/// Encodes one batch as lines of COPY's text format, one buffer per batch split into a line
/// per row (clients such as psycopg read a COPY one data message per row).
pub fn copy_lines(batch: &RecordBatch) -> PgWireResult<Vec<Bytes>> {
    let options = text::options();
    let arrays = arrays(batch)?;
    let columns: Vec<TextColumn> = arrays
        .iter()
        .map(|a| TextColumn::new(a, &options))
        .collect::<PgWireResult<_>>()?;
    let nulls: Vec<_> = arrays.iter().map(text::logical_nulls).collect();
    let mut scratch = Scratch::default();
    // A sliced batch reports its whole buffers' size: the estimate is capped, the buffer grows.
    let estimate = batch.get_array_memory_size() + batch.num_rows() * columns.len();
    let mut buffer = BytesMut::with_capacity(estimate.min(COPY_BUFFER_BYTES));
    let mut out = Vec::with_capacity(batch.num_rows());
    for r in 0..batch.num_rows() {
        text::copy_line(&columns, &nulls, r, &mut scratch, &mut buffer);
        out.push(buffer.split().freeze());
    }
    Ok(out)
}

/// Most bytes a batch's COPY buffer starts with.
const COPY_BUFFER_BYTES: usize = 1 << 20;

/// A date or timestamp PostgreSQL's binary form cannot hold (2000-01-01 shifted past the
/// integer's range): an error, not a panic or a wrapped value.
fn out_of_range() -> PgWireError {
    user_error(
        "22008",
        "a date or timestamp is out of range for the binary format; ask for text",
    )
}

/// A batch's columns as they are sent (`microseconds`).
fn arrays(batch: &RecordBatch) -> PgWireResult<Vec<ArrayRef>> {
    batch.columns().iter().map(microseconds).collect()
}

/// PostgreSQL's timestamps hold microseconds, and clients read at most six digits of a second
/// (psycopg fails on more): a nanosecond one (`now()`) is sent truncated to microseconds.
fn microseconds(array: &ArrayRef) -> PgWireResult<ArrayRef> {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, tz) => {
            cast(array, &DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))
                .map_err(|e| user_error("XX000", &e.to_string()))
        }
        _ => Ok(array.clone()),
    }
}

/// One column, ready to encode row by row.
struct Column<'a> {
    array: &'a dyn Array,
    nulls: Option<NullBuffer>,
    text: TextColumn<'a>,
    binary: bool,
    pg: Type,
}

impl<'a> Column<'a> {
    fn new(array: &'a ArrayRef, field: &FieldInfo, options: &'a FormatOptions<'a>) -> PgWireResult<Self> {
        Ok(Column {
            array: array.as_ref(),
            nulls: text::logical_nulls(array),
            text: TextColumn::new(array, options)?,
            binary: field.format() == FieldFormat::Binary,
            pg: field.datatype().clone(),
        })
    }

    fn encode(
        &self,
        r: usize,
        e: &mut DataRowEncoder,
        scratch: &mut Scratch,
        d: &WireOptions,
    ) -> PgWireResult<()> {
        let t = &self.pg;
        if text::is_null(&self.nulls, r) {
            return e.encode_field_with_type_and_format(&None::<i32>, t, FieldFormat::Text, d);
        }
        let text = |scratch: &mut Scratch| {
            scratch.text.clear();
            self.text.write(r, &mut scratch.ints, &mut scratch.text);
        };
        if !self.binary {
            text(scratch);
            return e.encode_field_with_type_and_format(&scratch.text.as_str(), t, FieldFormat::Text, d);
        }
        let a = self.array;
        let fmt = FieldFormat::Binary;
        match a.data_type() {
            DataType::Boolean => e.encode_field_with_type_and_format(&a.as_boolean().value(r), t, fmt, d),
            DataType::Int8 => e.encode_field_with_type_and_format(
                &i16::from(a.as_primitive::<Int8Type>().value(r)),
                t,
                fmt,
                d,
            ),
            DataType::Int16 => {
                e.encode_field_with_type_and_format(&a.as_primitive::<Int16Type>().value(r), t, fmt, d)
            }
            DataType::UInt8 => e.encode_field_with_type_and_format(
                &i16::from(a.as_primitive::<UInt8Type>().value(r)),
                t,
                fmt,
                d,
            ),
            DataType::Int32 => {
                e.encode_field_with_type_and_format(&a.as_primitive::<Int32Type>().value(r), t, fmt, d)
            }
            DataType::UInt16 => e.encode_field_with_type_and_format(
                &i32::from(a.as_primitive::<UInt16Type>().value(r)),
                t,
                fmt,
                d,
            ),
            DataType::Int64 => {
                e.encode_field_with_type_and_format(&a.as_primitive::<Int64Type>().value(r), t, fmt, d)
            }
            DataType::UInt32 => e.encode_field_with_type_and_format(
                &i64::from(a.as_primitive::<UInt32Type>().value(r)),
                t,
                fmt,
                d,
            ),
            DataType::Float32 => {
                e.encode_field_with_type_and_format(&a.as_primitive::<Float32Type>().value(r), t, fmt, d)
            }
            DataType::Float64 => {
                e.encode_field_with_type_and_format(&a.as_primitive::<Float64Type>().value(r), t, fmt, d)
            }
            DataType::Date32 => {
                let days = a
                    .as_primitive::<Date32Type>()
                    .value(r)
                    .checked_sub(PG_EPOCH_DAYS)
                    .ok_or_else(out_of_range)?;
                e.encode_field_with_type_and_format(&days, &Type::INT4, fmt, d)
            }
            DataType::Timestamp(unit, _) => {
                let micros = match unit {
                    TimeUnit::Second => a
                        .as_primitive::<TimestampSecondType>()
                        .value(r)
                        .saturating_mul(1_000_000),
                    TimeUnit::Millisecond => a
                        .as_primitive::<TimestampMillisecondType>()
                        .value(r)
                        .saturating_mul(1_000),
                    TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().value(r),
                    TimeUnit::Nanosecond => a.as_primitive::<TimestampNanosecondType>().value(r) / 1_000,
                };
                let since_2000 = micros.checked_sub(PG_EPOCH_MICROS).ok_or_else(out_of_range)?;
                e.encode_field_with_type_and_format(&since_2000, &Type::INT8, fmt, d)
            }
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                let bytes: Vec<u8> = match a.data_type() {
                    DataType::Binary => a.as_binary::<i32>().value(r).to_vec(),
                    DataType::LargeBinary => a.as_binary::<i64>().value(r).to_vec(),
                    _ => a.as_binary_view().value(r).to_vec(),
                };
                e.encode_field_with_type_and_format(&bytes, t, fmt, d)
            }
            _ => {
                text(scratch);
                e.encode_field_with_type_and_format(&scratch.text.as_str(), &Type::TEXT, fmt, d)
            }
        }
    }
}

/// A parameter value as the client sent it, as the type the plan expects (`None`: the plan
/// did not say; the value stays text).
pub fn parameter(
    raw: Option<&[u8]>,
    binary: bool,
    client_type: Option<&Type>,
    wanted: Option<&DataType>,
) -> PgWireResult<ScalarValue> {
    let bad = |what: &str| user_error("22P02", &format!("invalid parameter: {what}"));
    let value = match raw {
        None => ScalarValue::Null,
        Some(bytes) if !binary => ScalarValue::Utf8(Some(
            std::str::from_utf8(bytes)
                .map_err(|_| bad("not UTF-8 text"))?
                .to_owned(),
        )),
        Some(bytes) => {
            let t = client_type.unwrap_or(&Type::TEXT);
            let fixed = |n: usize| -> PgWireResult<&[u8]> {
                if bytes.len() == n {
                    Ok(bytes)
                } else {
                    Err(bad("wrong length for its type"))
                }
            };
            match *t {
                Type::BOOL => ScalarValue::Boolean(Some(fixed(1)?.first() == Some(&1))),
                Type::INT2 => ScalarValue::Int16(Some(i16::from_be_bytes(array(fixed(2)?)?))),
                Type::INT4 => ScalarValue::Int32(Some(i32::from_be_bytes(array(fixed(4)?)?))),
                Type::INT8 => ScalarValue::Int64(Some(i64::from_be_bytes(array(fixed(8)?)?))),
                Type::FLOAT4 => ScalarValue::Float32(Some(f32::from_be_bytes(array(fixed(4)?)?))),
                Type::FLOAT8 => ScalarValue::Float64(Some(f64::from_be_bytes(array(fixed(8)?)?))),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    ScalarValue::Utf8(Some(
                        std::str::from_utf8(bytes)
                            .map_err(|_| bad("not UTF-8 text"))?
                            .to_owned(),
                    ))
                }
                _ => {
                    return Err(bad(
                        "this binary parameter type is not supported; send it as text",
                    ));
                }
            }
        }
    };
    match wanted {
        Some(dt) if !value.is_null() && value.data_type() != *dt => value
            .cast_to(dt)
            .map_err(|_| bad(&format!("cannot be read as {dt}"))),
        Some(dt) if value.is_null() => ScalarValue::try_from(dt).map_err(|_| bad("unsupported type")),
        _ => Ok(value),
    }
}

fn array<const N: usize>(bytes: &[u8]) -> PgWireResult<[u8; N]> {
    <[u8; N]>::try_from(bytes).map_err(|_| PgWireError::ParameterIndexOutOfBound(N))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Date32Array, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    /// Dates and timestamps past what PostgreSQL's binary form holds end the result with an
    /// error (they panicked the connection's task on an overflow), and are sent in text.
    #[test]
    fn dates_out_of_the_binary_range_are_an_error_not_a_panic() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("d", DataType::Date32, true),
            Field::new("t", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        ]));
        let batch = |d: i32, t: i64| {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(Date32Array::from(vec![d])),
                Arc::new(TimestampMicrosecondArray::from(vec![t])),
            ];
            RecordBatch::try_new(schema.clone(), columns).unwrap()
        };
        let binary = Arc::new(fields(&schema, &Format::UnifiedBinary));
        let text = Arc::new(fields(&schema, &Format::UnifiedText));
        for (d, t) in [(i32::MIN, 0), (0, i64::MIN)] {
            let err = rows(&batch(d, t), &binary).unwrap_err();
            assert!(err.to_string().contains("out of range"), "{err}");
            assert!(rows(&batch(d, t), &text).is_ok());
            assert_eq!(copy_lines(&batch(d, t)).unwrap().len(), 1);
        }
        assert!(rows(&batch(0, 0), &binary).is_ok());
    }

    /// `SELECT NULL` and a dictionary's null values are NULL on the wire (they went out as '').
    #[test]
    fn nulls_without_a_validity_buffer_are_sent_as_null() {
        use datafusion::arrow::array::{DictionaryArray, NullArray, StringArray};
        use datafusion::arrow::datatypes::Int32Type;
        let keys = datafusion::arrow::array::Int32Array::from(vec![0, 1]);
        let values = Arc::new(StringArray::from(vec![Some("a"), None]));
        let dictionary = DictionaryArray::<Int32Type>::try_new(keys, values).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Null, true),
            Field::new("d", dictionary.data_type().clone(), true),
        ]));
        let columns: Vec<ArrayRef> = vec![Arc::new(NullArray::new(2)), Arc::new(dictionary)];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        assert_eq!(
            copy_lines(&batch).unwrap(),
            vec![&b"\\N\ta\n"[..], &b"\\N\t\\N\n"[..]]
        );
        let text = Arc::new(fields(&schema, &Format::UnifiedText));
        let rows = rows(&batch, &text).unwrap();
        // Per field a 32-bit length, -1 for NULL: row 2 is two NULLs.
        assert_eq!(&rows[1].data[..], &[255, 255, 255, 255, 255, 255, 255, 255][..]);
        assert_eq!(&rows[0].data[..4], &[255, 255, 255, 255][..]);
    }
}
