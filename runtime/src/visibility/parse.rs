//! A recursive-descent parser for Temporal's list filter:
//!
//! ```text
//! query     := [expr] [ORDER BY key {, key}] [GROUP BY name]
//! expr      := and {OR and}
//! and       := term {AND term}
//! term      := '(' expr ')' | predicate
//! predicate := name op value
//!            | name [NOT] IN '(' value {, value} ')'
//!            | name [NOT] BETWEEN value AND value
//!            | name [NOT] STARTS_WITH value
//!            | name IS [NOT] NULL
//! key       := name [ASC | DESC]
//! ```
//!
//! Names are not checked here (`plan` does that, with their types).

use super::QueryError;
use super::lex::{Tok, Token, tokens};

/// A name or value with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct At<T> {
    pub value: T,
    pub pos: usize,
}

/// A literal as written.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Expr {
    /// Every part (two or more), as written.
    And(Vec<Expr>),
    /// Some part (two or more), as written.
    Or(Vec<Expr>),
    Compare {
        name: At<String>,
        op: &'static str,
        value: At<Literal>,
    },
    In {
        name: At<String>,
        negated: bool,
        values: Vec<At<Literal>>,
    },
    Between {
        name: At<String>,
        negated: bool,
        low: At<Literal>,
        high: At<Literal>,
    },
    StartsWith {
        name: At<String>,
        negated: bool,
        prefix: At<Literal>,
    },
    IsNull {
        name: At<String>,
        negated: bool,
    },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Parsed {
    pub filter: Option<Expr>,
    pub order_by: Vec<(At<String>, bool)>,
    pub group_by: Option<At<String>>,
}

