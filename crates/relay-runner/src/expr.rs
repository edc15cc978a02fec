//! GitHub Actions expressions (`${{ ... }}`, `if:`), evaluated against the
//! contexts of a local run. Parsing is zizmor's `github-actions-expressions`
//! (faithful to GitHub's grammar, with GitHub's comparison, truthiness and
//! stringification rules); this module supplies the contexts and the
//! functions.

use github_actions_expressions::call::{Call, Function};
use github_actions_expressions::context::Context;
use github_actions_expressions::literal::Literal;
use github_actions_expressions::op::{BinOp, UnOp};
use github_actions_expressions::{Evaluation, Expr};
use serde_json::{Map, Value};

/// How the job (for a step's `if`) or the jobs it needs (for a job's `if`)
/// have gone so far, for the status check functions.
///
/// <https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions>:
/// `success()` — every previous step succeeded (for a job: every job it
/// needs succeeded); `failure()` — a previous step failed (for a job: any
/// ancestor job failed); `cancelled()` — the workflow run was cancelled;
/// `always()` — true even when cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing failed so far: `success()` holds.
    Success,
    /// Something failed: `failure()` holds.
    Failure,
    /// The run was cancelled: only `always()` and `cancelled()` hold.
    Cancelled,
    /// For a job's `if`: a job it needs did not succeed (it was skipped),
    /// and no ancestor failed, so neither `success()` nor `failure()`.
    Incomplete,
}

/// The contexts an expression may read (`github`, `inputs`, `steps`, …)
/// and the status so far.
pub struct Scope<'a> {
    /// Context name (`github`, `steps`, …) → its value.
    pub contexts: &'a Map<String, Value>,
    /// What the status check functions answer.
    pub status: Status,
}

/// Evaluates one expression (without `${{ }}`).
pub fn eval(src: &str, scope: &Scope<'_>) -> Result<Evaluation, String> {
    let expr = Expr::parse(src).map_err(|e| format!("`{src}`: {e}"))?;
    value(&expr, scope).map_err(|e| format!("`{src}`: {e}"))
}

