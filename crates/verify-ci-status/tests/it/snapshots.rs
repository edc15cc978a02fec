//! What users read, as snapshots: the step summary. Check names and links
//! come from whoever can post a check run or a commit status, so they are
//! also shown hostile: as code and checked links, never raw markdown.

use relay_fakes::CheckScript;

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

/// No raw HTML and no live `@mention`, and every table row keeps its five
/// columns (the test kit's oracle, shared with monitor-health's tests).
fn assert_inert_markdown(md: &str) {
    relay_testkit::oracle::assert_inert_markdown(md, 5);
}
