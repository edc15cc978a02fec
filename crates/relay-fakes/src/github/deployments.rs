//! Deployments, their statuses and environments, as GitHub keeps them:
//! `required_contexts` checked against the commit's check runs and statuses
//! unless sent empty (409), environments created by their first deployment,
//! statuses listed newest first, and `auto_inactive` (default true): a
//! `success` adds `inactive` to every earlier deployment of the environment
//! that was `success`, unless it is a production or transient one (GitHub's
//! description of `auto_inactive` on `repos/create-deployment-status`).
//! Environments with required reviewers hold runs `waiting`; their review
//! lives in [`reviews`](super::reviews).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod handlers;

use super::{FakeGitHub, State};

pub(super) use handlers::routes;

/// Who the fake says created what a token created.
pub(crate) const TOKEN_USER: &str = "deploy-bot";
/// Who creates the deployments of `environment:` jobs.
pub(crate) const ACTIONS_BOT: &str = "github-actions[bot]";

#[derive(Debug, Clone)]
pub(crate) struct FakeDeployment {
    pub id: u64,
    pub repo: String,
    pub sha: String,
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    pub original_environment: String,
    pub payload: Value,
    pub description: Option<String>,
    pub creator: String,
    pub production: bool,
    pub transient: bool,
    pub created_at: String,
    /// Oldest first.
    pub statuses: Vec<FakeStatus>,
}

#[derive(Debug, Clone)]
pub(crate) struct FakeStatus {
    pub id: u64,
    pub state: String,
    pub description: String,
    pub environment: String,
    pub environment_url: String,
    pub log_url: String,
    pub target_url: String,
    pub creator: String,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Environment {
    pub id: u64,
    pub name: String,
    /// Logins of the required reviewers; empty: no protection rule.
    pub reviewers: Vec<String>,
    pub created_at: String,
}

#[derive(Default)]
pub(crate) struct Deployments {
    /// Oldest first.
    pub list: Vec<FakeDeployment>,
    /// repo → environments in creation order.
    pub environments: BTreeMap<String, Vec<Environment>>,
    /// run id → (environment, the job's deployment) still waiting for review.
    pub pending: BTreeMap<u64, Vec<(String, u64)>>,
    /// Commit statuses created through the API: (repo, sha, answer).
    pub commit_statuses: Vec<(String, String, Value)>,
}

pub(crate) fn now() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc())
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// A user as GitHub's `simple-user` schema has one.
pub(crate) fn user(login: &str) -> Value {
    let id = u64::from_be_bytes(
        Sha256::digest(login.as_bytes())[..8]
            .try_into()
            .unwrap_or([0; 8]),
    ) >> 40;
    let api = format!("https://api.github.com/users/{login}");
    json!({
        "login": login, "id": id, "node_id": format!("U_{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}"),
        "gravatar_id": "", "url": api, "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"), "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": if login.ends_with("[bot]") { "Bot" } else { "User" }, "site_admin": false,
    })
}

impl FakeDeployment {
    pub(crate) fn json(&self, base: &str) -> Value {
        let url = format!("{base}/repos/{}/deployments/{}", self.repo, self.id);
        let updated = self
            .statuses
            .last()
            .map_or(self.created_at.as_str(), |s| s.created_at.as_str());
        json!({
            "url": url, "id": self.id, "node_id": format!("DE_{}", self.id),
            "sha": self.sha, "ref": self.git_ref, "task": self.task,
            "payload": self.payload, "original_environment": self.original_environment,
            "environment": self.environment, "description": self.description,
            "creator": user(&self.creator), "created_at": self.created_at,
            "updated_at": updated, "statuses_url": format!("{url}/statuses"),
            "repository_url": format!("{base}/repos/{}", self.repo),
            "transient_environment": self.transient,
            "production_environment": self.production,
        })
    }

    pub(crate) fn state(&self) -> Option<&str> {
        self.statuses.last().map(|s| s.state.as_str())
    }
}

