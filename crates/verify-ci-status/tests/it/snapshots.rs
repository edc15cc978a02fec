//! What users read, as snapshots: the step summary. Check names and links
//! come from whoever can post a check run or a commit status, so they are
//! also shown hostile: as code and checked links, never raw markdown.

use relay_testkit::github::CheckScript;

use super::*;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    s.add_filter(r"runs/\d+", "runs/[id]");
    s
}

/// A status posted by anyone with `statuses: write` (or a check run by any
/// GitHub App): the name and link are theirs.
fn hostile(name: &str, url: &str, conclusion: &str) -> CheckScript {
    CheckScript {
        details_url: Some(url.to_owned()),
        ..CheckScript::done(name, conclusion)
    }
}

#[test]
fn summary_of_a_passing_commit() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.check_run(
        SOURCE,
        SHA,
        CheckScript::done("test (ubuntu-latest)", "success"),
    );
    gh.check_run(SOURCE, SHA, CheckScript::done("docs", "skipped"));
    gh.commit_status(SOURCE, SHA, CheckScript::done("ci/jenkins", "success"));
    gh.add_run(
        SOURCE,
        "push",
        "CI",
        RunScript::succeeds_after(0).head_sha(SHA),
    );
    let out = run(action(&gh).input("workflows", "Deploy"));
    out.assert_success();
    settings().bind(|| insta::assert_snapshot!(out.summary));
}

#[test]
fn summary_with_hostile_check_names_and_links() {
    let gh = fake();
    gh.check_run(
        SOURCE,
        SHA,
        CheckScript::done("x` <img src=x onerror=alert(1)> @org/team | y", "success"),
    );
    gh.commit_status(
        SOURCE,
        SHA,
        hostile("ci/`evil` </details>", "javascript:alert(1)", "success"),
    );
    gh.commit_status(
        SOURCE,
        SHA,
        hostile(
            "@admin ping",
            "https://evil.example/a) [pwn](javascript:x \"t\" <b>",
            "failure",
        ),
    );
    let out = run(action(&gh));
    out.assert_failure();
    assert_inert_markdown(&out.summary);
    assert!(!out.summary.contains("](javascript:"), "{}", out.summary);
    assert!(
        out.summary.contains(
            "[open](https://evil.example/a%29%20%5Bpwn%5D%28javascript:x%20%22t%22%20%3Cb%3E)"
        ),
        "{}",
        out.summary
    );
    // The names stay data in the outputs.
    assert!(out.output("failed").contains("@admin ping"));
    settings().bind(|| insta::assert_snapshot!(out.summary));
}

/// No raw HTML and no live `@mention`: neither `<` nor `@` outside code
/// spans (CommonMark: a run of n backticks is closed by the next run of
/// exactly n), and every table row keeps its five columns. The same oracle
/// as monitor-health's `hostile.rs`.
fn assert_inert_markdown(md: &str) {
    for line in md.lines() {
        // A link's destination (`md_link` encodes its parentheses) is no
        // place for HTML or a mention: leave it out of the search.
        let mut outside = outside_code(line);
        while let Some(at) = outside.find("](") {
            let end = outside[at..]
                .find(')')
                .map_or(outside.len(), |e| at + e + 1);
            outside.replace_range(at..end, "]");
        }
        assert!(!outside.contains('<'), "raw HTML outside code: {line}");
        assert!(!outside.contains('@'), "@mention outside code: {line}");
        if line.starts_with("| ") {
            let pipes = outside_code(line).replace("\\|", "").matches('|').count();
            assert_eq!(pipes, 6, "table row split by the text: {line}");
        }
    }
}

fn outside_code(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let run_at = |i: usize| chars[i..].iter().take_while(|c| **c == '`').count();
    let (mut out, mut i) = (String::new(), 0);
    while i < chars.len() {
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let n = run_at(i);
        let mut j = i + n;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let m = run_at(j);
                if m == n {
                    close = Some(j + m);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => i = end,
            None => {
                out.extend(&chars[i..i + n]);
                i += n;
            }
        }
    }
    out
}
