//! Replays the committed fuzz corpus on stable Rust, without libFuzzer: every
//! file of `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes
//! through the same feed function the fuzz target calls (`fuzz/src/lib.rs`,
//! included here), which panics on a broken invariant; parser errors must be
//! typed `edgepay::Error`s with a code and a message (`feed::check_error`).
//!
//! Fuzzing itself (nightly): see `fuzz/README.md`.

#[path = "../fuzz/src/lib.rs"]
mod feed;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Feeds every file; returns how many were fed. Collects all failures before failing.
fn replay(target: &str, paths: &[PathBuf], failures: &mut Vec<String>) -> usize {
    for path in paths {
        let data = std::fs::read(path).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| feed::feed(target, &data)));
        if let Err(panic) = r {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{target}: {} panicked: {msg}", path.display()));
        }
    }
    paths.len()
}

#[test]
fn every_target_has_a_corpus_and_it_replays_without_panics() {
    let start = Instant::now();
    let mut failures = Vec::new();
    let mut total = 0;
    for target in feed::TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(target));
        assert!(
            corpus.len() >= 3,
            "fuzz/corpus/{target} has {} files: run fuzz/README.md's cmin step",
            corpus.len()
        );
        total += replay(target, &corpus, &mut failures);
        let regressions = files(&fuzz_dir().join("regressions").join(target));
        total += replay(target, &regressions, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let took = start.elapsed();
    eprintln!("replayed {total} corpus files in {took:?}");
    // Keep `make test` fast; a slow corpus means an input worth a look.
    assert!(
        took < Duration::from_secs(60),
        "corpus replay took {took:?}"
    );
}

#[test]
fn every_target_has_a_libfuzzer_entry_point() {
    for target in feed::TARGETS {
        let src = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        let text = std::fs::read_to_string(&src)
            .unwrap_or_else(|_| panic!("{} is missing", src.display()));
        assert!(
            text.contains(&format!("edgepay_fuzz::{target}(data)")),
            "{} does not feed edgepay_fuzz::{target}",
            src.display()
        );
    }
}

#[test]
fn the_feed_functions_reject_junk_with_typed_errors() {
    // The same feeds on small generated junk, so the replay harness itself is
    // exercised even on a checkout without a corpus.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for target in feed::TARGETS {
        for len in [0usize, 1, 2, 7, 64, 300] {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            feed::feed(target, &data);
        }
    }
}

#[test]
fn check_error_accepts_typed_errors_and_names_codes() {
    let e = edgepay::wechat::xml::decode("<!DOCTYPE x><xml/>").unwrap_err();
    assert_eq!(feed::check_error(&e), "malformed");
    let e = edgepay::wechat::v3::SignedHeaders::from_headers([("a", "b")]).unwrap_err();
    assert_eq!(feed::check_error(&e), "missing_field");
}
