use crate::named_enum;

/// The SQL type a catalog says a column holds (DESIGN.md's demo tables use these names).
///
/// Data whose type differs is refused before any value is read: a key column that turned into
/// text because one value was not a number would give every row a pseudonym of another type,
/// and joins would silently break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ColumnType {
    Bigint,
    Integer,
    Double,
    Boolean,
    Text,
    Date,
    Timestamp,
}

named_enum!(ColumnType, "column type", {
    Bigint => "BIGINT",
    Integer => "INTEGER",
    Double => "DOUBLE",
    Boolean => "BOOLEAN",
    Text => "TEXT",
    Date => "DATE",
    Timestamp => "TIMESTAMP",
});
