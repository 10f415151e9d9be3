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

/// The master key of the tests' keyring (a test value, never a real one).
const MASTER: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/// Starts `kamei serve` on a free port over a small world with a configuration directory;
/// returns the child and its address once it listens.
fn start(
    cfg: &std::path::Path,
    data: &std::path::Path,
    log: &std::path::Path,
) -> (std::process::Child, String, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = kamei()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(cfg.join("kamei.toml"))
        .arg("--data")
        .arg(data)
        .arg("--audit-log")
        .arg(log)
        .env("KAMEI_MASTER_KEY", MASTER)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let addr = loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("kamei serve did not start ({e}): {seen:?}"));
        seen.push(line.clone());
        if let Some(rest) = line.strip_prefix("kamei serve: listening on ") {
            break rest.split(';').next().unwrap().to_owned();
        }
    };
    (child, addr, rx)
}

/// A server child that a failing test does not leave running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(rx: &std::sync::mpsc::Receiver<String>, what: &str) -> String {
    loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no `{what}`"));
        if line.contains(what) {
            return line;
        }
    }
}

#[test]
fn sighup_with_a_broken_policy_keeps_the_running_one_and_sigterm_stops_cleanly() {
    let w = world();
    let cfg = w.path().join("cfg");
    assert!(
        kamei()
            .args(["init", cfg.to_str().unwrap()])
            .output()
            .unwrap()
            .status
            .success()
    );
    let keys = kamei()
        .args(["keys", "init", "--config"])
        .arg(cfg.join("kamei.toml"))
        .env("KAMEI_MASTER_KEY", MASTER)
        .output()
        .unwrap();
    assert!(keys.status.success(), "{}", stderr(&keys));
    let (child, addr, rx) = start(&cfg, &w.path().join("w"), &w.path().join("audit"));
    let mut child = KillOnDrop(child);
    let port = addr.rsplit(':').next().unwrap().to_owned();
    let query = || {
        std::process::Command::new("psql")
            .args(["-X", "-A", "-t", "-c", "SELECT count(*) FROM users"])
            .arg(format!(
                "host=127.0.0.1 port={port} user=cn_contractor dbname=kamei sslmode=disable"
            ))
            .env("PGPASSWORD", "cn_contractor-demo")
            .output()
            .unwrap()
    };
    let o = query();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "50",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(
        cfg.join("policies.cedar"),
        "permit(principal, action, resource) when { nope };",
    )
    .unwrap();
    let pid = child.0.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let line = wait_for(&rx, "reload refused");
    assert!(line.contains("policies.cedar"), "{line}");
    let o = query();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "50",
        "the old configuration still serves"
    );
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    wait_for(&rx, "stopped");
    assert!(child.0.wait().unwrap().success());
    let v = kamei()
        .args(["audit", "verify", "--log"])
        .arg(w.path().join("audit"))
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    let q = kamei()
        .args(["audit", "query", "--format", "jsonl", "--log"])
        .arg(w.path().join("audit"))
        .output()
        .unwrap();
    let records = String::from_utf8_lossy(&q.stdout);
    assert!(
        records
            .lines()
            .any(|l| l.contains("\"configure\"") && l.contains("reload refused")),
        "the refused reload is in the log: {records}"
    );
}
