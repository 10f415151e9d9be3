//! Escaping for the HTML report: every string that comes from the log or the configuration
//! (statements, names, policy ids) goes through here before it is written into a page, so a
//! statement such as `</script><img src=x onerror=…>` is shown as text and never parsed as
//! markup.

use std::borrow::Cow;

/// `s` as HTML text or as a quoted attribute value (also valid in SVG, which is XML): the five
/// characters that can end text or an attribute are written as character references.
// SPEC: HTML Living Standard §13.1.2.6 (restrictions on the contents of raw text elements),
// §13.2.5.36 (attribute value, double-quoted state).
pub(crate) fn html(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// JSON text made safe to sit inside `<script type="application/json">`: a script element
/// ends at the first `</script`, whatever JSON string it is in, and `<!--` changes how the
/// parser looks for that end. `<`, `>` and `&` occur in JSON only inside strings, where
/// `\u003c`, `\u003e` and `\u0026` mean the same characters, so `JSON.parse` (and every JSON
/// parser) reads back exactly the report.
pub(crate) fn json_in_script(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_and_attributes_is_inert() {
        let cases = [
            ("plain SELECT 1", "plain SELECT 1"),
            ("a < b && c > 'd'", "a &lt; b &amp;&amp; c &gt; &#39;d&#39;"),
            (
                "</script><img src=x onerror=alert(1)>",
                "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;",
            ),
            ("\" onload=\"x", "&quot; onload=&quot;x"),
            ("氏名 = ?", "氏名 = ?"),
        ];
        for (raw, want) in cases {
            assert_eq!(html(raw), want, "{raw}");
        }
    }

    #[test]
    fn json_in_a_script_element_cannot_end_it_and_reads_back_the_same() {
        let value =
            serde_json::json!({"statement": "SELECT '</script><!--<img src=x onerror=alert(1)>' & 1"});
        let json = serde_json::to_string(&value).unwrap();
        let safe = json_in_script(&json);
        assert!(
            !safe.contains('<') && !safe.contains('>') && !safe.contains('&'),
            "{safe}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value);
    }
}
