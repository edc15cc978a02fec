//! The `report` output (what a deployment record keeps) and the step
//! summary: one row per image.

use relay_provenance::Mode;
use relay_runtime::md_code;
use serde::Serialize;

use crate::check::{Row, Verdict};
use crate::config::{Config, mode_name};

/// The `report` output: the shape a deployment record's payload carries.
#[derive(Debug, Serialize)]
pub(crate) struct Report<'a> {
    /// `require`, `warn` or `off`, as applied.
    pub mode: &'static str,
    /// Every image verified.
    pub verified: bool,
    pub images: Vec<ImageReport<'a>>,
}

/// One image. Every key is always written; what is unknown is `null`.
#[derive(Debug, Serialize)]
pub(crate) struct ImageReport<'a> {
    pub key: &'a str,
    #[serde(rename = "ref")]
    pub reference: &'a str,
    pub digest: Option<&'a str>,
    pub verdict: &'static str,
    /// The certificate's SAN: `https://github.com/<owner>/<repo>/.github/workflows/<file>@<ref>`.
    pub signer_workflow: Option<&'a str>,
    pub source_repository: Option<&'a str>,
    /// The ref that was built (`refs/heads/main`).
    pub source_ref: Option<&'a str>,
    pub source_commit: Option<&'a str>,
    /// The transparency log entry's index, when the bundle has one.
    pub log_index: Option<u64>,
    /// The earliest signing time proven (RFC 3339).
    pub signed_at: Option<&'a str>,
    /// Whether an RFC 3161 timestamp proved a signing time.
    pub timestamped: Option<bool>,
    /// The trusted root the certificate chained to.
    pub root: Option<&'a str>,
    /// Why it was not verified.
    pub reason: Option<&'a str>,
}

pub(crate) fn report(mode: Mode, rows: &[Row]) -> Report<'_> {
    Report {
        mode: mode_name(mode),
        verified: all_verified(rows),
        images: rows
            .iter()
            .map(|r| {
                let v = r.verified.as_ref();
                ImageReport {
                    key: &r.image.key,
                    reference: &r.image.reference,
                    digest: r.image.digest.as_deref(),
                    verdict: r.verdict.as_str(),
                    signer_workflow: v.map(|v| v.signer_workflow.as_str()),
                    source_repository: v.map(|v| v.source_repository.as_str()),
                    source_ref: v.map(|v| v.source_ref.as_str()),
                    source_commit: v.map(|v| v.source_commit.as_str()),
                    log_index: v.and_then(|v| v.log_index),
                    signed_at: v.map(|v| v.signed_at.as_str()),
                    timestamped: v.map(|v| v.timestamped),
                    root: v.map(|v| v.root.as_str()),
                    reason: r.reason.as_deref(),
                }
            })
            .collect(),
    }
}

/// Every image verified (and there was at least one).
pub(crate) fn all_verified(rows: &[Row]) -> bool {
    !rows.is_empty() && rows.iter().all(|r| r.verdict == Verdict::Verified)
}

fn verdict_cell(row: &Row, mode: Mode) -> &'static str {
    match (row.verdict, mode) {
        (Verdict::Verified, _) => "✅ verified",
        (Verdict::Skipped, _) => "skipped",
        (Verdict::Tag, _) => "⚠️ tag, not verified",
        (Verdict::Missing, Mode::Require) => "❌ no attestation",
        (Verdict::Missing, _) => "⚠️ no attestation",
        (Verdict::Refused, Mode::Require) => "❌ refused",
        (Verdict::Refused, _) => "⚠️ refused",
        (Verdict::Unavailable, Mode::Require) => "❌ unavailable",
        (Verdict::Unavailable, _) => "⚠️ unavailable",
    }
}

pub(crate) fn summary(config: &Config, rows: &[Row]) -> String {
    let total = rows.len();
    let ok = rows
        .iter()
        .filter(|r| r.verdict == Verdict::Verified)
        .count();
    let title = if config.mode == Mode::Off {
        "Provenance not checked (`provenance: off`)".to_owned()
    } else if all_verified(rows) {
        format!("Provenance verified: {ok} of {total} image(s)")
    } else if config.mode == Mode::Require {
        format!(
            "Provenance NOT verified: {ok} of {total} image(s); the deploy stops here (`provenance: require`)"
        )
    } else {
        format!(
            "Provenance not verified: {ok} of {total} image(s) (`provenance: warn`, the deploy goes on)"
        )
    };
    let mut out = format!(
        "### {title}\n\n{} at {}; `provenance: {}`: {}.\n\n",
        md_code(config.repository.as_str()),
        md_code(&config.sha),
        mode_name(config.mode),
        config.mode_why(md_code),
    );
    if rows.is_empty() {
        out.push_str("No images were given.\n");
        return out;
    }
    out.push_str("| image | digest | signer workflow | ref | commit | log index | verdict |\n|---|---|---|---|---|---|---|\n");
    for row in rows {
        let v = row.verified.as_ref();
        let code = |s: Option<&str>| s.map(md_code).unwrap_or_default();
        let log = v
            .map(|v| match v.log_index {
                Some(i) => i.to_string(),
                None => format!("timestamp {}", md_code(&v.signed_at)),
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} {} | {} | {} | {} | {} | {log} | {} |\n",
            md_code(&row.image.key),
            md_code(&row.image.reference),
            code(row.image.digest.as_deref()),
            code(v.map(|v| v.signer_workflow.as_str())),
            code(v.map(|v| v.source_ref.as_str())),
            code(v.map(|v| v.source_commit.as_str())),
            verdict_cell(row, config.mode),
        ));
    }
    let why: Vec<String> = rows
        .iter()
        .filter(|r| r.verdict != Verdict::Skipped)
        .filter_map(|r| {
            r.reason
                .as_ref()
                .map(|reason| format!("- {}: {}\n", md_code(&r.image.key), md_code(reason)))
        })
        .collect();
    if !why.is_empty() {
        out.push_str("\nWhy not verified:\n\n");
        out.push_str(&why.concat());
    }
    out
}
