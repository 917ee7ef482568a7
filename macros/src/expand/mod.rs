//! Code generation. Each entry point parses, checks, and quotes; on any error
//! it emits every error plus the item with weft's markers stripped, so the
//! rest of the crate (and the IDE) keeps working.

mod activity;
mod workflow;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::Item;

use crate::attr;
use crate::ctxt::Errors;
use crate::symbol::{ACTIVITY, Symbol, WORKFLOW};

/// `#[activity]` on a free fn or an inherent impl block.
pub fn activity(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<Item>(input.clone()) {
        Ok(item) => item,
        Err(error) => return with_errors(error, input),
    };
    let mut errors = Errors::new();
    let name = attr::name_args(ACTIVITY, args.clone(), &mut errors);
    match item {
        Item::Fn(item) => activity::free_fn(item, name, errors),
        Item::Impl(item) => {
            if name.is_some() {
                errors.spanned(
                    args,
                    "`name = ..` names one activity: put #[activity(name = ..)] on the method",
                );
            }
            activity::impl_block(item, errors)
        }
        other => {
            errors.spanned(
                item_keyword(&other),
                "#[activity] goes on a fn or on an inherent impl block of activity methods",
            );
            finish(errors, other)
        }
    }
}

/// `#[workflow]` on the state struct or on its inherent impl block.
pub fn workflow(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<Item>(input.clone()) {
        Ok(item) => item,
        Err(error) => return with_errors(error, input),
    };
    let mut errors = Errors::new();
    match item {
        Item::Struct(item) => {
            let hint = "put `name = ..` on the #[workflow] impl block";
            attr::no_args(WORKFLOW, args, hint, &mut errors);
            finish(errors, item)
        }
        Item::Impl(item) => {
            let name = attr::name_args(WORKFLOW, args, &mut errors);
            workflow::impl_block(item, name, errors)
        }
        other => {
            errors.spanned(
                item_keyword(&other),
                "#[workflow] goes on the workflow's state struct and on its inherent impl block",
            );
            finish(errors, other)
        }
    }
}

/// `#[run]` or `#[init]` reached on its own: it was not inside a
/// `#[workflow]` impl block, which would have removed it.
pub fn marker_outside_workflow(marker: Symbol, input: TokenStream) -> TokenStream {
    let message = format!(
        "#[{marker}] belongs on a method inside a #[workflow] impl block; \
         add #[workflow] to the impl block"
    );
    with_errors(syn::Error::new(Span::call_site(), message), input)
}

/// The errors, followed by the item as given.
fn finish(errors: Errors, item: impl ToTokens) -> TokenStream {
    match errors.finish() {
        Ok(()) => item.into_token_stream(),
        Err(error) => with_errors(error, item),
    }
}

fn with_errors(error: syn::Error, item: impl ToTokens) -> TokenStream {
    let errors = error.into_compile_error();
    quote! { #errors #item }
}

/// The item's leading keyword (after attributes and visibility), for errors
/// about the kind of item it is.
fn item_keyword(item: &Item) -> TokenStream {
    use proc_macro2::{Delimiter, TokenTree};
    let mut tokens = item.to_token_stream().into_iter().peekable();
    while let Some(tt) = tokens.next() {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                tokens.next_if(
                    |t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket),
                );
            }
            TokenTree::Ident(i) if i == "pub" => {
                tokens.next_if(
                    |t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis),
                );
            }
            _ => return tt.into_token_stream(),
        }
    }
    TokenStream::new()
}
