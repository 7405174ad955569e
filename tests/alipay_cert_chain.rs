//! Alipay certificate chains: `alipay::cert_chain` against `openssl verify` as the
//! oracle, on chains made here by the openssl CLI (root → intermediate → leaf,
//! as Alipay ships them), and on the yansongda/pay sandbox certificates.

mod common;

use common::*;
use edgepay::alipay::{self, cert_chain};
use edgepay::crypto::Certificate;
use edgepay::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl verify` of `leaf` with `untrusted` intermediates against `roots`: the oracle.
fn openssl_trusts(dir: &Path, roots: &str, untrusted: &str, leaf: &str) -> bool {
    Command::new("openssl")
        .args(["verify", "-CAfile", roots, "-untrusted", untrusted, leaf])
        .current_dir(dir)
        .output()
        .expect("openssl runs")
        .status
        .success()
}

struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("edgepay-chain-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("ca.ext"),
            "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("leaf.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n",
        )
        .unwrap();
        Pki { dir }
    }
    fn root(&self, name: &str, subject: &str) {
        openssl(
            &self.dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
                "-subj",
                subject,
                "-days",
                "3650",
                "-sha256",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=keyCertSign,cRLSign",
            ],
        );
    }
    /// A certificate for a new key, `subject`, issued by `issuer` (its .pem and .key).
    fn issue(&self, name: &str, subject: &str, issuer: &str, ca: bool, digest: &str) {
        openssl(
            &self.dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                subject,
            ],
        );
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-set_serial",
                &format!("0x{:x}", name.len() * 7919 + 4242),
                "-out",
                &format!("{name}.pem"),
                "-days",
                "1000",
                &format!("-{digest}"),
                "-extfile",
                if ca { "ca.ext" } else { "leaf.ext" },
            ],
        );
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap()
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.join(name), text).unwrap();
    }
    fn concat(&self, name: &str, parts: &[&str]) -> String {
        let text: String = parts.iter().map(|p| self.read(p)).collect();
        self.write(name, &text);
        text
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const ROOT: &str =
    "/C=CN/O=Test Financial/OU=Certification Authority/CN=Test Certification Authority R1";
const INTERMEDIATE: &str =
    "/C=CN/O=Test Financial/OU=Certification Authority/CN=Test Certification Authority Class 2 R1";
const LEAF: &str = "/C=CN/O=merchant@sandbox.example/OU=Alipay/CN=Alipay test leaf";

#[test]
fn a_chain_made_by_openssl_is_trusted_exactly_when_openssl_trusts_it() {
    let pki = Pki::new("ok");
    pki.root("root", ROOT);
    pki.root("other", "/C=CN/O=Other/CN=Other Root");
    pki.issue("intermediate", INTERMEDIATE, "root", true, "sha256");
    pki.issue("leaf", LEAF, "intermediate", false, "sha256");
    // As Alipay ships them: the leaf then its intermediate; a bundle of several roots.
    let file = pki.concat("alipayCert.crt", &["leaf.pem", "intermediate.pem"]);
    let bundle = pki.concat("root-bundle.crt", &["other.pem", "root.pem"]);
    assert!(openssl_trusts(
        &pki.dir,
        "root-bundle.crt",
        "intermediate.pem",
        "leaf.pem"
    ));
    let leaf = alipay::verify_cert_chain(&file, &bundle, now()).unwrap();
    assert_eq!(
        alipay::cert_sn(&leaf),
        alipay::cert_sn_pem(&pki.read("leaf.pem")).unwrap()
    );
    let links = cert_chain::chain_links(&file, &bundle, now()).unwrap();
    assert_eq!(links.len(), 2, "leaf → intermediate → root");
    assert!(links[1].1.is_self_issued());

    // Without the root in the bundle: neither trusts it; ours names the missing issuer.
    let others = pki.concat("others.crt", &["other.pem"]);
    assert!(!openssl_trusts(
        &pki.dir,
        "others.crt",
        "intermediate.pem",
        "leaf.pem"
    ));
    let e = alipay::verify_cert_chain(&file, &others, now()).unwrap_err();
    assert!(e.is_verification_failure(), "{e:?}");
    assert!(
        e.to_string().contains("CN=Test Certification Authority R1"),
        "{e}"
    );

    // The intermediate missing from the file: not trusted either.
    let e = alipay::verify_cert_chain(&pki.read("leaf.pem"), &bundle, now()).unwrap_err();
    assert!(e.to_string().contains("Class 2 R1"), "{e}");

    // Outside the validity period (the leaf's 1000 days).
    let e = alipay::verify_cert_chain(&file, &bundle, now() + 2000 * 86400).unwrap_err();
    assert_eq!(e.field(), Some("alipay_cert"));
    assert!(e.to_string().contains("valid from"), "{e}");
}

#[test]
fn a_forged_intermediate_or_a_changed_signature_is_refused_like_openssl() {
    let pki = Pki::new("forged");
    pki.root("root", ROOT);
    pki.issue("intermediate", INTERMEDIATE, "root", true, "sha256");
    // Same intermediate name, another key (not issued by the root): it signs a leaf.
    pki.root("fake", INTERMEDIATE);
    pki.issue("leaf", LEAF, "fake", false, "sha256");
    let file = pki.concat("file.crt", &["leaf.pem", "intermediate.pem"]);
    let bundle = pki.read("root.pem");
    assert!(!openssl_trusts(
        &pki.dir,
        "root.pem",
        "intermediate.pem",
        "leaf.pem"
    ));
    let e = alipay::verify_cert_chain(&file, &bundle, now()).unwrap_err();
    assert!(matches!(e, Error::SignatureMismatch { .. }), "{e:?}");

    // A genuine leaf whose signature bytes were changed.
    pki.issue("good", LEAF, "intermediate", false, "sha256");
    let good = pki.read("good.pem");
    let mut der = Certificate::parse_pem(&good)
        .map(|_| ())
        .and_then(|_| {
            edgepay::crypto::encoding::b64decode(
                "pem",
                &good
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
        })
        .unwrap();
    let last = der.len() - 1;
    der[last] ^= 1;
    let b64 = edgepay::crypto::encoding::b64encode(&der);
    let tampered = format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
    pki.write("tampered.pem", &tampered);
    assert!(!openssl_trusts(
        &pki.dir,
        "root.pem",
        "intermediate.pem",
        "tampered.pem"
    ));
    let file = format!("{tampered}{}", pki.read("intermediate.pem"));
    let e = alipay::verify_cert_chain(&file, &bundle, now()).unwrap_err();
    assert!(matches!(e, Error::SignatureMismatch { .. }), "{e:?}");
    let ok = format!("{good}{}", pki.read("intermediate.pem"));
    alipay::verify_cert_chain(&ok, &bundle, now()).unwrap();

    // SHA-384: openssl trusts it; we refuse the algorithm by name (Alipay signs with SHA-256).
    pki.issue("sha384", LEAF, "intermediate", false, "sha384");
    assert!(openssl_trusts(
        &pki.dir,
        "root.pem",
        "intermediate.pem",
        "sha384.pem"
    ));
    let file = format!("{}{}", pki.read("sha384.pem"), pki.read("intermediate.pem"));
    let e = alipay::verify_cert_chain(&file, &bundle, now()).unwrap_err();
    assert!(e.to_string().contains("1.2.840.113549.1.1.12"), "{e}");
}

/// The `n`th certificate of a PEM file, as PEM.
fn certs_pem(text: &str, n: usize) -> &str {
    text.split_inclusive("-----END CERTIFICATE-----")
        .nth(n)
        .unwrap()
        .trim_start()
}

/// yansongda/pay's sandbox Alipay certificate file: the leaf is issued by the
/// intermediate that follows it (node:crypto agrees), and that intermediate by
/// a sandbox root ("… R1 test") that is not in the production root bundle.
#[test]
fn yansongda_sandbox_certificate_chains_to_its_intermediate_not_to_the_production_roots() {
    let file = vector_text("yansongda-alipay-public-cert.crt");
    let roots = vector_text("yansongda-alipay-root-cert.crt");
    let certs = Certificate::parse_pem_bundle(&file).unwrap();
    assert_eq!(certs.len(), 2);
    certs[0]
        .verify_issued_by(&certs[1], &certs[1].public_key().unwrap())
        .unwrap();
    // node:crypto checks the signature alone (openssl verify refuses the sandbox intermediate as a
    // CA: its keyUsage lacks keyCertSign, which Alipay's chain check does not require).
    let out = Command::new("node")
        .args([
            "-e",
            "const {X509Certificate: X} = require('node:crypto'); const [l, i] = process.argv.slice(1); \
             process.exit(new X(l).verify(new X(i).publicKey) && !new X(l).verify(new X(l).publicKey) ? 0 : 1)",
            "--",
            certs_pem(&file, 0),
            certs_pem(&file, 1),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Checked while the sandbox certificates were valid (2023).
    let (from, _) = certs[0].validity().unwrap();
    let e = alipay::verify_cert_chain(&file, &roots, from + 86400).unwrap_err();
    assert!(e.is_verification_failure(), "{e:?}");
    assert!(
        e.to_string()
            .contains("CN=Ant Financial Certification Authority R1 test"),
        "{e}"
    );
}

/// The download request and its answer's certificate (Java SDK
/// `AlipayOpenAppAlipaycertDownloadResponse.alipayCertContent`: the file in base64).
#[test]
fn certificate_download_request_and_answer() {
    let req = alipay::request::alipay_cert_download("6f1e366a31d9575cd546914add04f4af").unwrap();
    assert_eq!(req.method, "alipay.open.app.alipaycert.download");
    assert_eq!(
        req.biz_content,
        r#"{"alipay_cert_sn":"6f1e366a31d9575cd546914add04f4af"}"#
    );
    for bad in ["", "6f1e366a", "6f1e366a31d9575cd546914add04f4ag"] {
        let e = alipay::request::alipay_cert_download(bad).unwrap_err();
        assert_eq!(e.field(), Some("alipay_cert_sn"), "{bad:?}");
    }
    let pem = vector_text("yansongda-alipay-public-cert.crt");
    let answer = serde_json::json!({
        "code": "10000", "msg": "Success",
        "alipay_cert_content": edgepay::crypto::encoding::b64encode(pem.as_bytes()),
    });
    let got = alipay::request::downloaded_cert_pem(&answer).unwrap();
    assert_eq!(got, pem);
    assert_eq!(
        alipay::cert_sn_pem(&got).unwrap(),
        "6f1e366a31d9575cd546914add04f4af"
    );
    let e =
        alipay::request::downloaded_cert_pem(&serde_json::json!({"code": "10000"})).unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        ("missing_field", Some("alipay_cert_content"))
    );
    let e = alipay::request::downloaded_cert_pem(
        &serde_json::json!({"alipay_cert_content": "bm90IGEgY2VydA=="}),
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("certificate"));
}
