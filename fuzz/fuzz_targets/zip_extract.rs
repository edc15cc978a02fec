//! Arbitrary bytes as an artifact zip, extracted into `scratch/target` with
//! tight limits. Invariants: no panic, and nothing ever appears in `scratch`
//! outside `target` (no `..`, absolute, drive or backslash escape, no write
//! through a symlink, no symlink pointing out).

#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use relay_artifacts::{ExtractLimits, Extractor};

fn outside_target(scratch: &Path) -> Vec<String> {
    std::fs::read_dir(scratch)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "target")
                .collect()
        })
        .unwrap_or_default()
}

/// Every symlink under `dir` must resolve inside `root` (or dangle inside).
fn check_links(root: &Path, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let Ok(meta) = p.symlink_metadata() else { continue };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&p).expect("read link");
            let joined = p.parent().expect("parent").join(target);
            let mut depth: i64 = 0;
            for c in joined.strip_prefix(root).expect("link inside root").components() {
                match c {
                    std::path::Component::ParentDir => depth -= 1,
                    std::path::Component::Normal(_) => depth += 1,
                    _ => {}
                }
                assert!(depth >= 0, "symlink {} escapes", p.display());
            }
        } else if meta.is_dir() {
            check_links(root, &p);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let scratch = tempfile::tempdir().expect("tempdir");
    let root = scratch.path().join("target");
    let limits = ExtractLimits { max_total_bytes: 1 << 20, max_entries: 64 };
    let mut ex = Extractor::new(&root, limits).expect("extractor");
    let _ = ex.extract(Cursor::new(data));
    assert!(outside_target(scratch.path()).is_empty(), "an entry escaped the target");
    check_links(&root, &root);
});
