//! Shared test helpers: the shared vectors, an independent oracle (node:crypto),
//! and a deterministic generator of awkward parameter values.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Path of a file in `../shared/vectors/` (the public vectors; see SOURCES.md).
pub fn vector_path(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in [root.join("../shared/vectors"), root.join("shared/vectors")] {
        let p = dir.join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("vector {name} not found in ../shared/vectors");
}

/// Text of a vector file.
pub fn vector_text(name: &str) -> String {
    std::fs::read_to_string(vector_path(name)).unwrap()
}

/// A JSON vector file (`wechat.json`, `alipay.json`).
pub fn vectors(name: &str) -> serde_json::Value {
    serde_json::from_str(&vector_text(name)).unwrap()
}

/// Runs `node tests/oracle/<script>` with `input` as JSON on stdin and returns its JSON stdout.
/// The oracle scripts use only node:crypto: an implementation independent of ours.
pub fn oracle(script: &str, input: &serde_json::Value) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracle")
        .join(script);
    let mut child = Command::new("node")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node must be installed for the differential tests");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "oracle {script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle prints JSON")
}

/// A small deterministic PRNG (xorshift64*), so generated cases are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Awkward pieces of values: unicode, `+ & = %`, spaces, quotes, JSON, empties.
const PIECES: &[&str] = &[
    "a",
    "Z",
    "0",
    "9",
    " ",
    "+",
    "&",
    "=",
    "%",
    "%2B",
    "?",
    "#",
    "/",
    "\"",
    "'",
    "<",
    ">",
    "测试",
    "支付",
    "é",
    "😀",
    "\t",
    "{\"k\":\"v\"}",
    "a+b",
    "1.00",
    "-",
    "_",
    "|",
    "*",
    "~",
];

/// A random value: usually short, sometimes empty, sometimes long (up to ~4 KB).
pub fn tricky_value(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => String::new(),
        1 => (0..rng.below(400) + 100)
            .map(|_| *rng.pick(PIECES))
            .collect(),
        _ => (0..rng.below(8) + 1).map(|_| *rng.pick(PIECES)).collect(),
    }
}

/// A random parameter key: lower-case ASCII with `_`, as both providers use.
pub fn tricky_key(rng: &mut Rng) -> String {
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz_";
    let len = rng.below(12) + 1;
    let mut k: String = (0..len)
        .map(|_| ALPHA[rng.below(ALPHA.len())] as char)
        .collect();
    if k.starts_with('_') {
        k.replace_range(0..1, "k");
    }
    k
}

/// A random flat parameter map of 1..=16 entries (never containing `sign`).
pub fn tricky_params(rng: &mut Rng) -> std::collections::BTreeMap<String, String> {
    let mut m = std::collections::BTreeMap::new();
    for _ in 0..rng.below(16) + 1 {
        let k = tricky_key(rng);
        if k == "sign" || k == "sign_type" || k == "key" {
            continue;
        }
        m.insert(k, tricky_value(rng));
    }
    m
}
