//! A PostgreSQL source that is not as the configuration expects is refused at start, with an
//! error naming the source, the table and the column. (The suites in guard.rs and wire.rs run
//! against PostgreSQL too: scripts/test's second run.) Needs the server scripts/test starts.

mod common;

use kamei_policy::Config;

fn server() -> String {
    common::postgres()
        .expect("KAMEI_TEST_POSTGRES names a PostgreSQL server (run scripts/test)")
        .0
}

/// A database of its own on the test server, for one test.
fn database(name: &str) -> String {
    let server = server();
    let db = format!("{name}_{}", std::process::id());
    common::psql_postgres(&server, &format!("DROP DATABASE IF EXISTS {db}"));
    common::psql_postgres(&server, &format!("CREATE DATABASE {db}"));
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{db}")
}

#[test]
fn a_source_that_is_down_at_start_is_named() {
    // A loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://kamei@127.0.0.1:{port}/line");
    let err = common::open_postgres(&Config::demo().unwrap(), &url)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("source `world`: cannot connect to {url}: ")) && err.contains("refused"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_table_that_is_missing_or_whose_column_differs_is_refused_at_start() {
    let url = database("mismatch");
    let config = Config::demo().unwrap();
    let err = common::open_postgres(&config, &url).unwrap_err().to_string();
    assert_eq!(
        err,
        "table `users`: source `world`: the database has no table `users`; create it, or point the catalog table at another source"
    );
    let users = |user_id: &str, phone: &str| {
        format!(
            "DROP TABLE IF EXISTS users; CREATE TABLE users (user_id {user_id}, line_id text, display_name text, \
             full_name text, full_name_kana text, {phone} email text, birth_date date, gender text, \
             postal_code text, address text, country text, my_number text, created_at timestamp)"
        )
    };
    // The catalog says user_id is a BIGINT.
    common::psql_postgres(&url, &users("text", "phone text,"));
    let err = common::open_postgres(&config, &url).unwrap_err().to_string();
    assert_eq!(
        err,
        "table `users`: source `world`: column `user_id` is of type text and the catalog says BIGINT; make them agree"
    );
    common::psql_postgres(&url, &users("bigint", ""));
    let err = common::open_postgres(&config, &url).unwrap_err().to_string();
    assert_eq!(
        err,
        "table `users`: source `world`: the table has no column `phone`"
    );
    common::psql_postgres(&url, &users("bigint", "phone numeric(12),"));
    let err = common::open_postgres(&config, &url).unwrap_err().to_string();
    assert!(
        err.contains("column `phone` is of type numeric(12,0), which kamei does not read"),
        "{err}"
    );
    // A view is not read: its rows have no blocks to shuffle by.
    common::psql_postgres(
        &url,
        "ALTER TABLE users RENAME TO users_t; CREATE VIEW users AS SELECT * FROM users_t",
    );
    let err = common::open_postgres(&config, &url).unwrap_err().to_string();
    assert!(
        err.contains("`users` is not a table or materialized view"),
        "{err}"
    );
}
