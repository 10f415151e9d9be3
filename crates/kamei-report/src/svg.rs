//! Charts as inline SVG, drawn here rather than by a script in the page, so the HTML report
//! shows them with scripts off, prints them, and fetches nothing. Each chart takes labels and
//! numbers only; what they mean is html.rs's business. Every label is escaped here, as it may
//! come from the log. Drawn marks carry `class="mark"` (a test counts them) and a `<title>`
//! that a browser shows on hover.

use std::fmt::Write as _;

use crate::escape::html as esc;
use kamei_core::thousands;

/// One series of a stacked area chart.
pub(crate) struct Layer<'a> {
    pub label: &'a str,
    pub color: &'a str,
    /// One value per x label.
    pub values: &'a [u64],
}

/// A round step for about five axis ticks up to `max`: 1, 2 or 5 times a power of ten.
fn tick_step(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if max.div_ceil(s) <= 5 {
                return s;
            }
        }
        step = step.saturating_mul(10);
    }
}

fn open(out: &mut String, width: f64, height: f64, title: &str) {
    let _ = write!(
        out,
        r#"<svg viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    );
}

/// A stacked area chart `width` pixels wide: `layers` stacked bottom-up over `x_labels` (days,
/// `YYYY-MM-DD`), on a y axis up to `y_max` (shared between charts that should be compared).
pub(crate) fn stacked_area(
    title: &str,
    x_labels: &[String],
    layers: &[Layer<'_>],
    y_max: u64,
    width: f64,
) -> String {
    // Legend rows under the axis, as many as the labels need (estimated as the loop below lays them out).
    let legend_rows = {
        let (mut x, mut rows) = (0.0, 1.0);
        for l in layers {
            let w = 22.0 + 7.5 * l.label.chars().count() as f64;
            if x + w > width - 80.0 && x > 0.0 {
                x = 0.0;
                rows += 1.0;
            }
            x += w;
        }
        rows
    };
    let (left, right, top, bottom) = (52.0, 28.0, 30.0, 30.0 + 16.0 * legend_rows);
    let height = 200.0 + bottom;
    let (pw, ph) = (width - left - right, height - top - bottom);
    let n = x_labels.len();
    let step = tick_step(y_max.max(1));
    let top_value = (y_max.max(1)).div_ceil(step) * step;
    let x = |i: usize| {
        if n <= 1 {
            left + if i == 0 { 0.0 } else { pw }
        } else {
            left + pw * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: u64| top + ph - ph * v as f64 / top_value as f64;
    let mut out = String::new();
    open(&mut out, width, height, title);
    let _ = write!(
        out,
        r#"<text x="{left}" y="16" class="chart-title">{}</text>"#,
        esc(title)
    );
    // Axes and grid.
    let mut v = 0;
    while v <= top_value {
        let _ = write!(
            out,
            r#"<line x1="{left}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" class="grid"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            left + pw,
            left - 6.0,
            y(v) + 4.0,
            thousands(v),
            y = y(v)
        );
        v += step;
    }
    let every = n.div_ceil((pw / 70.0).max(1.0) as usize).max(1);
    for (i, label) in x_labels.iter().enumerate().step_by(every) {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"#,
            x(i),
            top + ph + 16.0,
            esc(label.get(5..).unwrap_or(label))
        );
    }
    // The areas, bottom layer first. One point is drawn as a band across the whole width.
    let points = n.max(1);
    let value = |l: &Layer<'_>, i: usize| l.values.get(i.min(n.saturating_sub(1))).copied().unwrap_or(0);
    let mut below = vec![0u64; points + usize::from(n == 1)];
    for layer in layers {
        let cols = below.len();
        let above: Vec<u64> = (0..cols).map(|i| below[i] + value(layer, i)).collect();
        let mut d = String::new();
        for (i, v) in above.iter().enumerate() {
            let _ = write!(d, "{}{:.1},{:.1} ", if i == 0 { "M" } else { "L" }, x(i), y(*v));
        }
        for (i, v) in below.iter().enumerate().rev() {
            let _ = write!(d, "L{:.1},{:.1} ", x(i), y(*v));
        }
        let total: u64 = layer.values.iter().sum();
        let _ = write!(
            out,
            r#"<path class="mark" d="{}Z" fill="{}" fill-opacity="0.85"><title>{}: {} subject-periods</title></path>"#,
            d,
            esc(layer.color),
            esc(layer.label),
            thousands(total)
        );
        below = above;
    }
    // Hover targets per period, naming each layer's count.
    if n > 1 {
        let half = pw / (n - 1) as f64 / 2.0;
        for (i, label) in x_labels.iter().enumerate() {
            let parts: Vec<String> = layers
                .iter()
                .map(|l| format!("{} {}", l.label, thousands(value(l, i))))
                .collect();
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{top}" width="{:.1}" height="{ph}" class="hover"><title>{}: {}</title></rect>"#,
                x(i) - half,
                2.0 * half,
                esc(label),
                esc(&parts.join(", "))
            );
        }
    }
    // The legend under the axis, in stacking order, wrapping at the chart's width.
    let (mut lx, mut ly) = (left, top + ph + 34.0);
    for layer in layers {
        let w = 22.0 + 7.5 * layer.label.chars().count() as f64;
        if lx + w > width - right && lx > left {
            lx = left;
            ly += 16.0;
        }
        let _ = write!(
            out,
            r#"<rect x="{lx:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{ly:.1}" class="tick">{}</text>"#,
            ly - 9.0,
            esc(layer.color),
            lx + 14.0,
            esc(layer.label)
        );
        lx += w;
    }
    out.push_str("</svg>");
    out
}

/// One row of a heat map.
pub(crate) struct HeatRow<'a> {
    /// Rows of one group (a principal) are drawn together, the group named on its first row.
    pub group: &'a str,
    pub label: &'a str,
    pub color: &'a str,
    /// One value per column.
    pub values: Vec<u64>,
}

/// A heat map: a cell per row and column, its colour the row's, its strength the value on a
/// log scale (so that ten subjects still show next to ten thousand), the value written in it.
pub(crate) fn heat_map(title: &str, columns: &[&str], rows: &[HeatRow<'_>]) -> String {
    let (group_w, label_w, cell_w, cell_h, head) = (130.0, 150.0, 74.0, 24.0, 92.0);
    let left = group_w + label_w;
    // Room on the right for the last column's slanted name.
    let width = left + cell_w * columns.len().max(1) as f64 + 70.0;
    let height = head + cell_h * rows.len() as f64 + 10.0;
    let max = rows
        .iter()
        .flat_map(|r| r.values.iter().copied())
        .max()
        .unwrap_or(0);
    let scale = ((max + 1) as f64).ln().max(f64::MIN_POSITIVE);
    let mut out = String::new();
    open(&mut out, width, height, title);
    for (i, c) in columns.iter().enumerate() {
        let cx = left + cell_w * (i as f64 + 0.5);
        let _ = write!(
            out,
            r#"<text x="{cx:.1}" y="{:.1}" class="tick" transform="rotate(-35 {cx:.1} {:.1})">{}</text>"#,
            head - 8.0,
            head - 8.0,
            esc(c)
        );
    }
    let mut last_group = None;
    for (r, row) in rows.iter().enumerate() {
        let y = head + cell_h * r as f64;
        if last_group != Some(row.group) {
            if last_group.is_some() {
                let _ = write!(
                    out,
                    r#"<line x1="0" x2="{width:.1}" y1="{y:.1}" y2="{y:.1}" class="sep"/>"#
                );
            }
            let _ = write!(
                out,
                r#"<text x="0" y="{:.1}" class="group">{}</text>"#,
                y + 16.0,
                esc(row.group)
            );
            last_group = Some(row.group);
        }
        let _ = write!(
            out,
            r#"<text x="{group_w}" y="{:.1}" class="tick">{}</text>"#,
            y + 16.0,
            esc(row.label)
        );
        for (i, v) in row.values.iter().enumerate() {
            let x = left + cell_w * i as f64;
            let column = columns.get(i).copied().unwrap_or("");
            if *v == 0 {
                let _ = write!(
                    out,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" class="empty"/>"#,
                    x + 1.0,
                    y + 1.0,
                    cell_w - 2.0,
                    cell_h - 2.0
                );
                continue;
            }
            let strength = 0.15 + 0.85 * ((*v + 1) as f64).ln() / scale;
            let _ = write!(
                out,
                r#"<rect class="mark" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}" fill-opacity="{strength:.2}"><title>{} · {} · {}: {} subjects</title></rect><text x="{:.1}" y="{:.1}" text-anchor="middle" class="{}">{}</text>"#,
                x + 1.0,
                y + 1.0,
                cell_w - 2.0,
                cell_h - 2.0,
                esc(row.color),
                esc(row.group),
                esc(row.label),
                esc(column),
                thousands(*v),
                x + cell_w / 2.0,
                y + 16.0,
                if strength > 0.6 { "cell dark" } else { "cell" },
                thousands(*v)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A flow from a left node to a right node.
pub(crate) struct Band<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub value: u64,
    /// The part of `value` drawn darker at the top of the band (e.g. read raw).
    pub part: u64,
    pub color: &'a str,
    pub part_color: &'a str,
}

/// A Sankey-like flow chart: left nodes (in order of first appearance in `bands`) joined to
/// right nodes by bands as thick as their values (at least 2 px, so a small flow still shows).
pub(crate) fn flows(title: &str, bands: &[Band<'_>], part_label: &str) -> String {
    let (width, node_w, gap, top) = (640.0, 14.0, 14.0, 30.0);
    let (x0, x1) = (70.0, width - 110.0);
    let mut lefts: Vec<&str> = Vec::new();
    let mut rights: Vec<&str> = Vec::new();
    for b in bands {
        if !lefts.contains(&b.from) {
            lefts.push(b.from);
        }
        if !rights.contains(&b.to) {
            rights.push(b.to);
        }
    }
    let total: u64 = bands.iter().map(|b| b.value).sum();
    let room = 180.0;
    let scale = room / total.max(1) as f64;
    let thick = |v: u64| (v as f64 * scale).max(2.0);
    // Each node's top and height, on the left (`from`) or the right (`to`).
    let side = |nodes: &[&str], left: bool| -> Vec<(f64, f64)> {
        let mut y = top;
        nodes
            .iter()
            .map(|n| {
                let h: f64 = bands
                    .iter()
                    .filter(|b| (if left { b.from } else { b.to }) == *n)
                    .map(|b| thick(b.value))
                    .sum();
                let at = (y, h);
                y += h + gap;
                at
            })
            .collect()
    };
    let left_at = side(&lefts, true);
    let right_at = side(&rights, false);
    let height = left_at
        .iter()
        .chain(&right_at)
        .map(|(y, h)| y + h)
        .fold(top, f64::max)
        + 12.0;
    let mut out = String::new();
    open(&mut out, width, height, title);
    let _ = write!(
        out,
        r#"<text x="0" y="16" class="chart-title">{}</text>"#,
        esc(title)
    );
    // Where the next band leaves each left node and enters each right node.
    let mut left_next: Vec<f64> = left_at.iter().map(|(y, _)| *y).collect();
    let mut right_next: Vec<f64> = right_at.iter().map(|(y, _)| *y).collect();
    // Bands enter a right node in the order of their left nodes.
    let mut order: Vec<&Band<'_>> = bands.iter().collect();
    order.sort_by_key(|b| {
        (
            lefts.iter().position(|n| *n == b.from),
            rights.iter().position(|n| *n == b.to),
        )
    });
    let band_path = |ya: f64, yb: f64, h: f64| {
        let (a, c) = (x0 + node_w, x1);
        let m = (a + c) / 2.0;
        format!(
            "M{a:.1},{ya:.1} C{m:.1},{ya:.1} {m:.1},{yb:.1} {c:.1},{yb:.1} L{c:.1},{:.1} C{m:.1},{:.1} {m:.1},{:.1} {a:.1},{:.1} Z",
            yb + h,
            yb + h,
            ya + h,
            ya + h
        )
    };
    for b in order {
        let (Some(l), Some(r)) = (
            lefts.iter().position(|n| *n == b.from),
            rights.iter().position(|n| *n == b.to),
        ) else {
            continue;
        };
        let h = thick(b.value);
        let (ya, yb) = (left_next[l], right_next[r]);
        left_next[l] += h;
        right_next[r] += h;
        let _ = write!(
            out,
            r#"<path class="mark" d="{}" fill="{}" fill-opacity="0.55"><title>{} → {}: {} subjects, {} {}</title></path>"#,
            band_path(ya, yb, h),
            esc(b.color),
            esc(b.from),
            esc(b.to),
            thousands(b.value),
            thousands(b.part),
            esc(part_label)
        );
        if b.part > 0 {
            let ph = (h * b.part as f64 / b.value.max(1) as f64).max(1.5);
            let _ = write!(
                out,
                r#"<path class="mark" d="{}" fill="{}" fill-opacity="0.9"><title>{} → {}: {} subjects {}</title></path>"#,
                band_path(ya, yb, ph),
                esc(b.part_color),
                esc(b.from),
                esc(b.to),
                thousands(b.part),
                esc(part_label)
            );
        }
        if h >= 14.0 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" class="band" text-anchor="end">{}</text>"#,
                x1 - 6.0,
                yb + h / 2.0 + 4.0,
                thousands(b.value)
            );
        }
    }
    for (nodes, at, x, anchor, tx) in [
        (&lefts, &left_at, x0, "end", x0 - 6.0),
        (&rights, &right_at, x1, "start", x1 + node_w + 6.0),
    ] {
        for (n, (y, h)) in nodes.iter().zip(at.iter()) {
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{node_w}" height="{h:.1}" class="node"/><text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" class="group">{}</text>"#,
                y + h / 2.0 + 5.0,
                esc(n)
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_about_five() {
        for (max, step) in [
            (1, 1),
            (5, 1),
            (6, 2),
            (10, 2),
            (11, 5),
            (25, 5),
            (26, 10),
            (999, 200),
            (1_000, 200),
        ] {
            assert_eq!(tick_step(max), step, "{max}");
        }
    }

    /// Labels from the log are escaped in every chart.
    #[test]
    fn labels_are_escaped() {
        let evil = "<script>alert(1)</script>";
        let x = ["2026-01-05".to_owned(), "2026-01-12".to_owned()];
        let charts = [
            stacked_area(
                evil,
                &x,
                &[Layer {
                    label: evil,
                    color: "#000",
                    values: &[1, 2],
                }],
                2,
                560.0,
            ),
            heat_map(
                evil,
                &[evil],
                &[HeatRow {
                    group: evil,
                    label: evil,
                    color: "#000",
                    values: vec![3],
                }],
            ),
            flows(
                evil,
                &[Band {
                    from: evil,
                    to: evil,
                    value: 3,
                    part: 1,
                    color: "#000",
                    part_color: "#111",
                }],
                evil,
            ),
        ];
        for svg in charts {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(svg.contains("&lt;script&gt;"), "{svg}");
            assert!(svg.contains(r#"class="mark""#), "{svg}");
        }
    }

    /// One period still draws an area (across the whole width); no period draws none.
    #[test]
    fn one_period_draws_a_band() {
        let svg = stacked_area(
            "t",
            &["2026-01-05".to_owned()],
            &[Layer {
                label: "JP",
                color: "#000",
                values: &[4],
            }],
            4,
            560.0,
        );
        assert_eq!(svg.matches(r#"class="mark""#).count(), 1);
        assert!(!svg.contains("NaN"), "{svg}");
        let svg = stacked_area("t", &[], &[], 0, 560.0);
        assert!(!svg.contains("NaN") && !svg.contains("class=\"mark\""), "{svg}");
    }
}
