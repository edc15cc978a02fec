//! One run of the demo: start everything on loopback, play release 1,
//! release 2 and (unless a link is broken) release 3, built outside CI,
//! check the end state, write the report, stop everything.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::check::{self, Check};
use crate::github::{self, Credentials, GitHub};
use crate::logs::Masks;
use crate::report::Report;
use crate::steps::Break;
use crate::story::{self, Stage};
use crate::timeline::Timeline;
use crate::vm::Vm;

/// The repository the demo was built from: its workflows, examples and
/// `action.yml` files are what the demo plays.
fn repository_root() -> anyhow::Result<PathBuf> {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let root = root
        .canonicalize()
        .with_context(|| format!("the repository `{}` is gone", root.display()))?;
    anyhow::ensure!(
        root.join(".github/workflows/deploy.yml").is_file(),
        "`{}` has no .github/workflows/deploy.yml\nhint: run the demo from a clone of deploy-relay: `cargo run --release -p relay-demo`",
        root.display()
    );
    Ok(root)
}

/// Plays the story (with one link broken on release 2, if asked); true
/// when it went as expected.
pub fn run(
    breaks: Option<Break>,
    credentials: Credentials,
    no_color: bool,
) -> anyhow::Result<bool> {
    let masks = Masks::default();
    for token in github::TOKENS {
        masks.add(token);
    }
    let timeline = Timeline::new(masks.clone(), no_color);
    let root = repository_root()?;
    let program = std::env::current_exe().context("couldn't find the demo's own binary")?;
    let work = tempfile::Builder::new()
        .prefix("relay-demo-")
        .tempdir()
        .context("couldn't make the work folder")?
        .keep();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("couldn't start the async runtime")?;

    let github = GitHub::start(&root, &program, credentials, &work)?;
    if let Some(key) = github.app_private_key() {
        masks.add(key);
        for line in key.lines().filter(|l| !l.starts_with("-----")) {
            masks.add(line);
        }
    }
    let mut vm = Vm::start(&runtime, &work.join("vm"), &program)?;
    masks.add(&vm.secret);
    masks.add(vm.supervisor.token());
    on_interrupt(&runtime, &vm, &work);

    let t = &timeline;
    t.say("deploy-relay demo: the whole deployment on this machine; nothing leaves 127.0.0.1");
    t.say(&format!(
        "  fake GitHub       {}   app {} · platform {} · a second app {}",
        github.gh.url(),
        github::APP,
        github::PLATFORM,
        github::WEB
    ));
    t.say(&format!(
        "  deploy-receiver   {}   standard-webhooks · {}",
        vm.webhook_url,
        vm.config.display()
    ));
    t.say(&format!(
        "  demo service      {}   under the demo's supervisor · nothing deployed yet",
        vm.supervisor.service_url()
    ));
    t.say(&format!(
        "  web service       {}   the second app, beside it on the VM (hook /deploy/web)",
        vm.web.service_url()
    ));
    t.say(&format!(
        "  credentials       --credentials {}: {}",
        credentials.name(),
        credentials.what()
    ));
    t.say(&format!("  work folder       {}", work.display()));
    t.say(&format!(
        "  demo Sigstore     {}   the CA and log that attest the app's builds",
        github.trusted_root.display()
    ));
    t.say(&format!(
        "  the examples play as they are in examples/; beneath them, the demo's network (vm.example.com, app.example.com and www.example.com are the receiver and the services above, over http), clock (a health window runs ×{} faster: 5m at 30s takes 6s at 600ms) and trust root (verify-provenance checks attestations against the demo Sigstore's trusted_root.json, not Sigstore's or GitHub's)",
        story::TIME_LAPSE
    ));
    if let Some(b) = breaks {
        t.say(&format!(
            "  --break {}: release 1 deploys normally, then {} for release 2",
            b.name(),
            b.what()
        ));
    }

    let stage = Stage {
        work: &work,
        github: &github,
        vm: &vm,
        masks: &masks,
        timeline: &timeline,
    };
    let mut phases = Vec::new();
    let mut releases = vec![(1, false, None), (2, breaks.is_none(), breaks)];
    if breaks.is_none() {
        releases.push((story::OUTSIDE_CI, false, None));
    }
    for (n, broken, brk) in releases {
        let phase = stage.play(story::release(n, broken), brk)?;
        let served = vm.supervisor.served().map_or_else(
            || "nothing answers".to_owned(),
            |(n, sha)| format!("release {n} ({})", github::short(&sha)),
        );
        let rolled_back = phase
            .platform
            .as_ref()
            .and_then(|p| story::deploy_yml(p).outputs.get("rolled-back-to"))
            .filter(|s| !s.is_empty());
        match (&phase.stop, rolled_back) {
            (Some(stop), Some(sha)) => t.at(&format!(
                "↺ {} failed, so deploy.yml rolled back to {}: {}",
                stop.place(),
                github::short(sha),
                stop.reason
            )),
            (Some(stop), None) => t.at(&format!(
                "■ the flow stopped at {}: {}",
                stop.place(),
                stop.reason
            )),
            (None, _) => {}
        }
        if n == story::OUTSIDE_CI && phase.stop.is_some() {
            let why = phase
                .platform
                .as_ref()
                .map(story::deploy_yml)
                .and_then(|r| r.job("verify"))
                .and_then(|j| j.steps.iter().find(|s| s.id == "provenance"))
                .and_then(|s| s.outputs.get("report"))
                .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
                .and_then(|r| r["images"][0]["reason"].as_str().map(crate::logs::one_line))
                .unwrap_or_default();
            t.at(&format!(
                "✋ release {n}'s image was not built by the app's CI ({why}): stopped before the webhook · receiver never called · nothing recorded · image {}",
                if vm.pulled(&phase.image) {
                    "pulled (it should not have been)"
                } else {
                    "never pulled"
                }
            ));
        }
        t.at(&format!("→ the service answers: {served}"));
        phases.push(phase);
    }

    let starts = vm.supervisor.history();
    let mut fleet = None;
    let mut checks = check::end_state(&github, &vm, &starts, &phases, breaks);
    checks.extend(check::credentials(&github, &phases));
    if breaks.is_none() {
        let scene = stage.play_queue()?;
        let history = vm.supervisor.history();
        checks.extend(check::queue(
            &scene,
            &history[starts.len().min(history.len())..],
            &vm.web.history(),
        ));
        let scene = stage.play_fleet(&runtime, &root, &program)?;
        checks.extend(check::fleet(&github, &scene));
        fleet = Some(scene);
    }
    let starts = vm.supervisor.history();
    let passed = checks.iter().all(Check::ok);
    t.say("");
    t.say("━━ End state");
    for c in &checks {
        if c.ok() {
            t.say(&format!(
                "  {} {}: {}",
                t.mark("success", ""),
                c.what,
                c.actual
            ));
        } else {
            t.say(&format!(
                "  {} {}: expected {}, got {}",
                t.mark("failure", ""),
                c.what,
                c.expected,
                c.actual
            ));
        }
    }
    if let (Some(b), Some(stop)) = (breaks, phases.get(1).and_then(|p| p.stop.as_ref())) {
        let served = vm
            .supervisor
            .served()
            .map_or_else(|| "nothing".to_owned(), |(n, _)| format!("release {n}"));
        t.say(&format!(
            "  --break {} stopped the flow at {}; nothing of release 2 was deployed, {served} is served",
            b.name(),
            stop.place(),
        ));
    }

    let records = github.records();
    let issues = github.open_issues();
    let report = Report {
        title: match breaks {
            None => "deploy-relay demo".to_owned(),
            Some(b) => format!("deploy-relay demo, --break {}", b.name()),
        },
        passed,
        checks: &checks,
        records: &records,
        issues: &issues,
        starts: &starts,
        phases: &phases,
        masks: &masks,
    };
    let path = work.join("report.html");
    std::fs::write(&path, report.html())
        .with_context(|| format!("couldn't write `{}`", path.display()))?;
    vm.stop(&runtime);
    if let Some(mut scene) = fleet {
        scene.stop(&runtime);
    }
    t.say("");
    t.say(&format!("Report: {}", path.display()));
    t.say(&format!("Took {}.", crate::timeline::secs(t.elapsed())));
    t.say(if passed {
        "The story went as expected."
    } else {
        "The story did NOT go as expected: see the checks above."
    });
    Ok(passed)
}

/// Ctrl-C or SIGTERM: stop the service (the receiver and the fakes live in
/// this process and go with it), say where the work folder is, exit 130.
fn on_interrupt(runtime: &tokio::runtime::Runtime, vm: &Vm, work: &Path) {
    let stoppers = [vm.supervisor.stopper(), vm.web.stopper()];
    let work = work.to_owned();
    runtime.spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        let _ = tokio::task::spawn_blocking(move || stoppers.iter().for_each(|s| s.stop())).await;
        eprintln!(
            "\ninterrupted: the demo services are stopped; the work folder stays at {}",
            work.display()
        );
        std::process::exit(130);
    });
}
