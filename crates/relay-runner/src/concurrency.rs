//! Concurrency groups as GitHub documents them, in
//! "Control the concurrency of workflows and jobs"
//! (<https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency>):
//!
//! - at most one running job or workflow run per group; one that arrives
//!   while the group is busy is `pending`;
//! - `queue: single` (the default): at most one pending; a newly queued
//!   run cancels the pending one and takes its place;
//! - `queue: max`: up to 100 pending, handled first in, first out by the
//!   time each started waiting; when the queue is full, any additional run
//!   is cancelled;
//! - `cancel-in-progress: true` (or an expression that is true) also
//!   cancels the running one; combined with `queue: max` it is a workflow
//!   validation error;
//! - group names are case-insensitive.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use yaml_rust2::Yaml;

use crate::at::At;
use crate::expr::{self, Scope};

/// The most runs `queue: max` keeps pending in one group.
pub const MAX_PENDING: usize = 100;

/// A group's `queue:` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// `single` (the default): one pending run; a newer one replaces it.
    Single,
    /// `max`: up to [`MAX_PENDING`] pending, first in, first out.
    Max,
}

/// A `concurrency:` block, evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concurrency {
    /// The group's name, expressions evaluated; compared without case.
    pub group: String,
    /// Whether arriving cancels the run holding the group.
    pub cancel_in_progress: bool,
    /// How many may wait, and which one gives way.
    pub queue: Queue,
}

impl Concurrency {
    /// `concurrency:` as a group string or a mapping, with its expressions
    /// evaluated in `scope`; `None` when absent.
    pub(crate) fn parse(y: &Yaml, scope: &Scope<'_>) -> Result<Option<Self>, String> {
        let (group, cancel, queue) = match y {
            Yaml::BadValue | Yaml::Null => return Ok(None),
            Yaml::Hash(_) => (&y["group"], &y["cancel-in-progress"], &y["queue"]),
            other => (other, &Yaml::BadValue, &Yaml::BadValue),
        };
        let group = match group {
            Yaml::String(s) => expr::interpolate(s, scope)?,
            Yaml::Integer(i) => i.to_string(),
            _ => return Err("`concurrency` needs a `group`".into()),
        };
        let cancel_in_progress = match cancel {
            Yaml::Boolean(b) => *b,
            Yaml::String(s) => expr::interpolate(s, scope)?.eq_ignore_ascii_case("true"),
            Yaml::BadValue | Yaml::Null => false,
            other => return Err(format!("`cancel-in-progress: {other:?}` is not a boolean")),
        };
        let queue = match queue {
            Yaml::BadValue | Yaml::Null => Queue::Single,
            Yaml::String(s) if s == "single" => Queue::Single,
            Yaml::String(s) if s == "max" => Queue::Max,
            other => {
                return Err(format!(
                    "`concurrency.queue: {other:?}` is neither `single` nor `max`"
                ));
            }
        };
        if queue == Queue::Max && cancel_in_progress {
            return Err(format!(
                "`concurrency` of group `{group}`: `queue: max` with `cancel-in-progress: true` is a workflow validation error on GitHub"
            ));
        }
        Ok(Some(Self {
            group,
            cancel_in_progress,
            queue,
        }))
    }
}

/// What came of asking for a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Acquired {
    Granted,
    /// Cancelled while pending (or on arrival, when a `queue: max` group
    /// was full); the reason says by whom.
    Cancelled(String),
    /// Nothing else can ever free the group.
    Deadlock(String),
}

