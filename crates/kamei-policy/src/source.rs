//! Source text of one configuration file, and turning byte offsets into line and column.

use crate::error::Problem;

/// A configuration file's name (as the user gave it) and its text.
#[derive(Debug, Clone)]
pub(crate) struct Source<'a> {
    pub(crate) name: &'a str,
    pub(crate) text: &'a str,
}

impl Source<'_> {
    /// 1-based line and column (in characters) of a byte offset; offsets past the end or
    /// inside a character clamp to the nearest valid position.
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    pub(crate) fn problem_at(&self, offset: usize, message: String) -> Problem {
        Problem {
            file: self.name.to_owned(),
            line_column: Some(self.line_column(offset)),
            message,
        }
    }

    pub(crate) fn problem(&self, message: String) -> Problem {
        Problem {
            file: self.name.to_owned(),
            line_column: None,
            message,
        }
    }

    /// A TOML document deserialized into `T`, or the problem with its location. The parser's
    /// message is used without its source excerpt, and quoted strings are cut out of it, so no
    /// value (a credential, a password) is echoed.
    pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(&self) -> Result<T, Problem> {
        toml::from_str(self.text).map_err(|e| {
            let message = redact_quoted(e.message().trim_end_matches('.').trim());
            match e.span() {
                Some(span) => self.problem_at(span.start, message),
                None => self.problem(message),
            }
        })
    }
}

/// Cuts the value out of serde's `invalid type: string "…"` / `invalid value: string "…"`
/// messages, the only place a parser message quotes a value of the file.
pub(crate) fn redact_quoted(message: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(MARK) {
        out.push_str(&rest[..i + MARK.len()]);
        out.push('…');
        rest = &rest[i + MARK.len()..];
        match rest.find('"') {
            Some(end) => rest = &rest[end..],
            None => rest = "\"",
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let s = Source {
            name: "f",
            text: "ab\nキーc\n",
        };
        assert_eq!(s.line_column(0), (1, 1));
        assert_eq!(s.line_column(3), (2, 1));
        assert_eq!(s.line_column(9), (2, 3));
        assert_eq!(s.line_column(1000), (3, 1));
    }

    #[test]
    fn quoted_values_are_cut_from_parser_messages() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "hunter2", expected a sequence"#),
            r#"invalid type: string "…", expected a sequence"#
        );
        assert_eq!(redact_quoted("unknown field `x`"), "unknown field `x`");
        assert_eq!(
            redact_quoted("invalid basic string, expected `\"`"),
            "invalid basic string, expected `\"`"
        );
        assert_eq!(
            redact_quoted("invalid value: string \"abc"),
            "invalid value: string \"…\""
        );
    }
}
