//! `kamei audit …` end to end: append, checkpoint, proofs checked by an independent verifier,
//! verify after tampering and after crashes, and the investigation query.

use crate::kamei;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn record(principal: &str, org: &str, time: &str, subjects: &str) -> String {
    format!(
        r#"{{"time": "{time}", "principal": "{principal}", "org": "{org}", "country": "CN", "client_addr": "127.0.0.1", "action": "query", "statement": "SELECT phone FROM users WHERE user_id = 7", "columns": [{{"table": "users", "column": "phone", "level": "pseudonymized"}}], "rows": 3, "subjects": {subjects}}}"#
    )
}

fn append(log: &Path, lines: &[String]) -> Vec<u64> {
    let mut child = kamei()
        .args(["audit", "append", "--log"])
        .arg(log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for l in lines {
        writeln!(stdin, "{l}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "append failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

fn run(args: &[&str], log: &Path) -> std::process::Output {
    kamei().args(args).arg("--log").arg(log).output().unwrap()
}

fn stdout_of(args: &[&str], log: &Path) -> String {
    let out = run(args, log);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn verifier() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/verifier/verify.py")
}

/// Runs the independent Python verifier; true when it accepts.
fn python_accepts(args: &[&str]) -> bool {
    let out = Command::new("python3")
        .arg(verifier())
        .args(args)
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.starts_with("OK") || text.starts_with("FAIL"),
        "verifier said {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.success()
}

#[test]
fn append_prints_indices_and_refuses_bad_lines_without_echoing_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let lines: Vec<String> = (0..3)
        .map(|i| record(&format!("p{i}"), "ldt-shanghai", "2026-01-05T09:12:00Z", "[1, 2]"))
        .collect();
    assert_eq!(append(&log, &lines), vec![0, 1, 2]);
    let out = kamei()
        .args(["audit", "append", "--log"])
        .arg(&log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            let mut stdin = c.stdin.take().unwrap();
            writeln!(stdin, "{}", lines[0])?;
            writeln!(stdin, "{}", lines[0].replace("\"CN\"", "\"taro@example.com\""))?;
            drop(stdin);
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stdin line 2") && err.contains("`country`") && !err.contains("taro"),
        "{err}"
    );
}

#[test]
fn the_independent_verifier_accepts_kamei_proofs_and_rejects_altered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let lines: Vec<String> = (0..300)
        .map(|i| {
            record(
                &format!("p{}", i % 5),
                "ldt-shanghai",
                "2026-01-05T09:12:00Z",
                &format!("[{i}]"),
            )
        })
        .collect();
    append(&log, &lines[..100]);
    let old_cp = dir.path().join("old.cp");
    std::fs::write(&old_cp, stdout_of(&["audit", "checkpoint"], &log)).unwrap();
    append(&log, &lines[100..]);
    let cp = dir.path().join("cp");
    std::fs::write(&cp, stdout_of(&["audit", "checkpoint"], &log)).unwrap();
    let vkey = log.join("key.vkey");
    let (vkey, cp_s, old_s, log_s) = (
        vkey.to_str().unwrap(),
        cp.to_str().unwrap(),
        old_cp.to_str().unwrap(),
        log.to_str().unwrap(),
    );

    assert!(python_accepts(&[
        "checkpoint",
        "--vkey",
        vkey,
        "--checkpoint",
        cp_s
    ]));
    assert!(python_accepts(&[
        "tree",
        "--vkey",
        vkey,
        "--checkpoint",
        cp_s,
        "--log",
        log_s
    ]));
    for index in ["0", "5", "255", "256", "299"] {
        let proof_json = stdout_of(&["audit", "prove", "--index", index], &log);
        let proof = dir.path().join(format!("proof{index}.json"));
        std::fs::write(&proof, &proof_json).unwrap();
        let p = proof.to_str().unwrap();
        assert!(
            python_accepts(&[
                "inclusion",
                "--vkey",
                vkey,
                "--checkpoint",
                cp_s,
                "--proof",
                p,
                "--log",
                log_s
            ]),
            "index {index}"
        );

        // An altered hash in the proof.
        let mut v: serde_json::Value = serde_json::from_str(&proof_json).unwrap();
        let h = v["hashes"][1].as_str().unwrap().to_owned();
        let flipped = format!("{}{}", if h.starts_with('0') { "1" } else { "0" }, &h[1..]);
        v["hashes"][1] = flipped.into();
        std::fs::write(&proof, v.to_string()).unwrap();
        assert!(!python_accepts(&[
            "inclusion",
            "--vkey",
            vkey,
            "--checkpoint",
            cp_s,
            "--proof",
            p,
            "--log",
            log_s
        ]));
        // The right proof presented for another index.
        let mut v: serde_json::Value = serde_json::from_str(&proof_json).unwrap();
        let i = v["index"].as_u64().unwrap();
        v["index"] = (if i == 299 { 298 } else { i + 1 }).into();
        std::fs::write(&proof, v.to_string()).unwrap();
        assert!(!python_accepts(&[
            "inclusion",
            "--vkey",
            vkey,
            "--checkpoint",
            cp_s,
            "--proof",
            p,
            "--log",
            log_s
        ]));
    }

    let cons_json = stdout_of(&["audit", "consistency", "--old-size", "100"], &log);
    let cons = dir.path().join("cons.json");
    std::fs::write(&cons, &cons_json).unwrap();
    let c = cons.to_str().unwrap();
    assert!(python_accepts(&[
        "consistency",
        "--vkey",
        vkey,
        "--old-checkpoint",
        old_s,
        "--checkpoint",
        cp_s,
        "--proof",
        c
    ]));
    let mut v: serde_json::Value = serde_json::from_str(&cons_json).unwrap();
    let h = v["hashes"][0].as_str().unwrap().to_owned();
    v["hashes"][0] = format!("{}{}", if h.starts_with('f') { "e" } else { "f" }, &h[1..]).into();
    std::fs::write(&cons, v.to_string()).unwrap();
    assert!(!python_accepts(&[
        "consistency",
        "--vkey",
        vkey,
        "--old-checkpoint",
        old_s,
        "--checkpoint",
        cp_s,
        "--proof",
        c
    ]));

    // A wrong signature: one bit of the signature changed, or the size edited under it.
    let text = std::fs::read_to_string(&cp).unwrap();
    let (body, sig_line) = text.split_once("\n\n").unwrap();
    let (prefix, sig_b64) = sig_line.trim_end().rsplit_once(' ').unwrap();
    let mut sig: Vec<char> = sig_b64.chars().collect();
    sig[20] = if sig[20] == 'A' { 'B' } else { 'A' };
    let bad_sig = dir.path().join("bad_sig.cp");
    std::fs::write(
        &bad_sig,
        format!("{body}\n\n{prefix} {}\n", sig.iter().collect::<String>()),
    )
    .unwrap();
    assert!(!python_accepts(&[
        "checkpoint",
        "--vkey",
        vkey,
        "--checkpoint",
        bad_sig.to_str().unwrap()
    ]));
    let bad_size = dir.path().join("bad_size.cp");
    std::fs::write(&bad_size, text.replacen("\n300\n", "\n299\n", 1)).unwrap();
    assert!(!python_accepts(&[
        "checkpoint",
        "--vkey",
        vkey,
        "--checkpoint",
        bad_size.to_str().unwrap()
    ]));
    // And kamei's own verify refuses the forged checkpoint too.
    let out = kamei()
        .args(["audit", "verify", "--log"])
        .arg(&log)
        .arg("--checkpoint")
        .arg(&bad_sig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn verify_names_the_first_bad_index_after_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let lines = contractor_records(20);
    append(&log, &lines);
    let saved = dir.path().join("saved.cp");
    std::fs::write(&saved, stdout_of(&["audit", "checkpoint"], &log)).unwrap();
    let ok = run(&["audit", "verify"], &log);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    // Change one byte of entry 7 in the journal of the bundle being filled (the `3` of
    // `"rows":3`). Each frame: uint16 length, entry, uint32 length, subject entry, 8-byte check.
    let journal = log.join("journal/0");
    let bytes = std::fs::read(&journal).unwrap();
    let be16 = |at: usize| usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
    let be32 = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let mut pos = 0;
    for _ in 0..7 {
        let subjects_at = pos + 2 + be16(pos);
        pos = subjects_at + 4 + be32(subjects_at) + 8;
    }
    let entry = &bytes[pos + 2..pos + 2 + be16(pos)];
    let at = pos + 2 + entry.windows(8).position(|w| w == b"\"rows\":3").unwrap() + 7;
    let mut tampered = bytes.clone();
    tampered[at] = b'4';
    std::fs::write(&journal, tampered).unwrap();
    let out = kamei()
        .args(["audit", "verify", "--log"])
        .arg(&log)
        .arg("--checkpoint")
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("index 7:"), "{err}");
}

/// A tiny deterministic generator (xorshift), so failures replay.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn after_sigkill_at_random_moments_the_log_opens_verifies_and_keeps_every_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = Rng(seed);
    // index → the principal written on the line that got that index acknowledged
    let mut acknowledged: Vec<(u64, String)> = Vec::new();
    // The log exists before the first kill (a kill during creation leaves no log to check).
    assert!(append(&log, &[]).is_empty());
    for iteration in 0..30 {
        let mut child = kamei()
            .args(["audit", "append", "--log"])
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let names: Vec<String> = (0..5000).map(|line| format!("w{iteration}_{line}")).collect();
        let feed = names.clone();
        let writer = std::thread::spawn(move || {
            for name in feed {
                let subjects = format!("[{}]", name.len());
                if writeln!(
                    stdin,
                    "{}",
                    record(&name, "ldt-shanghai", "2026-01-05T09:12:00Z", &subjects)
                )
                .is_err()
                {
                    break;
                }
            }
        });
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .map(|l| l.parse::<u64>().unwrap())
                .collect::<Vec<_>>()
        });
        std::thread::sleep(std::time::Duration::from_millis(5 + rng.below(120)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let acked = reader.join().unwrap();
        let _ = writer.join();
        for (line, index) in acked.iter().enumerate() {
            acknowledged.push((*index, names[line].clone()));
        }

        // The log opens (recovering the tail) and verifies.
        let mut opener = kamei()
            .args(["audit", "append", "--log"])
            .arg(&log)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let opened = opener.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut opener.stderr.take().unwrap(), &mut err).unwrap();
        assert!(opened.success(), "iteration {iteration} (seed {seed}): {err}");
        let verified = run(&["audit", "verify"], &log);
        assert!(
            verified.status.success(),
            "iteration {iteration} (seed {seed}): {}",
            String::from_utf8_lossy(&verified.stderr)
        );
    }
    // Every acknowledged record is there, at its index, with what was sent.
    let records = stdout_of(&["audit", "query", "--format", "jsonl"], &log);
    let by_index: std::collections::HashMap<u64, String> = records
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["index"].as_u64().unwrap(),
                v["principal"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(!acknowledged.is_empty(), "no append was acknowledged in 30 runs");
    for (index, principal) in &acknowledged {
        assert_eq!(
            by_index.get(index),
            Some(principal),
            "acknowledged record {index} (seed {seed})"
        );
    }
}

/// An auditor reads proofs and the checkpoint while a writer holds the log: the read-only
/// commands take no lock, change nothing, and answer for the last signed checkpoint.
#[test]
fn prove_consistency_and_checkpoint_read_only_while_a_writer_holds_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let lines = contractor_records(300);
    append(&log, &lines);
    let mut writer = kamei()
        .args(["audit", "append", "--log"])
        .arg(&log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = writer.stdin.take().unwrap();
    let mut stdout = BufReader::new(writer.stdout.take().unwrap());
    writeln!(stdin, "{}", lines[0]).unwrap();
    let mut acked = String::new();
    stdout.read_line(&mut acked).unwrap();
    assert_eq!(acked.trim(), "300", "the writer holds the log and has appended");

    let signed = std::fs::read(log.join("checkpoint")).unwrap();
    let cp = stdout_of(&["audit", "checkpoint"], &log);
    assert!(
        cp.starts_with("kamei.local/audit\n300\n"),
        "the last signed checkpoint: {cp}"
    );
    let proof: serde_json::Value =
        serde_json::from_str(&stdout_of(&["audit", "prove", "--index", "299"], &log)).unwrap();
    assert_eq!(proof["tree_size"], 300);
    let at_301: serde_json::Value = serde_json::from_str(&stdout_of(
        &["audit", "prove", "--index", "300", "--size", "301"],
        &log,
    ))
    .unwrap();
    assert_eq!(
        at_301["index"], 300,
        "a durable entry past the checkpoint is provable"
    );
    let cons: serde_json::Value =
        serde_json::from_str(&stdout_of(&["audit", "consistency", "--old-size", "256"], &log)).unwrap();
    assert_eq!(
        (cons["old_size"].clone(), cons["tree_size"].clone()),
        (256.into(), 300.into())
    );
    let beyond = run(&["audit", "prove", "--index", "0", "--size", "5000"], &log);
    assert_eq!(
        beyond.status.code(),
        Some(2),
        "a size the log does not hold is refused"
    );

    assert_eq!(
        std::fs::read(log.join("checkpoint")).unwrap(),
        signed,
        "reading signed nothing"
    );
    drop(stdin);
    assert!(writer.wait().unwrap().success());
    assert!(stdout_of(&["audit", "checkpoint"], &log).starts_with("kamei.local/audit\n301\n"));
}

#[test]
fn query_answers_which_jp_subjects_an_org_saw_at_which_level_in_a_time_window() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let principals = [
        ("cn_contractor", "ldt-shanghai"),
        ("cn_analyst", "ldt-shanghai"),
        ("jp_support", "line-jp"),
        ("kr_moderator", "naver-kr"),
    ];
    let levels = ["pseudonymized", "masked", "raw"];
    let jurisdictions = ["JP", "TH", "TW"];
    let (since, until) = (3 * 3600, 15 * 3600); // 03:00 to 15:00 on 2026-01-05
    let mut lines = Vec::new();
    let mut expected: std::collections::BTreeMap<String, std::collections::BTreeSet<u64>> =
        Default::default();
    for _ in 0..240 {
        let (principal, org) = principals[rng.below(4) as usize];
        let secs = rng.below(86_400);
        let time = format!(
            "2026-01-05T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        let mut groups = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let j = jurisdictions[rng.below(3) as usize];
            let level = levels[rng.below(3) as usize];
            let keys: Vec<u64> = (0..1 + rng.below(5)).map(|_| rng.below(500)).collect();
            if org == "ldt-shanghai" && j == "JP" && (since..until).contains(&secs) {
                expected.entry(level.to_owned()).or_default().extend(&keys);
            }
            groups.push(format!(
                r#"{{"jurisdiction": "{j}", "level": "{level}", "keys": {keys:?}}}"#
            ));
        }
        lines.push(record(principal, org, &time, &format!("[{}]", groups.join(", "))));
    }
    append(&log, &lines);
    let out = stdout_of(
        &[
            "audit",
            "query",
            "--org",
            "ldt-shanghai",
            "--jurisdiction",
            "JP",
            "--since",
            "2026-01-05T03:00:00Z",
            "--until",
            "2026-01-05T15:00:00+00:00",
            "--subjects",
            "--format",
            "jsonl",
        ],
        &log,
    );
    let mut answer: std::collections::BTreeMap<String, std::collections::BTreeSet<u64>> = Default::default();
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["jurisdiction"], "JP");
        let keys: std::collections::BTreeSet<u64> = v["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_u64().unwrap())
            .collect();
        assert_eq!(v["count"].as_u64().unwrap(), keys.len() as u64);
        answer.insert(v["level"].as_str().unwrap().to_owned(), keys);
    }
    assert!(!expected.is_empty());
    assert_eq!(answer, expected);

    // The matching records themselves, as a table, name only ldt-shanghai principals.
    let table = stdout_of(
        &["audit", "query", "--org", "ldt-shanghai", "--jurisdiction", "JP"],
        &log,
    );
    assert!(table.lines().count() > 1);
    assert!(
        table.lines().skip(1).all(|l| l.contains("ldt-shanghai")),
        "{table}"
    );
    let bad = run(&["audit", "query", "--since", "yesterday"], &log);
    assert_eq!(bad.status.code(), Some(2));
}

