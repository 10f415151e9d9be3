//! `kamei serve` refuses to start, with one line, on configuration it cannot run safely.

use std::process::Output;

use crate::kamei;

fn serve(args: &[&str]) -> Output {
    kamei()
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A world small enough to generate here.
fn world() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w");
    let o = kamei()
        .args(["generate", "--users", "50", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    dir
}

#[test]
fn a_policy_that_does_not_validate_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    assert!(
        kamei()
            .args(["init", cfg.to_str().unwrap()])
            .output()
            .unwrap()
            .status
            .success()
    );
    std::fs::write(
        cfg.join("policies.cedar"),
        "permit(principal, action, resource) when { nope };",
    )
    .unwrap();
    let o = serve(&["--config", cfg.join("kamei.toml").to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("policies.cedar"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("kamei: error")).count(),
        1,
        "{err}"
    );
}

#[test]
fn an_audit_directory_that_cannot_be_written_stops_the_start() {
    let w = world();
    let blocker = w.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let o = serve(&[
        "--data",
        w.path().join("w").to_str().unwrap(),
        "--audit-log",
        blocker.join("audit").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("audit log"), "{err}");
}
