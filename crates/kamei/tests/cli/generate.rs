//! `kamei generate` end to end: the files, determinism through the binary, and the one-line
//! errors with exit code 2 for bad input.

use std::fs;
use std::process::Output;

use crate::kamei;

fn generate(args: &[&str]) -> Output {
    kamei().arg("generate").args(args).output().expect("run kamei")
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit code; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("kamei: error: ") || stderr.starts_with("error: "),
        "{stderr}"
    );
    stderr
}

#[test]
fn writes_the_demo_world_twice_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        let out = generate(&[
            "--out",
            dir.path().join(name).to_str().unwrap(),
            "--users",
            "2000",
            "--seed",
            "7",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for file in [
        "users.parquet",
        "messages.parquet",
        "reports.parquet",
        "payments.parquet",
        "labels/messages.jsonl",
    ] {
        let a = fs::read(dir.path().join("a").join(file)).unwrap();
        assert!(!a.is_empty(), "{file}");
        assert!(
            a == fs::read(dir.path().join("b").join(file)).unwrap(),
            "{file} differs"
        );
    }
}

#[test]
fn csv_format_writes_csv_tables() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("w");
    let out = generate(&[
        "--out",
        out_dir.to_str().unwrap(),
        "--users",
        "50",
        "--format",
        "csv",
    ]);
    assert!(out.status.success());
    let users = fs::read_to_string(out_dir.join("users.csv")).unwrap();
    assert!(
        users.starts_with("user_id,line_id,display_name,full_name,full_name_kana,phone,email,birth_date,")
    );
    assert_eq!(users.lines().count(), 51);
}

#[test]
fn a_non_empty_output_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let err = one_line_error(&generate(&[
        "--out",
        dir.path().to_str().unwrap(),
        "--users",
        "10",
    ]));
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("precious.txt")).unwrap(),
        "keep me"
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn zero_and_negative_user_counts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["0", "-5"] {
        let err = one_line_error(&generate(&[
            "--out",
            dir.path().join("w").to_str().unwrap(),
            "--users",
            n,
        ]));
        assert!(err.contains("--users"), "{err}");
    }
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
}

#[test]
fn an_unwritable_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    fs::write(&file, "").unwrap();
    let err = one_line_error(&generate(&[
        "--out",
        file.join("w").to_str().unwrap(),
        "--users",
        "10",
    ]));
    assert!(err.contains("cannot write"), "{err}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}
