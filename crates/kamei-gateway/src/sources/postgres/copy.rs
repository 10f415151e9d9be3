//! PostgreSQL's binary COPY format decoded into Arrow record batches, as the bytes arrive.
//!
//! `COPY (SELECT …) TO STDOUT (FORMAT binary)` sends a header (`PGCOPY\n\xff\r\n\0`, flags,
//! extension length), then per row a 16-bit field count and per field a 32-bit length (-1 for
//! NULL) and the value in the type's binary form (big-endian integers; dates as days and
//! timestamps as microseconds since 2000-01-01), then a trailer of field count -1. Rows are
//! decoded only once all their bytes are in, so a chunk boundary never splits a value. The rows
//! of a `SELECT` sent with the extended protocol (a filtered read, whose values are bound as
//! parameters, which COPY does not take) come with the same binary fields (`RowDecoder`).

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    RecordBatch, RecordBatchOptions, StringArray, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};

/// Rows per record batch.
pub(super) const BATCH_ROWS: usize = 8192;

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// Days from 1970-01-01 (Arrow's epoch) to 2000-01-01 (PostgreSQL's).
pub(super) const EPOCH_DAYS: i32 = 10_957;
pub(super) const EPOCH_MICROS: i64 = EPOCH_DAYS as i64 * 86_400_000_000;

/// The PostgreSQL types kamei reads, by the type's OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PgType {
    Int8,
    Int4,
    Float8,
    Bool,
    Text,
    Date,
    Timestamp,
}

impl PgType {
    /// The type of an OID (pg_type.oid), if kamei reads it: text-like types are text, and a
    /// `timestamptz` is read as a UTC timestamp.
    pub(crate) fn from_oid(oid: u32) -> Option<PgType> {
        Some(match oid {
            20 => PgType::Int8,
            23 => PgType::Int4,
            701 => PgType::Float8,
            16 => PgType::Bool,
            25 | 1043 | 1042 | 19 => PgType::Text,
            1082 => PgType::Date,
            1114 | 1184 => PgType::Timestamp,
            _ => return None,
        })
    }

    pub(crate) fn arrow(self) -> DataType {
        match self {
            PgType::Int8 => DataType::Int64,
            PgType::Int4 => DataType::Int32,
            PgType::Float8 => DataType::Float64,
            PgType::Bool => DataType::Boolean,
            PgType::Text => DataType::Utf8,
            PgType::Date => DataType::Date32,
            PgType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        }
    }
}

/// What was wrong with the bytes: never a value, only where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(pub(crate) String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed COPY data: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

fn bad(message: impl Into<String>) -> DecodeError {
    DecodeError(message.into())
}

enum Column {
    Int64(Int64Builder),
    Int32(Int32Builder),
    Float64(Float64Builder),
    Bool(BooleanBuilder),
    /// Bytes, checked to be UTF-8 once per batch when it is finished (a check per value was 6 %
    /// of a full scan's CPU).
    Text(BinaryBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl Column {
    fn new(ty: PgType) -> Column {
        match ty {
            PgType::Int8 => Column::Int64(Int64Builder::with_capacity(BATCH_ROWS)),
            PgType::Int4 => Column::Int32(Int32Builder::with_capacity(BATCH_ROWS)),
            PgType::Float8 => Column::Float64(Float64Builder::with_capacity(BATCH_ROWS)),
            PgType::Bool => Column::Bool(BooleanBuilder::with_capacity(BATCH_ROWS)),
            PgType::Text => Column::Text(BinaryBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16)),
            PgType::Date => Column::Date(Date32Builder::with_capacity(BATCH_ROWS)),
            PgType::Timestamp => Column::Timestamp(TimestampMicrosecondBuilder::with_capacity(BATCH_ROWS)),
        }
    }

    fn append(&mut self, value: Option<&[u8]>) -> Result<(), &'static str> {
        let Some(v) = value else {
            match self {
                Column::Int64(b) => b.append_null(),
                Column::Int32(b) => b.append_null(),
                Column::Float64(b) => b.append_null(),
                Column::Bool(b) => b.append_null(),
                Column::Text(b) => b.append_null(),
                Column::Date(b) => b.append_null(),
                Column::Timestamp(b) => b.append_null(),
            }
            return Ok(());
        };
        match self {
            Column::Int64(b) => b.append_value(i64::from_be_bytes(fixed(v)?)),
            Column::Int32(b) => b.append_value(i32::from_be_bytes(fixed(v)?)),
            Column::Float64(b) => b.append_value(f64::from_be_bytes(fixed(v)?)),
            Column::Bool(b) => b.append_value(u8::from_be_bytes(fixed(v)?) != 0),
            Column::Text(b) => b.append_value(v),
            Column::Date(b) => {
                let days = i32::from_be_bytes(fixed(v)?);
                // ±infinity are i32::MAX / i32::MIN; Arrow has no such date.
                let days = days
                    .checked_add(EPOCH_DAYS)
                    .filter(|_| days != i32::MIN)
                    .ok_or("an infinite date")?;
                b.append_value(days)
            }
            Column::Timestamp(b) => {
                let micros = i64::from_be_bytes(fixed(v)?);
                let micros = micros
                    .checked_add(EPOCH_MICROS)
                    .filter(|_| micros != i64::MIN)
                    .ok_or("an infinite timestamp")?;
                b.append_value(micros)
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<ArrayRef, &'static str> {
        Ok(match self {
            Column::Int64(b) => Arc::new(b.finish()),
            Column::Int32(b) => Arc::new(b.finish()),
            Column::Float64(b) => Arc::new(b.finish()),
            Column::Bool(b) => Arc::new(b.finish()),
            Column::Text(b) => {
                Arc::new(StringArray::try_from_binary(b.finish()).map_err(|_| "text that is not UTF-8")?)
            }
            Column::Date(b) => Arc::new(b.finish()),
            Column::Timestamp(b) => Arc::new(b.finish()),
        })
    }
}

fn fixed<const N: usize>(v: &[u8]) -> Result<[u8; N], &'static str> {
    v.try_into().map_err(|_| "a value of the wrong width")
}

/// Rows of `schema`'s columns gathered into record batches, a field at a time, each field in
/// its type's binary form (as COPY and the extended protocol's binary results send it).
struct Builders {
    schema: SchemaRef,
    columns: Vec<Column>,
    rows: usize,
}

impl Builders {
    fn new(schema: SchemaRef, types: &[PgType]) -> Builders {
        Builders {
            schema,
            columns: types.iter().map(|t| Column::new(*t)).collect(),
            rows: 0,
        }
    }

