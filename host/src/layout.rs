//! Makes `abi_stable`'s layout-checker reports readable.
//!
//! A layout mismatch prints hundreds of lines; the useful part is its last
//! `Error:` block. [`summarize`] keeps that, in one line.

/// The last `Error:` block of an `abi_stable` layout report, on one line.
pub(crate) fn summarize(report: &str) -> String {
    let lines: Vec<&str> = report.lines().map(str::trim).collect();
    let start = lines
        .iter()
        .rposition(|l| l.starts_with("Error:"))
        .unwrap_or(0);
    let mut parts: Vec<&str> = Vec::new();
    for line in &lines[start..] {
        if line.is_empty() && !parts.is_empty() {
            break;
        }
        if !line.is_empty() {
            parts.push(line);
        }
    }
    let mut summary = parts.join(" ").replace("Error: ", "").replace("Error:", "");
    summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    const MAX: usize = 240;
    if summary.len() > MAX {
        let cut = (0..=MAX)
            .rev()
            .find(|&i| summary.is_char_boundary(i))
            .unwrap_or(0);
        summary.truncate(cut);
        summary.push('…');
    }
    if summary.is_empty() {
        "the type layouts differ".to_owned()
    } else {
        summary
    }
}
