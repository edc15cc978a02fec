//! Markdown to HTML for the report, safe for text that came from outside.
//!
//! Step summaries and issue bodies are markdown our actions wrote, but they
//! quote what others sent (response bodies, artifact names, URLs). The report
//! is a local file a browser opens, so nothing in it may become markup the
//! browser runs: raw HTML is shown as escaped text — except a handful of
//! exact, attribute-less tags our own summaries use (`<details>`,
//! `<summary>`, `<br>`), matched byte for byte, so no attribute, script or
//! style can ride along — links keep only `http(s)` targets, and images
//! become their alt text (a local report loads nothing from the network).

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// Tags passed through exactly as written; anything else in raw HTML is text.
const KEPT_TAGS: &[&str] = &[
    "<details>",
    "</details>",
    "<summary>",
    "</summary>",
    "<br>",
    "<br/>",
    "<br />",
];

/// `markdown` rendered as an HTML fragment (GitHub-flavoured tables and
/// strikethrough), every piece of raw HTML escaped unless it is a kept tag.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut links: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, options).flat_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => vec![Event::InlineHtml(sanitize(&raw).into())],
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let keep = is_web_url(&dest_url);
            links.push(keep);
            if keep {
                vec![Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                })]
            } else {
                Vec::new()
            }
        }
        Event::End(TagEnd::Link) => {
            if links.pop().unwrap_or(false) {
                vec![Event::End(TagEnd::Link)]
            } else {
                Vec::new()
            }
        }
        // Two levels down: the report's own headings are h1 to h3.
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => vec![Event::Start(Tag::Heading {
            level: demote(level),
            id,
            classes,
            attrs,
        })],
        Event::End(TagEnd::Heading(level)) => vec![Event::End(TagEnd::Heading(demote(level)))],
        // The alt text stays (it arrives as the image's inner text events).
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => Vec::new(),
        other => vec![other],
    });
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, events);
    out
}

fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

fn is_web_url(url: &CowStr<'_>) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Raw HTML as text, the kept tags excepted.
fn sanitize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 16);
    let mut rest = raw;
    'outer: while !rest.is_empty() {
        if rest.starts_with('<') {
            for tag in KEPT_TAGS {
                if rest.len() >= tag.len()
                    && rest.is_char_boundary(tag.len())
                    && rest[..tag.len()].eq_ignore_ascii_case(tag)
                {
                    out.push_str(tag);
                    rest = &rest[tag.len()..];
                    continue 'outer;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            escape_char(c, &mut out);
        }
        rest = chars.as_str();
    }
    out
}

/// Text for an HTML element's content or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        escape_char(c, &mut out);
    }
    out
}

fn escape_char(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

/// What a browser could run or load: any tag but those we write, an
/// event-handler or source attribute, a link that is not http(s).
#[cfg(test)]
pub(crate) fn assert_inert(html: &str) {
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let tag_end = rest[open..].find('>').map_or(rest.len(), |e| open + e + 1);
        let tag = &rest[open..tag_end];
        let name: String = tag
            .trim_start_matches(['<', '/'])
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        assert!(
            [
                "p",
                "h1",
                "h2",
                "h3",
                "h4",
                "h5",
                "h6",
                "table",
                "thead",
                "tbody",
                "tr",
                "th",
                "td",
                "code",
                "pre",
                "ul",
                "ol",
                "li",
                "em",
                "strong",
                "del",
                "details",
                "summary",
                "br",
                "a",
                "blockquote",
                "hr",
                // The report's own frame.
                "section",
                "span",
                "small",
                "div"
            ]
            .contains(&name.as_str()),
            "tag `{tag}` in {html}"
        );
        let lower = tag.to_ascii_lowercase();
        for bad in ["on", "style", "src", "javascript:", "data:"] {
            assert!(
                !lower.contains(&format!(" {bad}")) && !lower.contains("javascript:"),
                "`{tag}` carries `{bad}` in {html}"
            );
        }
        if name == "a" && !tag.starts_with("</") {
            assert!(
                lower.starts_with("<a href=\"http://") || lower.starts_with("<a href=\"https://"),
                "link `{tag}`"
            );
        }
        rest = &rest[tag_end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_renders_as_text() {
        let hostile = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<details open ontoggle=alert(1)>x</details>",
            "<DETAILS onclick=alert(1)>",
            "<details<script>alert(1)</script>>",
            "<summary style=\"x\">hi</summary>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[data](data:text/html;base64,PHNjcmlwdD4=)",
            "![pixel](http://evil.example/p.png)",
            "<a href=\"https://evil.example\" onmouseover=alert(1)>x</a>",
            "| a | <iframe src=//evil> |\n|---|---|\n| <svg onload=alert(1)> | b |",
            "<!-- comment --><style>body{}</style>",
            "<![CDATA[ <script> ]]>",
            "&lt;script&gt; &#60;script&#62;",
            "<br onload=alert(1)>",
            "<br/><br /><BR>",
            "`<script>`\n\n```\n<script>alert(1)</script>\n```",
        ];
        for text in hostile {
            let html = to_html(text);
            assert_inert(&html);
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("<img"), "{html}");
        }
        // All of them at once, as one summary.
        assert_inert(&to_html(&hostile.join("\n\n")));
    }

    #[test]
    fn escaped_markup_is_still_readable() {
        let html = to_html("a <script>alert(1)</script> b");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn our_own_summaries_keep_their_shape() {
        let md = "### Deployed ✅\n\n| | |\n|---|---|\n| sha | `abc` |\n\n<details><summary>Payload (`x`)</summary>\n\n```json\n{\"a\": \"<b>\"}\n```\n</details>\n\n[run](https://github.com/o/r/actions/runs/1)";
        let html = to_html(md);
        assert!(
            html.contains("<h5>Deployed ✅</h5>"),
            "headings two levels down: {html}"
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<details><summary>Payload"), "{html}");
        assert!(html.contains("&lt;b&gt;"), "{html}");
        assert!(
            html.contains("<a href=\"https://github.com/o/r/actions/runs/1\">run</a>"),
            "{html}"
        );
        assert_inert(&html);
    }

    #[test]
    fn a_link_that_is_not_http_keeps_only_its_text() {
        let html = to_html("[click me](javascript:alert(1)) and ![alt text](https://x/y.png)");
        assert!(html.contains("click me"), "{html}");
        assert!(html.contains("alt text"), "{html}");
        assert!(!html.contains("href"), "{html}");
        assert!(!html.contains("javascript"), "{html}");
    }
}
