//! The terminal forms of the access, subject and triage reports. The JSON forms are the reports'
//! serde serializations; these are for a person reading a terminal or a printout.

use std::fmt::Write as _;

use kamei_audit::Action;
use kamei_core::Level;

use crate::access::AccessReport;
use crate::subject::SubjectHistory;
use crate::triage::{CitedRead, Triage};

/// Left-aligned columns separated by two spaces, the last one unpadded.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([header.get(i).map_or(0, |h| h.chars().count())])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let all = std::iter::once(header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>())
        .chain(rows.iter().cloned());
    for row in all {
        out.push_str("   ");
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                out.push_str(cell);
            } else {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(cell.chars().count());
                let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
            }
        }
        out.push('\n');
    }
    out
}

fn short(hex: &str) -> &str {
    hex.get(..16).unwrap_or(hex)
}

/// A selection as one phrase ("org ldt-shanghai, since …"), or "every record".
pub(crate) fn selection_text(sel: &crate::access::Selection) -> String {
    let selection: Vec<String> = [
        ("principal", &sel.principal),
        ("org", &sel.org),
        ("country", &sel.country),
        ("since", &sel.since),
        ("until", &sel.until),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.as_ref().map(|v| format!("{name} {v}")))
    .collect();
    if selection.is_empty() {
        "every record".into()
    } else {
        selection.join(", ")
    }
}

/// The access report for a terminal.
pub fn access_text(report: &AccessReport) -> String {
    let cp = &report.checkpoint;
    let mut out = format!(
        "Access report: {} records by {} principal{} ({}); log {} at its signed checkpoint of {} records (root {}…)\n\
         Subjects are counted from the subject index; a subject counts under every personal column of a statement that read them.\n",
        report.records,
        report.principals.len(),
        if report.principals.len() == 1 { "" } else { "s" },
        selection_text(&report.selection),
        cp.origin,
        cp.size,
        short(&cp.root),
    );
    for p in &report.principals {
        let _ = writeln!(out, "\n{} (org {}, country {})", p.principal, p.org, p.country);
        let _ = writeln!(
            out,
            "  {} statements read data, {} denied; first {}, last {}",
            p.statements,
            p.denied.len(),
            p.first.as_deref().unwrap_or("-"),
            p.last.as_deref().unwrap_or("-"),
        );
        let per: Vec<String> = p
            .subjects
            .iter()
            .map(|j| format!("{} {}", j.jurisdiction, j.subjects))
            .collect();
        let _ = writeln!(
            out,
            "  distinct subjects by jurisdiction: {}; outside {}: {}",
            if per.is_empty() {
                "none".to_owned()
            } else {
                per.join(", ")
            },
            p.country,
            p.subjects_abroad
        );
        if !p.categories.is_empty() {
            out.push_str("  by category:\n");
            let rows: Vec<Vec<String>> = p
                .categories
                .iter()
                .map(|c| {
                    let abroad = c.jurisdiction != p.country;
                    vec![
                        c.category.to_string(),
                        c.jurisdiction.clone(),
                        format!(
                            "{}{}",
                            c.level,
                            if abroad && c.level == Level::Raw {
                                " ACROSS!"
                            } else {
                                ""
                            }
                        ),
                        c.subjects.to_string(),
                    ]
                })
                .collect();
            out.push_str(&table(&["category", "subjects in", "level", "subjects"], &rows));
        }
        if !p.timeline.is_empty() {
            out.push_str("  timeline (UTC day, statements, distinct subjects):\n");
            let most = p.timeline.iter().map(|d| d.subjects).max().unwrap_or(0).max(1);
            for d in &p.timeline {
                let bar = "#".repeat(((d.subjects * 40).div_ceil(most)) as usize);
                let _ = writeln!(out, "   {}  {:>4}  {:>6}  {bar}", d.day, d.statements, d.subjects);
            }
        }
        if !p.cross_border_raw.is_empty() {
            let _ = writeln!(
                out,
                "  raw reads across the border ({}):",
                p.cross_border_raw.len()
            );
            for c in &p.cross_border_raw {
                let subjects: Vec<String> = c.subjects.iter().map(|(j, n)| format!("{j} {n}")).collect();
                let _ = writeln!(
                    out,
                    "   #{} {}  {}  subjects {}  {}",
                    c.index,
                    c.time,
                    c.columns.join(" "),
                    subjects.join(", "),
                    c.statement
                );
            }
        }
        if !p.denied.is_empty() {
            let _ = writeln!(out, "  denied attempts ({}):", p.denied.len());
            for c in &p.denied {
                let by = if c.policies.is_empty() {
                    "no policy permitting it".to_owned()
                } else {
                    c.policies.join(", ")
                };
                let _ = writeln!(
                    out,
                    "   #{} {}  decided by {by}  {}",
                    c.index, c.time, c.statement
                );
            }
        }
    }
    out
}

