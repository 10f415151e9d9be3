//! `load.sql`: the script that loads a CSV world into PostgreSQL (`psql -f load.sql`, run from
//! the world's directory), so the gateway can be tried and tested against a real database.

use std::fmt::Write as _;

use arrow::datatypes::{DataType, Schema};

use crate::tables;

/// The columns besides each table's own id that are looked up by value: the subject keys,
/// indexed as a production schema would index them.
const INDEXED: [(&str, &str); 5] = [
    ("messages", "sender_id"),
    ("messages", "recipient_id"),
    ("reports", "reporter_id"),
    ("reports", "reported_user_id"),
    ("payments", "user_id"),
];

/// The script: one transaction that creates the four tables (the first column of each is its
/// primary key), copies each from its CSV file, and indexes the subject keys; then `ANALYZE`.
pub fn load_script() -> String {
    let mut sql = String::from(
        "-- The demo world for PostgreSQL, written by `kamei generate --format csv`.\n\
         -- Run from this directory: psql -v ON_ERROR_STOP=1 -d DATABASE -f load.sql\n\
         BEGIN;\n",
    );
    for (name, schema) in tables::all() {
        create_table(&mut sql, name, schema);
        let _ = writeln!(
            sql,
            "\\copy {name} FROM '{name}.csv' WITH (FORMAT csv, HEADER true)"
        );
    }
    for (table, column) in INDEXED {
        let _ = writeln!(sql, "CREATE INDEX ON {table} ({column});");
    }
    sql.push_str("COMMIT;\nANALYZE;\n");
    sql
}

fn create_table(sql: &mut String, name: &str, schema: &Schema) {
    let _ = writeln!(sql, "CREATE TABLE {name} (");
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let ty = match f.data_type() {
                DataType::Int64 => "bigint",
                DataType::Date32 => "date",
                DataType::Timestamp(..) => "timestamp",
                _ => "text",
            };
            let constraint = match (i, f.is_nullable()) {
                (0, _) => " PRIMARY KEY",
                (_, false) => " NOT NULL",
                (_, true) => "",
            };
            format!("  {} {ty}{constraint}", f.name())
        })
        .collect();
    let _ = writeln!(sql, "{}\n);", columns.join(",\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_creates_loads_and_indexes_every_table() {
        let sql = load_script();
        for (name, schema) in tables::all() {
            assert!(sql.contains(&format!("CREATE TABLE {name} (")), "{name}");
            assert!(
                sql.contains(&format!("\\copy {name} FROM '{name}.csv'")),
                "{name}"
            );
            assert!(sql.contains(&format!("  {} bigint PRIMARY KEY", schema.field(0).name())));
        }
        assert!(sql.contains("  birth_date date NOT NULL"));
        assert!(sql.contains("  my_number text,") || sql.contains("  my_number text\n"));
        assert!(sql.contains("CREATE INDEX ON messages (sender_id);"));
    }
}
