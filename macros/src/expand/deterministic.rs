//! The type layer of determinism: workflow code's `.await`s and `async`
//! blocks are rewritten so that the compiler checks every awaited future.
//!
//! ```text
//! fut.await              =>  ::weft::__private::checked(fut).await
//! async { .. }           =>  ::weft::__private::vouched(async { .. })
//! #[weft::deterministic]
//! async fn f(a: A) -> T { body }
//!                        =>  fn f(a: A) -> impl ::weft::__private::Deterministic<Output = T> {
//!                                ::weft::__private::vouched(async move { body })
//!                            }
//! ```
//!
//! `checked` requires `Deterministic`, whose `#[diagnostic::on_unimplemented]`
//! message names the fix; the call is spanned at the awaited expression.
//!
//! A call of an async closure bound by `let` in the same fn, whose awaits
//! were checked like any other, is vouched for too:
//!
//! ```text
//! let wait = async |ms| ctx.sleep(ms).await;
//! wait(5).await          =>  ::weft::__private::checked(::weft::__private::vouched(wait(5))).await
//! ```
//!
//! The same pass inserts the type probes of `super::probe`.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{
    Block, Expr, ExprAsync, ExprAwait, ExprCall, FnArg, Ident, ImplItem, Item, ItemFn, ItemImpl,
    Macro, Pat, ReturnType, Signature, Stmt, Type, parse_quote_spanned,
};

use super::{finish, probe, with_errors};
use crate::attr;
use crate::ctxt::Errors;
use crate::determinism::{self, MacroKind};
use crate::symbol::{DETERMINISTIC, WORKFLOW_CONTEXT};

/// `#[weft::deterministic]` on a fn.
pub fn attribute(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Errors::new();
    attr::no_args(
        DETERMINISTIC,
        args,
        "write it as `#[weft::deterministic]`",
        &mut errors,
    );
    let item = match syn::parse2::<ItemFn>(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let message = "#[weft::deterministic] goes on a fn with a body: an `async fn` \
                           helper awaited by workflow code, or a sync fn to check";
            return with_errors(syn::Error::new_spanned(&input, message), input);
        }
    };
    let before = errors.count();
    determinism::check_fn(&item, &mut errors);
    let probes = errors.count() == before;
    if item.sig.asyncness.is_none() {
        let mut item = item;
        rewrite_fn(&item.sig, &mut item.block, probes);
        return finish(errors, item);
    }
    finish(errors, helper(item, probes))
}

/// Checks and rewrites the methods of a `#[workflow]` impl block: every
/// method is workflow code (the run fn, handlers, and helpers the block
/// holds). Methods marked `#[weft::deterministic]` are left to that macro.
pub fn workflow_methods(item: &mut ItemImpl, errors: &mut Errors) {
    for impl_item in &mut item.items {
        let ImplItem::Fn(func) = impl_item else {
            continue;
        };
        if func.attrs.iter().any(attr::is_deterministic) {
            continue;
        }
        let before = errors.count();
        determinism::check_method(func, errors);
        rewrite_fn(&func.sig, &mut func.block, errors.count() == before);
    }
}

/// Checks and rewrites a `#[workflow]` fn: its body is workflow code.
pub fn workflow_fn(item: &mut ItemFn, errors: &mut Errors) {
    let before = errors.count();
    determinism::check_fn(item, errors);
    rewrite_fn(&item.sig, &mut item.block, errors.count() == before);
}

/// Rewrites the awaits and async blocks of workflow code and vouches for
/// the calls of its async closures. With `probes`, also inserts its type
/// probes; a fn the syntax check already refused gets none, so one mistake
/// is not reported twice.
pub fn rewrite_block(block: &mut Block, probes: bool) {
    rewrite(None, block, probes);
}

/// [`rewrite_block`] for a fn's body. Its `WorkflowContext` parameters,
/// when the body binds their names nowhere else, are not probed: their
/// type is known.
fn rewrite_fn(sig: &Signature, block: &mut Block, probes: bool) {
    rewrite(Some(sig), block, probes);
}