/// Parses a whole query.
pub(super) fn parse(query: &str) -> Result<Parsed, QueryError> {
    let mut p = Parser {
        tokens: tokens(query)?,
        at: 0,
        depth: 0,
    };
    let mut parsed = Parsed::default();
    if !p.at_keyword("ORDER") && !p.at_keyword("GROUP") && p.peek().tok != Tok::End {
        parsed.filter = Some(p.expr()?);
    }
    if p.eat_keyword("ORDER") {
        p.expect_keyword("BY")?;
        loop {
            let name = p.name()?;
            let descending = if p.eat_keyword("DESC") {
                true
            } else {
                p.eat_keyword("ASC");
                false
            };
            parsed.order_by.push((name, descending));
            if !p.eat(&Tok::Comma) {
                break;
            }
        }
    }
    if p.eat_keyword("GROUP") {
        p.expect_keyword("BY")?;
        parsed.group_by = Some(p.name()?);
    }
    if p.at_keyword("LIMIT") {
        return Err(QueryError::unsupported(p.peek().pos, "'LIMIT' clause"));
    }
    match &p.peek().tok {
        Tok::End => Ok(parsed),
        other => Err(QueryError::syntax(
            p.peek().pos,
            format!(
                "unexpected {} (expected AND, OR, ORDER BY, GROUP BY or the end)",
                other.describe()
            ),
        )),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Parentheses open around the current token.
    depth: usize,
}

/// Deepest nesting of parentheses read.
pub(super) const MAX_DEPTH: usize = 32;

/// The one part, or the parts joined.
fn one_or(mut parts: Vec<Expr>, join: fn(Vec<Expr>) -> Expr) -> Expr {
    if parts.len() == 1
        && let Some(only) = parts.pop()
    {
        return only;
    }
    join(parts)
}

impl Parser {
    fn peek(&self) -> &Token {
        // `tokens` always ends with `End`, which is never consumed.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::End {
            self.at += 1;
        }
        token
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek().tok == *tok {
            self.bump();
            true
        } else {
            false
        }
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let at = self.at_keyword(keyword);
        if at {
            self.bump();
        }
        at
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<(), QueryError> {
        if self.eat_keyword(keyword) {
            return Ok(());
        }
        Err(self.expected(keyword))
    }

    fn expected(&self, what: &str) -> QueryError {
        let token = self.peek();
        QueryError::syntax(
            token.pos,
            format!("expected {what}, found {}", token.tok.describe()),
        )
    }

    /// Long chains of AND and OR are read in loops into flat lists, so
    /// only parentheses nest (at most [`MAX_DEPTH`] deep): no query can
    /// exhaust the stack of whoever parses, types or evaluates it.
    fn expr(&mut self) -> Result<Expr, QueryError> {
        let mut parts = vec![self.and()?];
        while self.eat_keyword("OR") {
            parts.push(self.and()?);
        }
        Ok(one_or(parts, Expr::Or))
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut parts = vec![self.term()?];
        while self.eat_keyword("AND") {
            parts.push(self.term()?);
        }
        Ok(one_or(parts, Expr::And))
    }

    fn term(&mut self) -> Result<Expr, QueryError> {
        let open = self.peek().pos;
        if self.eat(&Tok::LParen) {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(QueryError::syntax(
                    open,
                    format!("parentheses nest more than {MAX_DEPTH} deep"),
                ));
            }
            let inner = self.expr()?;
            if !self.eat(&Tok::RParen) {
                return Err(self.expected("')'"));
            }
            self.depth -= 1;
            return Ok(inner);
        }
        self.predicate()
    }

    fn name(&mut self) -> Result<At<String>, QueryError> {
        match self.peek().tok.clone() {
            Tok::Ident(value) if !is_keyword(&value) => {
                let pos = self.bump().pos;
                Ok(At { value, pos })
            }
            _ => Err(self.expected("a search attribute name")),
        }
    }

    fn predicate(&mut self) -> Result<Expr, QueryError> {
        let name = self.name()?;
        if let Tok::Op(op) = self.peek().tok {
            self.bump();
            let value = self.value()?;
            return Ok(Expr::Compare { name, op, value });
        }
        if self.eat_keyword("IS") {
            let negated = self.eat_keyword("NOT");
            self.expect_keyword("NULL")?;
            return Ok(Expr::IsNull { name, negated });
        }
        let negated = self.eat_keyword("NOT");
        if self.eat_keyword("IN") {
            return Ok(Expr::In {
                name,
                negated,
                values: self.list()?,
            });
        }
        if self.eat_keyword("BETWEEN") {
            let low = self.value()?;
            self.expect_keyword("AND")?;
            let high = self.value()?;
            return Ok(Expr::Between {
                name,
                negated,
                low,
                high,
            });
        }
        if self.eat_keyword("STARTS_WITH") {
            let prefix = self.value()?;
            return Ok(Expr::StartsWith {
                name,
                negated,
                prefix,
            });
        }
        if self.at_keyword("LIKE") {
            return Err(QueryError::unsupported(self.peek().pos, "'LIKE' operator"));
        }
        Err(self.expected("an operator (=, !=, <, <=, >, >=, IN, BETWEEN, STARTS_WITH, IS NULL)"))
    }

    fn list(&mut self) -> Result<Vec<At<Literal>>, QueryError> {
        if !self.eat(&Tok::LParen) {
            return Err(self.expected("'(' and a list of values"));
        }
        let mut values = vec![self.value()?];
        while self.eat(&Tok::Comma) {
            values.push(self.value()?);
        }
        if !self.eat(&Tok::RParen) {
            return Err(self.expected("',' or ')'"));
        }
        Ok(values)
    }

    fn value(&mut self) -> Result<At<Literal>, QueryError> {
        let token = self.peek().clone();
        let value = match &token.tok {
            Tok::Str(s) => Literal::Str(s.clone()),
            Tok::Num(n) => number(n, token.pos)?,
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => Literal::Bool(false),
            _ => return Err(self.expected("a value")),
        };
        self.bump();
        Ok(At {
            value,
            pos: token.pos,
        })
    }
}

