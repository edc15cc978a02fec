//! The artifact inputs `download-and-reupload-artifacts` and the root
//! action (`relay-action`) both read, each parsed once here: the source
//! `run-id`, the re-upload names (`reupload-name`), the re-upload itself
//! (`retention-days`, `overwrite`), and what a listing that misses
//! something does (`if-no-artifact-found`) — with the one report both
//! actions print of what a listing set aside.

use relay_runtime::{Console, Env, InputError, Inputs, Placeholders};

use crate::error::{ArtifactError, quoted};
use crate::select::{Listing, Selection};
use crate::transfer::{ArtifactMove, Upload, check_moves};

/// `if-no-artifact-found`: what a selection that finds nothing (or misses
/// a named artifact) does. The relay needs "not there" to be an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfNone {
    /// A warning.
    Warn,
    /// An error: the step fails.
    Error,
    /// A line of the log.
    Ignore,
}

impl IfNone {
    /// Input `if-no-artifact-found`: `warn`, `error` or `ignore`.
    pub fn from_input(
        inputs: &relay_runtime::Inputs,
        name: &str,
    ) -> Result<Self, relay_runtime::InputError> {
        Ok(match inputs.choice(name, &["warn", "error", "ignore"])? {
            "error" => Self::Error,
            "ignore" => Self::Ignore,
            _ => Self::Warn,
        })
    }
}

/// Input `run-id`, when given: a workflow run id (a positive number).
/// `hint` says where the user finds the right one.
pub fn run_id_input(inputs: &Inputs, hint: &str) -> Result<Option<u64>, InputError> {
    inputs
        .get("run-id")
        .map(|v| {
            v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                InputError::new(
                    "run-id",
                    &format!("must be a workflow run id (a positive number), got `{v}`"),
                    hint,
                )
            })
        })
        .transpose()
}

/// The names re-uploads get: input `reupload-name` rendered with the
/// source's placeholders plus `{name}`, the artifact's own name.
#[derive(Debug, Clone)]
pub struct ReuploadNames {
    template: String,
    placeholders: Placeholders,
}

impl ReuploadNames {
    /// Input `reupload-name`, checked with a trial name against GitHub's
    /// rules before any request.
    pub fn from_input(inputs: &Inputs, placeholders: Placeholders) -> Result<Self, InputError> {
        let template = inputs.value("reupload-name").to_owned();
        crate::check_name_template(&placeholders, &template).map_err(|why| {
            InputError::new(
                "reupload-name",
                &why,
                "use the placeholders listed, and no character GitHub refuses in a name",
            )
        })?;
        Ok(Self {
            template,
            placeholders,
        })
    }

    /// The new name of the artifact named `name`.
    pub fn render(&self, name: &str) -> Result<String, ArtifactError> {
        self.placeholders
            .clone()
            .with("name", name)
            .render(&self.template)
            .map_err(|why| {
                ArtifactError::Input(InputError::new("reupload-name", &why, "fix the template"))
            })
    }
}

/// One move per selected artifact of `listing`, re-uploaded under its name
/// from `names` (or not re-uploaded, without them); the new names are
/// checked (GitHub's rules, no two alike) before anything moves.
pub fn plan_moves(
    listing: &Listing,
    names: Option<&ReuploadNames>,
) -> Result<Vec<ArtifactMove>, ArtifactError> {
    let moves = listing
        .selected
        .iter()
        .map(|source| {
            Ok(ArtifactMove {
                new_name: names.map(|n| n.render(&source.name)).transpose()?,
                source: source.clone(),
            })
        })
        .collect::<Result<Vec<ArtifactMove>, ArtifactError>>()?;
    check_moves(&moves)?;
    Ok(moves)
}

impl Upload {
    /// The re-upload into the current run: inputs `retention-days` (1-90)
    /// and `overwrite`, and the runner's results service
    /// ([`Upload::from_runner`]). The note, when there is one, is a warning
    /// to print (the retention was capped).
    pub fn from_inputs(
        inputs: &Inputs,
        env: &Env,
    ) -> Result<(Self, Option<String>), ArtifactError> {
        let retention = inputs
            .opt_int("retention-days", 1..=90)?
            .map(|d| u32::try_from(d).unwrap_or(90));
        let overwrite = inputs.bool("overwrite")?;
        let (upload, note) = Self::from_runner(env, retention)?;
        Ok((
            Self {
                overwrite,
                ..upload
            },
            note,
        ))
    }
}

