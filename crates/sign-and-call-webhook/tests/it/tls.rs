//! https: a self-signed receiver is refused unless its CA is given (or
//! verification is explicitly skipped).

use relay_testkit::tls::TestCa;
use relay_testkit::webhook::Sink;

use super::{action, run};

fn tls_sink() -> Option<(TestCa, Sink)> {
    let cert = TestCa::generate()?;
    let sink = Sink::start_tls(cert.server_config());
    Some((cert, sink))
}

#[test]
fn an_unknown_ca_fails_with_a_tls_message() {
    let Some((_cert, sink)) = tls_sink() else {
        return;
    };
    let out = run(action(&format!("{}/deploy", sink.url())).input("allow-http", "false"));
    out.assert_failure();
    assert!(
        out.error().contains("TLS handshake") && out.error().contains("ca-cert"),
        "{}",
        out.error()
    );
    assert!(sink.received().is_empty());
}

#[test]
fn ca_cert_as_pem_text_or_path_is_trusted() {
    let Some((cert, sink)) = tls_sink() else {
        return;
    };
    let url = format!("{}/deploy", sink.url());
    run(action(&url).input("ca-cert", &cert.ca_pem)).assert_success();
    run(action(&url).input("ca-cert", cert.ca_path.to_str().unwrap())).assert_success();
    assert_eq!(sink.received().len(), 2);
}

#[test]
fn insecure_skips_verification_with_a_warning() {
    let Some((_cert, sink)) = tls_sink() else {
        return;
    };
    let out = run(action(&format!("{}/deploy", sink.url())).input("insecure", "true"));
    out.assert_success();
    assert!(
        out.commands("warning")
            .iter()
            .any(|w| w.contains("not verified"))
    );
}
