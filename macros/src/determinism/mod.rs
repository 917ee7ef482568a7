//! The syntax layer of determinism: a visitor over workflow code that
//! rejects calls, types, items and macros known to differ between the first
//! run and a replay, each with the span of the offending code and the fix.
//!
//! The check is syntactic: it matches paths as written (`SystemTime::now`
//! after an import, `std::time::SystemTime::now`, `<Instant>::now`), so it
//! cannot follow renaming imports. The type layers catch what it misses:
//! `.await` needs a `Deterministic` future (`expand::deterministic`), and
//! type probes refuse values whose type breaks replay (`expand::probe`).

mod macros;
pub mod rules;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit::{self, Visit};
use syn::{
    Block, Expr, ExprCall, ExprMethodCall, ExprPath, Fields, GenericArgument, ImplItemFn, ItemFn,
    ItemStatic, Macro, Path, PathArguments, StaticMutability, Type, TypePath,
};

pub use macros::{MacroKind, macro_exprs, macro_kind};
use macros::{contains_await, local_macros, macro_name};
use rules::{Denied, bare_module_hint, denied_method, denied_path, std_hash_type};

use crate::attr;
use crate::ctxt::Errors;

/// Checks a method of a `#[workflow]` impl block, signature included.
pub fn check_method(func: &ImplItemFn, errors: &mut Errors) {
    let local_macros = local_macros(&func.block);
    Checker {
        errors,
        local_macros,
    }
    .visit_impl_item_fn_inner(func);
}

/// Checks a fn, signature included.
pub fn check_fn(func: &ItemFn, errors: &mut Errors) {
    let local_macros = local_macros(&func.block);
    let mut checker = Checker {
        errors,
        local_macros,
    };
    checker.visit_signature(&func.sig);
    checker.visit_block(&func.block);
}

/// Checks the fields of the `#[workflow]` state struct.
pub fn check_fields(fields: &Fields, errors: &mut Errors) {
    Checker {
        errors,
        local_macros: Vec::new(),
    }
    .visit_fields(fields);
}

struct Checker<'a> {
    errors: &'a mut Errors,
    /// `macro_rules!` defined in the checked item.
    local_macros: Vec<String>,
}

