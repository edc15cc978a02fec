//! Action inputs: from `INPUT_*` env as the runner passes them, or from
//! `--<input-name>` flags when a binary is used on the command line.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::env::{Env, vars};
use crate::error::InputError;
use crate::http_status::HttpStatusSet;
use crate::repo::RepoName;
use crate::secret::Secret;

/// What an input's default is, as `action.yml` states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputDefault {
    /// No default: unset unless the step gives it.
    None,
    /// A fixed value.
    Value(&'static str),
    /// A value of the workflow's context, as `action.yml` writes it
    /// (`${{ github.token }}`); on the command line, the env variable that
    /// carries the same value (`GITHUB_TOKEN`).
    Context {
        /// As `action.yml` writes it.
        expression: &'static str,
        /// The env variable with the same value outside a runner.
        env: &'static str,
    },
}

impl InputDefault {
    /// The job's token.
    pub const GITHUB_TOKEN: Self = Self::Context {
        expression: "${{ github.token }}",
        env: vars::GITHUB_TOKEN,
    };
    /// The repository the workflow runs in.
    pub const GITHUB_REPOSITORY: Self = Self::Context {
        expression: "${{ github.repository }}",
        env: vars::GITHUB_REPOSITORY,
    };
    /// The commit the workflow runs on.
    pub const GITHUB_SHA: Self = Self::Context {
        expression: "${{ github.sha }}",
        env: vars::GITHUB_SHA,
    };
}

/// One input of an action, the single source for `--help`, `action.yml`
/// (checked by a test) and parsing.
#[derive(Clone, Copy, Debug)]
pub struct InputSpec {
    /// The name steps give it under `with:`.
    pub name: &'static str,
    /// What it is for, as `action.yml` and `--help` say it.
    pub description: &'static str,
    /// What it is when a step leaves it out.
    pub default: InputDefault,
    /// Whether a step must give it.
    pub required: bool,
    /// Masked with `::add-mask::` before anything else is printed.
    pub secret: bool,
}

impl InputSpec {
    /// An optional input without a default.
    pub const fn new(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            description,
            default: InputDefault::None,
            required: false,
            secret: false,
        }
    }
    /// Defaults to `value`.
    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = InputDefault::Value(value);
        self
    }
    /// Defaults to the job's token, masked.
    pub const fn github_token_default(mut self) -> Self {
        self.default = InputDefault::GITHUB_TOKEN;
        self.secret = true;
        self
    }
    /// Defaults to the repository the workflow runs in.
    pub const fn current_repository(mut self) -> Self {
        self.default = InputDefault::GITHUB_REPOSITORY;
        self
    }
    /// Defaults to the commit the workflow runs on.
    pub const fn current_sha(mut self) -> Self {
        self.default = InputDefault::GITHUB_SHA;
        self
    }
    /// A step must give it.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// Masked before anything is printed, and readable as a [`Secret`].
    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// The `github-token` input every action that calls GitHub has, as the
    /// official actions name it: default `${{ github.token }}`, masked.
    pub const fn github_token(description: &'static str) -> Self {
        Self::new("github-token", description).github_token_default()
    }

    /// `token`, the alias of `github-token`: no default, and when set it wins.
    pub const TOKEN_ALIAS: Self = Self::new(
        "token",
        "Alias of `github-token`, kept for older workflows; when set it wins",
    )
    .secret();

    /// The env name the runner uses: `INPUT_` + upper-cased name, spaces
    /// turned to `_`, hyphens kept (`github-token` → `INPUT_GITHUB-TOKEN`).
    pub fn env_name(&self) -> String {
        env_name(self.name)
    }

    /// The default as `action.yml` writes it.
    pub fn default_text(&self) -> Option<&'static str> {
        match self.default {
            InputDefault::None => None,
            InputDefault::Value(v) => Some(v),
            InputDefault::Context { expression, .. } => Some(expression),
        }
    }
}

/// The env name the runner gives input `input`.
pub fn env_name(input: &str) -> String {
    format!("INPUT_{}", input.replace(' ', "_").to_uppercase())
}

/// One output of an action.
#[derive(Clone, Copy, Debug)]
pub struct OutputSpec {
    /// The name later steps read it by.
    pub name: &'static str,
    /// What it holds, as `action.yml` says it.
    pub description: &'static str,
}

