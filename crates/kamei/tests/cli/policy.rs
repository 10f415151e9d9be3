//! `kamei init` and `kamei policy …` end to end, on the demo configuration and on broken
//! copies of it.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::kamei;

fn run(args: &[&str]) -> Output {
    kamei().args(args).output().expect("run kamei")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh `kamei init` directory; returns (guard, path of kamei.toml).
fn init() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    let o = run(&["init", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    (dir, cfg.join("kamei.toml"))
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The JSON matrix of the demo configuration.
fn matrix_json() -> Vec<serde_json::Value> {
    let o = run(&["policy", "matrix", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn cell<'a>(rows: &'a [serde_json::Value], p: &str, t: &str, c: &str, j: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["principal"] == p && r["table"] == t && r["column"] == c && r["jurisdiction"] == j)
        .unwrap_or_else(|| panic!("no cell {p} {t}.{c} {j}"))
}

#[test]
fn without_config_commands_use_the_demo_and_say_so_in_one_line() {
    let o = run(&["policy", "check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: 6 principals, 4 tables, 37 columns, 4 jurisdictions"));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("built-in demo configuration"));
    let o = run(&["policy", "matrix", "--format", "csv"]);
    assert_eq!(stderr(&o).lines().count(), 1);
}

#[test]
fn init_writes_the_demo_set_and_refuses_to_overwrite() {
    let (_dir, kamei_toml) = init();
    let cfg = kamei_toml.parent().unwrap();
    for f in ["kamei.toml", "catalog.toml", "principals.toml", "policies.cedar"] {
        assert!(cfg.join(f).is_file(), "{f}");
    }
    let before = std::fs::read(cfg.join("policies.cedar")).unwrap();
    let o = run(&["init", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read(cfg.join("policies.cedar")).unwrap(), before);
    let o = run(&["policy", "check", "--config", kamei_toml.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).is_empty(),
        "no demo notice with --config: {}",
        stderr(&o)
    );
    // The written files are the built-in ones: same decisions.
    let o = run(&[
        "policy",
        "matrix",
        "--format",
        "csv",
        "--config",
        kamei_toml.to_str().unwrap(),
    ]);
    assert_eq!(stdout(&o), stdout(&run(&["policy", "matrix", "--format", "csv"])));
}

#[test]
fn matrix_csv_has_the_exact_header_and_one_row_per_cell() {
    let o = run(&["policy", "matrix", "--format", "csv"]);
    assert!(o.status.success());
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("principal,table,column,jurisdiction,level"));
    assert_eq!(lines.count(), 6 * 37 * 4);
    assert!(out.contains("\njp_support,users,phone,JP,raw\n"));
    assert!(out.contains("\njp_support,users,phone,TH,pseudonymized\n"));
}

#[test]
fn contractor_never_reads_personal_data_raw() {
    let rows = matrix_json();
    let contractor: Vec<_> = rows
        .iter()
        .filter(|r| r["principal"] == "cn_contractor")
        .collect();
    assert_eq!(contractor.len(), 37 * 4);
    for r in &contractor {
        if r["category"] != "NON_PERSONAL" {
            assert_ne!(r["level"], "raw", "{r}");
        }
    }
    assert_eq!(
        cell(&rows, "cn_contractor", "users", "full_name", "JP")["level"],
        "pseudonymized"
    );
    assert_eq!(
        cell(&rows, "cn_contractor", "users", "line_id", "TH")["level"],
        "pseudonymized"
    );
    assert_eq!(
        cell(&rows, "cn_contractor", "users", "address", "JP")["level"],
        "masked"
    );
    assert_eq!(
        cell(&rows, "cn_contractor", "messages", "body", "TW")["level"],
        "masked"
    );
    assert_eq!(
        cell(&rows, "cn_contractor", "users", "my_number", "JP")["level"],
        "denied"
    );
}

#[test]
fn jp_support_is_raw_for_japanese_subjects_only() {
    let rows = matrix_json();
    for col in ["full_name", "phone", "email", "line_id", "address", "my_number"] {
        assert_eq!(
            cell(&rows, "jp_support", "users", col, "JP")["level"],
            "raw",
            "{col}"
        );
        for j in ["TH", "TW", "ID"] {
            assert_eq!(
                cell(&rows, "jp_support", "users", col, j)["level"],
                "pseudonymized",
                "{col} {j}"
            );
        }
    }
    assert_eq!(cell(&rows, "th_support", "users", "phone", "TH")["level"], "raw");
    assert_eq!(
        cell(&rows, "th_support", "users", "phone", "JP")["level"],
        "pseudonymized"
    );
}

#[test]
fn auditor_is_denied_on_all_four_tables_and_moderator_sees_no_users() {
    let rows = matrix_json();
    let auditor: Vec<_> = rows.iter().filter(|r| r["principal"] == "auditor").collect();
    assert_eq!(auditor.len(), 37 * 4);
    assert!(auditor.iter().all(|r| r["level"] == "denied"));
    for t in ["users", "messages", "reports", "payments"] {
        assert!(auditor.iter().any(|r| r["table"] == t));
    }
    for r in rows.iter().filter(|r| r["principal"] == "kr_moderator") {
        if r["table"] == "users" || r["table"] == "payments" {
            assert_eq!(r["level"], "denied", "{r}");
        } else {
            assert_ne!(
                r["level"],
                "raw".to_string() + if r["category"] == "NON_PERSONAL" { "x" } else { "" }
            );
        }
    }
    assert_eq!(
        cell(&rows, "kr_moderator", "reports", "body", "JP")["level"],
        "masked"
    );
    assert_eq!(
        cell(&rows, "kr_moderator", "reports", "reported_user_id", "JP")["level"],
        "pseudonymized"
    );
}

#[test]
fn table_view_marks_raw_access_across_a_border() {
    let o = run(&["policy", "matrix"]);
    assert!(o.status.success());
    let out = stdout(&o);
    let marked: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("RAW ACROSS!") && !l.contains(" cells; "))
        .collect();
    assert_eq!(marked.len(), 60, "20 personal columns x 3 foreign jurisdictions");
    // Only the break-glass admin (JP) reads other jurisdictions' personal data raw.
    assert!(!marked.is_empty());
    assert!(
        marked
            .iter()
            .all(|l| l.starts_with("admin ") && !l.contains(" JP ")),
        "{marked:?}"
    );
    assert!(
        !out.lines()
            .any(|l| l.starts_with("jp_support") && l.contains("RAW ACROSS!"))
    );
}

#[test]
fn diff_exits_1_and_names_who_gains_raw() {
    let (_dir, kamei_toml) = init();
    let cfg = kamei_toml.parent().unwrap();
    let old = cfg.join("policies.cedar");
    let new = cfg.join("new.cedar");
    let mut text = std::fs::read_to_string(&old).unwrap();
    text.push_str(
        "\npermit(principal == Kamei::Principal::\"cn_contractor\", action == Kamei::Action::\"read_raw\", resource);\n",
    );
    std::fs::write(&new, text).unwrap();
    let o = run(&["policy", "diff", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("+ cn_contractor gains raw (was pseudonymized) on users.phone for JP subjects"),
        "{out}"
    );
    assert!(out.lines().all(|l| l.starts_with("+ cn_contractor ")), "{out}");
    assert!(stderr(&o).contains("exposure increases for cn_contractor"));
    // The reverse change only lowers exposure; no change at all is exit 0 too.
    let o = run(&["policy", "diff", new.to_str().unwrap(), old.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("- cn_contractor loses raw (now pseudonymized) on users.phone for JP subjects"),
        "{}",
        stdout(&o)
    );
    let o = run(&["policy", "diff", old.to_str().unwrap(), old.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("no exposure changes"));
}

/// Issue 13: exposure that grows through principals.toml or catalog.toml, with the policies
/// unchanged, is a widening too.
#[test]
fn diff_of_whole_configurations_sees_widening_through_principals_and_catalog() {
    let (_old_dir, old) = init();
    let (_new_dir, new) = init();
    let new_cfg = new.parent().unwrap();
    // The contractor gets the support role: raw for its home country's subjects and
    // pseudonyms elsewhere; no policy file changed.
    edit(
        &new_cfg.join("principals.toml"),
        "country = \"CN\"\nroles = [\"engineer\"]",
        "country = \"JP\"\nroles = [\"engineer\", \"support\"]",
    );
    let o = run(&[
        "policy",
        "diff",
        old.parent().unwrap().to_str().unwrap(),
        new_cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("+ cn_contractor gains raw (was pseudonymized) on users.phone for JP subjects"),
        "{}",
        stdout(&o)
    );
    // A message body that no longer belongs to its recipient follows the sender alone.
    let (_d3, third) = init();
    edit(
        &third.parent().unwrap().join("catalog.toml"),
        "subjects = [\"sender_id\", \"recipient_id\"], ",
        "",
    );
    let o = run(&["policy", "diff", old.to_str().unwrap(), third.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("! messages.body belonged to"),
        "{}",
        stdout(&o)
    );
    // The same configuration twice: nothing changed.
    let o = run(&["policy", "diff", old.to_str().unwrap(), old.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Issue 13: a permit for a principal, table or column that does not exist yet grants nothing
/// today and everything the day the name appears; `policy check` warns about it.
#[test]
fn check_warns_about_latent_grants() {
    let (_dir, kamei_toml) = init();
    let policies = kamei_toml.parent().unwrap().join("policies.cedar");
    let mut text = std::fs::read_to_string(&policies).unwrap();
    text.push_str(
        "\n@id(\"future-vendor\")\npermit(principal == Kamei::Principal::\"vn_vendor\", action, resource)\n\
         when { [\"audit_trail\", \"users\"].contains(resource.table) && resource.column == \"passport_no\" };\n",
    );
    std::fs::write(&policies, text).unwrap();
    let o = run(&["policy", "check", "--config", kamei_toml.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    for name in [
        "principal `vn_vendor`",
        "table `audit_trail`",
        "column `passport_no`",
    ] {
        assert!(e.contains(&format!("policy `future-vendor` names {name}")), "{e}");
    }
    assert!(!e.contains("table `users`"), "{e}");
    // The demo policies name only what exists.
    let o = run(&["policy", "check"]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn explain_prints_the_level_and_the_deciding_policies() {
    let o = run(&[
        "policy",
        "explain",
        "--principal",
        "jp_support",
        "--column",
        "users.phone",
        "--jurisdiction",
        "JP",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("level       raw\n"), "{out}");
    assert!(out.contains("decided by  support-raw-home-jurisdiction"), "{out}");
    let o = run(&[
        "policy",
        "explain",
        "--principal",
        "auditor",
        "--column",
        "payments.card_number",
        "--jurisdiction",
        "TH",
    ]);
    assert!(stdout(&o).contains("level       denied") && stdout(&o).contains("auditor-no-table-data"));
}

#[test]
fn explain_rejects_unknown_principal_table_column_and_jurisdiction() {
    for (args, want) in [
        (["nobody", "users.phone", "JP"], "unknown principal `nobody`"),
        (["admin", "nope.phone", "JP"], "unknown table `nope`"),
        (
            ["admin", "users.nope", "JP"],
            "unknown column `nope` in table `users`",
        ),
        (["admin", "users.phone", "US"], "unknown jurisdiction `US`"),
        (["admin", "users", "JP"], "`users` is not TABLE.COLUMN"),
    ] {
        let o = run(&[
            "policy",
            "explain",
            "--principal",
            args[0],
            "--column",
            args[1],
            "--jurisdiction",
            args[2],
        ]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(err.lines().last().unwrap().starts_with("kamei: error: "), "{err}");
        assert!(err.contains(want), "{err}");
    }
}

/// Breaks one file of a fresh configuration; returns `policy check`'s stderr (exit 1) and
/// `policy matrix`'s (exit 2).
fn broken(file: &str, from: &str, to: &str) -> (String, String) {
    let (_dir, kamei_toml) = init();
    edit(&kamei_toml.parent().unwrap().join(file), from, to);
    let cfg = kamei_toml.to_str().unwrap();
    let check = run(&["policy", "check", "--config", cfg]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let matrix = run(&["policy", "matrix", "--config", cfg]);
    assert_eq!(matrix.status.code(), Some(2));
    assert!(matrix.stdout.is_empty());
    (stderr(&check), stderr(&matrix))
}

/// `catalog.toml:N:` for the demo catalog's first line that holds `text`.
fn demo_catalog_line(text: &str) -> String {
    let catalog = include_str!("../../../kamei-policy/demo/catalog.toml");
    let n = catalog.lines().position(|l| l.contains(text)).unwrap() + 1;
    format!("catalog.toml:{n}:")
}

#[test]
fn bad_toml_names_file_line_and_column() {
    let (check, matrix) = broken("catalog.toml", "name = \"users\"", "name = \"users");
    let at = demo_catalog_line("name = \"users\"");
    assert!(check.contains(&at), "{check}");
    assert!(
        matrix.starts_with("kamei: error: ") && matrix.contains(&at),
        "{matrix}"
    );
}

#[test]
fn unknown_category_names_the_field_and_the_known_ones() {
    let (check, _) = broken(
        "catalog.toml",
        "category = \"PHONE\"",
        "category = \"PHONE_NUMBER\"",
    );
    assert!(
        check.contains(&demo_catalog_line("category = \"PHONE\"")),
        "{check}"
    );
    assert!(
        check
            .contains("field `category` of column `phone` in table `users`: unknown category `PHONE_NUMBER`")
    );
}

#[test]
fn bad_cedar_names_the_location() {
    let (check, _) = broken(
        "policies.cedar",
        "when { resource.category == \"NON_PERSONAL\" };",
        "when { resource.category == };",
    );
    assert!(check.contains("policies.cedar:37:"), "{check}");
}

#[test]
fn a_policy_that_fails_validation_is_an_error() {
    let (check, _) = broken(
        "policies.cedar",
        "resource.jurisdiction == principal.country",
        "resource.jurisdictoin == principal.country",
    );
    assert!(
        check.contains(
            "does not validate: for policy `support-raw-home-jurisdiction`, attribute `jurisdictoin`"
        ),
        "{check}"
    );
    assert!(check.contains("policies.cedar:57:"), "{check}");
    let (check, _) = broken(
        "policies.cedar",
        "action == Kamei::Action::\"read_raw\"",
        "action == Kamei::Action::\"read_everything\"",
    );
    assert!(check.contains("does not validate"), "{check}");
}

#[test]
fn a_plain_password_is_rejected_and_never_echoed() {
    let (check, matrix) = broken(
        "principals.toml",
        "\ndemo = true",
        "\npassword = \"hunter2-secret\"",
    );
    for err in [&check, &matrix] {
        assert!(err.contains("plain passwords are not accepted"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    // A verifier is never printed either, even when malformed.
    let (check, _) = broken(
        "principals.toml",
        "credential = \"SCRAM-SHA-256$4096:",
        "credential = \"SCRAM-SHA-1$4096:",
    );
    assert!(
        check.contains("field `credential` of principal `admin`: not a SCRAM-SHA-256 verifier"),
        "{check}"
    );
    assert!(!check.contains("SCRAM-SHA-1$"), "{check}");
}

#[test]
fn check_lists_every_problem() {
    let (_dir, kamei_toml) = init();
    let cfg = kamei_toml.parent().unwrap();
    edit(
        &cfg.join("catalog.toml"),
        "category = \"EMAIL\"",
        "category = \"MAIL\"",
    );
    edit(
        &cfg.join("principals.toml"),
        "country = \"TH\"",
        "country = \"Thailand\"",
    );
    let o = run(&["policy", "check", "--config", kamei_toml.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("catalog.toml:") && err.contains("principals.toml:"),
        "{err}"
    );
    assert!(err.contains("2 problems found"), "{err}");
}

/// `kamei policy assert`: exit 0 when every invariant holds, 1 with a counterexample (principal,
/// column, jurisdiction, level, policies) per violation, and a one-line error for a bad file.
#[test]
fn policy_assert_proves_or_gives_counterexamples() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invariants.toml");
    std::fs::write(
        &file,
        "[[invariant]]\nname = \"kr_moderator reads no users column\"\nprincipals = [\"kr_moderator\"]\ntables = [\"users\"]\nat_most = \"denied\"\n",
    )
    .unwrap();
    let o = run(&["policy", "assert", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("holds  kr_moderator reads no users column"),
        "{}",
        stdout(&o)
    );

    std::fs::write(
        &file,
        "[[invariant]]\nname = \"no raw phones for contractors\"\nroles = [\"engineer\", \"support\"]\ncolumns = [\"users.phone\"]\nat_most = \"masked\"\n",
    )
    .unwrap();
    let o = run(&["policy", "assert", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("FAILS  no raw phones for contractors"), "{out}");
    assert!(
        out.contains("jp_support reads users.phone (PHONE) of subjects in JP raw — decided by"),
        "{out}"
    );

    std::fs::write(
        &file,
        "[[invariant]]\nname = \"x\"\nat_most = \"denied\"\ntabels = [\"users\"]\n",
    )
    .unwrap();
    let o = run(&["policy", "assert", file.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("invariants.toml") && err.contains("tabels"), "{err}");
}

/// `kamei report exposure`: the register as a table with its two parts, and as JSON.
#[test]
fn report_exposure_lists_foreign_access_first() {
    let o = run(&["report", "exposure"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let first = out.find("Across borders, and raw identifiers").unwrap();
    let rest = out.find("Within the principal's country").unwrap();
    assert!(first < rest, "{out}");
    assert!(out[first..rest].contains("cn_contractor"), "{out}");
    assert!(
        !out[rest..].contains("cn_contractor"),
        "a contractor abroad listed as domestic: {out}"
    );
    let o = run(&["report", "exposure", "--format", "json"]);
    let grants: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        grants
            .iter()
            .any(|g| g["principal"] == "th_support" && g["category"] == "MY_NUMBER")
    );
    assert!(grants.iter().all(|g| g["level"] != "denied"));
}