impl Checker<'_> {
    fn deny(&mut self, tokens: impl ToTokens, what: &str, denied: Denied) {
        let message = format!("`{what}` in workflow code: {}", denied.message());
        self.errors.spanned(tokens, message);
    }

    fn deny_at(&mut self, span: Span, what: &str, denied: Denied) {
        let message = format!("`{what}` in workflow code: {}", denied.message());
        self.errors.push(syn::Error::new(span, message));
    }

    /// A path used as a value or called; `call` holds the call expression.
    fn check_expr_path(&mut self, expr: &ExprPath, call: Option<&ExprCall>) {
        // `<Instant>::now()` is `Instant::now()`.
        let mut segs = match expr.qself.as_ref().map(|q| &*q.ty) {
            Some(Type::Path(ty)) => segments(&ty.path),
            _ => Vec::new(),
        };
        segs.extend(segments(&expr.path));
        if let Some(denied) = denied_path(&segs, call.is_some()) {
            let what = segs.join("::");
            let message = format!(
                "`{what}` in workflow code: {}{}",
                denied.message(),
                bare_module_hint(&segs).unwrap_or_default()
            );
            match call {
                Some(call) => self.errors.spanned(call, message),
                None => self.errors.spanned(expr, message),
            }
        }
        visit::visit_expr_path(self, expr);
    }

    fn visit_impl_item_fn_inner(&mut self, func: &ImplItemFn) {
        visit::visit_impl_item_fn(self, func);
    }

    /// Scans the tokens of a checked macro whose arguments are not plain
    /// expressions: brace groups that parse as blocks are checked, and an
    /// `.await` or denied path anywhere else is rejected.
    fn check_macro_tokens(&mut self, mac: &Macro, tokens: TokenStream) {
        let mut path: Vec<(String, Span)> = Vec::new();
        let mut after_colon = false;
        let mut iter = tokens.into_iter().peekable();
        while let Some(tt) = iter.next() {
            let colon = matches!(&tt, TokenTree::Punct(p) if p.as_char() == ':');
            if let TokenTree::Ident(_) = &tt
                && !after_colon
            {
                self.end_path(&mut path);
            }
            after_colon = colon;
            match &tt {
                TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                    self.end_path(&mut path);
                    match syn::parse2::<Block>(tt.to_token_stream()) {
                        Ok(block) => self.visit_block(&block),
                        Err(_) => self.check_macro_tokens(mac, group.stream()),
                    }
                }
                TokenTree::Group(group) => {
                    self.end_path(&mut path);
                    self.check_macro_tokens(mac, group.stream());
                }
                TokenTree::Punct(p) if p.as_char() == '.' => {
                    self.end_path(&mut path);
                    if let Some(TokenTree::Ident(ident)) = iter.peek()
                        && ident == "await"
                    {
                        self.opaque_await(mac, ident.span());
                    }
                }
                TokenTree::Punct(p) if p.as_char() == ':' => {}
                TokenTree::Ident(ident) => path.push((ident.to_string(), ident.span())),
                _ => self.end_path(&mut path),
            }
        }
        self.end_path(&mut path);
    }

    /// Reports a denied path collected from a macro's tokens.
    fn end_path(&mut self, path: &mut Vec<(String, Span)>) {
        let names: Vec<String> = path.iter().map(|(name, _)| name.clone()).collect();
        if let (Some(denied), Some((_, span))) = (denied_path(&names, false), path.first()) {
            self.deny_at(*span, &names.join("::"), denied);
        }
        path.clear();
    }

    fn opaque_await(&mut self, mac: &Macro, span: Span) {
        let name = macro_name(mac);
        self.errors.push(syn::Error::new(
            span,
            format!(
                "cannot check this `.await` inside `{name}!`: move it out of the macro \
                 (`let value = future.await;`) or into a block `{{ .. }}`"
            ),
        ));
    }

    /// A macro's tokens must hold no `.await` and no denied path; `what`
    /// says which macro, for the message.
    fn scan_macro(&mut self, mac: &Macro, what: &str) {
        let name = macro_name(mac);
        if contains_await(mac.tokens.clone()) {
            self.errors.spanned(
                mac,
                format!(
                    "cannot check inside this macro: `{name}!` has an `.await` in its {what}; \
                     await outside the macro (`let value = future.await;`) and pass the value in"
                ),
            );
            return;
        }
        let mut inner = Errors::new();
        Checker {
            errors: &mut inner,
            local_macros: Vec::new(),
        }
        .check_macro_tokens(mac, mac.tokens.clone());
        if let Err(error) = inner.finish() {
            self.errors.spanned(
                mac,
                format!("cannot check inside this macro: `{name}!` contains {error}"),
            );
        }
    }

    /// A macro defined outside the checked item: what it expands to cannot
    /// be seen, so it is refused.
    fn opaque_macro(&mut self, mac: &Macro) {
        let name = macro_name(mac);
        let before = self.errors.count();
        self.scan_macro(mac, "arguments");
        if self.errors.count() != before {
            return;
        }
        self.errors.spanned(
            &mac.path,
            format!(
                "cannot check what `{name}!` expands to: a macro defined outside this item may read \
                 the clock, randomness or I/O where the check cannot see it; call a fn marked \
                 `#[weft::deterministic]` instead, define the macro with `macro_rules!` inside \
                 this fn, or compute the value once in `ctx.side_effect(|| ..)`"
            ),
        );
    }
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        for attr in &call.attrs {
            self.visit_attribute(attr);
        }
        match &*call.func {
            Expr::Path(path) => self.check_expr_path(path, Some(call)),
            func => self.visit_expr(func),
        }
        for arg in &call.args {
            self.visit_expr(arg);
        }
    }

    fn visit_expr_path(&mut self, expr: &'ast ExprPath) {
        self.check_expr_path(expr, None);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        let method = call.method.to_string();
        if method == "side_effect" {
            // `ctx.side_effect(|| ..)` is the place for a nondeterministic
            // read: its value is recorded once and read back on replay. Only
            // the receiver is checked.
            self.visit_expr(&call.receiver);
            return;
        }
        if let Some(denied) = denied_method(&method) {
            self.deny(&call.method, &format!(".{method}(..)"), denied);
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_type_path(&mut self, ty: &'ast TypePath) {
        let segs = segments(&ty.path);
        if segs.last().is_some_and(|s| s == "RandomState") {
            self.deny(ty, &segs.join("::"), Denied::HashState);
        } else if let Some(what) = default_hasher_type(&ty.path) {
            self.deny(ty, &what, Denied::HashCollection);
        }
        visit::visit_type_path(self, ty);
    }

    fn visit_item_static(&mut self, item: &'ast ItemStatic) {
        if let StaticMutability::Mut(token) = &item.mutability {
            let (static_token, ident) = (&item.static_token, &item.ident);
            let what = format!("static mut {}", item.ident);
            self.deny(
                quote::quote!(#static_token #token #ident),
                &what,
                Denied::StaticMut,
            );
        }
        visit::visit_item_static(self, item);
    }

    fn visit_item_fn(&mut self, item: &'ast ItemFn) {
        // A nested `#[weft::deterministic]` fn is checked by its own macro.
        if !item.attrs.iter().any(attr::is_deterministic) {
            visit::visit_item_fn(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast ImplItemFn) {
        if !item.attrs.iter().any(attr::is_deterministic) {
            visit::visit_impl_item_fn(self, item);
        }
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        match macro_kind(&mac.path) {
            MacroKind::Denied(denied) => {
                let what = format!("{}!", segments(&mac.path).join("::"));
                self.deny(mac, &what, denied);
            }
            MacroKind::Checked => match macro_exprs(mac) {
                Some(exprs) => exprs.iter().for_each(|e| self.visit_expr(e)),
                None => self.check_macro_tokens(mac, mac.tokens.clone()),
            },
            MacroKind::Inert => {}
            MacroKind::Definition => self.scan_macro(mac, "definition"),
            MacroKind::Opaque if self.is_local_macro(&mac.path) => {}
            MacroKind::Opaque => self.opaque_macro(mac),
        }
    }
}

impl Checker<'_> {
    fn is_local_macro(&self, path: &Path) -> bool {
        path.get_ident()
            .is_some_and(|ident| self.local_macros.iter().any(|m| ident == m))
    }
}

/// The path's identifiers, without generic arguments.
pub fn segments(path: &Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// `std::collections::HashMap<K, V>` / `HashSet<T>` (no hasher parameter):
/// the path says it is std's. A bare `HashMap<K, V>` may be
/// `weft::collections::HashMap` imported; the type probes decide.
fn default_hasher_type(path: &Path) -> Option<String> {
    let last = path.segments.last()?;
    let wanted = match last.ident.to_string().as_str() {
        "HashMap" => 2,
        "HashSet" => 1,
        _ => return None,
    };
    let segs = segments(path);
    if !std_hash_type(&segs) {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let types = args
        .args
        .iter()
        .filter(|a| matches!(a, GenericArgument::Type(_)))
        .count();
    (types == wanted).then(|| format!("{}<..>", segs.join("::")))
}