impl FakeStatus {
    fn json(&self, base: &str, d: &FakeDeployment) -> Value {
        let deployment_url = format!("{base}/repos/{}/deployments/{}", d.repo, d.id);
        json!({
            "url": format!("{deployment_url}/statuses/{}", self.id), "id": self.id,
            "node_id": format!("DES_{}", self.id), "state": self.state,
            "creator": user(&self.creator), "description": self.description,
            "environment": self.environment, "target_url": self.target_url,
            "created_at": self.created_at, "updated_at": self.created_at,
            "deployment_url": deployment_url,
            "repository_url": format!("{base}/repos/{}", d.repo),
            "environment_url": self.environment_url, "log_url": self.log_url,
        })
    }
}

impl Environment {
    pub(crate) fn json(&self, base: &str, repo: &str) -> Value {
        let mut rules = Vec::new();
        if !self.reviewers.is_empty() {
            rules.push(json!({
                "id": self.id + 1, "node_id": format!("GA_{}", self.id + 1),
                "type": "required_reviewers", "prevent_self_review": false,
                "reviewers": self.reviewers.iter()
                    .map(|r| json!({"type": "User", "reviewer": user(r)}))
                    .collect::<Vec<_>>(),
            }));
        }
        json!({
            "id": self.id, "node_id": format!("EN_{}", self.id), "name": self.name,
            "url": format!("{base}/repos/{repo}/environments/{}", self.name),
            "html_url": format!("https://github.com/{repo}/deployments/activity_log?environments_filter={}", self.name),
            "created_at": self.created_at, "updated_at": self.created_at,
            "protection_rules": rules, "deployment_branch_policy": null,
        })
    }
}

/// The environment `name` of `repo`, created if it does not exist yet.
pub(crate) fn environment<'a>(state: &'a mut State, repo: &str, name: &str) -> &'a mut Environment {
    let exists = state
        .deployments
        .environments
        .get(repo)
        .is_some_and(|envs| envs.iter().any(|e| e.name == name));
    if !exists {
        // Two ids: the environment's and its protection rule's.
        let id = state.next_id();
        state.next_id();
        state
            .deployments
            .environments
            .entry(repo.to_owned())
            .or_default()
            .push(Environment {
                id,
                name: name.to_owned(),
                reviewers: Vec::new(),
                created_at: now(),
            });
    }
    state
        .deployments
        .environments
        .get_mut(repo)
        .and_then(|envs| envs.iter_mut().find(|e| e.name == name))
        .expect("created above")
}

/// Creates a deployment (and its environment, the first time).
pub(crate) fn insert(state: &mut State, mut d: FakeDeployment) -> u64 {
    environment(state, &d.repo, &d.environment);
    d.id = state.next_id();
    let id = d.id;
    state.deployments.list.push(d);
    id
}

/// Adds a status to deployment `id`; a `success` with `auto_inactive`
/// marks earlier deployments of the environment as GitHub does.
pub(crate) fn add_status(state: &mut State, id: u64, mut status: FakeStatus, auto_inactive: bool) {
    status.id = state.next_id();
    let Some(index) = state.deployments.list.iter().position(|d| d.id == id) else {
        return;
    };
    if status.environment.is_empty() {
        status
            .environment
            .clone_from(&state.deployments.list[index].environment);
    } else if status.environment != state.deployments.list[index].environment {
        let (repo, env) = (
            state.deployments.list[index].repo.clone(),
            status.environment.clone(),
        );
        environment(state, &repo, &env);
        state.deployments.list[index].environment = env;
    }
    let success = status.state == "success";
    let (repo, env, creator) = (
        state.deployments.list[index].repo.clone(),
        status.environment.clone(),
        status.creator.clone(),
    );
    state.deployments.list[index].statuses.push(status);
    if !(success && auto_inactive) {
        return;
    }
    let earlier: Vec<u64> = state
        .deployments
        .list
        .iter()
        .filter(|d| d.id < id && d.repo == repo && d.environment == env)
        .filter(|d| !d.production && !d.transient && d.state() == Some("success"))
        .map(|d| d.id)
        .collect();
    for other in earlier {
        let inactive = FakeStatus {
            id: state.next_id(),
            state: "inactive".into(),
            description: String::new(),
            environment: env.clone(),
            environment_url: String::new(),
            log_url: String::new(),
            target_url: String::new(),
            creator: creator.clone(),
            created_at: now(),
        };
        if let Some(d) = state.deployments.list.iter_mut().find(|d| d.id == other) {
            d.statuses.push(inactive);
        }
    }
}