/// Everything an action declares about itself.
#[derive(Debug)]
pub struct ActionSpec {
    /// The action's name: its binary, its `--help`.
    pub name: &'static str,
    /// One sentence on what it does.
    pub description: &'static str,
    /// What the action takes from the runner, and how to give it on the
    /// command line; `--help` prints it.
    pub context: &'static str,
    /// Every input it reads.
    pub inputs: &'static [InputSpec],
    /// Every output it sets.
    pub outputs: &'static [OutputSpec],
}

impl ActionSpec {
    fn command(&self) -> clap::Command {
        let mut cmd = clap::Command::new(self.name)
            .about(self.description)
            .version(env!("CARGO_PKG_VERSION"))
            .after_help(format!(
                "From the runner: {}\n\n\
                 Outside a runner (GITHUB_ACTIONS unset) GITHUB_REPOSITORY, GITHUB_SHA and \
                 GITHUB_REF_NAME come from the git checkout in the current directory (its \
                 `origin` remote, HEAD and branch) unless they are set; GITHUB_TOKEN is the \
                 default token.\n\n\
                 Every flag can also be given as env INPUT_<NAME> (upper-cased, hyphens kept), \
                 as the GitHub Actions runner does; flags win over env.",
                self.context
            ));
        for input in self.inputs {
            let mut help = input.description.to_owned();
            if let Some(default) = input.default_text() {
                help.push_str(&format!(" [default: {}]", default.replace('\n', "; ")));
            }
            if input.required {
                help.push_str(" [required]");
            }
            cmd = cmd.arg(
                clap::Arg::new(input.name)
                    .long(input.name)
                    .value_name("VALUE")
                    .help(help)
                    .action(clap::ArgAction::Set),
            );
        }
        cmd
    }

    /// Reads inputs from `args` (flags) over `env` (`INPUT_*`), applies
    /// defaults and enforces `required`.
    pub fn parse(
        &'static self,
        args: impl IntoIterator<Item = String>,
        env: &Env,
    ) -> Result<Inputs, ParseOutcome> {
        let matches =
            self.command()
                .try_get_matches_from(args)
                .map_err(|e| match e.kind() {
                    clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion => ParseOutcome::Exit(e.to_string()),
                    _ => ParseOutcome::Invalid(InputError::new(
                        "command line",
                        e.to_string()
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .trim_start_matches("error: "),
                        "run with --help to see every input",
                    )),
                })?;
        let mut values = BTreeMap::new();
        for input in self.inputs {
            let raw = matches
                .get_one::<String>(input.name)
                .cloned()
                .or_else(|| env.get(&input.env_name()).map(str::to_owned));
            let value = raw
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .or_else(|| match input.default {
                    InputDefault::None => None,
                    InputDefault::Value(v) => Some(v.to_owned()).filter(|v| !v.is_empty()),
                    InputDefault::Context { env: name, .. } => env.get(name).map(str::to_owned),
                });
            if input.required && value.is_none() {
                return Err(ParseOutcome::Invalid(missing(input.name)));
            }
            if let Some(v) = value {
                values.insert(input.name, v);
            }
        }
        Ok(Inputs { spec: self, values })
    }
}

/// Why parsing did not produce inputs.
#[derive(Debug)]
pub enum ParseOutcome {
    /// `--help` or `--version`: print this and exit 0.
    Exit(String),
    /// A bad command line or a missing required input.
    Invalid(InputError),
}

/// The parsed inputs of one run.
#[derive(Clone)]
pub struct Inputs {
    spec: &'static ActionSpec,
    values: BTreeMap<&'static str, String>,
}

