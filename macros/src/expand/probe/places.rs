//! The places a statement reads that a probe should look at: method
//! receivers (`s.inner.map.len()`), the bases of field accesses and derefs
//! on statics (`CONFIG.limit`, `*COUNT`), and `for` loops' iterables.
//!
//! The probes go in a statement of their own before the statement, which
//! leaves the user's expressions untouched: a place read twice reads the
//! same thing, and the probe only borrows it for the time of the check.
//! A place rooted in a name the statement itself binds (a match arm's
//! pattern, an `if let`) cannot be named before it and is not probed; the
//! bodies of blocks and closures nested in the statement get probes of
//! their own.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, ExprMethodCall, Ident, Stmt, parse_quote_spanned};

use super::{Context, probe_value};
use crate::determinism::{MacroKind, macro_exprs, macro_kind};

/// The probe statement to put before `stmt`, if it reads places to probe.
/// `contexts` are names known to be the `WorkflowContext`.
pub fn before(stmt: &Stmt, contexts: &[Ident]) -> Option<Stmt> {
    let mut finder = Finder::new(contexts);
    finder.visit_stmt(stmt);
    let probes = finder.probes()?;
    Some(parse_quote_spanned!(stmt.span()=> { #probes };))
}

/// An expression-bodied closure's body with its probes in front, as a
/// block (a closure drops its body's temporaries when it returns either
/// way). `None` when it reads no place to probe.
pub fn closure_body(body: &Expr, contexts: &[Ident]) -> Option<Expr> {
    if let Expr::Block(_) = body {
        return None;
    }
    let mut finder = Finder::new(contexts);
    finder.visit_expr(body);
    let probes = finder.probes()?;
    Some(parse_quote_spanned!(body.span()=> { #probes #body }))
}

struct Finder<'a> {
    contexts: &'a [Ident],
    /// The places to probe, each with how to probe it, and whether it is
    /// built by a call (probed inside a closure that is never called).
    found: Vec<(Expr, Context, bool)>,
    /// Names bound inside the statement.
    bound: Vec<Ident>,
}

impl<'a> Finder<'a> {
    fn new(contexts: &'a [Ident]) -> Self {
        Finder {
            contexts,
            found: Vec::new(),
            bound: Vec::new(),
        }
    }

    fn probes(self) -> Option<TokenStream> {
        let probes: Vec<TokenStream> = self
            .found
            .iter()
            .filter(|(place, _, _)| root(place).is_none_or(|root| !self.bound.contains(root)))
            .map(|(place, context, built)| {
                let probe = probe_value(&place.to_token_stream(), *context);
                if *built {
                    quote!(let _ = || { #probe };)
                } else {
                    probe
                }
            })
            .collect();
        (!probes.is_empty()).then(|| quote!(#(#probes)*))
    }

    fn push(&mut self, place: &Expr, context: Context, built: bool) {
        let place = peel(place);
        if root(place).is_some_and(|root| self.contexts.contains(root)) {
            return;
        }
        let text = place.to_token_stream().to_string();
        let seen = self
            .found
            .iter()
            .any(|(p, c, _)| *c == context && p.to_token_stream().to_string() == text);
        if !seen {
            self.found.push((place.clone(), context, built));
        }
    }

    /// A place's root, when it is a static: probed as one.
    fn static_root(&mut self, expr: &Expr) {
        if let Some(root) = root_expr(peel(expr))
            && is_static(root)
        {
            self.push(root, Context::Static, false);
        }
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        if call.method == "side_effect" {
            // Its closure may read anything: the value is recorded once.
            return self.visit_expr(&call.receiver);
        }
        let receiver = peel(&call.receiver);
        if is_place(receiver) {
            match root_expr(receiver) {
                Some(root) if is_static(root) => self.push(root, Context::Static, false),
                _ if is_fs_probe_method(&call.method.to_string()) => {
                    self.push(receiver, Context::FsReceiver, false);
                }
                _ => self.push(receiver, Context::Value, false),
            }
        } else if is_literal_call(receiver) {
            let context = if is_fs_probe_method(&call.method.to_string()) {
                Context::FsReceiver
            } else {
                Context::Value
            };
            self.push(receiver, context, true);
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_field(&mut self, field: &'ast syn::ExprField) {
        self.static_root(&field.base);
        visit::visit_expr_field(self, field);
    }

    fn visit_expr_unary(&mut self, unary: &'ast syn::ExprUnary) {
        if let syn::UnOp::Deref(_) = unary.op {
            self.static_root(&unary.expr);
        }
        visit::visit_expr_unary(self, unary);
    }

    fn visit_expr_for_loop(&mut self, for_loop: &'ast syn::ExprForLoop) {
        let mut iterable = &*for_loop.expr;
        while let Expr::Reference(reference) = iterable {
            iterable = &reference.expr;
        }
        if is_place(iterable) {
            match root_expr(iterable) {
                Some(root) if is_static(root) => self.push(root, Context::Static, false),
                _ => self.push(iterable, Context::Value, false),
            }
        }
        self.visit_pat(&for_loop.pat);
        self.visit_expr(&for_loop.expr);
    }

    fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
        self.bound.push(pat.ident.clone());
        visit::visit_pat_ident(self, pat);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if let MacroKind::Checked = macro_kind(&mac.path)
            && let Some(exprs) = macro_exprs(mac)
        {
            exprs.iter().for_each(|expr| self.visit_expr(expr));
        }
    }

    // Nested blocks, closures and items get probes of their own.
    fn visit_block(&mut self, _: &'ast syn::Block) {}
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// `(x)` is `x`.
fn peel(mut expr: &Expr) -> &Expr {
    while let Expr::Paren(paren) = expr {
        expr = &paren.expr;
    }
    expr
}

/// A place expression: evaluating it twice reads the same place and runs
/// nothing.
fn is_place(expr: &Expr) -> bool {
    match expr {
        Expr::Path(path) => path.qself.is_none(),
        Expr::Field(field) => is_place(&field.base),
        Expr::Paren(paren) => is_place(&paren.expr),
        Expr::Index(index) => {
            is_place(&index.expr) && matches!(&*index.index, Expr::Lit(_) | Expr::Path(_))
        }
        _ => false,
    }
}

/// The path a place starts from: `s` in `s.a[0].b`.
fn root_expr(mut expr: &Expr) -> Option<&Expr> {
    loop {
        expr = match expr {
            Expr::Field(field) => &field.base,
            Expr::Index(index) => &index.expr,
            Expr::Paren(paren) => &paren.expr,
            Expr::Path(_) => return Some(expr),
            _ => return None,
        };
    }
}

/// The name a place starts from, when it is a plain name.
fn root(expr: &Expr) -> Option<&Ident> {
    match root_expr(expr)? {
        Expr::Path(path) => path.path.get_ident(),
        _ => None,
    }
}

/// `Type::new("lit", 2)`: a call of a path whose arguments are literals.
fn is_literal_call(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => {
            matches!(&*call.func, Expr::Path(path) if path.qself.is_none())
                && call.args.iter().all(|arg| matches!(arg, Expr::Lit(_)))
        }
        Expr::Paren(paren) => is_literal_call(&paren.expr),
        _ => false,
    }
}

/// `Path` methods that read the file system under names other types use
/// too (`exists`, `metadata`): refused only when the receiver is a path.
fn is_fs_probe_method(name: &str) -> bool {
    matches!(name, "exists" | "is_file" | "is_dir" | "metadata")
}

/// `COUNTER`: a static (or a const), by its name.
fn is_static(expr: &Expr) -> bool {
    matches!(expr, Expr::Path(path)
        if path.path.get_ident().is_some_and(|ident| is_screaming(&ident.to_string())))
}

/// `COUNTER`, `HITS_2`: the name of a static (or const).
fn is_screaming(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}