/// The log's signing key is the keyring's `audit-signing` key: the log directory holds no
/// secret; after a rotation the old log keeps its key and a new log takes the new one; a
/// keyring that does not hold the log's key cannot append to it.
#[test]
fn the_keyring_holds_the_log_signing_key_across_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("keyring.json");
    let other_ring = dir.path().join("other.json");
    let master = "3c".repeat(32);
    let with_ring = |ring: &Path, args: &[&str], stdin: &str| {
        let mut child = kamei()
            .args(args)
            .arg("--keyring")
            .arg(ring)
            .env("KAMEI_MASTER_KEY", &master)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    for r in [&ring, &other_ring] {
        assert!(with_ring(r, &["keys", "init"], "").status.success());
    }
    let line = record("cn_contractor", "ldt-shanghai", "2026-01-05T09:12:00Z", "[1, 2]") + "\n";
    let old_log = dir.path().join("old");
    let old_s = old_log.to_str().unwrap();
    let out = with_ring(&ring, &["audit", "append", "--log", old_s], &line);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!old_log.join("key").exists(), "no secret key beside the log");
    let old_vkey = std::fs::read_to_string(old_log.join("key.vkey")).unwrap();

    assert!(
        with_ring(&ring, &["keys", "rotate", "--purpose", "audit-signing"], "")
            .status
            .success()
    );
    let out = with_ring(&ring, &["audit", "append", "--log", old_s], &line);
    assert!(
        out.status.success(),
        "the old log still signs with its own key after a rotation"
    );
    assert_eq!(
        std::fs::read_to_string(old_log.join("key.vkey")).unwrap(),
        old_vkey
    );
    let new_log = dir.path().join("new");
    let out = with_ring(
        &ring,
        &["audit", "append", "--log", new_log.to_str().unwrap()],
        &line,
    );
    assert!(out.status.success());
    assert_ne!(
        std::fs::read_to_string(new_log.join("key.vkey")).unwrap(),
        old_vkey
    );

    let out = with_ring(&other_ring, &["audit", "append", "--log", old_s], &line);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("signed by a key this keyring does not hold"),
        "{err}"
    );
    // Verifying needs no secret: the public key beside the log is enough.
    let ok = run(&["audit", "verify"], &old_log);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("ok: 2 entries"));
    // Nor do proofs and the checkpoint: no keyring, no master key (the demo keyring would be
    // refused by a log signed with a keyring's key, as the append above shows for another one).
    let cp = stdout_of(&["audit", "checkpoint"], &old_log);
    assert!(cp.starts_with("kamei.local/audit\n2\n"), "{cp}");
    let proof: serde_json::Value =
        serde_json::from_str(&stdout_of(&["audit", "prove", "--index", "1"], &old_log)).unwrap();
    assert_eq!(proof["tree_size"], 2);
    let cons: serde_json::Value =
        serde_json::from_str(&stdout_of(&["audit", "consistency", "--old-size", "1"], &old_log)).unwrap();
    assert_eq!(cons["tree_size"], 2);
    assert_eq!(cons["root"], proof["root"]);
}

/// `n` records of cn_contractor at one time, each touching one subject (`[i]`).
fn contractor_records(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            record(
                "cn_contractor",
                "ldt-shanghai",
                "2026-01-05T09:12:00Z",
                &format!("[{i}]"),
            )
        })
        .collect()
}