fn number(text: &str, pos: usize) -> Result<Literal, QueryError> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Literal::Int(i));
    }
    match text.parse::<f64>() {
        Ok(f)
            if f.is_finite()
                && !text
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '+') =>
        {
            Ok(Literal::Float(f))
        }
        _ => Err(QueryError::syntax(pos, format!("'{text}' is not a number"))),
    }
}

/// Words that cannot name an attribute.
pub(super) fn is_keyword(word: &str) -> bool {
    const RESERVED: &[&str] = &[
        "AND",
        "OR",
        "NOT",
        "IN",
        "BETWEEN",
        "STARTS_WITH",
        "IS",
        "NULL",
        "ORDER",
        "GROUP",
        "BY",
        "ASC",
        "DESC",
        "LIMIT",
        "LIKE",
        "TRUE",
        "FALSE",
    ];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(expr: &Expr) -> &str {
        match expr {
            Expr::Compare { name, .. }
            | Expr::In { name, .. }
            | Expr::Between { name, .. }
            | Expr::StartsWith { name, .. }
            | Expr::IsNull { name, .. } => &name.value,
            Expr::And(..) | Expr::Or(..) => "",
        }
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_override_it() {
        let p = parse("A = 1 OR B = 2 AND C = 3").unwrap();
        let Some(Expr::Or(parts)) = p.filter else {
            panic!("OR at the top")
        };
        assert_eq!(name(&parts[0]), "A");
        assert!(matches!(&parts[1], Expr::And(and) if and.len() == 2));
        let p = parse("(A = 1 OR B = 2) AND C = 3").unwrap();
        assert!(matches!(p.filter, Some(Expr::And(..))));
    }

    #[test]
    fn every_predicate_form_parses() {
        let q = "a IN ('x', \"y\") and b not between 1 and 2.5 and c starts_with 'p' \
                 and d is not null and e is null and f not in (true) \
                 order by StartTime desc, WorkflowId";
        let p = parse(q).unwrap();
        assert_eq!(p.order_by.len(), 2);
        assert!(p.order_by[0].1 && !p.order_by[1].1);
        assert!(
            parse("GROUP BY ExecutionStatus")
                .unwrap()
                .group_by
                .is_some()
        );
        assert_eq!(parse("").unwrap(), Parsed::default());
    }

    #[test]
    fn long_chains_are_flat_and_deep_nesting_is_refused() {
        let chain = vec!["A = 1"; 5000].join(" AND ");
        let Some(Expr::And(parts)) = parse(&chain).unwrap().filter else {
            panic!("and")
        };
        assert_eq!(parts.len(), 5000);
        let deep = format!("{}A = 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&deep).is_ok());
        let deeper = format!("{}A = 1{}", "(".repeat(10_000), ")".repeat(10_000));
        let e = parse(&deeper).unwrap_err();
        assert_eq!(e.position, MAX_DEPTH + 1);
        assert!(e.to_string().contains("nest more than 32 deep"), "{e}");
    }

    #[test]
    fn errors_say_what_was_expected_where() {
        let e = parse("WorkflowType = ").unwrap_err();
        assert_eq!(e.position, 16);
        assert!(e.to_string().contains("expected a value"), "{e}");
        let e = parse("A = 1 B = 2").unwrap_err();
        assert_eq!(e.position, 7);
        let e = parse("(A = 1").unwrap_err();
        assert!(e.to_string().contains("expected ')'"), "{e}");
        let e = parse("A IN ()").unwrap_err();
        assert_eq!(e.position, 7);
        let e = parse("A = 1 LIMIT 5").unwrap_err();
        assert!(e.to_string().contains("'LIMIT' clause"), "{e}");
        let e = parse("WorkflowType LIKE 'a%'").unwrap_err();
        assert!(e.to_string().contains("'LIKE'"), "{e}");
        let e = parse("A = 12abc").unwrap_err();
        assert!(
            e.to_string().contains("not a number") || e.position == 7,
            "{e}"
        );
        let e = parse("AND = 1").unwrap_err();
        assert_eq!(e.position, 1);
    }
}
