//! Issues per repository: opened strictly (`title` required, `labels` an
//! array of strings, unknown keys refused) and listed with GitHub's `state`
//! and `labels` filters and pagination, newest first.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Extension, Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::FakeGitHub;
use super::server::{Caller, Shared, error, lock, not_found, paginate, query_map, unprocessable};

/// Issues per repository.
#[derive(Default)]
pub(crate) struct Issues {
    /// repo → issues in the order they were opened.
    by_repo: BTreeMap<String, Vec<Value>>,
    /// (repo, issue number) → comments in the order made.
    comments: BTreeMap<(String, u64), Vec<Value>>,
}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/issues",
            get(list_issues).post(create_issue),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            axum::routing::post(create_comment),
        )
}

pub(super) fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn label_names(issue: &Value) -> Vec<String> {
    issue["labels"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .filter_map(|l| l["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /repos/{owner}/{repo}/issues`.
async fn list_issues(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> Response {
    let full = format!("{owner}/{name}");
    let s = lock(&state);
    if !caller.sees(&s, &full) {
        return not_found();
    }
    let query = query_map(uri.query());
    let wanted_state = query.get("state").map_or("open", String::as_str);
    if !matches!(wanted_state, "open" | "closed" | "all") {
        return unprocessable(&format!(
            "state `{wanted_state}` is not one of open, closed, all"
        ));
    }
    // From the raw query: `query_map` decodes only what date filters need.
    let labels: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("labels="))
        .map(|l| {
            decode(l)
                .split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let items: Vec<Value> = s
        .issues
        .by_repo
        .get(&full)
        .map(|v| {
            v.iter()
                .rev()
                .filter(|i| wanted_state == "all" || i["state"] == wanted_state)
                .filter(|i| {
                    let have = label_names(i);
                    labels.iter().all(|l| have.contains(l))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    paginate(&s.base_url, uri.path(), &query, items, None)
}

/// `POST /repos/{owner}/{repo}/issues`.
async fn create_issue(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let full = format!("{owner}/{name}");
    let mut s = lock(&state);
    if !caller.sees(&s, &full) {
        return not_found();
    }
    if let Some(refusal) = caller.write_refusal(&full) {
        return refusal;
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    let keys: [&str; 7] = [
        "title",
        "body",
        "labels",
        "assignees",
        "assignee",
        "milestone",
        "type",
    ];
    if let Some(k) = obj.keys().find(|k| !keys.contains(&k.as_str())) {
        return unprocessable(&format!("\"{k}\" is not a permitted key."));
    }
    let Some(Value::String(title)) = obj.get("title") else {
        return unprocessable("title wasn't supplied.");
    };
    if title.trim().is_empty() || title.chars().count() > 256 {
        return unprocessable("title is empty or longer than 256 characters.");
    }
    let body_text = match obj.get("body") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(b)) if b.chars().count() <= 65_536 => Value::String(b.clone()),
        Some(Value::String(_)) => {
            return unprocessable("body is too long (maximum is 65536 characters).");
        }
        Some(_) => return unprocessable("body is not a string."),
    };
    let labels = match obj.get("labels") {
        None => Vec::new(),
        Some(Value::Array(ls)) if ls.iter().all(Value::is_string) => ls
            .iter()
            .filter_map(Value::as_str)
            .map(|l| json!({"name": l}))
            .collect(),
        Some(_) => return unprocessable("labels is not an array of strings."),
    };
    let id = s.next_id();
    let number = s.issues.by_repo.get(&full).map_or(0, Vec::len) + 1;
    let issue = json!({
        "id": id,
        "number": number,
        "title": title,
        "body": body_text,
        "labels": labels,
        "state": "open",
        "url": format!("{}/repos/{full}/issues/{number}", s.base_url),
        "html_url": format!("https://github.com/{full}/issues/{number}"),
        "user": {"login": "github-actions[bot]"},
    });
    s.issues
        .by_repo
        .entry(full)
        .or_default()
        .push(issue.clone());
    (StatusCode::CREATED, axum::Json(issue)).into_response()
}

/// `POST /repos/{owner}/{repo}/issues/{number}/comments`: `body` only,
/// required; 404 for an issue that does not exist.
async fn create_comment(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, number)): Path<(String, String, u64)>,
    body: axum::body::Bytes,
) -> Response {
    let full = format!("{owner}/{name}");
    let mut s = lock(&state);
    if !caller.sees(&s, &full) {
        return not_found();
    }
    if let Some(refusal) = caller.write_refusal(&full) {
        return refusal;
    }
    let exists = s
        .issues
        .by_repo
        .get(&full)
        .is_some_and(|l| l.iter().any(|i| i["number"] == number));
    if !exists {
        return not_found();
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    if let Some(k) = obj.keys().find(|k| k.as_str() != "body") {
        return unprocessable(&format!("\"{k}\" is not a permitted key."));
    }
    let text = match obj.get("body") {
        Some(Value::String(b)) if !b.is_empty() && b.chars().count() <= 65_536 => b.clone(),
        _ => return unprocessable("body wasn't supplied or is too long."),
    };
    let id = s.next_id();
    let now = super::deployments::now();
    let issue_url = format!("{}/repos/{full}/issues/{number}", s.base_url);
    let comment = json!({
        "id": id,
        "node_id": format!("IC_{id}"),
        "url": format!("{}/repos/{full}/issues/comments/{id}", s.base_url),
        "html_url": format!("https://github.com/{full}/issues/{number}#issuecomment-{id}"),
        "body": text,
        "user": super::deployments::user(super::deployments::TOKEN_USER),
        "created_at": now,
        "updated_at": now,
        "issue_url": issue_url,
        "author_association": "NONE",
    });
    s.issues
        .comments
        .entry((full, number))
        .or_default()
        .push(comment.clone());
    (StatusCode::CREATED, axum::Json(comment)).into_response()
}

impl FakeGitHub {
    /// The comment bodies of issue `number` of `repo`, in the order made.
    pub fn issue_comments(&self, repo: &str, number: u64) -> Vec<String> {
        self.state()
            .issues
            .comments
            .get(&(repo.to_owned(), number))
            .map(|l| {
                l.iter()
                    .filter_map(|c| c["body"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every issue of `repo`, in the order opened.
    pub fn issues(&self, repo: &str) -> Vec<Value> {
        self.state()
            .issues
            .by_repo
            .get(repo)
            .cloned()
            .unwrap_or_default()
    }

    /// Seeds an issue (as if opened earlier); returns its number.
    pub fn issue(&self, repo: &str, title: &str, body: &str, labels: &[&str]) -> u64 {
        let mut s = self.state();
        let id = s.next_id();
        let base = s.base_url.clone();
        let list = s.issues.by_repo.entry(repo.to_owned()).or_default();
        let number = list.len() as u64 + 1;
        list.push(json!({
            "id": id,
            "number": number,
            "title": title,
            "body": body,
            "labels": labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
            "state": "open",
            "url": format!("{base}/repos/{repo}/issues/{number}"),
            "html_url": format!("https://github.com/{repo}/issues/{number}"),
            "user": {"login": "someone"},
        }));
        number
    }

    /// Closes issue `number` of `repo`.
    pub fn close_issue(&self, repo: &str, number: u64) {
        let mut s = self.state();
        if let Some(i) = s
            .issues
            .by_repo
            .get_mut(repo)
            .and_then(|l| l.iter_mut().find(|i| i["number"] == number))
        {
            i["state"] = json!("closed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode;
    use crate::{DEFAULT_TOKEN, FakeGitHub};
    use serde_json::{Value, json};

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(decode("deploy%20health,a+b"), "deploy health,a b");
        assert_eq!(decode("bad%zz"), "bad%zz");
    }

    async fn post(gh: &FakeGitHub, body: Value) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/repos/o/r/issues", gh.url()))
            .bearer_auth(DEFAULT_TOKEN)
            .header("user-agent", "t")
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn list(gh: &FakeGitHub, query: &str) -> (Vec<Value>, Option<String>) {
        let r = reqwest::Client::new()
            .get(format!("{}/repos/o/r/issues?{query}", gh.url()))
            .bearer_auth(DEFAULT_TOKEN)
            .header("user-agent", "t")
            .send()
            .await
            .unwrap();
        let link = r
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        (r.json().await.unwrap(), link)
    }

    #[tokio::test]
    async fn opening_is_strict() {
        let gh = FakeGitHub::start();
        gh.repo("o/r", "main");
        assert_eq!(post(&gh, json!({"body": "no title"})).await.0, 422);
        assert_eq!(post(&gh, json!({"title": "t", "labels": [1]})).await.0, 422);
        assert_eq!(
            post(&gh, json!({"title": "t", "colour": "red"})).await.0,
            422
        );
        let (status, issue) = post(&gh, json!({"title": "t", "labels": ["a", "b c"]})).await;
        assert_eq!(status, 201);
        assert_eq!(issue["number"], 1);
        assert_eq!(issue["labels"][1]["name"], "b c");
        assert_eq!(gh.issues("o/r").len(), 1);
    }

    #[tokio::test]
    async fn listing_filters_by_state_and_labels_and_pages() {
        let gh = FakeGitHub::start();
        gh.repo("o/r", "main");
        for i in 0..5 {
            gh.issue("o/r", &format!("i{i}"), "", &["deploy health"]);
        }
        gh.issue("o/r", "other", "", &["bug"]);
        gh.close_issue("o/r", 1);
        let (open, _) = list(&gh, "state=open&labels=deploy%20health").await;
        assert_eq!(open.len(), 4);
        assert_eq!(open[0]["title"], "i4", "newest first");
        let (all, _) = list(&gh, "state=all&labels=deploy+health").await;
        assert_eq!(all.len(), 5);
        let (both, _) = list(&gh, "labels=deploy%20health,bug").await;
        assert!(both.is_empty());
        let (page, link) = list(&gh, "per_page=2").await;
        assert_eq!(page.len(), 2);
        assert!(link.unwrap().contains("rel=\"next\""));
        let r = reqwest::Client::new()
            .get(format!("{}/repos/o/r/issues?state=shut", gh.url()))
            .bearer_auth(DEFAULT_TOKEN)
            .header("user-agent", "t")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
    }
}
