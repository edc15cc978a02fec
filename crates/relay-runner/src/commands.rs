//! How the runner reads a step's output for workflow commands.

/// The workflow commands the runner would act on, as (name, raw message):
/// the v2 form (`::name ...::message` after leading whitespace) and the v1
/// form (`##[name ...]message` anywhere in a line), except between
/// `::stop-commands::TOKEN` and `::TOKEN::`.
pub fn runner_commands(stdout: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut resume: Option<String> = None;
    for line in stdout.lines() {
        let t = line.trim_start();
        if let Some(end) = &resume {
            if t.trim_end() == end {
                resume = None;
            }
            continue;
        }
        if let Some((head, msg)) = t.strip_prefix("::").and_then(|r| r.split_once("::")) {
            let name = head.split(' ').next().unwrap_or_default();
            if name == "stop-commands" {
                resume = Some(format!("::{msg}::"));
            } else {
                out.push((name.to_owned(), msg.to_owned()));
            }
            continue;
        }
        if let Some((head, msg)) = line
            .split_once("##[")
            .and_then(|(_, rest)| rest.split_once(']'))
        {
            let name = head.split([' ', ';']).next().unwrap_or_default();
            out.push((name.to_owned(), msg.to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commands_as_the_runner_does() {
        let log = "  ::error::a\nplain ##[add-mask]b\n::stop-commands::t\n::error::c\n::t::\n::warning title=x::d";
        let got = runner_commands(log);
        assert_eq!(
            got,
            [
                ("error".to_owned(), "a".to_owned()),
                ("add-mask".to_owned(), "b".to_owned()),
                ("warning".to_owned(), "d".to_owned())
            ]
        );
    }
}
