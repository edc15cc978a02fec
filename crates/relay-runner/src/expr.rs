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

/// How the job has gone so far, for `success()`, `failure()` and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
}

/// The contexts an expression may read (`github`, `inputs`, `steps`, …)
/// and the status so far.
pub struct Scope<'a> {
    pub contexts: &'a Map<String, Value>,
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

/// An `if:` condition: with or without `${{ }}`; without a status
/// function, `success() &&` is implied, as GitHub does.
pub fn condition(text: &str, scope: &Scope<'_>) -> Result<bool, String> {
    let t = text.trim();
    let t = t
        .strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
        .map_or(t, str::trim);
    let lower = t.to_ascii_lowercase();
    let has_status = ["success()", "failure()", "always()", "cancelled()"]
        .iter()
        .any(|f| lower.contains(f));
    let v = eval(t, scope)?.as_boolean();
    Ok(if has_status {
        v
    } else {
        v && scope.status == Status::Success
    })
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
    property(&Value::Object(scope.contexts.clone()), name)
        .map(to_eval)
        .unwrap_or(Evaluation::Null)
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
    for part in parts {
        current = match &part.inner {
            Expr::Identifier(i) => property(&current, i.as_str())
                .cloned()
                .unwrap_or(Value::Null),
            Expr::Index(idx) => match value(idx, scope)? {
                Evaluation::Number(n) => current
                    .as_array()
                    .and_then(|a| a.get(n as usize))
                    .cloned()
                    .unwrap_or(Value::Null),
                other => property(&current, &other.sema().to_string())
                    .cloned()
                    .unwrap_or(Value::Null),
            },
            Expr::Star => return Err("object filters (`*`) are not supported here".into()),
            _ => return Err("an unexpected context part".into()),
        };
    }
    Ok(to_eval(&current))
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
        Function::Cancelled => Evaluation::Boolean(false),
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