fn rewrite(sig: Option<&Signature>, block: &mut Block, probes: bool) {
    let (counts, async_closures) = bindings(block);
    let async_closures = async_closures
        .into_iter()
        .filter(|ident| bound_times(&counts, ident) == 1)
        .collect();
    let contexts = sig
        .into_iter()
        .flat_map(|sig| &sig.inputs)
        .filter_map(|input| match input {
            FnArg::Typed(typed) if mentions_context(&typed.ty) => Some(&*typed.pat),
            _ => None,
        })
        .filter_map(|pat| match pat {
            Pat::Ident(pat) if bound_times(&counts, &pat.ident) == 0 => Some(pat.ident.clone()),
            _ => None,
        })
        .collect();
    Rewrite {
        async_closures,
        contexts,
        probes,
    }
    .visit_block_mut(block);
}

/// `WorkflowContext<W>`, `&WorkflowContext<W>`.
fn mentions_context(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => mentions_context(&reference.elem),
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == WORKFLOW_CONTEXT),
        _ => false,
    }
}

/// An async fn as a sync fn returning a vouched future.
fn helper(mut item: ItemFn, probes: bool) -> TokenStream {
    rewrite_fn(&item.sig, &mut item.block, probes);
    let span = item.sig.fn_token.span;
    let (output, typed) = match &item.sig.output {
        ReturnType::Default => (quote!(()), quote!(())),
        ReturnType::Type(_, ty) if mentions_impl(ty) => (quote!(#ty), quote!(_)),
        ReturnType::Type(_, ty) => (quote!(#ty), quote!(#ty)),
    };
    item.sig.asyncness = None;
    item.sig.output = parse_quote_spanned! {span=>
        -> impl ::weft::__private::Deterministic<Output = #output>
    };
    let body = &item.block;
    // The turbofish gives the async block its output type up front, as an
    // async fn's signature would, so `?` and `return` infer as they did.
    item.block = parse_quote_spanned! {span=> {
        fn __weft_output<__WeftO, __WeftF: ::core::future::Future<Output = __WeftO>>(
            future: __WeftF,
        ) -> __WeftF {
            future
        }
        ::weft::__private::vouched(__weft_output::<#typed, _>(async move #body))
    }};
    item.into_token_stream()
}

/// Whether a type contains `impl Trait` (which a turbofish cannot name).
fn mentions_impl(ty: &Type) -> bool {
    struct Finder(bool);
    impl syn::visit::Visit<'_> for Finder {
        fn visit_type_impl_trait(&mut self, _: &syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}

struct Rewrite {
    /// Names bound once, by `let`, to an async closure.
    async_closures: Vec<Ident>,
    /// The fn's `WorkflowContext` parameters, never rebound.
    contexts: Vec<Ident>,
    /// Whether to insert type probes.
    probes: bool,
}

impl Rewrite {
    fn is_async_closure_call(&self, call: &ExprCall) -> bool {
        matches!(&*call.func, Expr::Path(path)
            if path.path.get_ident().is_some_and(|ident| self.async_closures.contains(ident)))
    }
}

impl VisitMut for Rewrite {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        let closure_body = match &*expr {
            Expr::Closure(closure) if self.probes => {
                probe::closure_body(&closure.body, &self.contexts)
            }
            _ => None,
        };
        visit_mut::visit_expr_mut(self, expr);
        if let (Some(mut body), Expr::Closure(closure)) = (closure_body, &mut *expr) {
            // The probes were found in the body as written; the body itself
            // is rewritten like any other.
            if let Expr::Block(block) = &mut body
                && let Some(Stmt::Expr(tail, None)) = block.block.stmts.last_mut()
            {
                *tail = (*closure.body).clone();
            }
            *closure.body = body;
        }
        let rewritten = match expr {
            Expr::Await(await_expr) => Some(checked(await_expr)),
            Expr::Async(block) => Some(vouched(block)),
            Expr::Call(call) if self.is_async_closure_call(call) => Some(parse_quote_spanned!(
                call.span()=> ::weft::__private::vouched(#call)
            )),
            Expr::Call(call) if self.probes => probe::now_call(call),
            _ => None,
        };
        if let Some(rewritten) = rewritten {
            *expr = rewritten;
        }
    }

    /// `ctx.side_effect(|| ..)` records its closure's value once, so the
    /// closure may read anything: its awaits are rewritten, nothing probed.
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        if call.method != "side_effect" {
            return visit_mut::visit_expr_method_call_mut(self, call);
        }
        self.visit_expr_mut(&mut call.receiver);
        let probes = std::mem::replace(&mut self.probes, false);
        for arg in &mut call.args {
            self.visit_expr_mut(arg);
        }
        self.probes = probes;
    }

    fn visit_block_mut(&mut self, block: &mut Block) {
        let mut stmts = Vec::with_capacity(block.stmts.len());
        for mut stmt in std::mem::take(&mut block.stmts) {
            if self.probes {
                stmts.extend(probe::before(&stmt, &self.contexts));
            }
            self.visit_stmt_mut(&mut stmt);
            let after = match &stmt {
                Stmt::Local(local) if self.probes => probe::after_let(local),
                _ => None,
            };
            stmts.push(stmt);
            stmts.extend(after);
        }
        block.stmts = stmts;
    }

    /// Nested items are not workflow code; a nested helper is marked
    /// `#[weft::deterministic]` on its own.
    fn visit_item_mut(&mut self, _: &mut Item) {}

    fn visit_macro_mut(&mut self, mac: &mut Macro) {
        if !matches!(determinism::macro_kind(&mac.path), MacroKind::Checked) {
            return;
        }
        if let Some(mut exprs) = determinism::macro_exprs(mac) {
            for expr in exprs.iter_mut() {
                self.visit_expr_mut(expr);
            }
            mac.tokens = exprs.into_token_stream();
        } else {
            mac.tokens = rewrite_tokens(mac.tokens.clone(), self.probes);
        }
    }
}

fn checked(await_expr: &ExprAwait) -> Expr {
    let ExprAwait {
        attrs,
        base,
        dot_token,
        await_token,
    } = await_expr;
    // `(&mut fut).await`: the call's own parentheses replace the user's,
    // which would otherwise be `unused_parens`.
    let base = match &**base {
        Expr::Paren(paren) if paren.attrs.is_empty() => &paren.expr,
        _ => base,
    };
    parse_quote_spanned! {base.span()=>
        #(#attrs)* ::weft::__private::checked(#base) #dot_token #await_token
    }
}

fn vouched(block: &ExprAsync) -> Expr {
    parse_quote_spanned!(block.async_token.span=> ::weft::__private::vouched(#block))
}

/// Rewrites the brace groups of a macro's tokens that parse as blocks
/// (the branch bodies of `weft::select!`, for instance).
fn rewrite_tokens(tokens: TokenStream, probes: bool) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(group) => rewrite_group(group, probes),
            other => other,
        })
        .collect()
}

fn rewrite_group(group: Group, probes: bool) -> TokenTree {
    if group.delimiter() == Delimiter::Brace
        && let Ok(mut block) = syn::parse2::<Block>(TokenTree::Group(group.clone()).into())
    {
        rewrite_block(&mut block, probes);
        let tokens = block.into_token_stream();
        if let Some(tt) = tokens.into_iter().next() {
            return tt;
        }
    }
    let mut rewritten = Group::new(group.delimiter(), rewrite_tokens(group.stream(), probes));
    rewritten.set_span(group.span());
    TokenTree::Group(rewritten)
}

/// How many times each name is bound in `block` (by any pattern, nested
/// items aside), and the names a `let` binds to an async closure. Only a
/// name bound once is trusted to mean that closure wherever it is called.
fn bindings(block: &Block) -> (Vec<(Ident, usize)>, Vec<Ident>) {
    #[derive(Default)]
    struct Bindings {
        counts: Vec<(Ident, usize)>,
        candidates: Vec<Ident>,
    }
    impl<'ast> Visit<'ast> for Bindings {
        fn visit_local(&mut self, local: &'ast syn::Local) {
            if let Pat::Ident(pat) = &local.pat
                && let Some(init) = &local.init
                && let Expr::Closure(closure) = &*init.expr
                && closure.asyncness.is_some()
            {
                self.candidates.push(pat.ident.clone());
            }
            syn::visit::visit_local(self, local);
        }

        fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
            match self
                .counts
                .iter_mut()
                .find(|(ident, _)| *ident == pat.ident)
            {
                Some((_, count)) => *count += 1,
                None => self.counts.push((pat.ident.clone(), 1)),
            }
            syn::visit::visit_pat_ident(self, pat);
        }

        fn visit_item(&mut self, _: &'ast Item) {}
    }
    let mut bindings = Bindings::default();
    bindings.visit_block(block);
    (bindings.counts, bindings.candidates)
}

fn bound_times(counts: &[(Ident, usize)], ident: &Ident) -> usize {
    counts
        .iter()
        .find(|(i, _)| i == ident)
        .map_or(0, |(_, count)| *count)
}
