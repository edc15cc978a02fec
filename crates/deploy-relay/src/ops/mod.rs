//! The operators' commands, what a platform team runs by hand between
//! deploys: `deploy-relay status` shows the recorded deploys
//! of a repository per environment, `deploy-relay approve` reviews a run
//! waiting for an environment's required reviewers. Their flags are read
//! like an action's inputs; the token comes from `GH_TOKEN` or
//! `GITHUB_TOKEN` (as `gh` reads them), never from a flag that `ps` shows.

mod approve;
mod status;
mod table;

use std::io::Write;
use std::process::ExitCode;

use relay_github::GitHub;
use relay_runtime::{ActionSpec, Console, Context, InputError, Secret, Verbosity, vars};

/// An operator's command: its flags and its entry point.
pub struct Command {
    /// Its flags, read like an action's inputs.
    pub spec: &'static ActionSpec,
    /// Runs it with these arguments (`argv`, the command's name first).
    pub main: fn(Vec<String>) -> ExitCode,
}

/// Every operator's command.
pub fn commands() -> Vec<Command> {
    vec![
        Command {
            spec: &status::SPEC,
            main: |args| relay_runtime::main_with_args(&status::SPEC, args, status::run),
        },
        Command {
            spec: &approve::SPEC,
            main: |args| {
                let args = bare_flags(args, &["reject", "yes"]);
                relay_runtime::main_with_args(&approve::SPEC, args, approve::run)
            },
        },
    ]
}

/// `--flag` given without a value, as a terminal user writes a switch,
/// becomes `--flag true`.
fn bare_flags(args: Vec<String>, switches: &[&str]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter().peekable();
    while let Some(arg) = it.next() {
        let bare = arg
            .strip_prefix("--")
            .is_some_and(|name| switches.contains(&name))
            && it.peek().is_none_or(|next| next.starts_with("--"));
        out.push(arg);
        if bare {
            out.push("true".to_owned());
        }
    }
    out
}

/// Where the client logs: the step's log on a runner; in a terminal the
/// same without `::debug::` lines (unless `RUNNER_DEBUG=1`), which only a
/// runner knows to hide.
fn client_console(ctx: &Context) -> Console {
    if ctx.env.get(vars::GITHUB_ACTIONS).is_some() || ctx.env.debug() {
        return ctx.console.clone();
    }
    Console::new(
        Box::new(NoDebug(std::io::stdout(), Vec::new())),
        Verbosity::Normal,
    )
}

/// Drops the `::debug::` lines written through it.
struct NoDebug<W: Write>(W, Vec<u8>);

impl<W: Write> Write for NoDebug<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(buf);
        while let Some(end) = self.1.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.1.drain(..=end).collect();
            if !line.starts_with(b"::debug::") {
                self.0.write_all(&line)?;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// A client with the operator's token: `GH_TOKEN`, then `GITHUB_TOKEN`.
fn client(ctx: &Context, needs: &str) -> Result<(GitHub, Secret), anyhow::Error> {
    let token = [vars::GH_TOKEN, vars::GITHUB_TOKEN]
        .into_iter()
        .find_map(|name| ctx.env.get(name))
        .map(str::trim)
        .ok_or_else(|| {
            InputError::new(
                "GH_TOKEN",
                "is not set, and neither is GITHUB_TOKEN",
                &format!("export GH_TOKEN=$(gh auth token), or a token with {needs}"),
            )
        })?;
    // On a runner the log is public: the token is masked as it becomes a
    // secret. In a terminal `::add-mask::` would print it, so there it is
    // only redacted from what these commands print.
    let secret = if ctx.env.get(vars::GITHUB_ACTIONS).is_some() {
        ctx.console.secret(token)
    } else {
        Secret::new(token)
    };
    let gh = GitHub::new(&ctx.env, client_console(ctx), Some(secret.clone()))?;
    Ok((gh, secret))
}

/// `text` with `secret` replaced, for what is printed outside a runner.
fn redact(text: &str, secret: &Secret) -> String {
    relay_runtime::redact(text, &[secret.expose().to_owned()])
}

/// Text from GitHub for a terminal or a log: control characters (escape
/// sequences, line breaks) are shown escaped, never sent.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Prints our own lines, with `secret` redacted.
fn print(ctx: &Context, secret: &Secret, lines: &[String]) {
    for line in lines {
        ctx.console.info(&redact(line, secret));
    }
}

/// Runs `body`, redacting the token from its error.
async fn guarded<F>(ctx: Context, needs: &str, body: F) -> anyhow::Result<()>
where
    F: AsyncFnOnce(&Context, &GitHub, &Secret) -> anyhow::Result<()>,
{
    let (gh, secret) = client(&ctx, needs)?;
    body(&ctx, &gh, &secret)
        .await
        .map_err(|e| anyhow::anyhow!(redact(&relay_runtime::error_text(&e), &secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_switch_reads_as_true() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            bare_flags(args(&["approve", "--reject", "--run-id", "3"]), &["reject"]),
            args(&["approve", "--reject", "true", "--run-id", "3"])
        );
        assert_eq!(
            bare_flags(args(&["approve", "--reject"]), &["reject"]),
            args(&["approve", "--reject", "true"])
        );
        assert_eq!(
            bare_flags(args(&["approve", "--reject", "false"]), &["reject"]),
            args(&["approve", "--reject", "false"])
        );
    }

    #[test]
    fn debug_lines_stay_off_a_terminal() {
        let mut w = NoDebug(Vec::new(), Vec::new());
        w.write_all(b"::debug::GET x\nkept\n::deb").unwrap();
        w.write_all(b"ug::y\n::warning::z\n").unwrap();
        assert_eq!(String::from_utf8(w.0).unwrap(), "kept\n::warning::z\n");
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(clean("ok\u{1b}[31mred\nx"), "ok\\u{1b}[31mred\\nx");
        assert_eq!(clean("plain text"), "plain text");
    }
}
