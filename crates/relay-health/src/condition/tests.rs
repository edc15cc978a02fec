use std::time::Duration;

use super::*;
use proptest::prelude::*;

fn seen(status: u16, body: &str) -> Observed<'_> {
    Observed {
        status,
        response_time: Duration::from_millis(120),
        body,
        certificate_left: None,
        secrets: &[],
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
fn the_whole_body_is_trimmed_as_gatus_resolves_it() {
    assert!(holds("[BODY] == ok", &seen(200, "ok\n")));
    assert!(holds("[BODY] == any(ok, fine)", &seen(200, "  fine\r\n")));
    assert!(!holds("[BODY] == ok", &seen(200, "ok then")));
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
    o.certificate_left = Some(Duration::from_hours(72));
    assert!(holds("[CERTIFICATE_EXPIRATION] > 48h", &o));
    o.certificate_left = Some(Duration::from_hours(24));
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

#[test]
fn pat_matches_the_value_as_gatus_does() {
    let body = r#"{"name":"john.doe","ip":"192.168.0.7","n":42}"#;
    assert!(holds("[BODY].name == pat(john*)", &seen(200, body)));
    assert!(!holds("[BODY].name == pat(bob*)", &seen(200, body)));
    assert!(holds("[BODY].name != pat(bob*)", &seen(200, body)));
    assert!(holds("[BODY].ip == pat(192.168.*)", &seen(200, body)));
    assert!(holds("[BODY].n == pat(4?)", &seen(200, body)));
    assert!(holds("[STATUS] == pat(2*)", &seen(204, "")));
    assert!(!holds("[STATUS] == pat(2*)", &seen(301, "")));
    let page = "<html><h1>Example Domain</h1></html>\n";
    assert!(holds(
        "[BODY] == pat(*<h1>Example Domain</h1>*)",
        &seen(200, page)
    ));
    assert!(holds("len([BODY].name) == pat(8)", &seen(200, body)));
}

#[test]
fn any_accepts_one_of_the_listed_values() {
    assert!(holds("[STATUS] == any(200, 429)", &seen(429, "")));
    assert!(!holds("[STATUS] == any(200, 429)", &seen(500, "")));
    assert!(holds("[STATUS] != any(500, 502,503)", &seen(200, "")));
    let body = r#"{"id":2,"ip":"::1","state":"UP"}"#;
    assert!(holds("[BODY].id == any(1, 2)", &seen(200, body)));
    assert!(!holds("[BODY].id == any(3, 4, 5)", &seen(200, body)));
    assert!(holds("[BODY].ip == any(127.0.0.1, ::1)", &seen(200, body)));
    // Options are compared as written, as in Gatus: quotes are not removed.
    assert!(!holds(r#"[BODY].state == any("UP")"#, &seen(200, body)));
    assert!(holds("len([BODY].state) == any(1, 2)", &seen(200, body)));
}

#[test]
fn len_counts_array_elements_else_characters() {
    let body = r#"{"data":[{"id":1},{"id":2}],"name":"john.doe","obj":{"a":1, "b":[true]},"n":12.5,"e":[]}"#;
    assert!(holds("len([BODY].data) < 5", &seen(200, body)));
    assert!(holds("len([BODY].data) == 2", &seen(200, body)));
    assert!(holds("len([BODY].name) == 8", &seen(200, body)));
    assert!(!holds("len([BODY].name) > 8", &seen(200, body)));
    // An object counts as its minified JSON: {"a":1,"b":[true]}.
    assert!(holds("len([BODY].obj) == 18", &seen(200, body)));
    assert!(holds("len([BODY].n) == 4", &seen(200, body)));
    assert!(holds("len([BODY].e) == 0", &seen(200, body)));
    assert!(holds("len([BODY]) == 3", &seen(200, "[1, 2, 3]")));
    assert!(holds("len([BODY]) == 5", &seen(200, "hello\n")));
    assert!(holds(
        "len([BODY].name) == 3",
        &seen(200, r#"{"name":"jöß"}"#)
    ));
    let e = Condition::parse("len([BODY].missing) < 5")
        .unwrap()
        .check(&seen(200, body))
        .unwrap_err();
    assert!(e.contains("path not in the body"), "{e}");
    assert!(!holds("len([BODY].x) < 5", &seen(200, "not json")));
}

#[test]
fn has_says_whether_the_path_exists() {
    assert!(holds(
        "has([BODY].errors) == false",
        &seen(200, r#"{"name":"john.doe"}"#)
    ));
    assert!(!holds(
        "has([BODY].errors) == false",
        &seen(200, r#"{"errors":[]}"#)
    ));
    assert!(holds(
        "has([BODY].users) == true",
        &seen(200, r#"{"users":[]}"#)
    ));
    assert!(!holds("has([BODY].users) == true", &seen(200, "{}")));
    assert!(holds("has([BODY].users) != true", &seen(200, "{}")));
    assert!(holds(
        "has([BODY].a[1].b) == true",
        &seen(200, r#"{"a":[0,{"b":0}]}"#)
    ));
    assert!(holds("has([BODY].x) == false", &seen(200, r#"{"x":null}"#)));
    assert!(holds("has([BODY].x) == false", &seen(200, "<html>")));
    assert!(holds("has([BODY]) == true", &seen(200, "ok")));
    assert!(holds("has([BODY]) == false", &seen(200, "  ")));
    let e = Condition::parse("has([BODY].errors) == false")
        .unwrap()
        .check(&seen(200, r#"{"errors":["x"]}"#))
        .unwrap_err();
    assert!(e.ends_with("failed (present)"), "{e}");
}

#[test]
fn placeholders_are_case_insensitive_as_in_gatus() {
    assert!(holds("[status] == 200", &seen(200, "")));
    assert!(holds(
        "[Body].Status == UP",
        &seen(200, r#"{"Status":"UP"}"#)
    ));
    assert!(!holds(
        "[body].status == UP",
        &seen(200, r#"{"Status":"UP"}"#)
    ));
}

#[test]
fn unsupported_functions_and_placeholders_are_refused_by_name() {
    for (text, why) in [
        ("[BODY].name == lower(JOHN)", "`lower()` is not supported"),
        ("[BODY].name == regex(^j)", "`regex()` is not supported"),
        ("[BODY].name == pat(john*", "`pat(` is not closed"),
        (
            "count([BODY].items) > 1",
            "`count()` is not a supported function",
        ),
        ("len([STATUS]) == 3", "works on [BODY] only"),
        ("has([RESPONSE_TIME]) == true", "works on [BODY] only"),
        ("pat(2*) == [STATUS]", "goes on the right"),
        ("[BODY].n == len([BODY].x)", "goes on the left"),
        ("[STATUS] < any(200, 300)", "with == and != only"),
        ("[BODY].name contains pat(j*)", "with == and != only"),
        (
            "[RESPONSE_TIME] == any(1, 2)",
            "applies to [STATUS], [BODY] and len()",
        ),
        (
            "has([BODY].x) == any(true)",
            "applies to [STATUS], [BODY] and len()",
        ),
        ("[STATUS] == any(200, ok)", "not an HTTP status"),
        ("[STATUS] == any()", "at least one value"),
        ("len([BODY].x) == any(1, two)", "whole numbers"),
        ("len([BODY].x) > many", "compares with a number"),
        ("len([BODY].x) contains 3", "[BODY] only"),
        ("has([BODY].x) == yes", "true or false"),
        ("has([BODY].x) > 1", "true or false"),
        ("[BODY].name == pat([a-)", "bad range"),
        ("[BODY].age == [BODY].id", "another placeholder"),
        ("[IP] == 127.0.0.1", "`[IP]` is a Gatus placeholder"),
        (
            "[CONNECTED] == true",
            "`[CONNECTED]` is a Gatus placeholder",
        ),
        ("[DOMAIN_EXPIRATION] > 720h", "`[DOMAIN_EXPIRATION]`"),
    ] {
        let e = Condition::parse(text).unwrap_err();
        assert!(e.why.contains(why), "{text}: {}", e.why);
    }
    // Quoted, it is text again.
    assert!(holds(
        r#"[BODY].v == "v1(beta)""#,
        &seen(200, r#"{"v":"v1(beta)"}"#)
    ));
}

#[test]
fn quoted_values_are_redacted_then_cut() {
    let secret = "s3cr3t-".repeat(3);
    let body = serde_json::json!({ "status": format!("{}{secret}", "x".repeat(70)) }).to_string();
    let secrets = vec![secret.clone()];
    let o = Observed {
        secrets: &secrets,
        ..seen(200, &body)
    };
    let e = Condition::parse("[BODY].status == UP")
        .unwrap()
        .check(&o)
        .unwrap_err();
    // The cut falls inside the secret; redacting first leaves none of it.
    assert!(!e.contains("s3cr3t"), "{e}");
    assert!(e.contains("***"), "{e}");
    let long = serde_json::json!({ "status": "y".repeat(200) }).to_string();
    let e = Condition::parse("[BODY].status == UP")
        .unwrap()
        .check(&seen(200, &long))
        .unwrap_err();
    assert!(e.contains(&format!("`{}…`", "y".repeat(80))), "{e}");
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
