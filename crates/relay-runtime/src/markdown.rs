//! Markdown for summaries and issue bodies. Text from outside (a response
//! body, an artifact name, a URL) is shown as code: GitHub renders no HTML
//! and links no `@mention` inside a code span or block, and the fence is
//! chosen longer than any backtick run in the text so the text cannot close it.

/// Escapes our own text for a markdown table cell.
pub fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Untrusted text as an inline code span, safe inside a table cell: line
/// breaks become spaces, `|` is escaped (GFM splits cells on it even in code).
pub fn md_code(text: &str) -> String {
    let flat = md_cell(text);
    let fence = "`".repeat(longest_run(&flat, '`') + 1);
    // A span that starts or ends with a backtick needs a space inside the fence.
    if flat.is_empty() {
        return "` `".to_owned();
    }
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

/// A link to an untrusted URL: only `http(s)` URLs become links, and the
/// characters that could end the link or the table cell are encoded;
/// anything else is shown as code.
pub fn md_link(text: &str, url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return md_code(url);
    }
    let mut safe = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            ' ' | '<' | '>' | '(' | ')' | '[' | ']' | '|' | '"' | '\\' | '`' => {
                safe.push_str(&format!("%{:02X}", c as u32));
            }
            c if c.is_control() => {}
            c => safe.push(c),
        }
    }
    format!("[{}]({safe})", md_cell(text))
}

/// Untrusted text as a fenced code block, on lines of its own.
pub fn md_block(text: &str, lang: &str) -> String {
    let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
    let body = text.trim_end_matches(['\n', '\r']);
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        if ch == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md_cell_escapes_pipes_and_newlines() {
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn code_span_cannot_be_closed_by_the_text() {
        assert_eq!(md_code("plain"), "`plain`");
        assert_eq!(md_code("a`b"), "``a`b``");
        assert_eq!(md_code("`x`"), "`` `x` ``");
        assert_eq!(md_code(""), "` `");
        let hostile = "<img src=x onerror=alert(1)> @admin | x\n## head";
        let code = md_code(hostile);
        assert!(code.starts_with('`') && code.ends_with('`'), "{code}");
        assert!(!code.contains('\n') && code.contains("\\|"), "{code}");
    }

    #[test]
    fn links_only_for_http_and_cannot_be_broken_out_of() {
        assert_eq!(
            md_link("open", "https://ci.example/x?a=1"),
            "[open](https://ci.example/x?a=1)"
        );
        assert_eq!(
            md_link("open", "https://e.x/a) [pwn](javascript:x"),
            "[open](https://e.x/a%29%20%5Bpwn%5D%28javascript:x)"
        );
        assert_eq!(
            md_link("open", "javascript:alert(1)"),
            "`javascript:alert(1)`"
        );
    }

    #[test]
    fn code_block_fence_is_longer_than_any_run_inside() {
        let block = md_block("```\n</details>\n@team", "");
        assert!(block.starts_with("````\n"), "{block}");
        assert!(block.ends_with("\n````\n"), "{block}");
    }
}
