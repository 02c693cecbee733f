//! Loading and reloading certificates made with the `openssl` CLI.

use super::*;
use std::process::Command;

/// A self-signed certificate and key for `cn` in `dir`, as `<name>.crt`
/// and `<name>.key`.
fn self_signed(dir: &Path, name: &str, cn: &str) -> TlsPaths {
    let paths = TlsPaths {
        cert: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
    };
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj"])
        .arg(format!("/CN={cn}"))
        .arg("-keyout")
        .arg(&paths.key)
        .arg("-out")
        .arg(&paths.cert)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    paths
}

#[test]
fn loads_and_names_the_file_at_fault() {
    let dir = tempfile::tempdir().unwrap();
    let a = self_signed(dir.path(), "a", "a.test");
    let b = self_signed(dir.path(), "b", "b.test");
    Tls::load(a.clone()).unwrap();

    let missing = TlsPaths {
        cert: dir.path().join("nope.crt"),
        key: a.key.clone(),
    };
    let e = Tls::load(missing).unwrap_err().to_string();
    assert!(e.starts_with("tls_cert ") && e.contains("nope.crt"), "{e}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file\n").unwrap();
    let e = Tls::load(TlsPaths {
        cert: garbage.clone(),
        key: a.key.clone(),
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("garbage.pem") && e.contains("no PEM"), "{e}");
    let e = Tls::load(TlsPaths {
        cert: a.cert.clone(),
        key: garbage,
    })
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("tls_key ") && e.contains("garbage.pem"),
        "{e}"
    );

    // A key from another certificate.
    let e = Tls::load(TlsPaths {
        cert: a.cert.clone(),
        key: b.key.clone(),
    })
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("tls_key ") && e.contains("does not belong"),
        "{e}"
    );
}

#[test]
fn reload_swaps_the_certificate_and_a_failed_one_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let live = self_signed(dir.path(), "live", "first.test");
    let tls = Tls::load(live.clone()).unwrap();
    let first = tls.current_chain();

    let next = self_signed(dir.path(), "next", "second.test");
    std::fs::copy(&next.cert, &live.cert).unwrap();
    std::fs::copy(&next.key, &live.key).unwrap();
    tls.reload().unwrap();
    let second = tls.current_chain();
    assert_ne!(first, second);
    assert_eq!(
        second[0],
        CertificateDer::from_pem_file(&next.cert).unwrap()
    );

    std::fs::write(&live.key, "broken\n").unwrap();
    let e = tls.reload().unwrap_err().to_string();
    assert!(e.contains("live.key"), "{e}");
    assert_eq!(
        tls.current_chain(),
        second,
        "a failed reload keeps the certificate"
    );
}