    /// Appends one row, its fields in order; a batch when the row completes one.
    fn append<'a>(
        &mut self,
        fields: impl IntoIterator<Item = Option<&'a [u8]>>,
    ) -> Result<Option<RecordBatch>, DecodeError> {
        let mut count = 0;
        for (i, value) in fields.into_iter().enumerate() {
            let column = self
                .columns
                .get_mut(i)
                .ok_or_else(|| bad("a row with more fields than were asked for"))?;
            column
                .append(value)
                .map_err(|what| bad(format!("column `{}` holds {what}", self.schema.field(i).name())))?;
            count += 1;
        }
        if count != self.columns.len() {
            return Err(bad("a row with fewer fields than were asked for"));
        }
        self.rows += 1;
        (self.rows == BATCH_ROWS).then(|| self.flush()).transpose()
    }

    /// The rows not yet in a batch.
    fn finish(mut self) -> Result<Option<RecordBatch>, DecodeError> {
        (self.rows > 0).then(|| self.flush()).transpose()
    }

    fn flush(&mut self) -> Result<RecordBatch, DecodeError> {
        let schema = &self.schema;
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .enumerate()
            .map(|(i, c)| {
                c.finish()
                    .map_err(|what| bad(format!("column `{}` holds {what}", schema.field(i).name())))
            })
            .collect::<Result<_, _>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        self.rows = 0;
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .map_err(|e| bad(format!("rows that do not fit the table's columns: {e}")))
    }
}

/// Decodes the rows of a `SELECT` sent with the extended protocol, whose results come in
/// binary: each field is what a COPY row holds.
pub(crate) struct RowDecoder(Builders);

impl RowDecoder {
    pub(crate) fn new(schema: SchemaRef, types: &[PgType]) -> RowDecoder {
        RowDecoder(Builders::new(schema, types))
    }

    /// Appends a row; a batch when it completes one.
    pub(crate) fn push(&mut self, row: &tokio_postgres::Row) -> Result<Option<RecordBatch>, DecodeError> {
        let fields = (0..row.len())
            .map(|i| row.try_get::<_, Option<Field>>(i).map(|f| f.map(|f| f.0)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| bad("a row whose fields cannot be read"))?;
        self.0.append(fields)
    }

    pub(crate) fn finish(self) -> Result<Option<RecordBatch>, DecodeError> {
        self.0.finish()
    }
}

/// A field's bytes as the server sent them (the `Builders` decode them by the column's type).
pub(super) struct Field<'a>(pub(super) &'a [u8]);

impl<'a> tokio_postgres::types::FromSql<'a> for Field<'a> {
    fn from_sql(
        _ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Field(raw))
    }

    fn accepts(_ty: &tokio_postgres::types::Type) -> bool {
        true
    }
}