pub(crate) fn level_ja(level: Level) -> &'static str {
    match level {
        Level::Raw => "生データ / raw",
        Level::Masked => "マスク済み / masked",
        Level::Pseudonymized => "仮名化 / pseudonymized",
        Level::Denied => "拒否 / denied",
    }
}

fn action_ja(action: Action) -> &'static str {
    match action {
        Action::Query => "照会 / query",
        Action::Export => "書き出し / export",
        Action::Detokenize => "再識別 / detokenize",
        Action::Denied => "拒否された試み / denied attempt",
        Action::Configure => "設定 / configuration",
    }
}

/// The subject's history for a person to read, with Japanese and English labels.
pub fn subject_text(h: &SubjectHistory) -> String {
    let cp = &h.checkpoint;
    let mut out = format!(
        "個人データのアクセス履歴 / Access history of your personal data\n\
         対象者 / Data subject: {}\n\
         記録数 / Records: {}  うち国外からのアクセス / from abroad: {}\n\
         ログ / Log: {}  署名付きチェックポイント / signed checkpoint: {} records, root {}\n",
        h.subject,
        h.records.len(),
        h.from_abroad,
        cp.origin,
        cp.size,
        cp.root,
    );
    for (n, r) in h.records.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n{}. {}  記録 / record #{}{}",
            n + 1,
            r.time,
            r.index,
            if r.abroad { "  国外 / ABROAD" } else { "" }
        );
        let _ = writeln!(
            out,
            "   アクセスした者 / Accessed by: {} ({}, {})",
            r.principal, r.org, r.country
        );
        let _ = writeln!(
            out,
            "   操作 / Action: {}; 返した行数（全体）/ rows returned in all: {}",
            action_ja(r.action),
            r.rows
        );
        let yours: Vec<String> = r
            .read_as
            .iter()
            .map(|g| format!("{} {}", g.jurisdiction, level_ja(g.level)))
            .collect();
        let _ = writeln!(out, "   あなたのデータ / Your data: {}", yours.join("; "));
        if !r.columns.is_empty() {
            let columns: Vec<String> = r
                .columns
                .iter()
                .map(|c| format!("{}.{} {}", c.table, c.column, level_ja(c.level)))
                .collect();
            let _ = writeln!(out, "   列 / Columns: {}", columns.join("; "));
        }
        if let Some(p) = &r.purpose {
            let _ = writeln!(out, "   目的 / Purpose: {p}");
        }
        if let Some(t) = &r.ticket {
            let _ = writeln!(out, "   チケット / Ticket: {t}");
        }
        let _ = writeln!(out, "   文 / Statement: {}", r.statement);
        match &r.proof {
            Some(p) => {
                let _ = writeln!(
                    out,
                    "   包含証明 / Inclusion proof: tree size {}, leaf {}…, {} hashes",
                    p.tree_size,
                    short(&p.leaf_hash),
                    p.hashes.len()
                );
            }
            None => out.push_str(
                "   包含証明 / Inclusion proof: 次のチェックポイント以降に発行 / not yet covered by a signed checkpoint\n",
            ),
        }
    }
    out.push_str(
        "\n検証方法 / How to verify: `--format json` carries each record's leaf and inclusion proof and the signed checkpoint;\n\
         check them with any RFC 9162 verifier and the log's published public key.\n",
    );
    out
}

use kamei_core::thousands as n;

