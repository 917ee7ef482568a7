//! Tokens of Temporal's list filter, each with the position it starts at
//! (1-based, in characters), so an error can point at it.

use super::QueryError;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    /// A name: an attribute, or a keyword (told apart by the parser,
    /// case-insensitively for keywords).
    Ident(String),
    /// A quoted string, unquoted.
    Str(String),
    /// A number as written.
    Num(String),
    /// `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`.
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    pub tok: Tok,
    /// 1-based character position.
    pub pos: usize,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Num(s) => format!("number {s}"),
            Tok::Op(op) => format!("'{op}'"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
            Tok::End => "the end of the query".into(),
        }
    }
}

/// Splits `query` into tokens; the last is `End`.
pub(super) fn tokens(query: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, next) = match c {
            '(' => (Tok::LParen, i + 1),
            ')' => (Tok::RParen, i + 1),
            ',' => (Tok::Comma, i + 1),
            '\'' | '"' => string(&chars, i)?,
            '=' => (Tok::Op("="), i + 1),
            '!' if chars.get(i + 1) == Some(&'=') => (Tok::Op("!="), i + 2),
            '<' => match chars.get(i + 1) {
                Some('=') => (Tok::Op("<="), i + 2),
                Some('>') => (Tok::Op("!="), i + 2),
                _ => (Tok::Op("<"), i + 1),
            },
            '>' if chars.get(i + 1) == Some(&'=') => (Tok::Op(">="), i + 2),
            '>' => (Tok::Op(">"), i + 1),
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => number(&chars, i),
            c if c.is_alphabetic() || c == '_' => {
                let end = scan(&chars, i, |c| c.is_alphanumeric() || c == '_');
                (Tok::Ident(chars[i..end].iter().collect()), end)
            }
            '`' => quoted_name(&chars, i)?,
            other => {
                return Err(QueryError::syntax(
                    pos,
                    format!("unexpected character '{other}'"),
                ));
            }
        };
        out.push(Token { tok, pos });
        i = next;
    }
    out.push(Token {
        tok: Tok::End,
        pos: chars.len() + 1,
    });
    Ok(out)
}

fn scan(chars: &[char], from: usize, keep: impl Fn(char) -> bool) -> usize {
    let mut end = from;
    while end < chars.len() && keep(chars[end]) {
        end += 1;
    }
    end
}

fn number(chars: &[char], i: usize) -> (Tok, usize) {
    let start = i;
    let mut end = i + 1;
    while end < chars.len() {
        let c = chars[end];
        let exponent_sign = (c == '-' || c == '+') && matches!(chars[end - 1], 'e' | 'E');
        if c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || exponent_sign {
            end += 1;
        } else {
            break;
        }
    }
    (Tok::Num(chars[start..end].iter().collect()), end)
}

/// A quoted string: the quote doubled, or after a backslash, stands for
/// itself.
fn string(chars: &[char], i: usize) -> Result<(Tok, usize), QueryError> {
    let quote = chars[i];
    let mut text = String::new();
    let mut j = i + 1;
    loop {
        match chars.get(j) {
            None => {
                return Err(QueryError::syntax(i + 1, "a string is not closed".into()));
            }
            Some('\\') if j + 1 < chars.len() => {
                text.push(chars[j + 1]);
                j += 2;
            }
            Some(&c) if c == quote => {
                if chars.get(j + 1) == Some(&quote) {
                    text.push(quote);
                    j += 2;
                } else {
                    return Ok((Tok::Str(text), j + 1));
                }
            }
            Some(&c) => {
                text.push(c);
                j += 1;
            }
        }
    }
}

/// A name in backticks (Temporal allows them for any attribute).
fn quoted_name(chars: &[char], i: usize) -> Result<(Tok, usize), QueryError> {
    let end = scan(chars, i + 1, |c| c != '`');
    if end >= chars.len() {
        return Err(QueryError::syntax(i + 1, "a `name` is not closed".into()));
    }
    Ok((Tok::Ident(chars[i + 1..end].iter().collect()), end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(q: &str) -> Vec<Tok> {
        tokens(q).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn operators_strings_and_numbers_are_read_with_their_positions() {
        let t = tokens("A>=-1.5e3 AND B<>'it''s'").unwrap();
        assert_eq!(t[0].tok, Tok::Ident("A".into()));
        assert_eq!((t[1].tok.clone(), t[1].pos), (Tok::Op(">="), 2));
        assert_eq!(t[2].tok, Tok::Num("-1.5e3".into()));
        assert_eq!(t[5].tok, Tok::Op("!="));
        assert_eq!(t[6].tok, Tok::Str("it's".into()));
        assert_eq!(toks(r#""a\"b""#)[0], Tok::Str("a\"b".into()));
    }

    #[test]
    fn an_unclosed_string_points_at_its_quote() {
        let e = tokens("WorkflowId = 'abc").unwrap_err();
        assert_eq!(e.position, 14);
        assert!(e.to_string().contains("not closed"), "{e}");
    }

    #[test]
    fn a_stray_character_is_an_error_at_its_position() {
        let e = tokens("WorkflowId ; DROP TABLE").unwrap_err();
        assert_eq!(e.position, 12);
    }
}