/// Decodes one COPY stream of rows of `schema`'s columns.
pub(crate) struct CopyDecoder {
    builders: Builders,
    /// Where each field of the row being decoded lies in `pending` (kept to save an
    /// allocation per row).
    fields: Vec<Option<std::ops::Range<usize>>>,
    /// Bytes received and not yet decoded, from `start`.
    pending: Vec<u8>,
    start: usize,
    header_read: bool,
    trailer_read: bool,
}

impl CopyDecoder {
    /// A decoder for rows whose fields are `types`, in the order of `schema`'s fields.
    pub(crate) fn new(schema: SchemaRef, types: &[PgType]) -> CopyDecoder {
        CopyDecoder {
            builders: Builders::new(schema, types),
            fields: Vec::with_capacity(types.len()),
            pending: Vec::new(),
            start: 0,
            header_read: false,
            trailer_read: false,
        }
    }

    /// Takes the next bytes of the stream; returns the batches they complete.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<RecordBatch>, DecodeError> {
        if self.start > 0 && self.start >= self.pending.len() / 2 {
            self.pending.drain(..self.start);
            self.start = 0;
        }
        self.pending.extend_from_slice(bytes);
        let mut batches = Vec::new();
        if self.trailer_read {
            return Ok(batches);
        }
        if !self.header_read && !self.read_header()? {
            return Ok(batches);
        }
        while let Some(end) = self.next_row_end()? {
            if self.trailer_read {
                break;
            }
            batches.extend(self.decode_row(end)?);
        }
        Ok(batches)
    }

    /// The stream ended: the last rows, or an error if it ended before its trailer.
    pub(crate) fn finish(self) -> Result<Option<RecordBatch>, DecodeError> {
        if !self.trailer_read {
            return Err(bad("the stream ended before its trailer"));
        }
        if self.start != self.pending.len() {
            return Err(bad("bytes after the trailer"));
        }
        self.builders.finish()
    }

    fn read_header(&mut self) -> Result<bool, DecodeError> {
        let at = self.start;
        let Some(signature) = self.pending.get(at..at + SIGNATURE.len()) else {
            return Ok(false);
        };
        if signature != SIGNATURE {
            return Err(bad("no PGCOPY signature"));
        }
        let (Some(flags), Some(extension)) = (
            be_i32(&self.pending, at + SIGNATURE.len()),
            be_i32(&self.pending, at + SIGNATURE.len() + 4),
        ) else {
            return Ok(false);
        };
        if flags & (1 << 16) != 0 {
            return Err(bad("rows carry OIDs"));
        }
        let end = at
            + SIGNATURE.len()
            + 8
            + usize::try_from(extension).map_err(|_| bad("a negative header length"))?;
        if self.pending.len() < end {
            return Ok(false);
        }
        self.start = end;
        self.header_read = true;
        Ok(true)
    }

    /// Where the row (or trailer) at `start` ends, once all its bytes are in.
    fn next_row_end(&mut self) -> Result<Option<usize>, DecodeError> {
        let mut at = self.start;
        let Some(count) = be_i16(&self.pending, at) else {
            return Ok(None);
        };
        at += 2;
        if count == -1 {
            self.trailer_read = true;
            self.start = at;
            return Ok(Some(at));
        }
        if usize::try_from(count).ok() != Some(self.builders.columns.len()) {
            return Err(bad(format!(
                "a row of {count} fields where {} were asked for",
                self.builders.columns.len()
            )));
        }
        for _ in 0..count {
            let Some(len) = be_i32(&self.pending, at) else {
                return Ok(None);
            };
            at += 4;
            match usize::try_from(len) {
                Ok(len) => at += len,
                Err(_) if len == -1 => {}
                Err(_) => return Err(bad("a negative field length")),
            }
        }
        Ok((at <= self.pending.len()).then_some(at))
    }

    /// Appends the row at `start` (all of whose bytes are in, up to `end`); a batch when the
    /// row completes one.
    fn decode_row(&mut self, end: usize) -> Result<Option<RecordBatch>, DecodeError> {
        let mut at = self.start + 2;
        self.fields.clear();
        for _ in 0..self.builders.columns.len() {
            let len = be_i32(&self.pending, at).ok_or_else(|| bad("a row cut short"))?;
            at += 4;
            self.fields.push(match usize::try_from(len) {
                Ok(len) if at + len <= end => {
                    at += len;
                    Some(at - len..at)
                }
                Ok(_) => return Err(bad("a row cut short")),
                Err(_) => None,
            });
        }
        debug_assert_eq!(at, end);
        // Every range lies within `..end`, which `next_row_end` found within `pending`.
        let pending = &self.pending;
        let fields = self
            .fields
            .iter()
            .map(|f| f.clone().map(|r| pending.get(r).unwrap_or_default()));
        let batch = self.builders.append(fields)?;
        self.start = end;
        Ok(batch)
    }
}

