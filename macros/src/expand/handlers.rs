//! The handler entry points of `Workflow`: `signal`, `query`, `validate`
//! and `update`, each a `match` on the handler name that decodes the input
//! and calls the user's fn.
//!
//! ```text
//! fn query(state: &Self, name: &str, input: &[Payload]) -> Option<Result<Payload, Failure>> {
//!     match name {
//!         "status" => Some(match arity(input, 1).and_then(|()| arg::<T>(input, 0)) {
//!             Ok(arg) => encode(&<X>::status(state, arg)).map_err(Into::into),
//!             Err(error) => Err(error),
//!         }),
//!         _ => None,
//!     }
//! }
//! ```
//!
//! An entry point is emitted only for the kinds the workflow has; the
//! others keep the trait's default (no such handler).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{LitStr, Type};

use crate::ast::{Handlers, QueryFn, SignalFn, UpdateFn};

/// The overrides of the handler entry points, inside `impl Workflow for X`.
pub fn overrides(self_ty: &Type, handlers: &Handlers) -> TokenStream {
    let signal = (!handlers.signals.is_empty()).then(|| signal(self_ty, &handlers.signals));
    let query = (!handlers.queries.is_empty()).then(|| query(self_ty, &handlers.queries));
    let update = (!handlers.updates.is_empty()).then(|| {
        let validate = validate(self_ty, &handlers.updates);
        let update = update(self_ty, &handlers.updates);
        quote!(#validate #update)
    });
    quote!(#signal #query #update)
}

/// The types that travel as payloads: inputs, query answers, update results.
pub fn payload_types(handlers: &Handlers) -> Vec<&Type> {
    // A dynamic handler's input is the `DynamicCall`, not a payload.
    let signals = handlers
        .signals
        .iter()
        .filter(|s| !s.dynamic)
        .flat_map(|s| &s.input);
    let queries = handlers.queries.iter().flat_map(|q| {
        let input = q.input.iter().filter(|_| !q.dynamic);
        input.chain([&q.output])
    });
    let updates = handlers.updates.iter().flat_map(|u| {
        let input = u.input.iter().filter(|_| !u.dynamic);
        input.chain([&u.ok])
    });
    signals.chain(queries).chain(updates).collect()
}

fn signal(self_ty: &Type, signals: &[SignalFn]) -> TokenStream {
    let arms = dynamic_last(signals, |s| s.dynamic).map(|signal| {
        let ident = &signal.ident;
        let args = call_args(signal.input.as_ref());
        let body = if signal.is_async {
            quote! {{
                let __weft_ctx = ::core::clone::Clone::clone(__weft_ctx);
                ::core::result::Result::Ok(::weft::__private::Handler::Async(
                    ::std::boxed::Box::pin(<#self_ty>::#ident(__weft_ctx #args)),
                ))
            }}
        } else {
            quote! {{
                __weft_ctx.state_mut(|__weft_state| <#self_ty>::#ident(__weft_state #args));
                ::core::result::Result::Ok(::weft::__private::Handler::Done)
            }}
        };
        let input = Input::of(signal.input.as_ref(), signal.dynamic);
        arm(&signal.name, signal.dynamic, decoded(input, true, body))
    });
    let fallback = fallback(signals.iter().any(|s| s.dynamic));
    quote! {
        fn signal(
            __weft_ctx: &::weft::__private::WorkflowContext<Self>,
            __weft_name: &str,
            __weft_input: &[::weft::__private::Payload],
        ) -> ::core::option::Option<
            ::core::result::Result<::weft::__private::Handler, ::weft::__private::Failure>,
        > {
            match __weft_name {
                #(#arms)*
                #fallback
            }
        }
    }
}

fn query(self_ty: &Type, queries: &[QueryFn]) -> TokenStream {
    let arms = dynamic_last(queries, |q| q.dynamic).map(|query| {
        let ident = &query.ident;
        let args = call_args(query.input.as_ref());
        // Spanned at `R`: an answer that cannot be encoded is reported there.
        let encode = quote_spanned! {query.output.span()=>
            ::weft::__private::encode(&<#self_ty>::#ident(__weft_state #args))
        };
        let body = quote! {
            ::core::result::Result::map_err(
                #encode,
                ::core::convert::Into::<::weft::__private::Failure>::into,
            )
        };
        let input = Input::of(query.input.as_ref(), query.dynamic);
        arm(&query.name, query.dynamic, decoded(input, true, body))
    });
    let fallback = fallback(queries.iter().any(|q| q.dynamic));
    quote! {
        fn query(
            __weft_state: &Self,
            __weft_name: &str,
            __weft_input: &[::weft::__private::Payload],
        ) -> ::core::option::Option<
            ::core::result::Result<::weft::__private::Payload, ::weft::__private::Failure>,
        > {
            match __weft_name {
                #(#arms)*
                #fallback
            }
        }
    }
}

/// Decodes the input of every update, so a malformed one is rejected
/// before the update is accepted, and runs its validator, if any.
fn validate(self_ty: &Type, updates: &[UpdateFn]) -> TokenStream {
    let arms = dynamic_last(updates, |u| u.dynamic).map(|update| {
        let input = Input::of(update.input.as_ref(), update.dynamic);
        let Some(validator) = &update.validator else {
            let body = quote!(::core::result::Result::Ok(()));
            return arm(&update.name, update.dynamic, decoded(input, false, body));
        };
        let ident = &validator.ident;
        let arg = validator
            .param
            .as_ref()
            .map(|param| quote_spanned!(param.span()=> , &__weft_arg));
        let into = failure_into(&validator.err);
        let body = quote! {
            ::core::result::Result::map_err(<#self_ty>::#ident(__weft_state #arg), #into)
        };
        arm(&update.name, update.dynamic, decoded(input, true, body))
    });
    let fallback = fallback(updates.iter().any(|u| u.dynamic));
    let state = if updates.iter().any(|u| u.validator.is_some()) {
        quote!(__weft_state)
    } else {
        quote!(_)
    };
    quote! {
        fn validate(
            #state: &Self,
            __weft_name: &str,
            __weft_input: &[::weft::__private::Payload],
        ) -> ::core::option::Option<::core::result::Result<(), ::weft::__private::Failure>> {
            match __weft_name {
                #(#arms)*
                #fallback
            }
        }
    }
}

fn update(self_ty: &Type, updates: &[UpdateFn]) -> TokenStream {
    let arms = dynamic_last(updates, |u| u.dynamic).map(|update| {
        let ident = &update.ident;
        let args = call_args(update.input.as_ref());
        // Spanned at `E`: an error without `Into<Failure>` is reported there.
        let output = |result: TokenStream| {
            quote_spanned!(update.err.span()=> ::weft::__private::output(#result))
        };
        let body = if update.is_async {
            let output = output(quote!(<#self_ty>::#ident(__weft_ctx #args).await));
            quote! {{
                let __weft_ctx = ::core::clone::Clone::clone(__weft_ctx);
                ::core::result::Result::Ok(::weft::__private::UpdateHandler::Async(
                    ::std::boxed::Box::pin(async move { #output }),
                ))
            }}
        } else {
            let output = output(quote! {
                __weft_ctx.state_mut(|__weft_state| <#self_ty>::#ident(__weft_state #args))
            });
            quote! {
                ::core::result::Result::Ok(::weft::__private::UpdateHandler::Done(#output))
            }
        };
        let input = Input::of(update.input.as_ref(), update.dynamic);
        arm(&update.name, update.dynamic, decoded(input, true, body))
    });
    let fallback = fallback(updates.iter().any(|u| u.dynamic));
    quote! {
        fn update(
            __weft_ctx: &::weft::__private::WorkflowContext<Self>,
            __weft_name: &str,
            __weft_input: &[::weft::__private::Payload],
        ) -> ::core::option::Option<
            ::core::result::Result<::weft::__private::UpdateHandler, ::weft::__private::Failure>,
        > {
            match __weft_name {
                #(#arms)*
                #fallback
            }
        }
    }
}

/// The handlers in order, the dynamic one (the `_` arm) last.
fn dynamic_last<T>(handlers: &[T], dynamic: impl Fn(&T) -> bool) -> impl Iterator<Item = &T> {
    let (dynamic, named): (Vec<&T>, Vec<&T>) = handlers.iter().partition(|h| dynamic(h));
    named.into_iter().chain(dynamic)
}

/// A handler's `match` arm: its name, or `_` for the dynamic one.
fn arm(name: &LitStr, dynamic: bool, body: TokenStream) -> TokenStream {
    if dynamic {
        quote!(_ => ::core::option::Option::Some(#body),)
    } else {
        quote!(#name => ::core::option::Option::Some(#body),)
    }
}

/// `_ => None` (no such handler) unless a dynamic handler takes the rest.
fn fallback(has_dynamic: bool) -> Option<TokenStream> {
    (!has_dynamic).then(|| quote!(_ => ::core::option::Option::None,))
}

/// `, __weft_arg` when the handler takes an input.
fn call_args(input: Option<&Type>) -> Option<TokenStream> {
    input.map(|_| quote!(, __weft_arg))
}

/// What a handler takes: nothing, a typed input, or (a dynamic handler)
/// the call with its name and encoded arguments.
enum Input<'a> {
    None,
    Typed(&'a Type),
    Dynamic,
}

impl<'a> Input<'a> {
    fn of(input: Option<&'a Type>, dynamic: bool) -> Self {
        match input {
            _ if dynamic => Input::Dynamic,
            Some(ty) => Input::Typed(ty),
            None => Input::None,
        }
    }
}

/// Checks the payload count and decodes the input (as `__weft_arg`, when
/// `bind`), then evaluates `body`, a `Result<_, Failure>`; a decoding
/// error is the result. A dynamic handler's call is built, not decoded.
fn decoded(input: Input, bind: bool, body: TokenStream) -> TokenStream {
    let pattern = if bind { quote!(__weft_arg) } else { quote!(_) };
    let (decode, pattern) = match input {
        Input::Typed(ty) => {
            // Spanned at the type: one that cannot be decoded is reported there.
            let arg = quote_spanned!(ty.span()=> ::weft::__private::arg::<#ty>(__weft_input, 0));
            let decode = quote! {
                ::core::result::Result::and_then(
                    ::weft::__private::arity(__weft_input, 1),
                    |()| #arg,
                )
            };
            (decode, pattern)
        }
        Input::Dynamic => {
            let call = quote! {
                ::weft::__private::DynamicCall::new(
                    __weft_name,
                    ::std::borrow::ToOwned::to_owned(__weft_input),
                )
            };
            let decode = quote! {
                ::core::result::Result::<_, ::weft::__private::Failure>::Ok(#call)
            };
            (decode, pattern)
        }
        Input::None => (
            quote!(::weft::__private::arity(__weft_input, 0)),
            quote!(()),
        ),
    };
    quote! {
        match #decode {
            ::core::result::Result::Ok(#pattern) => #body,
            ::core::result::Result::Err(__weft_error) => ::core::result::Result::Err(__weft_error),
        }
    }
}

/// `Into::<Failure>::into`, spanned at `E`.
fn failure_into(err: &Type) -> TokenStream {
    quote_spanned!(err.span()=> ::core::convert::Into::<::weft::__private::Failure>::into)
}