impl Inputs {
    pub(crate) fn spec(&self) -> &'static ActionSpec {
        self.spec
    }

    fn check(&self, name: &str) {
        debug_assert!(
            self.spec.inputs.iter().any(|i| i.name == name),
            "`{name}` is not an input of {}",
            self.spec.name
        );
    }

    /// The value, or `None` when unset (empty counts as unset).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.check(name);
        self.values.get(name).map(String::as_str)
    }

    /// Secret input values, to be masked first.
    pub fn secrets(&self) -> Vec<&str> {
        self.spec
            .inputs
            .iter()
            .filter(|i| i.secret)
            .filter_map(|i| self.values.get(i.name).map(String::as_str))
            .collect()
    }

    /// The value, or the error that says it is missing.
    pub fn require(&self, name: &str) -> Result<&str, InputError> {
        self.get(name).ok_or_else(|| missing(name))
    }

    /// The value of an input whose spec gives a default (so it always has
    /// one); the default lives only in the spec.
    pub fn value(&self, name: &str) -> &str {
        debug_assert!(
            self.spec
                .inputs
                .iter()
                .any(|i| i.name == name && (i.required || i.default != InputDefault::None)),
            "`{name}` has no default in the spec of {}",
            self.spec.name
        );
        self.get(name).unwrap_or_default()
    }

    /// A secret input, typed so it cannot be printed. Only inputs the spec
    /// marks [`InputSpec::secret`] are secrets: those were masked before
    /// anything was printed.
    pub fn secret(&self, name: &str) -> Option<Secret> {
        debug_assert!(
            self.spec.inputs.iter().any(|i| i.name == name && i.secret),
            "`{name}` is not a secret input of {}",
            self.spec.name
        );
        self.get(name).map(Secret::new)
    }

    /// The GitHub token: `token` (the alias) when set, else `github-token`.
    pub fn github_token(&self) -> Option<Secret> {
        let declared = |name: &str| self.spec.inputs.iter().any(|i| i.name == name);
        [InputSpec::TOKEN_ALIAS.name, "github-token"]
            .into_iter()
            .filter(|name| declared(name))
            .find_map(|name| self.secret(name))
    }

    /// A strict boolean: `true|True|TRUE|false|False|FALSE` (YAML 1.2 core).
    pub fn bool(&self, name: &str) -> Result<bool, InputError> {
        match self.get(name) {
            None => Ok(false),
            Some(v) => parse_bool(v).ok_or_else(|| {
                InputError::new(
                    name,
                    &format!("must be `true` or `false`, got `{v}`"),
                    "use one of true, True, TRUE, false, False, FALSE",
                )
            }),
        }
    }

    /// A duration (`500ms`, `1.5s`, `90s`, `5m`, `1h`, bare seconds).
    pub fn duration(&self, name: &str) -> Result<Duration, InputError> {
        self.opt_duration(name)?.ok_or_else(|| missing(name))
    }

    /// A duration above zero (an interval, a timeout); `example` is a
    /// good value, for the hint.
    pub fn nonzero_duration(&self, name: &str, example: &str) -> Result<Duration, InputError> {
        let duration = self.duration(name)?;
        if duration.is_zero() {
            return Err(InputError::new(
                name,
                "must be above zero",
                &format!("use e.g. `{example}`"),
            ));
        }
        Ok(duration)
    }

    /// A duration, `None` when unset.
    pub fn opt_duration(&self, name: &str) -> Result<Option<Duration>, InputError> {
        self.get(name)
            .map(|v| {
                crate::duration::parse(v).map_err(|why| {
                    InputError::new(
                        name,
                        &format!("is not a duration: `{v}` ({why})"),
                        "write it like 500ms, 1.5s, 90s, 5m, 1h or a number of seconds",
                    )
                })
            })
            .transpose()
    }

    /// A size in bytes (`500MiB`, `20GiB`, a number of bytes), see [`crate::size`].
    pub fn size(&self, name: &str) -> Result<u64, InputError> {
        self.get(name)
            .map(|v| {
                crate::size::parse(v).map_err(|why| {
                    InputError::new(
                        name,
                        &format!("is not a size: `{v}` ({why})"),
                        "write it like 500MiB, 20GiB or a number of bytes",
                    )
                })
            })
            .transpose()?
            .ok_or_else(|| missing(name))
    }

    /// HTTP status codes: `200-299`, `200,204`, `2xx`, or a mix.
    pub fn http_statuses(&self, name: &str) -> Result<HttpStatusSet, InputError> {
        let text = self.require(name)?;
        HttpStatusSet::parse(text).map_err(|why| {
            InputError::new(
                name,
                &format!("is not a set of HTTP statuses: {why}"),
                "write it like 200-299, 2xx or 200,204,301-302",
            )
        })
    }

    /// A repository, `owner/repo`; `hint` says where the right value comes from.
    pub fn repository(&self, name: &str, hint: &str) -> Result<Option<RepoName>, InputError> {
        self.get(name)
            .map(|v| RepoName::parse(v).map_err(|why| InputError::new(name, &why, hint)))
            .transpose()
    }

    /// A repository input whose spec defaults to the current repository
    /// ([`InputSpec::current_repository`]): missing only on the command
    /// line outside a checkout, which the error says.
    pub fn current_repository(&self, name: &str, hint: &str) -> Result<RepoName, InputError> {
        self.repository(name, hint)?.ok_or_else(|| {
            InputError::new(
                name,
                "is not set, and there is no current repository to default to (GITHUB_REPOSITORY, or a checkout's `origin` remote)",
                &format!("pass `--{name} owner/repo`"),
            )
        })
    }

    /// [`Inputs::http_statuses`], under the name `sign-and-call-webhook` and
    /// `monitor-health` still call; to be removed once they switch.
    #[doc(hidden)]
    pub fn statuses(&self, name: &str) -> Result<HttpStatusSet, InputError> {
        self.http_statuses(name)
    }

    /// `Name: value` lines. Values are marked sensitive (they may be
    /// credentials) and an error never repeats one.
    pub fn headers(
        &self,
        name: &str,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, InputError> {
        let mut headers = Vec::new();
        for (n, line) in self.lines(name).into_iter().enumerate() {
            let bad = |what: &str| {
                InputError::new(
                    name,
                    &format!("line {} {what}", n + 1),
                    "write one header per line, e.g. `Authorization: Bearer ...`",
                )
            };
            let (key, value) = line
                .split_once(':')
                .ok_or_else(|| bad("is not `Name: value`"))?;
            let key = http::HeaderName::from_bytes(key.trim().as_bytes()).map_err(|_| {
                bad(&format!(
                    "has `{}`, which is not a header name",
                    key.trim().escape_debug()
                ))
            })?;
            let mut value = http::HeaderValue::from_str(value.trim())
                .map_err(|_| bad("has a value with characters a header cannot carry"))?;
            value.set_sensitive(true);
            headers.push((key, value));
        }
        Ok(headers)
    }

    /// Non-empty lines, trimmed; lines starting with `#` are comments.
    pub fn lines(&self, name: &str) -> Vec<&str> {
        self.get(name)
            .map(|v| {
                v.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A value from a fixed set.
    pub fn choice<'a>(&self, name: &str, allowed: &[&'a str]) -> Result<&'a str, InputError> {
        self.opt_choice(name, allowed)?.ok_or_else(|| missing(name))
    }

    /// A value from a fixed set, `None` when unset.
    pub fn opt_choice<'a>(
        &self,
        name: &str,
        allowed: &[&'a str],
    ) -> Result<Option<&'a str>, InputError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => allowed
                .iter()
                .find(|a| **a == v)
                .copied()
                .map(Some)
                .ok_or_else(|| {
                    InputError::new(
                        name,
                        &format!("must be one of {}, got `{v}`", allowed.join(", ")),
                        "pick one of the listed values",
                    )
                }),
        }
    }

    /// An integer within `range`.
    pub fn int(&self, name: &str, range: std::ops::RangeInclusive<u64>) -> Result<u64, InputError> {
        self.opt_int(name, range)?.ok_or_else(|| missing(name))
    }

    /// An integer within `range`, `None` when unset.
    pub fn opt_int(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, InputError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| range.contains(n))
                .map(Some)
                .ok_or_else(|| {
                    InputError::new(
                        name,
                        &format!(
                            "must be a whole number from {} to {}, got `{v}`",
                            range.start(),
                            range.end()
                        ),
                        "fix the value in the step's `with:`",
                    )
                }),
        }
    }
}

