//! The receiver's config parser on arbitrary text, then everything a start
//! builds from what it accepts (the app, every route, the weak-settings
//! report) without a socket. Invariants: no panic on any text — a config
//! the parser accepts must start (axum panics on clashing or malformed
//! routes); every accepted hook path is in its one normal form, distinct,
//! and its status path cannot be another hook; the answer's bounds hold.

#![no_main]

use deploy_receiver::fuzzing::start_offline;
use deploy_receiver::{Config, Mode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = Config::parse(text) else { return };
    let mut paths = std::collections::HashSet::new();
    for hook in &config.hooks {
        let p = hook.path.as_str();
        assert!(p.starts_with('/') && p.len() > 1, "{p:?}");
        assert!(!p.ends_with('/'), "{p:?} has a trailing slash");
        assert_ne!(p, "/healthz");
        for segment in p[1..].split('/') {
            assert!(!segment.is_empty() && segment != "." && segment != "..", "{p:?}");
            assert!(
                segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
                "{p:?}"
            );
        }
        assert!(paths.insert(p.to_owned()), "{p:?} twice");
        assert!(!hook.queue || (1..=100).contains(&hook.queue_limit));
        assert!(hook.mode == Mode::Sync || hook.mode == Mode::Async);
        for (_, pattern) in &hook.args {
            // Wrapped so a value must match in full, whatever was written.
            let p = pattern.as_str();
            assert!(p.starts_with("^(?:") && p.ends_with(")$"), "{p:?}");
        }
    }
    for a in &paths {
        for b in &paths {
            assert!(!b.starts_with(&format!("{a}/deliveries/")), "{b:?} under {a:?}'s status paths");
        }
    }
    assert!(config.output_tail <= 24 * 1024);
    assert!(config.max_body <= config.body_budget);
    start_offline(config);
});