/// How an action names what it lists, for [`report_listing`].
#[derive(Debug, Clone, Copy)]
pub struct ListingWords<'a> {
    /// The run: ``run 9001 in `o/app` ``, `build run 9001`.
    pub run: &'a str,
    /// What a missing artifact means, said after it (`; its flag is "false"`).
    pub missing_means: &'a str,
    /// What an error leaves undone, said after it (`; nothing was dispatched`).
    pub undone: &'a str,
    /// The input to check against the run's artifacts (`the selection`).
    pub check: &'a str,
}

/// Warns of what `listing` set aside (refused names, expired artifacts),
/// then applies `if_none` when nothing was found or something asked for
/// is missing: an error, a warning, or a line of the log.
pub fn report_listing(
    console: &Console,
    listing: &Listing,
    selection: &Selection,
    if_none: IfNone,
    words: &ListingWords<'_>,
) -> Result<(), ArtifactError> {
    for refused in &listing.refused {
        console.warning(&refused.to_string());
    }
    for a in &listing.expired {
        console.warning(&format!(
            "artifact `{}` of {} has expired and was not relayed",
            a.name, words.run
        ));
    }
    if listing.found() && listing.missing.is_empty() {
        return Ok(());
    }
    let what = if listing.found() {
        let by = match selection {
            Selection::Ids(_) => "with the id",
            _ => "named",
        };
        format!(
            "{} has no live artifact {by} {}{}",
            words.run,
            quoted(&listing.missing),
            words.missing_means
        )
    } else {
        format!(
            "no artifact of {} matched{}",
            words.run,
            selection.describe()
        )
    };
    match if_none {
        IfNone::Error => {
            return Err(ArtifactError::NotFound {
                what,
                undone: words.undone.to_owned(),
                check: words.check.to_owned(),
            });
        }
        IfNone::Warn => console.warning(&what),
        IfNone::Ignore => console.info(&what),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::{RestArtifact, test_artifact};

    fn art(id: u64, name: &str) -> RestArtifact {
        test_artifact(id, name, "2026-11-22T10:00:00Z")
    }

    const WORDS: ListingWords<'static> = ListingWords {
        run: "build run 7",
        missing_means: "; its flag is `\"false\"`",
        undone: "; nothing was dispatched",
        check: "`artifacts`",
    };

    #[test]
    fn a_missing_name_follows_if_no_artifact_found() {
        let listing = Listing {
            selected: vec![art(1, "web")],
            expired: vec![art(2, "old")],
            missing: vec!["api".into()],
            refused: Vec::new(),
        };
        let selection = Selection::Names(vec!["web".into(), "api".into(), "old".into()]);
        let (console, out) = Console::capture();
        report_listing(&console, &listing, &selection, IfNone::Warn, &WORDS).unwrap();
        let log = out.text();
        assert!(
            log.contains("::warning::artifact `old` of build run 7 has expired"),
            "{log}"
        );
        assert!(
            log.contains("::warning::build run 7 has no live artifact named `api`; its flag is"),
            "{log}"
        );
        let e = report_listing(&console, &listing, &selection, IfNone::Error, &WORDS)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("build run 7 has no live artifact named `api`"),
            "{e}"
        );
        assert!(
            e.contains("; nothing was dispatched\nhint: check `artifacts`"),
            "{e}"
        );
        let (console, out) = Console::capture();
        report_listing(&console, &listing, &selection, IfNone::Ignore, &WORDS).unwrap();
        assert!(
            !out.text().contains("::warning::build run"),
            "{}",
            out.text()
        );
    }

    #[test]
    fn nothing_found_names_the_selection() {
        let (console, _) = Console::capture();
        let e = report_listing(
            &console,
            &Listing::default(),
            &Selection::Ids(vec![999]),
            IfNone::Error,
            &ListingWords {
                run: "run 9001 in `o/app`",
                missing_means: "",
                undone: "",
                check: "the selection",
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("no artifact of run 9001 in `o/app` matched the ids 999\nhint:"),
            "{e}"
        );
    }
}
