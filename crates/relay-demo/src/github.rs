//! The GitHub side: the test kit's fake GitHub and artifacts service,
//! seeded as seed 000 has it (an app repository that builds, a platform
//! repository that deploys), each token able to do what its counterpart on
//! GitHub could and no more, and the local runner set up as each
//! repository's runner would be.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use relay_fakes::FakeArtifacts;
use relay_fakes::FakeGitHub;
use relay_fakes::sigstore::{BuildIdentity, FakeSigstore};
use relay_fakes::{
    Access, AppKeyPair, AppSeed, ArtifactSeed, CheckScript, Grant, InstallationSeed, RunScript,
};
use relay_runner::events;
use relay_runner::{Event, Runner, Secrets};
use relay_runtime::vars;
use serde_json::{Value, json};
use zip::write::SimpleFileOptions;

/// The app repository (seed 000's).
pub const APP: &str = "xtp-tour/xtp-tour";
/// The second app's repository: its web, deployed to the same VM
/// (examples/web-repo and the platform's deploy-web.yml).
pub const WEB: &str = "xtp-tour/xtp-tour-web";
/// The platform repository it dispatches to.
pub const PLATFORM: &str = "xtp-tour/xtp-tour-deploy";
/// A fork whose pull request runs the build (`--break fork`).
pub const FORK: &str = "stranger/xtp-tour";
/// The app's build workflow, the one that attests its image
/// (examples/app-repo/.github/workflows/main.yaml).
pub const BUILD_WORKFLOW: &str = ".github/workflows/main.yaml";

/// The app job's `GITHUB_TOKEN`: reads the app repository.
pub const APP_JOB_TOKEN: &str = "ghs_DemoAppJobToken00000000000000000001";
/// `DEPLOY_TOKEN` in the app repository (`--credentials fine-grained-pat`):
/// a fine-grained PAT that writes the platform repository.
pub const DISPATCH_TOKEN: &str = "github_pat_DemoDispatchToken000000000002";
/// The platform job's `GITHUB_TOKEN`: deployments and issues of the platform repository.
pub const PLATFORM_JOB_TOKEN: &str = "ghs_DemoPlatformJobToken000000000000003";
/// `DEPLOY_TOKEN` in the platform repository (`--credentials
/// fine-grained-pat`): a fine-grained PAT on the app repository, which
/// cannot read check runs (no such permission exists for it).
pub const APP_CI_TOKEN: &str = "github_pat_DemoAppCiToken00000000000004";

/// The web repository's job `GITHUB_TOKEN`: reads the web repository.
pub const WEB_JOB_TOKEN: &str = "ghs_DemoWebJobToken00000000000000000005";

/// Every token the demo hands out, for masking and for tests.
pub const TOKENS: [&str; 5] = [
    APP_JOB_TOKEN,
    DISPATCH_TOKEN,
    PLATFORM_JOB_TOKEN,
    APP_CI_TOKEN,
    WEB_JOB_TOKEN,
];

/// How the demo's repositories reach GitHub, as Get started offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// A GitHub App installed on both repositories; no personal token
    /// anywhere (the default, and what README recommends).
    App,
    /// A fine-grained PAT in each repository as `DEPLOY_TOKEN`.
    FineGrainedPat,
}

impl Credentials {
    pub const ALL: [Self; 2] = [Self::App, Self::FineGrainedPat];

