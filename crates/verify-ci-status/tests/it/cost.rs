//! What polling costs in rate limit: 150 checks over two pages that take
//! 10 polls to finish, verified by the action (conditional requests) and by
//! the straightforward loop (re-list every page each poll, no ETags). The
//! figures go to BENCHMARKS.md; run with `--nocapture` to print them.

use serde_json::Value;

use super::*;

const CHECKS: usize = 150;
/// Every check is queued at poll 0, running from poll 1, done at poll 10.
const POLLS: u32 = 10;

fn scripted() -> FakeGitHub {
    let gh = fake();
    for i in 0..CHECKS {
        gh.check_run(
            SOURCE,
            SHA,
            CheckScript::after(&format!("test ({i:03})"), POLLS, "success"),
        );
    }
    gh
}

/// The straightforward loop: list all pages every poll, no `If-None-Match`.
fn naive(gh: &FakeGitHub) -> u32 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .user_agent("naive-poller")
        .build()
        .unwrap();
    let mut polls = 0;
    loop {
        polls += 1;
        let mut runs: Vec<Value> = Vec::new();
        let mut next = Some(format!(
            "{}/repos/{SOURCE}/commits/{SHA}/check-runs?per_page=100",
            gh.url()
        ));
        while let Some(url) = next {
            let resp = rt
                .block_on(http.get(&url).bearer_auth(DEFAULT_TOKEN).send())
                .unwrap();
            next = resp
                .headers()
                .get("link")
                .and_then(|l| l.to_str().ok())
                .and_then(|l| {
                    l.split(',')
                        .find(|p| p.contains("rel=\"next\""))
                        .and_then(|p| p.split(';').next())
                        .map(|u| u.trim().trim_matches(['<', '>']).to_owned())
                });
            let page: Value = rt.block_on(resp.json()).unwrap();
            runs.extend(page["check_runs"].as_array().unwrap().iter().cloned());
        }
        assert_eq!(runs.len(), CHECKS);
        if runs.iter().all(|r| r["status"] == "completed") {
            return polls;
        }
    }
}

#[test]
fn unchanged_polls_cost_no_rate_limit() {
    let ours = scripted();
    let out = run(action(&ours)
        .input("include-statuses", "false")
        .input("interval", "20ms")
        .input("timeout", "30s"));
    out.assert_success();
    let looks = ours.check_run_polls(SOURCE, SHA);
    let requests = ours.requests().len() as u64;
    let not_modified = ours.requests().iter().filter(|r| r.status == 304).count() as u64;
    let ours_cost = ours.rate_limit_used();

    let plain = scripted();
    let plain_looks = naive(&plain);
    let plain_cost = plain.rate_limit_used();

    println!(
        "verify-ci-status: {looks} polls, {requests} requests, {not_modified} answered 304, {ours_cost} rate-limit points"
    );
    println!(
        "straightforward:  {plain_looks} polls, {} requests, {plain_cost} rate-limit points",
        plain.requests().len()
    );
    assert_eq!(looks, POLLS + 1);
    assert_eq!(plain_looks, POLLS + 1);
    // Only the looks where something changed cost anything: the first
    // (queued), the second (in progress) and the last (completed), two
    // pages each. Every unchanged poll is two 304s.
    assert_eq!(ours_cost, 3 * 2);
    assert_eq!(not_modified, u64::from(POLLS + 1 - 3) * 2);
    assert_eq!(plain_cost, u64::from(POLLS + 1) * 2);
    assert!(
        out.log().contains(&format!(
            "{requests} requests to GitHub, {not_modified} of them answered 304"
        )),
        "{}",
        out.log()
    );
}