/// A string with every `${{ expr }}` replaced by its value as GitHub
/// stringifies it.
pub fn interpolate(text: &str, scope: &Scope<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("${{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 3..];
        let close = after
            .find("}}")
            .ok_or_else(|| format!("`{text}`: `${{{{` is never closed"))?;
        let v = eval(after[..close].trim(), scope)?;
        out.push_str(&v.sema().to_string());
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// An `if:` condition: with or without `${{ }}`; without a status check
/// function anywhere in it, `success() &&` is implied ("A default status
/// check of `success()` is applied unless you include one of these
/// functions",
/// <https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions>).
pub fn condition(text: &str, scope: &Scope<'_>) -> Result<bool, String> {
    let t = text.trim();
    let t = t
        .strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
        .map_or(t, str::trim);
    let expr = Expr::parse(t).map_err(|e| format!("`{t}`: {e}"))?;
    let v = value(&expr, scope)
        .map_err(|e| format!("`{t}`: {e}"))?
        .as_boolean();
    Ok(if calls_status(&expr) {
        v
    } else {
        v && scope.status == Status::Success
    })
}

/// Whether a status check function is called anywhere in `expr` (a string
/// literal that merely reads `always()` does not count).
fn calls_status(expr: &Expr<'_>) -> bool {
    match expr {
        Expr::Call(call) => {
            matches!(
                call.func,
                Function::Success | Function::Failure | Function::Always | Function::Cancelled
            ) || call.args.iter().any(|a| calls_status(a))
        }
        Expr::Context(c) => c.parts.iter().any(|p| calls_status(p)),
        Expr::Index(i) => calls_status(i),
        Expr::BinExpr(b) => calls_status(&b.lhs) || calls_status(&b.rhs),
        Expr::UnExpr { expr, .. } => calls_status(expr),
        Expr::Literal(_) | Expr::Identifier(_) | Expr::Star => false,
    }
}

fn value(expr: &Expr<'_>, scope: &Scope<'_>) -> Result<Evaluation, String> {
    match expr {
        Expr::Literal(l) => Ok(literal(l)),
        Expr::Context(c) => context(c, scope),
        Expr::Identifier(i) => Ok(lookup_root(i.as_str(), scope)),
        Expr::Call(call) => function(call, scope),
        Expr::UnExpr {
            op: UnOp::Not,
            expr,
        } => Ok(Evaluation::Boolean(!value(expr, scope)?.as_boolean())),
        Expr::BinExpr(b) => {
            let lhs = value(&b.lhs, scope)?;
            match b.op {
                // GitHub's `&&`/`||` return an operand, not a boolean.
                BinOp::And => {
                    if lhs.as_boolean() {
                        value(&b.rhs, scope)
                    } else {
                        Ok(lhs)
                    }
                }
                BinOp::Or => {
                    if lhs.as_boolean() {
                        Ok(lhs)
                    } else {
                        value(&b.rhs, scope)
                    }
                }
                _ => {
                    let rhs = value(&b.rhs, scope)?;
                    let (l, r) = (lhs.sema(), rhs.sema());
                    Ok(Evaluation::Boolean(match b.op {
                        BinOp::Eq => l == r,
                        BinOp::Neq => l != r,
                        BinOp::Gt => l > r,
                        BinOp::Ge => l >= r,
                        BinOp::Lt => l < r,
                        BinOp::Le => l <= r,
                        BinOp::And | BinOp::Or => unreachable!("handled above"),
                    }))
                }
            }
        }
        Expr::Star | Expr::Index(_) => Err("`*` and bare indexes are not supported here".into()),
    }
}

fn literal(l: &Literal<'_>) -> Evaluation {
    match l {
        Literal::String(s) => Evaluation::String(s.to_string()),
        Literal::Number(n) => Evaluation::Number(*n),
        Literal::Boolean(b) => Evaluation::Boolean(*b),
        Literal::Null => Evaluation::Null,
    }
}

fn to_eval(v: &Value) -> Evaluation {
    Evaluation::try_from(v.clone()).unwrap_or(Evaluation::Null)
}

fn to_json(e: &Evaluation) -> Value {
    e.clone().try_into().unwrap_or(Value::Null)
}

/// A property, looked up without regard to case as GitHub does.
fn property<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let obj = v.as_object()?;
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn lookup_root(name: &str, scope: &Scope<'_>) -> Evaluation {
    property(&Value::Object(scope.contexts.clone()), name).map_or(Evaluation::Null, to_eval)
}

fn context(c: &Context<'_>, scope: &Scope<'_>) -> Result<Evaluation, String> {
    let mut parts = c.parts.iter();
    let head = parts.next().ok_or("an empty context")?;
    let mut current: Value = match &head.inner {
        Expr::Identifier(i) => property(&Value::Object(scope.contexts.clone()), i.as_str())
            .cloned()
            .unwrap_or(Value::Null),
        other => to_json(&value(other, scope)?),
    };
    // After a `*`, `current` is the list of matches and each later part
    // applies to every one of them (object filters,
    // <https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#object-filters>).
    let mut filtered = false;
    for part in parts {
        let star = match &part.inner {
            Expr::Star => true,
            Expr::Index(i) => matches!(i.inner, Expr::Star),
            _ => false,
        };
        if star {
            let items = if filtered {
                current
                    .as_array()
                    .map(|a| a.iter().flat_map(children).collect())
                    .unwrap_or_default()
            } else {
                children(&current)
            };
            current = Value::Array(items);
            filtered = true;
            continue;
        }
        if filtered {
            let mut out = Vec::new();
            for item in current.as_array().into_iter().flatten() {
                if let Some(v) = member(item, part, scope)? {
                    out.push(v);
                }
            }
            current = Value::Array(out);
        } else {
            current = member(&current, part, scope)?.unwrap_or(Value::Null);
        }
    }
    Ok(to_eval(&current))
}

/// The members a `*` selects: an array's items or an object's values.
fn children(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o.values().cloned().collect(),
        _ => Vec::new(),
    }
}

/// `v.name` or `v[index]`, if present.
fn member(v: &Value, part: &Expr<'_>, scope: &Scope<'_>) -> Result<Option<Value>, String> {
    Ok(match part {
        Expr::Identifier(i) => property(v, i.as_str()).cloned(),
        Expr::Index(idx) => {
            let index = value(idx, scope)?;
            match v {
                Value::Array(items) => array_index(&index).and_then(|i| items.get(i)).cloned(),
                _ => property(v, &index.sema().to_string()).cloned(),
            }
        }
        _ => return Err("an unexpected context part".into()),
    })
}

/// The element an index names in an array, as GitHub's evaluator reads
/// it: the index converted to a number (`'1'` is 1), its whole part; none
/// for a negative, infinite or not-a-number index, so `a[-1]` is null.
/// (actions/languageservices, `expressions/src/idxHelper.ts`; the
/// conversion: <https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#operators>.)
fn array_index(index: &Evaluation) -> Option<usize> {
    let n = index.as_number().floor();
    // Within usize's range the cast is exact for a whole number.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (n.is_finite() && n >= 0.0 && n < 2f64.powi(53)).then_some(n as usize)
}

fn function(call: &Call<'_>, scope: &Scope<'_>) -> Result<Evaluation, String> {
    let args = || -> Result<Vec<Evaluation>, String> {
        call.args.iter().map(|a| value(a, scope)).collect()
    };
    let lower = |e: &Evaluation| e.sema().to_string().to_lowercase();
    Ok(match call.func {
        Function::Success => Evaluation::Boolean(scope.status == Status::Success),
        Function::Failure => Evaluation::Boolean(scope.status == Status::Failure),
        Function::Always => Evaluation::Boolean(true),
        Function::Cancelled => Evaluation::Boolean(scope.status == Status::Cancelled),
        Function::Contains => {
            let a = args()?;
            match &a[0] {
                Evaluation::Array(items) => {
                    Evaluation::Boolean(items.iter().any(|i| i.sema() == a[1].sema()))
                }
                haystack => Evaluation::Boolean(lower(haystack).contains(&lower(&a[1]))),
            }
        }
        Function::StartsWith => {
            let a = args()?;
            Evaluation::Boolean(lower(&a[0]).starts_with(&lower(&a[1])))
        }
        Function::EndsWith => {
            let a = args()?;
            Evaluation::Boolean(lower(&a[0]).ends_with(&lower(&a[1])))
        }
        Function::Format => {
            let a = args()?;
            let spec = a[0].sema().to_string();
            let mut out = spec.replace("{{", "\u{0}").replace("}}", "\u{1}");
            for (n, arg) in a.iter().enumerate().skip(1) {
                out = out.replace(&format!("{{{}}}", n - 1), &arg.sema().to_string());
            }
            Evaluation::String(out.replace('\u{0}', "{").replace('\u{1}', "}"))
        }
        Function::Join => {
            let a = args()?;
            let sep = a.get(1).map_or(",".to_owned(), |s| s.sema().to_string());
            match &a[0] {
                Evaluation::Array(items) => Evaluation::String(
                    items
                        .iter()
                        .map(|i| i.sema().to_string())
                        .collect::<Vec<_>>()
                        .join(&sep),
                ),
                other => Evaluation::String(other.sema().to_string()),
            }
        }
        Function::ToJSON => {
            let a = args()?;
            Evaluation::String(serde_json::to_string_pretty(&to_json(&a[0])).unwrap_or_default())
        }
        Function::FromJSON => {
            let a = args()?;
            let text = a[0].sema().to_string();
            let v: Value =
                serde_json::from_str(&text).map_err(|e| format!("fromJSON(`{text}`): {e}"))?;
            to_eval(&v)
        }
        Function::Case => {
            let a = args()?;
            let mut pairs = a.chunks_exact(2);
            let found = pairs
                .by_ref()
                .find(|p| p[0].as_boolean())
                .map(|p| p[1].clone());
            found.unwrap_or_else(|| a[a.len() - 1].clone())
        }
        Function::HashFiles => return Err("hashFiles() is not supported in a local run".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope(status: Status) -> (Map<String, Value>, Status) {
        let c = json!({
            "inputs": {"environment": "production", "n": 3},
            "steps": {"hook": {"outputs": {"status": "503"}, "outcome": "failure"}},
            "needs": {"gate": {"result": "success", "outputs": {"ok": "true"}}},
            "github": {"event": {"client_payload": {"sha": "abc"}}},
        });
        (c.as_object().unwrap().clone(), status)
    }

    fn ev(src: &str) -> String {
        let (c, s) = scope(Status::Success);
        eval(
            src,
            &Scope {
                contexts: &c,
                status: s,
            },
        )
        .unwrap()
        .sema()
        .to_string()
    }

    #[test]
    fn contexts_operators_and_functions() {
        assert_eq!(ev("inputs.environment"), "production");
        assert_eq!(
            ev("inputs.ENVIRONMENT == 'Production'"),
            "true",
            "case-insensitive"
        );
        assert_eq!(ev("steps.hook.outputs.status == '503'"), "true");
        assert_eq!(
            ev("steps.hook.outputs.status == 503"),
            "true",
            "coerced to a number"
        );
        assert_eq!(ev("needs.gate.outputs.ok && 'yes' || 'no'"), "yes");
        assert_eq!(ev("steps.missing.outputs.x || 'default'"), "default");
        assert_eq!(ev("github.event.client_payload.sha"), "abc");
        assert_eq!(ev("github['event']['client_payload']['sha']"), "abc");
        assert_eq!(ev("contains(fromJSON('[\"a\",\"b\"]'), 'B')"), "true");
        assert_eq!(
            ev("contains('production,staging', inputs.environment)"),
            "true"
        );
        assert_eq!(
            ev("format('deploy-{0}-{1} {{x}}', inputs.environment, inputs.n)"),
            "deploy-production-3 {x}"
        );
        assert_eq!(ev("join(fromJSON('[1,2]'), '+')"), "1+2");
        assert_eq!(
            ev("startsWith(inputs.environment, 'prod') && !endsWith('x', 'y')"),
            "true"
        );
        assert_eq!(ev("fromJSON('{\"a\":{\"b\":7}}').a.b"), "7");
    }

    #[test]
    fn conditions_imply_success_unless_a_status_function_is_used() {
        let (c, _) = scope(Status::Success);
        let failed = Scope {
            contexts: &c,
            status: Status::Failure,
        };
        assert!(!condition("inputs.n == 3", &failed).unwrap());
        assert!(condition("${{ failure() && inputs.n == 3 }}", &failed).unwrap());
        assert!(condition("always()", &failed).unwrap());
        let ok = Scope {
            contexts: &c,
            status: Status::Success,
        };
        assert!(condition("inputs.n == 3", &ok).unwrap());
        assert!(!condition("failure()", &ok).unwrap());
    }

    #[test]
    fn status_functions_for_each_status() {
        let (c, _) = scope(Status::Success);
        let check = |status: Status| {
            let sc = Scope {
                contexts: &c,
                status,
            };
            [
                "success()",
                "failure()",
                "cancelled()",
                "always()",
                "!cancelled()",
                "inputs.n == 3",
            ]
            .map(|f| condition(f, &sc).unwrap())
        };
        assert_eq!(
            check(Status::Success),
            [true, false, false, true, true, true]
        );
        assert_eq!(
            check(Status::Failure),
            [false, true, false, true, true, false]
        );
        assert_eq!(
            check(Status::Cancelled),
            [false, false, true, true, false, false]
        );
        assert_eq!(
            check(Status::Incomplete),
            [false, false, false, true, true, false]
        );
    }

    #[test]
    fn an_array_index_is_read_as_github_reads_it() {
        let a = "fromJSON('[\"a\",\"b\",\"c\"]')";
        assert_eq!(ev(&format!("{a}[1]")), "b");
        assert_eq!(
            ev(&format!("{a}['2']")),
            "c",
            "a string converts to a number"
        );
        assert_eq!(ev(&format!("{a}[1.9]")), "b", "its whole part");
        assert_eq!(ev(&format!("{a}[-1] || 'none'")), "none", "negative: null");
        assert_eq!(
            ev(&format!("{a}['x'] || 'none'")),
            "none",
            "not a number: null"
        );
        assert_eq!(
            ev(&format!("{a}[3] || 'none'")),
            "none",
            "past the end: null"
        );
        assert_eq!(
            ev("fromJSON('{\"1\":\"one\"}')[1]"),
            "one",
            "an object's member by the index as text"
        );
    }

    #[test]
    fn object_filters_select_across_members() {
        let c = json!({
            "needs": {"a": {"result": "success"}, "b": {"result": "skipped"}},
            "fruits": [{"name": "apple"}, {"name": "pear"}, {"colour": "red"}],
        });
        let c = c.as_object().unwrap().clone();
        let sc = Scope {
            contexts: &c,
            status: Status::Success,
        };
        let ev = |s: &str| eval(s, &sc).unwrap().sema().to_string();
        assert_eq!(ev("contains(needs.*.result, 'skipped')"), "true");
        assert_eq!(ev("contains(needs.*.result, 'failure')"), "false");
        assert_eq!(ev("join(fruits.*.name, '+')"), "apple+pear");
        assert_eq!(ev("join(fruits[*].name, '+')"), "apple+pear");
    }

    #[test]
    fn interpolation_replaces_every_expression() {
        let (c, s) = scope(Status::Success);
        let sc = Scope {
            contexts: &c,
            status: s,
        };
        assert_eq!(
            interpolate("env=${{ inputs.environment }} n=${{inputs.n}}", &sc).unwrap(),
            "env=production n=3"
        );
        assert!(interpolate("${{ inputs.x", &sc).is_err());
    }
}