fn cited_lines(out: &mut String, reads: &[CitedRead]) {
    for c in reads {
        let _ = writeln!(
            out,
            "   #{} {}  {}  {}  subjects {}  {}",
            c.index,
            c.time,
            c.principal,
            c.columns.join(", "),
            n(c.subjects),
            c.statement
        );
    }
}

/// The triage for a terminal: the notice first, then who, how many, Japan's tests and
/// deadlines, the records behind them, and the other markets.
pub fn triage_text(t: &Triage) -> String {
    let cp = &t.checkpoint;
    let mut out = format!(
        "Breach triage / 漏えい等の報告の要否: {}; discovered {}{}\n{}\n\
         Log {} at its signed checkpoint of {} records (root {}…); {} statements read data, {} denied; {} to {}\n",
        selection_text(&t.selection),
        t.discovered,
        if t.flagged_unauthorized {
            "; flagged --unauthorized"
        } else {
            ""
        },
        t.notice,
        cp.origin,
        cp.size,
        short(&cp.root),
        n(t.statements),
        n(t.denied),
        t.first.as_deref().unwrap_or("-"),
        t.last.as_deref().unwrap_or("-"),
    );
    let _ = writeln!(
        out,
        "Compared with: {} (policies {}; decisions sha256 {}…)",
        t.configuration.source,
        t.configuration.policies.join(", "),
        short(&t.configuration.decisions_sha256)
    );
    if t.selection == crate::access::Selection::default() {
        // Routine reads are no leak: a triage of the whole log counts them all.
        out.push_str(
            "The selection is every record, so every read, routine ones too, counts as a possible leak: \
             narrow it to the suspect reads (a principal, an org, a period).\n",
        );
    }
    out.push_str("\nWho read\n");
    let rows: Vec<Vec<String>> = t
        .principals
        .iter()
        .map(|a| {
            vec![
                a.principal.clone(),
                a.org.clone(),
                a.country.clone(),
                n(a.statements),
                n(a.denied),
                a.first.clone().unwrap_or_else(|| "-".into()),
                a.last.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "principal",
            "org",
            "country",
            "statements",
            "denied",
            "first",
            "last",
        ],
        &rows,
    ));
    out.push_str(
        "\nAffected data subjects (distinct; readable: some personal column of theirs read raw or masked)\n",
    );
    let rows: Vec<Vec<String>> = t
        .subjects
        .iter()
        .map(|a| vec![a.jurisdiction.clone(), n(a.readable), n(a.pseudonymized_only)])
        .collect();
    out.push_str(&table(&["subjects in", "readable", "pseudonymized only"], &rows));
    if !t.categories.is_empty() {
        out.push_str(
            "\nBy category (a subject counts under every personal column of a statement that read them)\n",
        );
        let rows: Vec<Vec<String>> = t
            .categories
            .iter()
            .map(|c| {
                vec![
                    c.category.to_string(),
                    c.jurisdiction.clone(),
                    c.level.to_string(),
                    n(c.subjects),
                ]
            })
            .collect();
        out.push_str(&table(&["category", "subjects in", "level", "subjects"], &rows));
    }
    let jp = &t.japan;
    let _ = writeln!(
        out,
        "\nJapan, {}: report to the PPC and notice to the data subjects (Art. 26): {}",
        jp.law,
        jp.finding.label()
    );
    for c in &jp.conclusions {
        let _ = writeln!(out, "  [{}] {} ({})", c.finding.label(), c.test, c.source);
        let _ = writeln!(out, "      {}", c.reason);
    }
    let _ = writeln!(
        out,
        "  Deadlines{}, from discovery on {} JST:",
        match jp.finding {
            crate::triage::Finding::Triggered => "",
            crate::triage::Finding::Judgment => " if the judgment finds a duty",
            crate::triage::Finding::NotTriggered => " (none due unless a judgment above changes)",
        },
        jp.discovered_day,
    );
    for d in &jp.deadlines {
        let _ = writeln!(out, "   - {}: {} ({})", d.what, d.due, d.source);
    }
    let _ = writeln!(out, "  How the days are counted: {}", jp.counting);
    if !t.beyond_grant.is_empty() {
        let _ = writeln!(
            out,
            "\nReads at levels the configuration now in force does not grant ({}){}",
            t.beyond_grant.len(),
            if t.withdrawn_policies.is_empty() {
                String::new()
            } else {
                format!(
                    "; policies in force then, withdrawn since: {}",
                    t.withdrawn_policies.join(", ")
                )
            }
        );
        cited_lines(&mut out, &t.beyond_grant);
    }
    if !t.financial_raw.is_empty() {
        let _ = writeln!(out, "\nFinancial data read raw ({})", t.financial_raw.len());
        cited_lines(&mut out, &t.financial_raw);
    }
    if !t.subjects_unknown.is_empty() {
        let _ = writeln!(
            out,
            "\nSubjects unknown ({}): no subjects recorded; a streamed result whose closing record is missing, or a \
             result with no rows (the log writes both alike)",
            t.subjects_unknown.len()
        );
        cited_lines(&mut out, &t.subjects_unknown);
    }
    out.push_str("\nOther markets (each counts its own residents; whether its rule reaches the operator, and the risk, are for the reader)\n");
    for m in &t.other_markets {
        let _ = writeln!(
            out,
            "  {}, {} ({}): {}",
            m.market,
            m.law,
            m.jurisdictions,
            if m.readable + m.pseudonymized_only == 0 {
                "no subjects in the selection".to_owned()
            } else {
                format!(
                    "{} subjects readable, {} pseudonymized only",
                    n(m.readable),
                    n(m.pseudonymized_only)
                )
            }
        );
        let _ = writeln!(out, "      {}", m.rule);
        for d in &m.deadlines {
            let _ = writeln!(out, "   - {}: {} ({})", d.what, d.due, d.source);
        }
        let _ = writeln!(out, "      note: {}", m.note);
    }
    out.push_str(
        "\nEvidence: `--format json` carries the signed checkpoint and an inclusion proof for every record cited above.\n",
    );
    out
}