fn be_i16(bytes: &[u8], at: usize) -> Option<i16> {
    Some(i16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn be_i32(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, Int64Array};
    use datafusion::arrow::datatypes::{Date32Type, Field, Int64Type, Schema, TimestampMicrosecondType};

    fn stream(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend(0u32.to_be_bytes());
        out.extend(4u32.to_be_bytes());
        out.extend([9, 9, 9, 9]);
        for row in rows {
            out.extend((row.len() as i16).to_be_bytes());
            for field in row {
                match field {
                    None => out.extend((-1i32).to_be_bytes()),
                    Some(v) => {
                        out.extend((v.len() as i32).to_be_bytes());
                        out.extend(v);
                    }
                }
            }
        }
        out.extend((-1i16).to_be_bytes());
        out
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("born", DataType::Date32, true),
            Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        ]))
    }
    const TYPES: [PgType; 4] = [PgType::Int8, PgType::Text, PgType::Date, PgType::Timestamp];

    fn rows(n: i64) -> Vec<Vec<Option<Vec<u8>>>> {
        (0..n)
            .map(|i| {
                vec![
                    Some(i.to_be_bytes().to_vec()),
                    (i % 3 != 0).then(|| format!("名前{i}").into_bytes()),
                    Some(((i as i32) - 1).to_be_bytes().to_vec()),
                    Some((i * 1_000_000).to_be_bytes().to_vec()),
                ]
            })
            .collect()
    }

    fn decode_in_chunks(bytes: &[u8], chunk: usize) -> Result<Vec<RecordBatch>, DecodeError> {
        let mut d = CopyDecoder::new(schema(), &TYPES);
        let mut out = Vec::new();
        for c in bytes.chunks(chunk) {
            out.extend(d.push(c)?);
        }
        out.extend(d.finish()?);
        Ok(out)
    }

    #[test]
    fn rows_decode_alike_whatever_the_chunk_boundaries() {
        let bytes = stream(&rows(BATCH_ROWS as i64 + 5));
        let whole = decode_in_chunks(&bytes, bytes.len()).unwrap();
        assert_eq!(
            whole.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(),
            [BATCH_ROWS, 5]
        );
        for chunk in [1, 3, 7, 4096] {
            assert_eq!(
                decode_in_chunks(&bytes, chunk).unwrap(),
                whole,
                "chunks of {chunk}"
            );
        }
        let first = &whole[0];
        let ids: &Int64Array = first.column(0).as_primitive::<Int64Type>();
        assert_eq!(ids.value(7), 7);
        assert!(first.column(1).is_null(3) && first.column(1).as_string::<i32>().value(4) == "名前4");
        // Day -1 and one second after PostgreSQL's epoch, in Arrow's.
        assert_eq!(
            first.column(2).as_primitive::<Date32Type>().value(0),
            EPOCH_DAYS - 1
        );
        assert_eq!(
            first
                .column(3)
                .as_primitive::<TimestampMicrosecondType>()
                .value(1),
            EPOCH_MICROS + 1_000_000
        );
    }

    #[test]
    fn truncated_or_malformed_streams_are_errors_naming_no_value() {
        let bytes = stream(&rows(3));
        let cut = decode_in_chunks(&bytes[..bytes.len() - 5], 64).unwrap_err();
        assert!(cut.0.contains("ended before its trailer"), "{cut}");
        let mut wrong_width = rows(1);
        wrong_width[0][0] = Some(vec![1, 2, 3]);
        let e = decode_in_chunks(&stream(&wrong_width), 64).unwrap_err();
        assert_eq!(e.0, "column `id` holds a value of the wrong width");
        let mut not_utf8 = rows(2);
        not_utf8[1][1] = Some(vec![0xff, b's', b'e', b'c', b'r', b'e', b't']);
        let e = decode_in_chunks(&stream(&not_utf8), 64).unwrap_err();
        assert!(e.0.contains("`name` holds text that is not UTF-8") && !e.0.contains("secret"));
        let mut infinite = rows(1);
        infinite[0][2] = Some(i32::MAX.to_be_bytes().to_vec());
        assert!(
            decode_in_chunks(&stream(&infinite), 64)
                .unwrap_err()
                .0
                .contains("an infinite date")
        );
        let mut short_row = rows(1);
        short_row[0].pop();
        assert!(
            decode_in_chunks(&stream(&short_row), 64)
                .unwrap_err()
                .0
                .contains("3 fields where 4")
        );
        assert!(
            decode_in_chunks(b"PGCOPY\nXXXXXXXXXXXXXXXX", 64)
                .unwrap_err()
                .0
                .contains("signature")
        );
    }
}
