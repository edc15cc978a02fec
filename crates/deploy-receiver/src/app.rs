//! The receiver's shared state: each hook with its verifier and lock, the
//! delivery-id memory, the results of deliveries, the admission limits, and
//! the running deploys.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::routing::{any, get};
use tokio::sync::Mutex as AsyncMutex;
use tokio_util::task::TaskTracker;

use crate::admission::{self, Admission};
use crate::auth::{Auth, Secrets};
use crate::config::{Config, Hook};
use crate::deliveries::Deliveries;
use crate::in_flight::InFlight;
use crate::redact::Redactor;
use crate::replay::Replay;
use crate::routes;

pub(crate) struct App {
    pub(crate) config: Config,
    pub(crate) hooks: HashMap<String, HookState>,
    replay: Mutex<Replay>,
    pub(crate) deliveries: Deliveries,
    pub(crate) admission: Arc<Admission>,
    pub(crate) redactor: Redactor,
    /// Env vars holding secrets, kept from the command's environment.
    pub(crate) secret_env: Vec<String>,
    /// The program run as each deploy's supervisor (this binary).
    pub(crate) supervisor: PathBuf,
    /// Every running deploy, so shutdown can wait for them even when the
    /// client that started one has gone away.
    pub(crate) deploys: TaskTracker,
}

pub(crate) struct HookState {
    pub hook: Hook,
    pub auth: Auth,
    pub lock: Arc<AsyncMutex<()>>,
    /// The deploys queued or running (see [`crate::in_flight`]).
    pub in_flight: Arc<Mutex<InFlight>>,
}

impl App {
    pub(crate) fn new(
        config: Config,
        secrets: &Secrets,
        replay: Replay,
        supervisor: PathBuf,
    ) -> Arc<Self> {
        let hooks = config
            .hooks
            .iter()
            .map(|h| {
                let state = HookState {
                    hook: h.clone(),
                    auth: Auth::new(&config, secrets.for_hook(&config, h)),
                    lock: Arc::new(AsyncMutex::new(())),
                    in_flight: Arc::default(),
                };
                (h.path.clone(), state)
            })
            .collect();
        let admission = Admission::new(admission::Limits {
            max_connections: config.max_connections,
            per_peer: config.max_connections_per_peer,
            budget: config.body_budget,
        });
        let secret_env = config
            .secret_sources()
            .into_iter()
            .filter_map(|s| match s {
                crate::config::SecretSource::Env(name) => Some(name.clone()),
                crate::config::SecretSource::File(_) => None,
            })
            .collect();
        Arc::new(Self {
            deliveries: Deliveries::new(config.result_ttl),
            redactor: Redactor::new(secrets.all(), secrets.lines()),
            config,
            hooks,
            replay: Mutex::new(replay),
            admission,
            secret_env,
            supervisor,
            deploys: TaskTracker::new(),
        })
    }

    pub(crate) fn router(self: &Arc<Self>) -> Router {
        let mut router = Router::new().route("/healthz", get(routes::healthz));
        // Hook paths are normalised (no trailing `/`, see `hook::normalise_path`)
        // and distinct, so none of these routes can clash; a sender whose URL
        // ends in `/` reaches the hook too.
        for path in self.hooks.keys() {
            let status = relay_signature::status::path(path, "{id}");
            router = router
                .route(path, any(routes::deliver))
                .route(&format!("{path}/"), any(routes::deliver))
                .route(&status, any(routes::poll));
        }
        router.fallback(routes::not_found).with_state(self.clone())
    }

    /// Whether `id` was received before (the memory is not changed).
    pub(crate) fn seen(&self, id: &str) -> bool {
        self.replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .seen(id, Instant::now())
    }

    /// Records `id` as received; `None` when it was received before.
    pub(crate) fn claim(self: &Arc<Self>, id: &str) -> Option<Claim> {
        let first = self
            .replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_time(id, Instant::now());
        first.then(|| Claim {
            app: self.clone(),
            id: Some(id.to_owned()),
        })
    }
}

/// A delivery id taken from the replay memory for a request that has not
/// run yet. Dropped before [`Claim::commit`] — the hook was busy, or the
/// client hung up while queued — the id is forgotten, so a redelivery of
/// the same id is not refused as a duplicate.
pub(crate) struct Claim {
    app: Arc<App>,
    id: Option<String>,
}

impl Claim {
    /// The deploy starts: the id stays remembered.
    pub(crate) fn commit(mut self) {
        self.id = None;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.app
                .replay
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .forget(&id);
        }
    }
}