/// A run asks for a group one of its own jobs holds (a caller's job and
/// the job of the workflow it calls in one group): with
/// `cancel-in-progress` the run cancels itself ("don't use the same value
/// for `jobs.<job_id>.concurrency.group` in the called and caller
/// workflows as this will cause the workflow that's already running to be
/// cancelled",
/// <https://docs.github.com/en/actions/reference/workflows-and-actions/reusable-workflows#supported-keywords-for-jobs-that-call-a-reusable-workflow>);
/// without it, the job waits for itself for ever.
pub(crate) fn held_by_itself(c: &Concurrency, label: &str) -> Acquired {
    if c.cancel_in_progress {
        Acquired::Cancelled(format!(
            "cancel-in-progress: `{label}` queued in group `{}`, which its own job holds",
            c.group
        ))
    } else {
        Acquired::Deadlock(format!(
            "deadlock: `{label}` waits for group `{}`, which its own job holds",
            c.group
        ))
    }
}

#[derive(Default)]
struct Group {
    running: Option<usize>,
    pending: VecDeque<usize>,
}

#[derive(Default)]
struct State {
    /// The run whose thread may proceed; every other one waits its turn.
    active: Option<usize>,
    ready: VecDeque<usize>,
    labels: BTreeMap<usize, String>,
    cancelled: BTreeMap<usize, String>,
    /// Runs woken because nothing could ever let them go on.
    stuck: BTreeMap<usize, String>,
    finished: BTreeSet<usize>,
    groups: BTreeMap<String, Group>,
    /// Runs that arrive when a step of another run starts or finishes.
    arrivals: Vec<(usize, At, usize)>,
    arrived: BTreeSet<usize>,
    total: usize,
}

/// The runs of a [`crate::Scheduler`] take turns: one thread proceeds at a
/// time, and passes the turn on when it waits for a group, yields after
/// taking one, lets another run arrive, or ends. So a run that arrives
/// reaches its group before the run already in it goes on, and every
/// interleaving is the same from one test run to the next.
pub(crate) struct Control {
    state: Mutex<State>,
    turn: Condvar,
}

impl Control {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            turn: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers run `id`; it arrives at once (`None`) or when `when` of
    /// run `of` happens.
    pub(crate) fn register(&self, id: usize, label: &str, when: Option<(usize, At)>) {
        let mut s = self.lock();
        s.total += 1;
        s.labels.insert(id, label.to_owned());
        match when {
            None => {
                s.arrived.insert(id);
                s.ready.push_back(id);
            }
            Some((of, at)) => s.arrivals.push((of, at, id)),
        }
    }

    /// Hands the first turn out; call once every run is registered.
    pub(crate) fn start(&self) {
        let mut s = self.lock();
        Self::pass(&mut s);
        self.turn.notify_all();
    }

