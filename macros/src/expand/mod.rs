//! Code generation. Each entry point parses, checks, and quotes; on any error
//! it emits every error plus the item with weft's markers stripped, so the
//! rest of the crate (and the IDE) keeps working.

mod activity;
pub mod deterministic;
mod handlers;
mod probe;
mod stubs;
mod workflow;
mod workflow_fn;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Item, Type};

use crate::attr;
use crate::ctxt::Errors;
use crate::determinism;
use crate::symbol::{Symbol, WORKFLOW};

/// `#[activity]` on a free fn or an inherent impl block.
pub fn activity(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<Item>(input.clone()) {
        Ok(item) => item,
        Err(error) => return with_errors(error, input),
    };
    let mut errors = Errors::new();
    let parsed = attr::activity::args(args.clone(), &mut errors);
    match item {
        Item::Fn(item) => activity::free_fn(item, parsed, errors),
        Item::Impl(item) => {
            if parsed.name.is_some() {
                errors.spanned(
                    args,
                    "`name = ..` names one activity: put #[activity(name = ..)] on the method",
                );
            }
            activity::impl_block(item, &parsed.defaults, errors)
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
            let before = errors.count();
            determinism::check_fields(&item.fields, &mut errors);
            // A field the syntax check refused is not reported twice.
            let probes = (errors.count() == before)
                .then(|| probe::fields(&item.ident, &item.generics, &item.fields));
            let ident = &item.ident;
            let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
            let marker = quote! {
                impl #impl_generics ::weft::__private::WorkflowState
                    for #ident #ty_generics #where_clause {}
            };
            finish(errors, quote!(#item #probes #marker))
        }
        Item::Impl(item) => {
            let name = attr::name_args(WORKFLOW, args, &mut errors);
            workflow::impl_block(item, name, errors)
        }
        Item::Fn(item) => {
            let name = attr::name_args(WORKFLOW, args, &mut errors);
            workflow_fn::free_fn(item, name, errors)
        }
        other => {
            errors.spanned(
                item_keyword(&other),
                "#[workflow] goes on an async fn (a stateless workflow), or on a workflow's \
                 state struct and on its inherent impl block",
            );
            finish(errors, other)
        }
    }
}

/// A workflow marker (`#[run]`, `#[init]`, `#[signal]`, ..) reached on its own: it was not inside a
/// `#[workflow]` impl block, which would have removed it.
pub fn marker_outside_workflow(marker: Symbol, input: TokenStream) -> TokenStream {
    let message = format!(
        "#[{marker}] belongs on a method inside a #[workflow] impl block; \
         add #[workflow] to the impl block"
    );
    with_errors(syn::Error::new(Span::call_site(), message), input)
}

/// A hidden check that each type is serde-serializable, reported at the
/// type itself with a message that says why, rather than at a bound deep in
/// the generated code. Goes inside a `const _: () = { .. };`.
///
/// With `codec`, `__weft_payload::<T>()` is also how generated code in the
/// same block encodes and decodes a `T` (the client stubs do): it returns
/// plain fn pointers, so the one bound is at that call, and a call spanned
/// at the type reports exactly the check's error, which rustc shows once.
fn payload_check<'a>(types: impl IntoIterator<Item = &'a Type>, codec: bool) -> TokenStream {
    let checks = types
        .into_iter()
        .map(|ty| quote_spanned!(ty.span()=> __weft_payload::<#ty>();));
    let (methods, impls, payload) = if codec {
        codec_parts()
    } else {
        (
            quote!(),
            quote!(),
            quote!(
                fn __weft_payload<T: __weft_Payload>() {}
            ),
        )
    };
    quote! {
        #[allow(non_camel_case_types)]
        #[diagnostic::on_unimplemented(
            message = "`{Self}` is not serde-serializable, so it cannot travel as a payload",
            label = "derive `serde::Serialize` and `serde::Deserialize` for this type",
            note = "workflow inputs and results, and activity arguments and results, are stored in the history as payloads"
        )]
        trait __weft_Payload {
            #methods
        }

        // Reported as the one missing `__weft_Payload`, with the message
        // above, rather than once per missing serde trait.
        #[diagnostic::do_not_recommend]
        impl<T> __weft_Payload for T
        where
            T: ::weft::__private::serde::Serialize + ::weft::__private::serde::de::DeserializeOwned,
        {
            #impls
        }

        #payload

        #[allow(dead_code)]
        fn __weft_payloads() {
            #(#checks)*
        }
    }
}

/// For [`payload_check`] with a codec: `__weft_Payload`'s methods, their
/// impl, and `__weft_payload` returning them as fn pointers.
fn codec_parts() -> (TokenStream, TokenStream, TokenStream) {
    let result =
        |ok: TokenStream| quote!(::core::result::Result<#ok, ::weft::__private::ConverterError>);
    let (encoded, decoded) = (
        result(quote!(::weft::__private::Payload)),
        result(quote!(T)),
    );
    let decoded_self = result(quote!(Self));
    let methods = quote! {
        fn __weft_encode(&self) -> #encoded;
        fn __weft_decode(payload: &::weft::__private::Payload) -> #decoded_self
        where
            Self: ::core::marker::Sized;
    };
    let impls = quote! {
        fn __weft_encode(&self) -> #encoded {
            ::weft::__private::encode(self)
        }
        fn __weft_decode(payload: &::weft::__private::Payload) -> #decoded_self {
            ::weft::__private::decode(payload)
        }
    };
    let payload = quote! {
        #[allow(dead_code, non_camel_case_types)]
        struct __weft_Codec<T> {
            encode: fn(&T) -> #encoded,
            decode: fn(&::weft::__private::Payload) -> #decoded,
        }

        fn __weft_payload<T: __weft_Payload>() -> __weft_Codec<T> {
            __weft_Codec {
                encode: <T as __weft_Payload>::__weft_encode,
                decode: <T as __weft_Payload>::__weft_decode,
            }
        }
    };
    (methods, impls, payload)
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