impl FakeGitHub {
    /// The deployments of `repo`, oldest first, as GitHub answers them.
    pub fn deployments(&self, repo: &str) -> Vec<Value> {
        let s = self.state();
        s.deployments
            .list
            .iter()
            .filter(|d| d.repo == repo)
            .map(|d| d.json(&s.base_url))
            .collect()
    }

    /// The states of deployment `id`'s statuses, oldest first.
    pub fn deployment_states(&self, id: u64) -> Vec<String> {
        self.state()
            .deployments
            .list
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.statuses.iter().map(|s| s.state.clone()).collect())
            .unwrap_or_default()
    }

    /// The names of `repo`'s environments, in creation order.
    pub fn environments(&self, repo: &str) -> Vec<String> {
        self.state()
            .deployments
            .environments
            .get(repo)
            .map(|envs| envs.iter().map(|e| e.name.clone()).collect())
            .unwrap_or_default()
    }

    /// A deployment of task `deploy-relay` with `payload` as anyone with
    /// `deployments: write` could write it, and statuses of `states`
    /// (oldest first). Returns its id.
    pub fn seed_record(
        &self,
        repo: &str,
        environment: &str,
        payload: Value,
        states: &[&str],
    ) -> u64 {
        let mut s = self.state();
        let mut d = actions_deployment(repo, environment, &"0".repeat(40));
        d.task = "deploy-relay".into();
        d.payload = payload;
        d.creator = TOKEN_USER.into();
        let id = insert(&mut s, d);
        for st in states {
            let mut status = actions_status(st);
            status.creator = TOKEN_USER.into();
            add_status(&mut s, id, status, true);
        }
        id
    }

    /// GitHub's own deployment for a job with `environment:` (task
    /// `deploy`, created by `github-actions[bot]`), ending in `state`
    /// (`success` applies `auto_inactive` like any other). Returns its id.
    pub fn environment_job(&self, repo: &str, environment: &str, sha: &str, state: &str) -> u64 {
        let mut s = self.state();
        let id = insert(&mut s, actions_deployment(repo, environment, sha));
        for st in ["queued", "in_progress", state] {
            add_status(&mut s, id, actions_status(st), true);
        }
        id
    }
}

/// The deployment GitHub creates for a job that names `environment`.
pub(crate) fn actions_deployment(repo: &str, environment: &str, sha: &str) -> FakeDeployment {
    FakeDeployment {
        id: 0,
        repo: repo.into(),
        sha: sha.into(),
        git_ref: "main".into(),
        task: "deploy".into(),
        environment: environment.into(),
        original_environment: environment.into(),
        payload: json!({}),
        description: None,
        creator: ACTIONS_BOT.into(),
        production: environment == "production",
        transient: false,
        created_at: now(),
        statuses: Vec::new(),
    }
}

pub(crate) fn actions_status(state: &str) -> FakeStatus {
    FakeStatus {
        id: 0,
        state: state.into(),
        description: String::new(),
        environment: String::new(),
        environment_url: String::new(),
        log_url: String::new(),
        target_url: String::new(),
        creator: ACTIONS_BOT.into(),
        created_at: now(),
    }
}