    /// Blocks until it is `id`'s turn; `Err` if the run never arrived
    /// (what it was to arrive on never happened) or can never go on.
    pub(crate) fn wait_turn(&self, id: usize) -> Result<(), String> {
        let mut s = self.lock();
        while s.active != Some(id) {
            s = self.turn.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        match s.stuck.remove(&id) {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    /// Run `id` is done: the turn goes on.
    pub(crate) fn finish(&self, id: usize) {
        let mut s = self.lock();
        s.finished.insert(id);
        // A run that ends holding a group (an error mid-job) frees it.
        let held: Vec<String> = s
            .groups
            .iter()
            .filter(|(_, g)| g.running == Some(id))
            .map(|(k, _)| k.clone())
            .collect();
        for g in held {
            Self::free(&mut s, &g);
        }
        for g in s.groups.values_mut() {
            g.pending.retain(|r| *r != id);
        }
        if s.active == Some(id) {
            Self::pass(&mut s);
        }
        self.turn.notify_all();
    }

    /// `id` lets the others take a turn and waits for its next one; false
    /// when no other run could take one.
    pub(crate) fn yield_turn(&self, id: usize) -> bool {
        let mut s = self.lock();
        if s.ready.is_empty() {
            return false;
        }
        s.ready.push_back(id);
        Self::pass(&mut s);
        self.turn.notify_all();
        while s.active != Some(id) {
            s = self.turn.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        true
    }

    /// The reason run `id` was cancelled, if it was.
    pub(crate) fn cancelled(&self, id: usize) -> Option<String> {
        self.lock().cancelled.get(&id).cloned()
    }

    /// Cancels run `id` (a test's hook, or the run's own failure to get a
    /// group): recorded, and a pending one is woken to see it.
    pub(crate) fn cancel(&self, id: usize, reason: &str) {
        let mut s = self.lock();
        Self::cancel_locked(&mut s, id, reason);
    }

    fn cancel_locked(s: &mut State, id: usize, reason: &str) {
        s.cancelled.entry(id).or_insert_with(|| reason.to_owned());
        let mut woken = false;
        for g in s.groups.values_mut() {
            let before = g.pending.len();
            g.pending.retain(|r| *r != id);
            woken |= g.pending.len() != before;
        }
        if woken {
            s.ready.push_back(id);
        }
    }

    /// The longest delay (`At::StepRunning`'s `after`) of the runs that
    /// arrive when run `id` reaches `at`.
    pub(crate) fn arrival_delay(&self, id: usize, at: &At) -> Option<std::time::Duration> {
        self.lock()
            .arrivals
            .iter()
            .filter(|(of, when, _)| *of == id && when.matches(at))
            .map(|(_, when, _)| when.after())
            .max()
    }

    /// Run `id` reached `at` (a step of its own starting or finishing):
    /// the runs that arrive then are let in, and get their turn before
    /// `id` goes on.
    pub(crate) fn reached(&self, id: usize, at: &At) {
        let mut s = self.lock();
        let mut arriving = Vec::new();
        s.arrivals.retain(|(of, when, run)| {
            if *of == id && when.matches(at) {
                arriving.push(*run);
                false
            } else {
                true
            }
        });
        if arriving.is_empty() {
            return;
        }
        for r in arriving {
            s.arrived.insert(r);
            s.ready.push_back(r);
        }
        s.ready.push_back(id);
        Self::pass(&mut s);
        self.turn.notify_all();
        while s.active != Some(id) {
            s = self.turn.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Run `id` asks for `c.group`: granted at once when free (then the
    /// others take a turn, so the runs that arrived with it queue behind
    /// it), pending otherwise — until the group frees, or a newer run
    /// cancels it.
    pub(crate) fn acquire(&self, id: usize, c: &Concurrency) -> Acquired {
        let key = c.group.to_lowercase();
        let mut s = self.lock();
        let label = s.labels.get(&id).cloned().unwrap_or_default();
        let group = s.groups.entry(key.clone()).or_default();
        let running = group.running;
        if running == Some(id) {
            return held_by_itself(c, &label);
        }
        let mut cancel = Vec::new();
        if c.cancel_in_progress
            && let Some(r) = running
            && r != id
        {
            cancel.push((
                r,
                format!(
                    "cancel-in-progress: `{label}` queued in group `{}`",
                    c.group
                ),
            ));
        }
        let full = match c.queue {
            Queue::Single => {
                for p in group.pending.iter().copied() {
                    cancel.push((
                        p,
                        format!(
                            "a newer run, `{label}`, queued in group `{}` (`queue: single`)",
                            c.group
                        ),
                    ));
                }
                false
            }
            Queue::Max => running.is_some() && group.pending.len() >= MAX_PENDING,
        };
        if full {
            let why = format!(
                "group `{}` already had {MAX_PENDING} pending (`queue: max`)",
                c.group
            );
            Self::cancel_locked(&mut s, id, &why);
            return Acquired::Cancelled(why);
        }
        for (r, why) in cancel {
            Self::cancel_locked(&mut s, r, &why);
        }
        let group = s.groups.entry(key.clone()).or_default();
        if group.running.is_none() {
            group.running = Some(id);
            s.ready.push_back(id);
        } else {
            group.pending.push_back(id);
        }
        Self::pass(&mut s);
        self.turn.notify_all();
        while s.active != Some(id) {
            s = self.turn.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        if let Some(why) = s.stuck.remove(&id) {
            return Acquired::Deadlock(why);
        }
        if s.groups.get(&key).and_then(|g| g.running) == Some(id) {
            Acquired::Granted
        } else {
            Acquired::Cancelled(s.cancelled.get(&id).cloned().unwrap_or_default())
        }
    }

    /// Whether another run holds `group` now.
    pub(crate) fn busy(&self, group: &str) -> bool {
        self.lock()
            .groups
            .get(&group.to_lowercase())
            .is_some_and(|g| g.running.is_some())
    }

    /// Run `id` is done with `group`: the first pending run gets it.
    pub(crate) fn release(&self, id: usize, group: &str) {
        let key = group.to_lowercase();
        let mut s = self.lock();
        if s.groups.get(&key).and_then(|g| g.running) == Some(id) {
            Self::free(&mut s, &key);
        }
    }

    fn free(s: &mut State, key: &str) {
        let Some(g) = s.groups.get_mut(key) else {
            return;
        };
        g.running = g.pending.pop_front();
        if let Some(next) = g.running {
            s.ready.push_back(next);
        }
    }

    /// The next ready run gets the turn. With none ready while runs remain,
    /// nothing can change any more: a run pending on a group is woken with
    /// a deadlock, then a run whose arrival never came is woken to say so.
    fn pass(s: &mut State) {
        s.active = s.ready.pop_front();
        if s.active.is_some() || s.finished.len() == s.total {
            return;
        }
        let pending = s
            .groups
            .iter()
            .find_map(|(k, g)| g.pending.front().map(|r| (k.clone(), *r, g.running)));
        if let Some((key, r, holder)) = pending {
            if let Some(g) = s.groups.get_mut(&key) {
                g.pending.pop_front();
            }
            let by = holder
                .and_then(|h| s.labels.get(&h).cloned())
                .unwrap_or_default();
            s.stuck.insert(
                r,
                format!("deadlock: group `{key}` is held by `{by}`, which can never free it"),
            );
            s.active = Some(r);
            return;
        }
        let never = (0..s.total).find(|r| !s.arrived.contains(r) && !s.finished.contains(r));
        if let Some(r) = never {
            s.arrived.insert(r);
            s.stuck.insert(
                r,
                "never arrived: the step it was to arrive on never started or finished".into(),
            );
            s.active = Some(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use yaml_rust2::YamlLoader;

    fn parse(text: &str) -> Result<Option<Concurrency>, String> {
        let doc = YamlLoader::load_from_str(text).unwrap().remove(0);
        let c = json!({"inputs": {"environment": "prod", "fast": true}});
        let scope = Scope {
            contexts: c.as_object().unwrap(),
            status: crate::expr::Status::Success,
        };
        Concurrency::parse(&doc["concurrency"], &scope)
    }

    #[test]
    fn a_group_string_or_a_mapping_with_expressions() {
        let c = parse("concurrency: deploy-${{ inputs.environment }}")
            .unwrap()
            .unwrap();
        assert_eq!(
            c,
            Concurrency {
                group: "deploy-prod".into(),
                cancel_in_progress: false,
                queue: Queue::Single,
            }
        );
        let c = parse("concurrency:\n  group: g\n  cancel-in-progress: ${{ inputs.fast }}\n")
            .unwrap()
            .unwrap();
        assert!(c.cancel_in_progress);
        let c = parse("concurrency:\n  group: g\n  queue: max\n")
            .unwrap()
            .unwrap();
        assert_eq!(c.queue, Queue::Max);
        assert_eq!(parse("other: 1").unwrap(), None);
    }

    #[test]
    fn bad_settings_are_workflow_errors() {
        let err = parse("concurrency:\n  group: g\n  queue: max\n  cancel-in-progress: true\n")
            .unwrap_err();
        assert!(err.contains("validation error"), "{err}");
        assert!(parse("concurrency:\n  group: g\n  queue: many\n").is_err());
        assert!(parse("concurrency:\n  cancel-in-progress: true\n").is_err());
    }
}
