//! The attacker's-view oracle for markdown: whether text gets out of its
//! code spans. (What the runner would act on in a log is
//! [`relay_runner::runner_commands`].)

/// Markdown with its code spans taken out, by `CommonMark`'s rule (a run of n
/// backticks opens a span the next run of exactly n closes; a run never
/// closed is literal text), line by line as table cells are, and with link
/// destinations (`](...)`, which `md_link` encodes) left out.
pub fn outside_code(md: &str) -> String {
    let mut out = String::new();
    for line in md.lines() {
        let chars: Vec<char> = line.chars().collect();
        let run_at = |i: usize| chars[i..].iter().take_while(|c| **c == '`').count();
        let mut text = String::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '`' {
                text.push(chars[i]);
                i += 1;
                continue;
            }
            let n = run_at(i);
            let mut j = i + n;
            let mut close = None;
            while j < chars.len() {
                if chars[j] == '`' {
                    let m = run_at(j);
                    if m == n {
                        close = Some(j + m);
                        break;
                    }
                    j += m;
                } else {
                    j += 1;
                }
            }
            if let Some(end) = close {
                i = end;
            } else {
                text.extend(&chars[i..i + n]);
                i += n;
            }
        }
        while let Some(at) = text.find("](") {
            let end = text[at..].find(')').map_or(text.len(), |e| at + e + 1);
            text.replace_range(at..end, "]");
        }
        out.push_str(&text);
        out.push('\n');
    }
    out
}

/// No raw HTML and no live `@mention` — neither `<` nor `@` outside code —
/// and every table row keeps `columns` columns (no `|` from the text split
/// a cell).
pub fn assert_inert_markdown(md: &str, columns: usize) {
    let outside = outside_code(md);
    assert!(
        !outside.contains('<'),
        "raw HTML outside code:\n{outside}\n---\n{md}"
    );
    assert!(
        !outside.contains('@'),
        "@mention outside code:\n{outside}\n---\n{md}"
    );
    for row in md.lines().filter(|l| l.starts_with("| ")) {
        let pipes = outside_code(row).replace("\\|", "").matches('|').count();
        assert_eq!(pipes, columns + 1, "table row split by the text: {row}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_and_link_targets_are_left_out() {
        assert_eq!(
            outside_code("a `<b>` c [x](<y>) ``d`` e `f"),
            "a  c [x]  e `f\n"
        );
    }
}
