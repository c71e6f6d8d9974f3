//! The "cost against data size" section (`benches/load/scale.sh` → `target/load/scale.json`): a
//! table per backend, the issue's goals as ratios within the run, and `docs/src/scale.svg`, the
//! server's CPU per request against the number of users, one line per endpoint.

use std::fmt::Write as _;

use serde_json::Value;

use super::root;

/// The section sits between these markers, so that it can be rewritten alone
/// (`report --scale`) and kept when a full report runs without its data.
pub(crate) const BEGIN: &str = "<!-- scale: generated from target/load/scale.json -->";
pub(crate) const END: &str = "<!-- /scale -->";

const REFERENCE: &str = "GET /api/me (reference)";
/// Endpoints whose throughput the goals compare with `/api/me`'s.
const DISCOVERY: [&str; 2] = ["hot list", "nearby"];
const COLOURS: [&str; 9] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f",
];

struct Row {
    backend: String,
    users: u64,
    endpoint: String,
    rps: f64,
    p50: String,
    p99: String,
    cpu_us: f64,
}

/// wrk's latency ("253.35us", "1.77ms", "1.20s") in milliseconds.
fn ms(latency: &str) -> Option<f64> {
    let split = latency.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = latency.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

fn rows(scale: &Value) -> Vec<Row> {
    scale["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| Row {
            backend: r["backend"].as_str().unwrap_or("").to_owned(),
            users: r["users"].as_u64().unwrap_or(0),
            endpoint: r["endpoint"].as_str().unwrap_or("").to_owned(),
            rps: r["rps"].as_f64().unwrap_or(0.0),
            p50: r["p50"].as_str().unwrap_or("").to_owned(),
            p99: r["p99"].as_str().unwrap_or("").to_owned(),
            cpu_us: r["cpu_us"].as_f64().unwrap_or(0.0),
        })
        .collect()
}

fn backend_label(backend: &str) -> &str {
    match backend {
        "embedded" => "embedded default (SQLite + in-process store)",
        "postgres" => "PostgreSQL + Redis",
        other => other,
    }
}

fn users_label(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// Distinct values in first-seen order.
fn distinct<T: PartialEq + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// The section, from `target/load/scale.json` (and the plot beside it), or `None` without it.
pub(crate) fn section() -> Option<String> {
    let text = std::fs::read_to_string(root().join("target/load/scale.json")).ok()?;
    let scale: Value = serde_json::from_str(&text).ok()?;
    let rows = rows(&scale);
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}\n## Cost against data size\n");
    let _ = writeln!(
        out,
        "`benches/load/scale.sh`: every list endpoint at each number of demo users. {}\n",
        scale["setup"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        out,
        "![server CPU per request against demo users, per endpoint](scale.svg)\n"
    );
    for backend in distinct(rows.iter().map(|r| r.backend.clone())) {
        let mine: Vec<&Row> = rows.iter().filter(|r| r.backend == backend).collect();
        let _ = writeln!(out, "### {}\n", backend_label(&backend));
        let _ = writeln!(
            out,
            "| endpoint | users | requests/s | p50 | p99 | server CPU per request |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for endpoint in distinct(mine.iter().map(|r| r.endpoint.clone())) {
            for r in mine.iter().filter(|r| r.endpoint == endpoint) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.0} | {} | {} | {:.0} µs |",
                    r.endpoint,
                    users_label(r.users),
                    r.rps,
                    r.p50,
                    r.p99,
                    r.cpu_us
                );
            }
        }
        let _ = writeln!(out);
        goals(&mut out, &mine);
    }
    let _ = writeln!(out, "{END}");
    let svg = plot(&rows);
    let path = root().join("docs/src/scale.svg");
    std::fs::write(&path, svg).expect("docs/src is writable");
    Some(out)
}

/// The hot list's and nearby's throughput at the largest size, at least this share of
/// `/api/me`'s (the cost issue's goal).
const DISCOVERY_SHARE: f64 = 0.8;

