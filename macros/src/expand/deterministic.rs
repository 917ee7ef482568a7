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

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{
    Block, Expr, ExprAsync, ExprAwait, Ident, ImplItem, Item, ItemFn, ItemImpl, Macro, ReturnType,
    Type, parse_quote_spanned,
};

use super::{finish, with_errors};
use crate::attr;
use crate::ctxt::Errors;
use crate::determinism::{self, MacroKind};
use crate::symbol::DETERMINISTIC;

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
    determinism::check_fn(&item, &mut errors);
    if item.sig.asyncness.is_none() {
        return finish(errors, item);
    }
    finish(errors, helper(item))
}

/// Checks and rewrites the methods of a `#[workflow]` impl block: the
/// `#[run]` fns (`runs`) are checked and rewritten, the others checked.
/// Methods marked `#[weft::deterministic]` are left to that macro.
pub fn workflow_methods(item: &mut ItemImpl, runs: &[Ident], errors: &mut Errors) {
    for impl_item in &mut item.items {
        let ImplItem::Fn(func) = impl_item else {
            continue;
        };
        if func.attrs.iter().any(attr::is_deterministic) {
            continue;
        }
        determinism::check_method(func, errors);
        if runs.contains(&func.sig.ident) {
            rewrite_block(&mut func.block);
        }
    }
}

/// Rewrites the awaits and async blocks of workflow code.
pub fn rewrite_block(block: &mut Block) {
    Rewrite.visit_block_mut(block);
}

/// An async fn as a sync fn returning a vouched future.
fn helper(mut item: ItemFn) -> TokenStream {
    rewrite_block(&mut item.block);
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

struct Rewrite;

impl VisitMut for Rewrite {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        match expr {
            Expr::Await(await_expr) => *expr = checked(await_expr),
            Expr::Async(block) => *expr = vouched(block),
            _ => {}
        }
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
            mac.tokens = rewrite_tokens(mac.tokens.clone());
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
    parse_quote_spanned! {base.span()=>
        #(#attrs)* ::weft::__private::checked(#base) #dot_token #await_token
    }
}

fn vouched(block: &ExprAsync) -> Expr {
    parse_quote_spanned!(block.async_token.span=> ::weft::__private::vouched(#block))
}

/// Rewrites the brace groups of a macro's tokens that parse as blocks
/// (the branch bodies of `weft::select!`, for instance).
fn rewrite_tokens(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(group) => rewrite_group(group),
            other => other,
        })
        .collect()
}

fn rewrite_group(group: Group) -> TokenTree {
    if group.delimiter() == Delimiter::Brace
        && let Ok(mut block) = syn::parse2::<Block>(TokenTree::Group(group.clone()).into())
    {
        rewrite_block(&mut block);
        let tokens = block.into_token_stream();
        if let Some(tt) = tokens.into_iter().next() {
            return tt;
        }
    }
    let mut rewritten = Group::new(group.delimiter(), rewrite_tokens(group.stream()));
    rewritten.set_span(group.span());
    TokenTree::Group(rewritten)
}