    pub fn name(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::FineGrainedPat => "fine-grained-pat",
        }
    }

    pub fn what(self) -> &'static str {
        match self {
            Self::App => {
                "a GitHub App on both repositories: each step mints a token for what it touches, and revokes it"
            }
            Self::FineGrainedPat => {
                "a fine-grained PAT as DEPLOY_TOKEN in each repository: CI is read without check runs, with a warning"
            }
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// The demo's GitHub App: its ids, as the App's settings page shows them.
pub const APP_ID: u64 = 1_048_576;
/// The App's client id, what `DEPLOY_RELAY_APP_ID` holds.
pub const APP_CLIENT_ID: &str = "Iv23liDemoDeployRelay";

/// What the demo's App is granted on both repositories: the union of the
/// rows of README's permission table for the workflows the demo plays.
const APP_PERMISSIONS: &[(&str, &str)] = &[
    ("actions", "read"),
    ("attestations", "read"),
    ("checks", "read"),
    ("contents", "write"),
    ("deployments", "write"),
    ("issues", "write"),
    ("metadata", "read"),
    ("statuses", "write"),
];

/// The platform repository's own commit (`ref` of its deployment records).
const PLATFORM_SHA: &str = "c0ffee0000000000000000000000000000000001";

/// The fake GitHub, the artifacts service, the Sigstore that attests the
/// builds, and how to start an action.
pub struct GitHub {
    pub gh: FakeGitHub,
    pub art: FakeArtifacts,
    pub sigstore: FakeSigstore,
    /// The demo Sigstore's `trusted_root.json`, in the work folder.
    pub trusted_root: PathBuf,
    pub credentials: Credentials,
    /// The App's key (`Credentials::App`), made for this run.
    app_key: Option<AppKeyPair>,
    root: PathBuf,
    program: PathBuf,
}

/// What the build's attest step did for one image.
#[derive(Debug, Clone)]
pub struct Attested {
    pub digest: String,
    pub signer: String,
    pub log_index: u64,
}

/// One finished build of an app repository.
#[derive(Debug, Clone)]
pub struct Build {
    /// The app repository that built ([`APP`] or [`WEB`]).
    pub repo: &'static str,
    pub run_id: u64,
    pub sha: String,
    pub artifact_size: u64,
    pub checks: Vec<(String, String)>,
    pub event: Value,
}

impl GitHub {
    /// Starts the fakes and seeds the repositories, the job tokens and
    /// the `credentials` Get started sets up (the App registered and
    /// installed, or the two fine-grained PATs), and writes the demo
    /// Sigstore's trusted root into `work`.
    pub fn start(
        root: &Path,
        program: &Path,
        credentials: Credentials,
        work: &Path,
    ) -> anyhow::Result<Self> {
        let gh = FakeGitHub::start();
        gh.repo(APP, "main");
        gh.repo(WEB, "main");
        gh.repo(PLATFORM, "main");
        gh.token(APP_JOB_TOKEN, Access::ReadOnly(vec![APP.into()]));
        gh.token(WEB_JOB_TOKEN, Access::ReadOnly(vec![WEB.into()]));
        gh.token(PLATFORM_JOB_TOKEN, Access::Repos(vec![PLATFORM.into()]));
        let app_key = match credentials {
            Credentials::App => {
                let key = AppKeyPair::generate().map_err(anyhow::Error::msg)?;
                gh.app(AppSeed {
                    id: APP_ID,
                    client_id: APP_CLIENT_ID.into(),
                    slug: "deploy-relay-demo".into(),
                    public_key: key.public_pem.clone(),
                });
                gh.install(
                    APP_ID,
                    InstallationSeed::new("xtp-tour", &[APP, WEB, PLATFORM], APP_PERMISSIONS),
                );
                Some(key)
            }
            Credentials::FineGrainedPat => {
                gh.token(
                    DISPATCH_TOKEN,
                    Access::Grant(Grant::fine_grained(
                        &[PLATFORM],
                        &[("contents", "write"), ("metadata", "read")],
                    )),
                );
                gh.token(
                    APP_CI_TOKEN,
                    Access::Grant(Grant::fine_grained(
                        &[APP, WEB],
                        &[
                            ("actions", "read"),
                            ("attestations", "read"),
                            ("metadata", "read"),
                            ("statuses", "write"),
                        ],
                    )),
                );
                None
            }
        };
        // The dispatch starts the platform's Deploy workflow, as on GitHub.
        gh.on_dispatch(
            PLATFORM,
            RunScript::succeeds_after(0).title("Deploy {dispatch_id}"),
        );
        let sigstore = FakeSigstore::new().context("couldn't start the demo's Sigstore")?;
        let dir = work.join("sigstore");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("couldn't create `{}`", dir.display()))?;
        let trusted_root = dir.join("trusted_root.json");
        std::fs::write(
            &trusted_root,
            serde_json::to_vec_pretty(&sigstore.trusted_root())?,
        )
        .with_context(|| format!("couldn't write `{}`", trusted_root.display()))?;
        Ok(Self {
            gh,
            art: FakeArtifacts::start(),
            sigstore,
            trusted_root,
            credentials,
            app_key,
            root: root.to_owned(),
            program: program.to_owned(),
        })
    }

    /// The build's attest step (`actions/attest-build-provenance` in
    /// examples/app-repo's main.yaml): run `run_id` of `repo`'s build
    /// workflow on main signs the SLSA provenance of `reference`'s digest at
    /// `sha` with the demo Sigstore, and the attestation is stored where
    /// GitHub's attestations API lists it for that repository.
    pub fn attest(
        &self,
        repo: &str,
        run_id: u64,
        sha: &str,
        reference: &str,
    ) -> anyhow::Result<Attested> {
        let (name, digest) = reference
            .split_once('@')
            .with_context(|| format!("`{reference}` is not a digest reference"))?;
        let who = BuildIdentity::new(repo, BUILD_WORKFLOW, "refs/heads/main", sha).run(run_id);
        let bundle = self.sigstore.attest(&who, name, digest)?;
        let log_index = bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"]
            .as_str()
            .and_then(|i| i.parse().ok())
            .unwrap_or_default();
        self.gh.add_attestation(repo, digest, bundle);
        Ok(Attested {
            digest: digest.to_owned(),
            signer: who.job_workflow_ref(),
            log_index,
        })
    }

    /// The repository checkout the examples are read from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The App's private key, for masking (`Credentials::App`).
    pub fn app_private_key(&self) -> Option<&str> {
        self.app_key.as_ref().map(|k| k.private_pem.as_str())
    }

    /// The GitHub credentials as a repository's secrets: the App's, or
    /// `token` as `DEPLOY_TOKEN`.
    fn credential_secrets(&self, token: &str) -> Vec<(&'static str, String)> {
        match &self.app_key {
            Some(key) => vec![
                ("DEPLOY_RELAY_APP_ID", APP_CLIENT_ID.to_owned()),
                ("DEPLOY_RELAY_APP_PRIVATE_KEY", key.private_pem.clone()),
            ],
            None => vec![("DEPLOY_TOKEN", token.to_owned())],
        }
    }

    /// `repo`'s `Main` workflow finished for `sha`: a run with the
    /// `deploy-relay-images` artifact (what the build pushed, `key=reference`
    /// lines, as examples/app-repo's main.yaml writes it), for the api the
    /// `frontend-build` artifact (`frontend`, zipped), and the commit's
    /// checks. `tampered`: the digest GitHub lists for the frontend artifact
    /// is not the stored zip's; `fork`: it is a fork's pull-request run.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        &self,
        repo: &'static str,
        run_id: u64,
        sha: &str,
        frontend: Option<&str>,
        images: &[(String, String)],
        checks: &[(&str, &str)],
        tampered: bool,
        fork: bool,
    ) -> anyhow::Result<Build> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("images.txt", SimpleFileOptions::default())?;
        for (key, reference) in images {
            writeln!(zip, "{key}={reference}")?;
        }
        let zip = zip.finish()?.into_inner();
        let (_, url, digest) = self.art.seed(
            &format!("build-{run_id}"),
            "deploy-relay-images",
            zip.clone(),
        );
        self.gh.add_artifact(
            repo,
            run_id,
            ArtifactSeed::new("deploy-relay-images", &url, zip.len() as u64).digest(&digest),
        );
        let mut size = 0;
        if let Some(index_html) = frontend {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            zip.start_file("index.html", SimpleFileOptions::default())?;
            zip.write_all(index_html.as_bytes())?;
            let zip = zip.finish()?.into_inner();
            size = zip.len() as u64;
            let (_, url, digest) = self
                .art
                .seed(&format!("build-{run_id}"), "frontend-build", zip);
            let listed = if tampered {
                // What GitHub recorded at upload time is not what the blob store now serves.
                format!(
                    "sha256:{}",
                    crate::vm::hex(&sha256(b"the artifact the build uploaded"))
                )
            } else {
                digest
            };
            self.gh.add_artifact(
                repo,
                run_id,
                ArtifactSeed::new("frontend-build", &url, size).digest(&listed),
            );
        }
        // The checks are the jobs of the build's Actions run (`Main` for
        // the sha), as on GitHub: a token that cannot read check runs (a
        // fine-grained PAT) still sees them as the run's jobs.
        let main_run = self.gh.add_run(
            repo,
            "push",
            "Main",
            RunScript::succeeds_after(0).head_sha(sha),
        );
        for (job, (name, conclusion)) in (1..).zip(checks) {
            self.gh.check_run(
                repo,
                sha,
                CheckScript::done(name, conclusion).job_of(repo, main_run, job),
            );
        }
        let event = if fork {
            events::workflow_run_from_fork(repo, FORK, sha, "main", run_id)
        } else {
            events::workflow_run(repo, sha, "main", run_id, "success")
        };
        Ok(Build {
            repo,
            run_id,
            sha: sha.to_owned(),
            artifact_size: size,
            checks: checks
                .iter()
                .map(|(n, c)| ((*n).to_owned(), (*c).to_owned()))
                .collect(),
            event,
        })
    }

    fn runner(
        &self,
        work: &Path,
        repository: &str,
        sha: &str,
        run_id: u64,
        token: &str,
        observer: impl FnMut(&Event<'_>) + Send + 'static,
    ) -> Runner {
        let program = self.program.clone();
        let launch = move |action: &str| {
            let mut c = Command::new(&program);
            c.arg(crate::cli::ACTION_MODE).arg(if action.is_empty() {
                deploy_relay::ROOT_ACTION
            } else {
                action
            });
            c
        };
        Runner::new(&self.root, Box::new(launch), work)
            .env(vars::GITHUB_API_URL, self.gh.url())
            .env(vars::GITHUB_SERVER_URL, "https://github.com")
            .env(vars::GITHUB_REPOSITORY, repository)
            .env(vars::GITHUB_SHA, sha)
            .env(vars::GITHUB_REF, "refs/heads/main")
            .env(vars::GITHUB_REF_NAME, "main")
            .env(vars::GITHUB_RUN_ID, &run_id.to_string())
            .env(vars::GITHUB_RUN_NUMBER, &(run_id % 1000).to_string())
            .env(vars::GITHUB_RUN_ATTEMPT, "1")
            .env(vars::GITHUB_TOKEN, token)
            // Polls and retries at a tenth of their real pace: the demo's
            // fakes answer at once, and a newcomer should not wait.
            .env(vars::DEPLOY_RELAY_BACKOFF_SCALE, "0.1")
            .observe(observer)
    }

    /// The runner of the build's app repository for its `Deploy Dispatch`
    /// run (`workflow_run` of the build), with the artifacts service.
    pub fn app_runner(
        &self,
        work: &Path,
        build: &Build,
        run_id: u64,
        observer: impl FnMut(&Event<'_>) + Send + 'static,
    ) -> Runner {
        let backend_run = format!("relay-{run_id}");
        let token = if build.repo == WEB {
            WEB_JOB_TOKEN
        } else {
            APP_JOB_TOKEN
        };
        self.runner(work, build.repo, &build.sha, run_id, token, observer)
            .env(vars::GITHUB_WORKFLOW, "Deploy Dispatch")
            .env(vars::ACTIONS_RESULTS_URL, self.art.url())
            .env(
                vars::ACTIONS_RUNTIME_TOKEN,
                &FakeArtifacts::runtime_token(&backend_run, "trigger-deploy"),
            )
            .event("workflow_run", build.event.clone())
    }

    /// The app repository's secrets.
    pub fn app_secrets(&self) -> BTreeMap<String, String> {
        self.credential_secrets(DISPATCH_TOKEN)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }

    /// The platform repository's runner for the run the dispatch started,
    /// with the dispatch as its `repository_dispatch` event, its secrets as
    /// the examples expect them (the App's or `DEPLOY_TOKEN`, repository
    /// secrets; `DEPLOY_WEBHOOK_SECRET` of the `production` environment), and the
    /// demo's network, clock and trust root beneath the examples' hosts,
    /// durations and Sigstore roots.
    pub fn platform_runner(
        &self,
        work: &Path,
        event: &Value,
        webhook_secret: &str,
        network: &str,
        observer: impl FnMut(&Event<'_>) + Send + 'static,
    ) -> (Runner, u64) {
        let run_id = self.gh.runs(PLATFORM).last().map_or(9000, |r| r.id);
        let runner = self
            .runner(
                work,
                PLATFORM,
                PLATFORM_SHA,
                run_id,
                PLATFORM_JOB_TOKEN,
                observer,
            )
            .env(vars::GITHUB_WORKFLOW, "Deploy")
            .env(crate::network::HOSTS_VAR, network)
            .env(
                crate::network::TIME_LAPSE_VAR,
                &crate::story::TIME_LAPSE.to_string(),
            )
            .env(
                crate::network::TRUSTED_ROOT_VAR,
                &self.trusted_root.to_string_lossy(),
            )
            .secrets(self.platform_secrets(webhook_secret))
            .event("repository_dispatch", event.clone());
        (runner, run_id)
    }

    /// The platform repository's secrets: the App's or `DEPLOY_TOKEN`
    /// (repository secrets) and `DEPLOY_WEBHOOK_SECRET` of `production`.
    pub fn platform_secrets(&self, webhook_secret: &str) -> Secrets {
        self.credential_secrets(APP_CI_TOKEN)
            .into_iter()
            .fold(Secrets::new(), |s, (k, v)| s.repository(k, &v))
            .environment("production", "DEPLOY_WEBHOOK_SECRET", webhook_secret)
    }

    /// The dispatches the platform repository received, oldest first.
    pub fn dispatches(&self) -> Vec<Value> {
        self.gh.dispatches(PLATFORM)
    }

    /// The platform's deploy-relay records, oldest first: sha, rollback?, states.
    pub fn records(&self) -> Vec<Record> {
        let mut out: Vec<Record> = self
            .gh
            .deployments(PLATFORM)
            .into_iter()
            .filter(|d| d["task"] == "deploy-relay")
            .map(|d| {
                let id = d["id"].as_u64().unwrap_or_default();
                Record {
                    id,
                    sha: d["payload"]["sha"].as_str().unwrap_or_default().to_owned(),
                    rollback: d["payload"]["rollback"] == json!(true),
                    environment: d["environment"].as_str().unwrap_or_default().to_owned(),
                    states: self.gh.deployment_states(id),
                }
            })
            .collect();
        out.sort_by_key(|r| r.id);
        out
    }

    /// The platform repository's open issues: (number, title, body).
    pub fn open_issues(&self) -> Vec<(u64, String, String)> {
        self.gh
            .issues(PLATFORM)
            .into_iter()
            .filter(|i| i["state"] == "open")
            .map(|i| {
                (
                    i["number"].as_u64().unwrap_or_default(),
                    i["title"].as_str().unwrap_or_default().to_owned(),
                    i["body"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

/// One deployment record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    pub sha: String,
    pub rollback: bool,
    pub environment: String,
    pub states: Vec<String>,
}

impl Record {
    /// `5e2b1c4 in_progress → success`, `(rollback)` marked.
    pub fn line(&self) -> String {
        format!(
            "{}{} {}",
            short(&self.sha),
            if self.rollback { " (rollback)" } else { "" },
            self.states.join(" → ")
        )
    }
}

pub fn short(sha: &str) -> &str {
    &sha[..7.min(sha.len())]
}

pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}
