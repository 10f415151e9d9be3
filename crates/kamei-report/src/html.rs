//! The HTML form of the access report: one self-contained page that a privacy officer would
//! rather look at than read. It draws who read how many people's data over time per org, a
//! heat map of principal × category × level and the flows from principals' countries to
//! subjects' jurisdictions (inline SVG from svg.rs), then the tables of the text report.
//!
//! The page fetches nothing and runs nothing: its styles are inline, its charts are SVG, and
//! its Content-Security-Policy forbids every fetch and every script, so a string from the log
//! that escaping somehow missed still could not load or run anything. It embeds its evidence
//! as the JSON report does: the whole JSON report (signed checkpoint, and an inclusion proof
//! per cited record) in `<script type="application/json" id="evidence">`, which browsers do
//! not execute, and the checkpoint as visible text, so a panel can check it with
//! `kamei audit verify` or tests/verifier/verify.py.

use std::fmt::Write as _;

use kamei_core::{Category, Level};

use crate::access::{AccessReport, Cited, PrincipalAccess};
use crate::error::ReportError;
use crate::escape::{html as esc, json_in_script};
use crate::svg;
use crate::text::level_ja;
use kamei_core::thousands;

const STYLE: &str = r#"
:root { --ink: #1d2430; --muted: #5d6778; --line: #dde2ea; --raw: #c0392b; --masked: #d68910; --pseudo: #2874a6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, "Hiragino Sans", "Noto Sans CJK JP", "IPAGothic", sans-serif; color: var(--ink); background: #f5f7fa; }
header { background: #1d2430; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
header p { margin: 0; color: #c7cfdb; }
main { padding: 16px 32px 40px; max-width: 1240px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
h2 { font-size: 17px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.note { color: var(--muted); margin: 0 0 10px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { flex: 1 1 160px; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.card b { display: block; font-size: 24px; }
.card span { color: var(--muted); font-size: 12px; }
.card.alert b { color: var(--raw); }
.card.period b { font-size: 16px; line-height: 1.35; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
svg { max-width: 100%; height: auto; font-family: inherit; }
svg .chart-title { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg .tick { font-size: 11px; fill: var(--muted); }
svg .group { font-size: 12px; font-weight: 600; fill: var(--ink); }
svg .grid { stroke: var(--line); }
svg .sep { stroke: #aab3c0; }
svg .hover { fill: transparent; }
svg .hover:hover { fill: rgba(0, 0, 0, 0.06); }
svg .empty { fill: #f1f3f6; }
svg .cell { font-size: 11px; fill: var(--ink); }
svg .cell.dark { fill: #fff; }
svg .node { fill: #39465a; }
svg .band { font-size: 11px; fill: var(--ink); }
table { border-collapse: collapse; margin: 4px 0 8px; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.across { background: #fdecea; }
code, pre { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
pre { background: #f1f3f6; padding: 8px 10px; border-radius: 6px; white-space: pre-wrap; word-break: break-all; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; color: #fff; background: var(--raw); margin-left: 4px; }
.lv-raw { color: var(--raw); font-weight: 600; }
.lv-masked { color: var(--masked); }
.lv-pseudonymized { color: var(--pseudo); }
details summary { cursor: pointer; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; padding: 0 32px 24px; }
"#;

/// Colour of a level, as the heat map and the tables use it.
fn level_color(level: Level) -> &'static str {
    match level {
        Level::Raw => "#c0392b",
        Level::Masked => "#d68910",
        Level::Pseudonymized => "#2874a6",
        Level::Denied => "#7f8c8d",
    }
}

fn level_class(level: Level) -> &'static str {
    match level {
        Level::Raw => "lv-raw",
        Level::Masked => "lv-masked",
        Level::Pseudonymized => "lv-pseudonymized",
        Level::Denied => "lv-denied",
    }
}

/// A stable colour per subject jurisdiction, and a darker one for its subjects read raw: the
/// demo world's markets fixed, others from a small palette by their code.
fn jurisdiction_colors(j: &str) -> (&'static str, &'static str) {
    const OTHERS: [(&str, &str); 4] = [
        ("#8d6a9f", "#4f3560"),
        ("#6c7a89", "#2e3a46"),
        ("#a26769", "#5e3334"),
        ("#5c946e", "#2c5a3a"),
    ];
    match j {
        "JP" => ("#e58a95", "#a3162b"),
        "TH" => ("#f3c67a", "#a86f0e"),
        "TW" => ("#5fb3c2", "#00535f"),
        "ID" => ("#9cc7b0", "#2f6b4d"),
        _ => {
            let i = j.bytes().map(usize::from).sum::<usize>() % OTHERS.len();
            OTHERS.get(i).copied().unwrap_or(("#9a8f97", "#4d474b"))
        }
    }
}

fn jurisdiction_color(j: &str) -> &'static str {
    jurisdiction_colors(j).0
}

/// The page's head and its opening: title, the header band, then `<main>`.
fn open_page(out: &mut String, title: &str, subtitle: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <title>{t} — kamei</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header><h1>{t}</h1><p>{s}</p></header>\n<main>\n",
        t = esc(title),
        s = esc(subtitle),
    );
}

/// The visible checkpoint, how to check it, the embedded JSON evidence, and the page's end.
fn close_page(out: &mut String, cp: &crate::evidence::CheckpointEvidence, json: &str) {
    let _ = write!(
        out,
        "<section id=\"checkpoint\"><h2>証拠 / Evidence: the signed checkpoint</h2>\n\
         <p class=\"note\">この報告は以下の署名付きチェックポイント時点のログから作成されました。引用した各記録には包含証明が付いています。 \
         The report was computed at this signed checkpoint; every record it cites carries an RFC 9162 inclusion proof against it.</p>\n\
         <table><tr><th>ログ / log origin</th><td><code>{origin}</code></td></tr>\
         <tr><th>記録数 / tree size</th><td>{size}</td></tr>\
         <tr><th>ルート / root</th><td><code>{root}</code></td></tr>\
         <tr><th>検証鍵 / verifier key</th><td><code>{vkey}</code></td></tr></table>\n\
         <h3>署名付きノート / Signed note (c2sp.org/signed-note)</h3>\n<pre>{note}</pre>\n\
         <h3>検証方法 / How to verify</h3>\n\
         <p class=\"note\">The element <code>&lt;script type=\"application/json\" id=\"evidence\"&gt;</code> in this page's source holds the report as \
         <code>kamei report access --format json</code> prints it: <code>checkpoint.note</code> is the signed note above, and each cited record's <code>proof</code> \
         is its inclusion proof. Check the whole log with <code>kamei audit verify --log DIR</code>, or independently: save the note as <code>note.txt</code> \
         and a proof as <code>proof.json</code>, then run <code>python3 tests/verifier/verify.py checkpoint --vkey KEY --checkpoint note.txt</code> and \
         <code>python3 tests/verifier/verify.py inclusion --vkey KEY --checkpoint note.txt --proof proof.json --log DIR</code> with the log's published key \
         (not the copy above, if the report itself is in doubt).</p>\n</section>\n</main>\n\
         <footer>kamei — 監査ログから作成 / made from the audit log. The page loads nothing from the network and runs no script.</footer>\n\
         <script type=\"application/json\" id=\"evidence\">{json}</script>\n</body>\n</html>\n",
        origin = esc(&cp.origin),
        size = thousands(cp.size),
        root = esc(&cp.root),
        vkey = esc(cp.verifier_key.as_deref().unwrap_or("-")),
        note = esc(&cp.note),
        json = json_in_script(json),
    );
}

fn card(out: &mut String, value: &str, label: &str, alert: bool) {
    let _ = write!(
        out,
        "<div class=\"card{}\"><b>{}</b><span>{}</span></div>",
        if alert { " alert" } else { "" },
        esc(value),
        esc(label)
    );
}

/// A table whose cells are already HTML.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    out.push_str("<table><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str(cell);
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>\n");
}

fn td(text: &str) -> String {
    format!("<td>{}</td>", esc(text))
}

fn td_n(n: u64) -> String {
    format!("<td class=\"n\">{}</td>", thousands(n))
}

fn td_code(text: &str) -> String {
    format!("<td><code>{}</code></td>", esc(text))
}

fn proof_cell(c: &Cited) -> String {
    match &c.proof {
        Some(p) => format!(
            "<td>tree {} · leaf <code>{}…</code> · {} hashes</td>",
            thousands(p.tree_size),
            esc(p.leaf_hash.get(..12).unwrap_or(&p.leaf_hash)),
            p.hashes.len()
        ),
        None => "<td>未収録 / not yet under a signed checkpoint</td>".to_owned(),
    }
}

/// The access report as a self-contained HTML page.
pub fn access_html(report: &AccessReport) -> Result<String, ReportError> {
    let json = serde_json::to_string_pretty(report)?;
    let cp = &report.checkpoint;
    let selection = crate::text::selection_text(&report.selection);
    let mut out = String::new();
    open_page(
        &mut out,
        "アクセス報告 / Access report",
        &format!(
            "対象 / Selection: {selection} · ログ / log {} · 署名付きチェックポイント / signed checkpoint of {} records",
            cp.origin,
            thousands(cp.size)
        ),
    );
    if let Some(line) = report.verification.warning() {
        // An unverified report says so before anything else on the page.
        out.push_str(&format!("<p role=\"alert\"><strong>{}</strong></p>", esc(line)));
    }
    summary(&mut out, report);
    over_time(&mut out, report);
    heat(&mut out, report);
    flows(&mut out, report);
    for p in &report.principals {
        principal(&mut out, p);
    }
    close_page(&mut out, cp, &json);
    Ok(out)
}

fn summary(out: &mut String, report: &AccessReport) {
    let raw_across: usize = report.principals.iter().map(|p| p.cross_border_raw.len()).sum();
    let denied: usize = report.principals.iter().map(|p| p.denied.len()).sum();
    let first = report.principals.iter().filter_map(|p| p.first.as_deref()).min();
    let last = report.principals.iter().filter_map(|p| p.last.as_deref()).max();
    out.push_str("<div class=\"cards\">");
    card(
        out,
        &thousands(report.records),
        "記録 / records in the selection",
        false,
    );
    card(
        out,
        &report.principals.len().to_string(),
        "アクセスした者 / principals",
        false,
    );
    for p in report.principals.iter().filter(|p| p.subjects_abroad > 0) {
        card(
            out,
            &thousands(p.subjects_abroad),
            &format!(
                "{} が読んだ国外 ({} 以外) の対象者 / subjects outside {} read by {}",
                p.principal, p.country, p.country, p.principal
            ),
            p.country != "JP",
        );
    }
    card(
        out,
        &thousands(raw_across as u64),
        "越境した生データの読み取り / raw reads across borders",
        raw_across > 0,
    );
    card(
        out,
        &thousands(denied as u64),
        "拒否された試み / denied attempts",
        false,
    );
    let _ = write!(
        out,
        "<div class=\"card period\"><b>{}<br>{}</b><span>期間 / first and last read (UTC)</span></div>",
        esc(first.and_then(|f| f.get(..10)).unwrap_or("-")),
        esc(last.and_then(|l| l.get(..10)).unwrap_or("-")),
    );
    out.push_str("</div>\n");
}

fn over_time(out: &mut String, report: &AccessReport) {
    let t = &report.timeline;
    let (unit, unit_ja) = if t.period == "week" {
        ("week (from Monday, UTC)", "週（月曜始まり、UTC）")
    } else {
        ("day (UTC)", "日（UTC）")
    };
    let _ = write!(
        out,
        "<section id=\"over-time\"><h2>時系列 / Data subjects read over time, per org</h2>\n\
         <p class=\"note\">{unit_ja}ごとに、各組織がデータを読んだ対象者の人数（重複なし）を対象者の法域別に積み上げ。 \
         Distinct data subjects whose data each org read per {unit}, stacked by the subjects' jurisdiction, \
         darker: those read raw; one scale for every org.</p>\n<div class=\"charts\">"
    );
    let y_max = t
        .orgs
        .iter()
        .flat_map(|o| {
            (0..t.starts.len()).map(|i| {
                o.jurisdictions
                    .iter()
                    .map(|j| j.subjects.get(i).copied().unwrap_or(0))
                    .sum::<u64>()
            })
        })
        .max()
        .unwrap_or(0);
    // One org gets the page's width; several share it two by two.
    let width = if t.orgs.len() == 1 { 1100.0 } else { 540.0 };
    for org in &t.orgs {
        // Per jurisdiction, those read raw below those read otherwise only.
        let parts: Vec<(String, String, Vec<u64>, Vec<u64>)> = org
            .jurisdictions
            .iter()
            .map(|j| {
                let other = j
                    .subjects
                    .iter()
                    .zip(&j.raw)
                    .map(|(all, raw)| all.saturating_sub(*raw))
                    .collect();
                (
                    format!("{} 生 / raw", j.jurisdiction),
                    format!("{} その他 / other", j.jurisdiction),
                    j.raw.clone(),
                    other,
                )
            })
            .collect();
        let layers: Vec<svg::Layer<'_>> = org
            .jurisdictions
            .iter()
            .zip(&parts)
            .flat_map(|(j, (raw_label, other_label, raw, other))| {
                let (light, dark) = jurisdiction_colors(&j.jurisdiction);
                [
                    svg::Layer {
                        label: raw_label,
                        color: dark,
                        values: raw,
                    },
                    svg::Layer {
                        label: other_label,
                        color: light,
                        values: other,
                    },
                ]
            })
            // A layer of zeros draws nothing and would only crowd the legend.
            .filter(|l| l.values.iter().any(|v| *v > 0))
            .collect();
        out.push_str(&svg::stacked_area(&org.org, &t.starts, &layers, y_max, width));
    }
    if t.orgs.is_empty() {
        out.push_str("<p>データを返した記録はありません / no record in the selection returned data.</p>");
    }
    out.push_str("</div></section>\n");
}

fn heat(out: &mut String, report: &AccessReport) {
    let mut categories: Vec<Category> = report
        .principals
        .iter()
        .flat_map(|p| p.levels.iter().map(|l| l.category))
        .collect();
    categories.sort();
    categories.dedup();
    let mut rows: Vec<svg::HeatRow<'_>> = Vec::new();
    for p in &report.principals {
        for level in [Level::Raw, Level::Masked, Level::Pseudonymized] {
            rows.push(svg::HeatRow {
                group: &p.principal,
                label: level_ja(level),
                color: level_color(level),
                values: categories
                    .iter()
                    .map(|c| {
                        p.levels
                            .iter()
                            .find(|l| l.category == *c && l.level == level)
                            .map_or(0, |l| l.subjects)
                    })
                    .collect(),
            });
        }
    }
    let columns: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
    let _ = write!(
        out,
        "<section id=\"heat-map\"><h2>ヒートマップ / Principal × category × level</h2>\n\
         <p class=\"note\">各セルは、その者がその区分の列をその水準で読んだ対象者の人数（重複なし、全法域）。 \
         Each cell: distinct data subjects whose data of that category the principal read at that level, all jurisdictions together \
         (a subject counts under every personal column of a statement that read them).</p>\n{}</section>\n",
        svg::heat_map("principal × category × level", &columns, &rows)
    );
}

fn flows(out: &mut String, report: &AccessReport) {
    let bands: Vec<svg::Band<'_>> = report
        .flows
        .iter()
        .map(|f| svg::Band {
            from: &f.country,
            to: &f.jurisdiction,
            value: f.subjects,
            part: f.raw,
            color: if f.country == f.jurisdiction {
                "#9aa5b4"
            } else {
                jurisdiction_color(&f.jurisdiction)
            },
            part_color: "#7b1e14",
        })
        .collect();
    let _ = write!(
        out,
        "<section id=\"flows\"><h2>越境フロー / Cross-border flows: principals' country → subjects' jurisdiction</h2>\n\
         <p class=\"note\">帯の太さは読まれた対象者の人数（重複なし）、濃い部分は生データで読まれた対象者。灰色は国内。 \
         A band's thickness is the distinct subjects read; its dark top, those read raw; grey bands stay within one country.</p>\n{}",
        if bands.is_empty() {
            String::new()
        } else {
            svg::flows("country → jurisdiction", &bands, "read raw")
        }
    );
    let mut countries: Vec<&str> = report.flows.iter().map(|f| f.country.as_str()).collect();
    countries.sort_unstable();
    countries.dedup();
    let mut jurisdictions: Vec<&str> = report.flows.iter().map(|f| f.jurisdiction.as_str()).collect();
    jurisdictions.sort_unstable();
    jurisdictions.dedup();
    let mut header = vec!["国 / country \\ 法域 / subjects in"];
    header.extend(jurisdictions.iter().copied());
    let rows: Vec<Vec<String>> = countries
        .iter()
        .map(|c| {
            std::iter::once(td(c))
                .chain(jurisdictions.iter().map(|j| {
                    match report
                        .flows
                        .iter()
                        .find(|f| f.country == *c && f.jurisdiction == *j)
                    {
                        Some(f) => format!(
                            "<td class=\"n{}\">{} <small>(raw {})</small></td>",
                            if c != j { " across" } else { "" },
                            thousands(f.subjects),
                            thousands(f.raw)
                        ),
                        None => "<td class=\"n\">–</td>".to_owned(),
                    }
                }))
                .collect()
        })
        .collect();
    if !rows.is_empty() {
        table(out, &header, &rows);
    }
    out.push_str("</section>\n");
}

fn principal(out: &mut String, p: &PrincipalAccess) {
    let _ = writeln!(
        out,
        "<section class=\"principal\"><h2>{} <small>— 組織 / org {}, 国 / country {}</small></h2>",
        esc(&p.principal),
        esc(&p.org),
        esc(&p.country)
    );
    let per: Vec<String> = p
        .subjects
        .iter()
        .map(|j| format!("{} {}", j.jurisdiction, thousands(j.subjects)))
        .collect();
    table(
        out,
        &["", ""],
        &[
            vec![
                td("データを返した文 / statements that read data"),
                td_n(p.statements),
            ],
            vec![td("拒否 / denied"), td_n(p.denied.len() as u64)],
            vec![
                td("最初・最後 / first, last"),
                td(&format!(
                    "{} – {}",
                    p.first.as_deref().unwrap_or("-"),
                    p.last.as_deref().unwrap_or("-")
                )),
            ],
            vec![
                td("法域別の対象者 / distinct subjects by jurisdiction"),
                td(&if per.is_empty() {
                    "-".to_owned()
                } else {
                    per.join(", ")
                }),
            ],
            vec![
                td(&format!(
                    "{} 以外の対象者 / subjects outside {}",
                    p.country, p.country
                )),
                td_n(p.subjects_abroad),
            ],
        ],
    );
    if !p.categories.is_empty() {
        out.push_str("<h3>区分別 / By category</h3>\n");
        let rows: Vec<Vec<String>> = p
            .categories
            .iter()
            .map(|c| {
                let across = c.jurisdiction != p.country && c.level == Level::Raw;
                vec![
                    td(c.category.as_str()),
                    td(&c.jurisdiction),
                    format!(
                        "<td class=\"{}\">{}{}</td>",
                        level_class(c.level),
                        esc(level_ja(c.level)),
                        if across {
                            "<span class=\"badge\">越境 / ACROSS</span>"
                        } else {
                            ""
                        }
                    ),
                    td_n(c.subjects),
                ]
            })
            .collect();
        table(
            out,
            &[
                "区分 / category",
                "法域 / subjects in",
                "水準 / level",
                "対象者 / subjects",
            ],
            &rows,
        );
    }
    if !p.timeline.is_empty() {
        let _ = write!(
            out,
            "<details><summary>日別 / Timeline by UTC day ({} days)</summary>",
            p.timeline.len()
        );
        let rows: Vec<Vec<String>> = p
            .timeline
            .iter()
            .map(|d| vec![td(&d.day), td_n(d.statements), td_n(d.subjects)])
            .collect();
        table(
            out,
            &["日 / day", "文 / statements", "対象者 / distinct subjects"],
            &rows,
        );
        out.push_str("</details>\n");
    }
    cited(
        out,
        "越境した生データの読み取り / Raw reads across the border",
        &p.cross_border_raw,
        true,
    );
    cited(out, "拒否された試み / Denied attempts", &p.denied, false);
    out.push_str("</section>\n");
}

/// The records a principal's section cites, each with its proof; folded when long.
fn cited(out: &mut String, title: &str, records: &[Cited], raw: bool) {
    if records.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<details{}><summary><b>{}</b> ({})</summary>",
        if records.len() <= 10 { " open" } else { "" },
        esc(title),
        records.len()
    );
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|c| {
            let what = if raw {
                let subjects: Vec<String> = c
                    .subjects
                    .iter()
                    .map(|(j, n)| format!("{j} {}", thousands(*n)))
                    .collect();
                format!("{} · subjects {}", c.columns.join(" "), subjects.join(", "))
            } else if c.policies.is_empty() {
                "no policy permitting it".to_owned()
            } else {
                format!("decided by {}", c.policies.join(", "))
            };
            vec![
                td(&format!("#{}", c.index)),
                td(&c.time),
                td(&what),
                td_code(&c.statement),
                proof_cell(c),
            ]
        })
        .collect();
    table(
        out,
        &[
            "記録 / record",
            "時刻 / time (UTC)",
            if raw {
                "列と対象者 / columns, subjects"
            } else {
                "判断 / decision"
            },
            "文 / statement (literals redacted)",
            "包含証明 / inclusion proof",
        ],
        &rows,
    );
    out.push_str("</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Selection, Timeline};
    use crate::evidence::CheckpointEvidence;

    fn report(statement: &str, principal: &str) -> AccessReport {
        AccessReport {
            verification: crate::Verification::unchecked(),
            checkpoint: CheckpointEvidence {
                origin: "kamei.example/log".into(),
                size: 3,
                root: "ab".repeat(32),
                note: "kamei.example/log\n3\nq80=\n\n— kamei.example/log sig\n".into(),
                verifier_key: Some("kamei.example/log+01234567+AAAA".into()),
            },
            selection: Selection {
                org: Some(principal.into()),
                ..Selection::default()
            },
            records: 2,
            principals: vec![PrincipalAccess {
                principal: principal.into(),
                org: principal.into(),
                country: "CN".into(),
                statements: 1,
                first: Some("2026-01-05T01:00:00Z".into()),
                last: Some("2026-01-05T01:00:00Z".into()),
                subjects: vec![],
                subjects_abroad: 1,
                categories: vec![],
                levels: vec![],
                timeline: vec![],
                cross_border_raw: vec![Cited {
                    index: 1,
                    time: "2026-01-05T01:00:00Z".into(),
                    statement: statement.into(),
                    columns: vec!["users.phone".into()],
                    subjects: [("JP".to_owned(), 1)].into(),
                    policies: vec![],
                    proof: None,
                }],
                denied: vec![Cited {
                    index: 2,
                    time: "2026-01-05T02:00:00Z".into(),
                    statement: statement.into(),
                    columns: vec![],
                    subjects: Default::default(),
                    policies: vec![statement.into()],
                    proof: None,
                }],
            }],
            timeline: Timeline::default(),
            flows: vec![],
        }
    }

    /// Regression guard for the page's one injection channel: strings from the log. A
    /// statement (or a name, or a policy id) that closes the evidence's script element and
    /// opens an image with a handler is shown as text and left a string in the JSON.
    #[test]
    fn a_statement_that_closes_the_script_renders_inert() {
        let evil = "SELECT '</script><img src=x onerror=alert(1)>'";
        let r = report(evil, "<b>org</b>");
        let page = access_html(&r).unwrap();
        assert!(!page.contains("<img"), "an element from the log");
        assert!(!page.contains("<b>org"), "markup in a name");
        assert!(page.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
        // One script element only, the evidence; it ends where the page put its end.
        assert_eq!(page.matches("<script").count(), 1);
        assert_eq!(page.matches("</script>").count(), 1);
        let start = page
            .find("<script type=\"application/json\" id=\"evidence\">")
            .unwrap();
        let body = &page[start..];
        let json = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
        let embedded: serde_json::Value = serde_json::from_str(json).unwrap();
        // The evidence is the JSON report, byte for byte once parsed.
        assert_eq!(embedded, serde_json::to_value(&r).unwrap());
        assert_eq!(
            embedded["principals"][0]["cross_border_raw"][0]["statement"],
            evil
        );
        // Nothing fetched, nothing run.
        assert!(page.contains("default-src 'none'"));
        for fetch in ["http://", "https://", "src=\"", "@import", "url("] {
            assert!(!page.contains(fetch), "{fetch}");
        }
    }

    #[test]
    fn the_checkpoint_is_shown_and_labels_are_in_both_languages() {
        let page = access_html(&report("SELECT 1", "ldt-shanghai")).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<section id=\"checkpoint\">"));
        assert!(page.contains(&"ab".repeat(32)));
        assert!(page.contains("kamei.example/log\n3\nq80=\n"));
        assert!(page.contains("アクセス報告 / Access report"));
        assert!(page.contains("越境した生データの読み取り / Raw reads across the border"));
    }
}
