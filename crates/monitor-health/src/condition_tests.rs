use super::*;
use proptest::prelude::*;

fn seen(status: u16, body: &str) -> Observed<'_> {
    Observed {
        status,
        response_time: Duration::from_millis(120),
        body,
        certificate_left: None,
    }
}

fn holds(cond: &str, o: &Observed<'_>) -> bool {
    Condition::parse(cond).unwrap().check(o).is_ok()
}

#[test]
fn status_numbers_and_ranges() {
    assert!(holds("[STATUS] == 200", &seen(200, "")));
    assert!(!holds("[STATUS] == 200", &seen(204, "")));
    assert!(holds("[STATUS] == 200..299", &seen(204, "")));
    assert!(!holds("[STATUS] == 200..299", &seen(301, "")));
    assert!(holds("[STATUS] != 500..599", &seen(404, "")));
    assert!(holds("[STATUS] < 400", &seen(302, "")));
    assert!(!holds("[STATUS] < 400", &seen(400, "")));
}

#[test]
fn response_time_in_ms_or_duration() {
    assert!(holds("[RESPONSE_TIME] < 500", &seen(200, "")));
    assert!(!holds("[RESPONSE_TIME] < 100", &seen(200, "")));
    assert!(holds("[RESPONSE_TIME] <= 1.5s", &seen(200, "")));
}

#[test]
fn body_json_paths() {
    let body = r#"{"status":"UP","checks":[{"ok":true,"n":3}],"msg":"all fine"}"#;
    assert!(holds("[BODY].status == UP", &seen(200, body)));
    assert!(holds(r#"[BODY].status == "UP""#, &seen(200, body)));
    assert!(!holds("[BODY].status == DOWN", &seen(200, body)));
    assert!(holds("[BODY].checks[0].ok == true", &seen(200, body)));
    assert!(holds("[BODY].checks[0].n >= 3", &seen(200, body)));
    assert!(holds("[BODY].msg contains fine", &seen(200, body)));
    assert!(holds("[BODY] contains UP", &seen(200, body)));
    assert!(holds("[BODY] !contains DOWN", &seen(200, body)));
    let e = Condition::parse("[BODY].missing == x")
        .unwrap()
        .check(&seen(200, body))
        .unwrap_err();
    assert!(e.contains("path not in the body"), "{e}");
    assert!(!holds("[BODY].status == UP", &seen(200, "<html>")));
}

#[test]
fn certificate_expiration() {
    let mut o = seen(200, "");
    assert!(
        Condition::parse("[CERTIFICATE_EXPIRATION] > 48h")
            .unwrap()
            .check(&o)
            .is_err()
    );
    o.certificate_left = Some(Duration::from_secs(72 * 3600));
    assert!(holds("[CERTIFICATE_EXPIRATION] > 48h", &o));
    o.certificate_left = Some(Duration::from_secs(24 * 3600));
    assert!(!holds("[CERTIFICATE_EXPIRATION] > 48h", &o));
}

#[test]
fn unparseable_conditions_say_why() {
    for (text, why) in [
        ("[STATUS]", "expected"),
        ("[STATUS] = 200", "expected one of"),
        ("[STATUS] == ", "missing the value"),
        ("[STATUS] == 99", "not an HTTP status"),
        ("[STATUS] == 299..200", "start is after"),
        ("[STATUS] < 200..299", "range takes"),
        ("[STATUS] contains 2", "[BODY] only"),
        ("[LATENCY] < 3", "unknown placeholder"),
        ("[BODY].a[x] == 1", "not an array index"),
        ("[BODY]..a == 1", "empty key"),
        ("[BODY].a > big", "take a number"),
        ("[RESPONSE_TIME] < soon", "not a duration"),
    ] {
        let e = Condition::parse(text).unwrap_err();
        assert!(e.why.contains(why), "{text}: {}", e.why);
    }
}

proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC{0,40}") {
        let _ = Condition::parse(&s);
    }

    #[test]
    fn status_conditions_round_trip(a in 100u16..600, b in 100u16..600, s in 100u16..600) {
        let (lo, hi) = (a.min(b), a.max(b));
        let c = Condition::parse(&format!("[STATUS] == {lo}..{hi}")).unwrap();
        prop_assert_eq!(c.check(&seen(s, "")).is_ok(), (lo..=hi).contains(&s));
        let c = Condition::parse(&format!("[STATUS] >= {a}")).unwrap();
        prop_assert_eq!(c.check(&seen(s, "")).is_ok(), s >= a);
    }

    #[test]
    fn body_paths_find_what_was_put(key in "[a-z]{1,8}", idx in 0usize..4, v in "[A-Za-z0-9]{1,10}") {
        let mut arr = vec![serde_json::Value::Null; idx + 1];
        arr[idx] = serde_json::json!({ "v": v });
        let body = serde_json::json!({ key.clone(): arr }).to_string();
        let cond = format!("[BODY].{key}[{idx}].v == {v}");
        prop_assert!(holds(&cond, &seen(200, &body)));
    }
}