fn missing(name: &str) -> InputError {
    InputError::new(
        name,
        "is required but was not given",
        &format!("add `{name}:` under `with:` in the step"),
    )
}

/// A strict YAML 1.2 boolean, `None` for anything else.
pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPEC: ActionSpec = ActionSpec {
        name: "demo",
        description: "demo action",
        context: "GITHUB_REPOSITORY for the demo",
        inputs: &[
            InputSpec::github_token("token"),
            InputSpec::TOKEN_ALIAS,
            InputSpec::new("expected-status", "s").default("2xx"),
            InputSpec::new("headers", "h"),
            InputSpec::new("repository", "target").required(),
            InputSpec::new("event-type", "type").default("deploy"),
            InputSpec::new("dry-run", "dry").default("false"),
            InputSpec::new("images", "lines"),
        ],
        outputs: &[],
    };

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Inputs, ParseOutcome> {
        let args = std::iter::once("demo")
            .chain(args.iter().copied())
            .map(str::to_owned);
        SPEC.parse(args, &Env::from_pairs(env.iter().copied()))
    }

    fn invalid(r: Result<Inputs, ParseOutcome>) -> InputError {
        match r {
            Err(ParseOutcome::Invalid(e)) => e,
            _ => panic!("expected an input error"),
        }
    }

    #[test]
    fn env_name_keeps_hyphens_and_turns_spaces_to_underscores() {
        assert_eq!(env_name("github-token"), "INPUT_GITHUB-TOKEN");
        assert_eq!(env_name("wait timeout"), "INPUT_WAIT_TIMEOUT");
    }

    #[test]
    fn values_are_trimmed_and_empty_means_unset() {
        let i = parse(
            &[],
            &[
                ("INPUT_REPOSITORY", "  o/r \n"),
                ("INPUT_EVENT-TYPE", "   "),
            ],
        )
        .unwrap();
        assert_eq!(i.get("repository"), Some("o/r"));
        assert_eq!(
            i.get("event-type"),
            Some("deploy"),
            "blank falls back to the default"
        );
    }

    #[test]
    fn required_is_enforced_and_names_the_input() {
        let e = invalid(parse(&[], &[]));
        assert_eq!(e.input, "repository");
        assert!(e.to_string().contains("`repository` is required"), "{e}");
    }

    #[test]
    fn flags_win_over_env() {
        let i = parse(&["--repository", "a/b"], &[("INPUT_REPOSITORY", "c/d")]).unwrap();
        assert_eq!(i.get("repository"), Some("a/b"));
    }

    #[test]
    fn github_token_default_reads_github_token_on_the_command_line() {
        let i = parse(
            &[],
            &[("INPUT_REPOSITORY", "o/r"), ("GITHUB_TOKEN", "ghs_x")],
        )
        .unwrap();
        assert_eq!(i.get("github-token"), Some("ghs_x"));
        assert_eq!(i.secrets(), vec!["ghs_x"]);
    }

    #[test]
    fn booleans_are_strict() {
        for ok in ["true", "True", "TRUE"] {
            let i = parse(&[], &[("INPUT_REPOSITORY", "o/r"), ("INPUT_DRY-RUN", ok)]).unwrap();
            assert!(i.bool("dry-run").unwrap());
        }
        for bad in ["yes", "1", "tRUE", "on"] {
            let i = parse(&[], &[("INPUT_REPOSITORY", "o/r"), ("INPUT_DRY-RUN", bad)]).unwrap();
            let e = i.bool("dry-run").unwrap_err();
            assert!(
                e.to_string()
                    .contains("`dry-run` must be `true` or `false`"),
                "{e}"
            );
        }
    }

    #[test]
    fn lines_skip_blanks_and_comments() {
        let i = parse(
            &[],
            &[
                ("INPUT_REPOSITORY", "o/r"),
                ("INPUT_IMAGES", "a=1\n\n  # c\n b=2 "),
            ],
        )
        .unwrap();
        assert_eq!(i.lines("images"), vec!["a=1", "b=2"]);
    }

    #[test]
    fn help_lists_every_input_with_its_default() {
        let Err(ParseOutcome::Exit(out)) = parse(&["--help"], &[]) else {
            panic!("--help must exit")
        };
        for input in SPEC.inputs {
            assert!(out.contains(&format!("--{}", input.name)), "{out}");
        }
        assert!(out.contains("[default: deploy]"));
        assert!(
            out.contains("From the runner: GITHUB_REPOSITORY for the demo"),
            "{out}"
        );
        assert!(out.contains("git checkout"), "{out}");
        assert!(out.contains("[default: ${{ github.token }}]"));
    }

    #[test]
    fn unknown_flag_is_an_input_error() {
        let e = invalid(parse(&["--nope", "x"], &[]));
        assert!(e.to_string().contains("--nope"), "{e}");
    }

    #[test]
    fn int_and_choice_are_range_checked() {
        let i = parse(
            &[],
            &[("INPUT_REPOSITORY", "o/r"), ("INPUT_EVENT-TYPE", "12")],
        )
        .unwrap();
        assert_eq!(i.int("event-type", 0..=20).unwrap(), 12);
        assert!(i.int("event-type", 0..=9).is_err());
        assert!(i.choice("event-type", &["a", "b"]).is_err());
    }

    #[test]
    fn token_alias_wins_when_set_and_has_no_default() {
        let env = [("INPUT_REPOSITORY", "o/r"), ("GITHUB_TOKEN", "ghs_default")];
        let i = parse(&[], &env).unwrap();
        assert_eq!(i.github_token().unwrap().expose(), "ghs_default");
        let i = parse(&[], &[env[0], env[1], ("INPUT_TOKEN", "ghp_alias")]).unwrap();
        assert_eq!(i.github_token().unwrap().expose(), "ghp_alias");
        assert!(
            i.secrets().contains(&"ghp_alias"),
            "the alias is masked too"
        );
        assert_eq!(format!("{:?}", i.github_token()), "Some(Secret(***))");
    }

    #[test]
    fn a_nonzero_duration_refuses_zero_and_names_an_example() {
        for (text, ok) in [("0s", false), ("0", false), ("1ms", true), ("10s", true)] {
            let i = parse(&[], &[("INPUT_REPOSITORY", "o/r"), ("INPUT_IMAGES", text)]).unwrap();
            match i.nonzero_duration("images", "10s") {
                Ok(d) => assert!(ok && !d.is_zero(), "{text}"),
                Err(e) => {
                    assert!(!ok, "{text}: {e}");
                    assert!(e.to_string().contains("`images` must be above zero"), "{e}");
                    assert!(e.hint.contains("`10s`"), "{e}");
                }
            }
        }
    }

    #[test]
    fn defaults_come_from_the_spec_and_a_missing_value_is_an_input_error() {
        let i = parse(&[], &[("INPUT_REPOSITORY", "o/r")]).unwrap();
        assert_eq!(i.value("event-type"), "deploy");
        assert!(i.http_statuses("expected-status").unwrap().contains(204));
        let e = i.duration("images").unwrap_err();
        assert!(e.to_string().contains("`images` is required"), "{e}");
        assert_eq!(i.opt_duration("images").unwrap(), None);
    }

    #[test]
    fn statuses_repositories_and_headers_have_one_grammar() {
        let i = parse(
            &[],
            &[
                ("INPUT_REPOSITORY", "o/r"),
                ("INPUT_EXPECTED-STATUS", "2xx,404"),
                ("INPUT_HEADERS", "Authorization: Bearer s3cret\nX-A:  b "),
            ],
        )
        .unwrap();
        assert!(i.http_statuses("expected-status").unwrap().contains(404));
        assert_eq!(
            i.repository("repository", "").unwrap().unwrap().as_str(),
            "o/r"
        );
        let h = i.headers("headers").unwrap();
        assert_eq!(h[0].0.as_str(), "authorization");
        assert!(h[0].1.is_sensitive());
        assert_eq!(h[1].1.to_str().unwrap(), "b");

        let i = parse(
            &[],
            &[
                ("INPUT_REPOSITORY", "o/../x"),
                ("INPUT_EXPECTED-STATUS", "299-200"),
                ("INPUT_HEADERS", "Bad Name: s3cret"),
            ],
        )
        .unwrap();
        let e = i.repository("repository", "hint").unwrap_err();
        assert!(e.to_string().contains("must be `owner/repo`"), "{e}");
        assert!(i.http_statuses("expected-status").is_err());
        let e = i.headers("headers").unwrap_err().to_string();
        assert!(e.contains("line 1") && !e.contains("s3cret"), "{e}");
    }
}
