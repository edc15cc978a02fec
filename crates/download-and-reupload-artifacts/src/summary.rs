//! The step summary: one table row per artifact.

use relay_artifacts::{DigestCheck, Transferred};
use relay_runtime::md_code;

use crate::config::Config;

pub(crate) fn render(
    config: &Config,
    moved: &[Transferred],
    expired: &[String],
    skipped: Option<&str>,
) -> String {
    let mut out = format!(
        "### Artifacts of run {} in {}\n\n",
        config.run_id,
        md_code(config.repository.as_str())
    );
    if let Some(why) = skipped {
        out.push_str(&format!("Skipped, nothing relayed: {}.\n", md_code(why)));
    } else if moved.is_empty() {
        out.push_str("No artifacts matched.\n");
    } else {
        out.push_str("| artifact | size | sha256 | digest check | re-uploaded as | files |\n|---|--:|---|---|---|--:|\n");
        for m in moved {
            let check = match &m.check {
                DigestCheck::Match => "matches",
                DigestCheck::Unknown => "none recorded",
                DigestCheck::Mismatch { .. } => "**mismatch**",
                DigestCheck::Skipped => "off",
            };
            let reupload = match &m.reupload {
                Some(r) if r.replaced => format!("{} (id {}, replaced)", md_code(&r.name), r.id),
                Some(r) => format!("{} (id {})", md_code(&r.name), r.id),
                None => "—".to_owned(),
            };
            let hex = m.digest.trim_start_matches("sha256:");
            out.push_str(&format!(
                "| {} | {} | `{}…` | {check} | {reupload} | {} |\n",
                md_code(&m.name),
                human_size(m.size),
                hex.get(..16).unwrap_or(hex),
                m.files.map_or_else(|| "—".to_owned(), |n| n.to_string()),
            ));
        }
    }
    if !expired.is_empty() {
        out.push_str(&format!(
            "\nSkipped (expired): {}\n",
            expired
                .iter()
                .map(|n| md_code(n))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_person_writes_them() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(1 << 30), "1.0 GiB");
    }
}