/// The issue's goals, as ratios within the run: p99 at the largest size within 2× of the
/// smallest's; hot list and nearby at least [`DISCOVERY_SHARE`] of `/api/me`'s throughput at
/// the largest.
fn goals(out: &mut String, rows: &[&Row]) {
    let sizes = distinct(rows.iter().map(|r| r.users));
    let (Some(&small), Some(&large)) = (sizes.iter().min(), sizes.iter().max()) else {
        return;
    };
    let at = |endpoint: &str, users: u64| {
        rows.iter()
            .find(|r| r.endpoint == endpoint && r.users == users)
    };
    let reference = at(REFERENCE, large).map(|r| r.rps);
    let _ = writeln!(
        out,
        "| endpoint | p99 at {} ÷ p99 at {} (goal ≤ 2) | requests/s ÷ /api/me's at {} |",
        users_label(large),
        users_label(small),
        users_label(large)
    );
    let _ = writeln!(out, "|---|---|---|");
    for endpoint in distinct(rows.iter().map(|r| r.endpoint.clone())) {
        let growth = match (at(&endpoint, small), at(&endpoint, large)) {
            (Some(s), Some(l)) => match (ms(&s.p99), ms(&l.p99)) {
                (Some(s), Some(l)) if s > 0.0 => {
                    let ratio = l / s;
                    format!("{ratio:.2}× {}", if ratio <= 2.0 { "✓" } else { "✗" })
                }
                _ => "–".into(),
            },
            _ => "–".into(),
        };
        let share = match (at(&endpoint, large), reference) {
            (Some(l), Some(me)) if me > 0.0 => {
                let ratio = l.rps / me;
                let mark = if !DISCOVERY.contains(&endpoint.as_str()) {
                    ""
                } else if ratio >= DISCOVERY_SHARE {
                    " ✓ (goal ≥ 0.8)"
                } else {
                    " ✗ (goal ≥ 0.8)"
                };
                format!("{ratio:.2}{mark}")
            }
            _ => "–".into(),
        };
        let _ = writeln!(out, "| {endpoint} | {growth} | {share} |");
    }
    let _ = writeln!(out);
}