/// The anomalies report for a terminal: the thresholds, then one block per finding with the
/// records behind it.
pub fn anomalies_text(a: &crate::anomalies::Anomalies) -> String {
    let cp = &a.checkpoint;
    let th = &a.thresholds;
    let mut out = format!(
        "Anomalies: {}; {} statements\nLog {} at its signed checkpoint of {} records (root {}…)\n\
         Flagged: bulk reads (an hour's distinct subjects with a robust z-score >= {} over the principal's own active hours, \
         or its peers' when it has fewer than {}; at least {} subjects and {}x the median); a principal's first record \
         from a new country; raw reads of personal columns outside {:02}:00-{:02}:00 Monday to Friday in the principal's \
         country; {} or more statements within {} hours with a selective predicate on one protected column, each \
         returning at most {} rows. Baselines come from the selection.\n",
        selection_text(&a.selection),
        n(a.statements),
        cp.origin,
        n(cp.size),
        short(&cp.root),
        th.bulk_z,
        th.min_history_hours,
        th.bulk_min_subjects,
        th.bulk_ratio,
        th.business_hours.0,
        th.business_hours.1,
        th.probe_min_statements,
        th.probe_window_hours,
        th.probe_max_rows,
    );
    if !a.countries_not_judged.is_empty() {
        let _ = writeln!(
            out,
            "Not judged for business hours (no UTC offset known): {}",
            a.countries_not_judged.join(", ")
        );
    }
    if a.findings.is_empty() {
        out.push_str("\nNothing flagged.\n");
        return out;
    }
    let _ = writeln!(out, "\n{} findings", a.findings.len());
    for f in &a.findings {
        let _ = writeln!(
            out,
            "\n  [{}] {} ({}, {}), {}\n      {}",
            f.kind.label(),
            f.principal,
            f.org,
            f.country,
            f.when,
            f.what
        );
        for r in &f.records {
            let _ = writeln!(out, "      #{} {} {}", r.index, r.time, r.statement);
        }
        if f.count > f.records.len() {
            let _ = writeln!(
                out,
                "      … {} more records",
                n((f.count - f.records.len()) as u64)
            );
        }
    }
    out.push_str(
        "\nEvidence: `--format json` carries the signed checkpoint and an inclusion proof for every record listed.\n",
    );
    out
}