/// One panel per backend: x is the number of users, y the server's CPU per request, both on
/// log scales (the endpoints span two orders of magnitude).
fn plot(rows: &[Row]) -> String {
    let backends = distinct(rows.iter().map(|r| r.backend.clone()));
    let endpoints = distinct(rows.iter().map(|r| r.endpoint.clone()));
    let sizes = distinct(rows.iter().map(|r| r.users));
    let (panel_w, panel_h, left, top, gap) = (420.0, 300.0, 60.0, 40.0, 80.0);
    let width = left + backends.len() as f64 * (panel_w + gap) + 230.0;
    let height = top + panel_h + 60.0;
    let cpu = rows.iter().map(|r| r.cpu_us.max(1.0));
    let (lo, hi) = cpu.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (y_lo, y_hi) = (
        10f64.powf(lo.log10().floor()),
        10f64.powf(hi.log10().ceil()),
    );
    let (x_lo, x_hi) = (
        sizes.iter().copied().min().unwrap_or(1) as f64,
        sizes.iter().copied().max().unwrap_or(10) as f64,
    );
    let x_of = |panel: f64, users: u64| {
        let span = (x_hi.log10() - x_lo.log10()).max(1e-9);
        panel + 20.0 + (panel_w - 40.0) * ((users as f64).log10() - x_lo.log10()) / span
    };
    let y_of = |v: f64| {
        top + panel_h
            - panel_h * (v.max(1.0).log10() - y_lo.log10()) / (y_hi.log10() - y_lo.log10())
    };
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (b, backend) in backends.iter().enumerate() {
        let x0 = left + b as f64 * (panel_w + gap);
        let _ = writeln!(
            svg,
            r#"<text x="{:.0}" y="24" text-anchor="middle" font-weight="bold">{}</text>"#,
            x0 + panel_w / 2.0,
            backend_label(backend)
        );
        let _ = writeln!(
            svg,
            r##"<rect x="{x0:.0}" y="{top:.0}" width="{panel_w:.0}" height="{panel_h:.0}" fill="none" stroke="#999"/>"##
        );
        let mut decade = y_lo;
        while decade <= y_hi * 1.001 {
            let y = y_of(decade);
            let _ = writeln!(
                svg,
                r##"<line x1="{x0:.0}" x2="{:.0}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.0}" y="{:.1}" text-anchor="end">{decade:.0} µs</text>"##,
                x0 + panel_w,
                x0 - 4.0,
                y + 4.0
            );
            decade *= 10.0;
        }
        for &users in &sizes {
            let x = x_of(x0, users);
            let _ = writeln!(
                svg,
                r#"<text x="{x:.1}" y="{:.0}" text-anchor="middle">{} users</text>"#,
                top + panel_h + 18.0,
                users_label(users)
            );
        }
        for (e, endpoint) in endpoints.iter().enumerate() {
            let colour = COLOURS[e % COLOURS.len()];
            let points: Vec<String> = rows
                .iter()
                .filter(|r| &r.backend == backend && &r.endpoint == endpoint)
                .map(|r| format!("{:.1},{:.1}", x_of(x0, r.users), y_of(r.cpu_us)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
                points.join(" ")
            );
            for p in &points {
                let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(svg, r#"<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>"#);
            }
        }
    }
    let legend_x = left + backends.len() as f64 * (panel_w + gap);
    for (e, endpoint) in endpoints.iter().enumerate() {
        let y = top + 10.0 + e as f64 * 20.0;
        let colour = COLOURS[e % COLOURS.len()];
        let _ = writeln!(
            svg,
            r#"<line x1="{legend_x:.0}" x2="{:.0}" y1="{y:.0}" y2="{y:.0}" stroke="{colour}" stroke-width="3"/><text x="{:.0}" y="{:.0}">{endpoint}</text>"#,
            legend_x + 20.0,
            legend_x + 26.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.0}" y="{:.0}" text-anchor="middle">server CPU per request (log) against demo users (log)</text>"#,
        width / 2.0,
        height - 8.0
    );
    let _ = writeln!(svg, "</svg>");
    svg
}

/// The section as it stands in `page` (kept when a full report has no scale data).
pub(crate) fn existing(page: &str) -> Option<String> {
    let start = page.find(BEGIN)?;
    let end = page[start..].find(END)? + start + END.len();
    Some(format!("{}\n", &page[start..end]))
}

/// Replaces the section in `page` (or appends it before the goals).
pub(crate) fn replace(page: &str, section: &str) -> String {
    if let (Some(start), Some(_)) = (page.find(BEGIN), page.find(END)) {
        let end = page[start..]
            .find(END)
            .map_or(page.len(), |e| start + e + END.len());
        let rest = page[end..].trim_start_matches('\n');
        return format!(
            "{}{}\n{}",
            &page[..start],
            section.trim_end(),
            format_args!("\n{rest}")
        );
    }
    match page.find("## Goals") {
        Some(at) => format!("{}{section}\n{}", &page[..at], &page[at..]),
        None => format!("{page}\n{section}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn latencies_read_in_milliseconds() {
        assert_eq!(super::ms("250.00us"), Some(0.25));
        assert_eq!(super::ms("1.5ms"), Some(1.5));
        assert_eq!(super::ms("1.20s"), Some(1200.0));
        assert_eq!(super::ms("fast"), None);
    }

    #[test]
    fn the_section_is_replaced_in_place() {
        let page = format!("# B\n\n{}\nold\n{}\n\n## Goals\n", super::BEGIN, super::END);
        let new = format!("{}\nnew\n{}\n", super::BEGIN, super::END);
        let out = super::replace(&page, &new);
        assert!(out.contains("new") && !out.contains("old"), "{out}");
        assert!(out.ends_with("## Goals\n"), "{out}");
        assert_eq!(super::existing(&out).unwrap(), new);
    }
}
