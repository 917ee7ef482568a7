//! `#[activity]`: a fn (or `&self` method) is kept as written, and gets a
//! const `Activity` value named after it in capitals.
//!
//! ```text
//! async fn order(amount: u32) -> Result<String, E> { .. }
//! // is kept, and gets
//! const ORDER: Activity<fn(u32) -> BoxFuture<'static, Result<String, E>>, u32, String> =
//!     Activity::__new("order", <call shim>, Invoke::Async(<decode, call, encode>), <encode input>);
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Ident, ImplItem, ItemFn, ItemImpl, LitStr, Type, parse_quote};

use super::{finish, payload_check};
use crate::ast::{ActivityFn, ActivityImpl, ActivityMethod, ActivitySig};
use crate::attr::activity::{ActivityArgs, Defaults, Millis, Retry};
use crate::check;
use crate::ctxt::Errors;

/// `#[activity]` on a free fn.
pub fn free_fn(item: ItemFn, args: ActivityArgs, mut errors: Errors) -> TokenStream {
    let model = ActivityFn::parse(item.clone(), args, &mut errors);
    match model {
        Some(model) if errors.is_empty() => expand_fn(model),
        _ => finish(errors, item),
    }
}

/// `#[activity]` on an inherent impl block.
pub fn impl_block(item: ItemImpl, defaults: &Defaults, mut errors: Errors) -> TokenStream {
    let model = ActivityImpl::parse(item, defaults, &mut errors);
    check::activity_names(&model.methods, &mut errors);
    if errors.is_empty() {
        expand_impl(model)
    } else {
        finish(errors, model.item)
    }
}

fn expand_fn(model: ActivityFn) -> TokenStream {
    let ActivityFn {
        item,
        name,
        defaults,
        sig,
    } = model;
    let ident = &sig.ident;
    let value = value_ident(ident);
    let parts = Parts::new(&sig);
    let vis = &item.vis;
    let cfgs = attrs_named(&item.attrs, "cfg");
    let (types, idents) = (&parts.types, &parts.idents);
    let ret = &sig.ret;
    let (call_ty, call, invoke) = if sig.is_async {
        let span = sig.ident.span();
        let call = boxed(span, quote!(#ident(#(#idents),*)));
        (
            quote!(fn(#(#types),*) -> ::weft::__private::BoxFuture<'static, #ret>),
            quote!(|#(#idents),*| #call),
            parts.invoke_async(ident, span),
        )
    } else {
        (
            quote!(fn(#(#types),*) -> #ret),
            quote!(#ident),
            parts.invoke_blocking(ident),
        )
    };
    let (input, ok, encode) = (&parts.input, &sig.ok, parts.encode_input());
    let payloads = payload_check(sig.args.iter().chain([&sig.ok]), false);
    let constructor = constructor(&defaults, quote!(#name, #call, #invoke, #encode));
    let doc = value_doc(&name, &ident.to_string(), &value.to_string());
    quote! {
        #item

        #(#cfgs)*
        #[doc = #doc]
        #vis const #value: ::weft::__private::Activity<#call_ty, #input, #ok> =
            #constructor;

        const _: () = {
            #payloads
        };
    }
}

fn expand_impl(model: ActivityImpl) -> TokenStream {
    let ActivityImpl { mut item, methods } = model;
    let self_ty = (*item.self_ty).clone();
    let resolved: Vec<ActivitySig> = methods
        .iter()
        .map(|m| resolve_self(&m.sig, &self_ty))
        .collect();
    let payloads = payload_check(
        resolved
            .iter()
            .flat_map(|sig| sig.args.iter().chain([&sig.ok])),
        false,
    );
    let mut consts = Vec::new();
    let mut erased = Vec::new();
    for method in &methods {
        let Some(ImplItem::Fn(func)) = item.items.get(method.index) else {
            continue;
        };
        let cfgs = attrs_named(&func.attrs, "cfg");
        consts.push(method_const(method, &self_ty, &cfgs));
        erased.push(method_erased(method, &cfgs));
    }
    item.items.extend(consts);
    let activities = if erased.is_empty() {
        quote!(::std::vec::Vec::new())
    } else {
        quote! {
            let mut __weft_activities = ::std::vec::Vec::new();
            #(#erased)*
            __weft_activities
        }
    };
    quote! {
        #item

        const _: () = {
            #payloads

            impl ::weft::__private::ActivityGroup for #self_ty {
                fn activities(
                    self: ::std::sync::Arc<Self>,
                ) -> ::std::vec::Vec<(&'static str, ::weft::__private::ErasedActivity)> {
                    #activities
                }
            }
        };
    }
}

/// The name of an activity's value: the fn's name in capitals. A constant
/// named like the fn would make every binding of that name in scope a
/// constant pattern.
pub(crate) fn value_ident(ident: &Ident) -> Ident {
    let upper = ident.unraw().to_string().to_uppercase();
    Ident::new(&upper, ident.span())
}

/// The constructor call of an activity value from its name, call shim,
/// invoker and input encoder (`args`): `Activity::__new`, or
/// `Activity::__with_defaults` with the options its declaration gives.
fn constructor(defaults: &Defaults, args: TokenStream) -> TokenStream {
    if defaults.is_empty() {
        return quote!(::weft::__private::Activity::__new(#args));
    }
    let (start, close, queue, beat) = (
        millis(defaults.start_to_close_timeout),
        millis(defaults.schedule_to_close_timeout),
        millis(defaults.schedule_to_start_timeout),
        millis(defaults.heartbeat_timeout),
    );
    let retry = match &defaults.retry {
        None => quote!(::core::option::Option::None),
        Some(retry) => retry_expr(retry),
    };
    let defaults = quote! {
        ::weft::__private::ActivityDefaults {
            start_to_close_timeout: #start,
            schedule_to_close_timeout: #close,
            schedule_to_start_timeout: #queue,
            heartbeat_timeout: #beat,
            retry: #retry,
        }
    };
    quote!(::weft::__private::Activity::__with_defaults(#args, #defaults))
}

fn retry_expr(retry: &Retry) -> TokenStream {
    let initial = retry.initial_interval.map_or(1_000, |d| d.millis);
    let coefficient = retry.backoff_coefficient.map_or(2.0, |(c, _)| c);
    let maximum = millis(retry.maximum_interval);
    let attempts = retry.maximum_attempts.unwrap_or(0);
    let types = retry.non_retryable_errors.iter().flatten();
    quote! {
        ::core::option::Option::Some(::weft::__private::RetryDefaults {
            initial_interval: ::core::time::Duration::from_millis(#initial),
            backoff_coefficient: #coefficient,
            maximum_interval: #maximum,
            maximum_attempts: #attempts,
            non_retryable_error_types: &[#(#types),*],
        })
    }
}

/// `Some(Duration::from_millis(n))` or `None`.
fn millis(value: Option<Millis>) -> TokenStream {
    match value {
        Some(Millis { millis, .. }) => {
            quote!(::core::option::Option::Some(::core::time::Duration::from_millis(#millis)))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// The doc of an activity's value (`value`, as workflows write it),
/// pointing at the fn it runs.
fn value_doc(name: &LitStr, runs: &str, value: &str) -> String {
    format!(
        " The activity `{}`, which runs [`{runs}`]: workflows schedule it with \
         `ctx.activity({value}, input)`.",
        name.value()
    )
}

/// `pub const <M>: Activity<for<'a> fn(&'a Self, ..) -> BoxFuture<'a, R>, I, O, Method>`.
fn method_const(method: &ActivityMethod, self_ty: &Type, cfgs: &[&Attribute]) -> ImplItem {
    let sig = resolve_self(&method.sig, self_ty);
    let parts = Parts::new(&sig);
    let (types, idents) = (&parts.types, &parts.idents);
    let (ident, name, ret, ok, input) = (&sig.ident, &method.name, &sig.ret, &sig.ok, &parts.input);
    let value = value_ident(ident);
    let ty_name = quote!(#self_ty).to_string().replace(' ', "");
    let doc = value_doc(
        name,
        &format!("Self::{ident}"),
        &format!("{ty_name}::{value}"),
    );
    let encode = parts.encode_input();
    let constructor = constructor(
        &method.defaults,
        quote!(#name, __weft_call, ::weft::__private::Invoke::Method, #encode),
    );
    let call = boxed(
        sig.ident.span(),
        quote!(<#self_ty>::#ident(__weft_this, #(#idents),*)),
    );
    parse_quote! {
        #(#cfgs)*
        #[doc = #doc]
        pub const #value: ::weft::__private::Activity<
            for<'__weft_a> fn(&'__weft_a #self_ty, #(#types),*) -> ::weft::__private::BoxFuture<'__weft_a, #ret>,
            #input,
            #ok,
            ::weft::__private::Method,
        > = {
            // A named fn, not a closure: closures do not infer the
            // higher-ranked lifetime of the receiver.
            fn __weft_call<'__weft_a>(
                __weft_this: &'__weft_a #self_ty,
                #(#idents: #types),*
            ) -> ::weft::__private::BoxFuture<'__weft_a, #ret> {
                #call
            }
            #constructor
        };
    }
}

/// One `(name, ErasedActivity)` entry of the `ActivityGroup` impl, holding
/// a clone of the instance's `Arc`.
fn method_erased(method: &ActivityMethod, cfgs: &[&Attribute]) -> TokenStream {
    let parts = Parts::new(&method.sig);
    let (ctx_pat, payloads_pat) = parts.invoke_patterns();
    let (decode, idents) = (parts.decode(), &parts.idents);
    let ident = &method.sig.ident;
    let output = parts.output(quote!(__weft_this.#ident(#(#idents),*).await));
    let future = boxed(
        method.sig.ident.span(),
        quote! {
            async move {
                #decode
                #output
            }
        },
    );
    let name = &method.name;
    quote! {
        #(#cfgs)*
        {
            let __weft_this = ::std::sync::Arc::clone(&self);
            let __weft_run: ::weft::__private::ErasedActivity = ::std::sync::Arc::new(
                move |#ctx_pat: ::weft::ActivityContext,
                      #payloads_pat: ::std::vec::Vec<::weft::__private::Payload>|
                      -> ::weft::__private::BoxFuture<
                          'static,
                          ::core::result::Result<::weft::__private::Payload, ::weft::__private::Failure>,
                      > {
                    let __weft_this = ::std::sync::Arc::clone(&__weft_this);
                    #future
                },
            );
            __weft_activities.push((#name, __weft_run));
        }
    }
}

/// The names and types an activity's expansion repeats.
struct Parts {
    /// Parameter types: the context's (if taken), then the arguments'.
    types: Vec<Type>,
    /// Generated parameter names, matching `types`.
    idents: Vec<Ident>,
    /// Whether the first parameter is the `ActivityContext`.
    has_ctx: bool,
    /// The argument types alone.
    args: Vec<Type>,
    /// `I`: `()`, the one argument's type, or a tuple.
    input: Type,
    /// The error type's span: `output(..)` is spanned there, so a missing
    /// `Into<Failure>` is reported at `E`.
    err_span: Span,
}

impl Parts {
    fn new(sig: &ActivitySig) -> Self {
        let args = sig.args.clone();
        let mut types: Vec<Type> = sig.ctx.iter().cloned().collect();
        let mut idents: Vec<Ident> = sig.ctx.iter().map(|_| ctx_ident()).collect();
        for (i, ty) in args.iter().enumerate() {
            types.push(ty.clone());
            idents.push(format_ident!("__weft_arg{}", i));
        }
        let input = match args.as_slice() {
            [single] => single.clone(),
            _ => parse_quote!((#(#args,)*)),
        };
        Parts {
            err_span: sig.err.span(),
            types,
            idents,
            has_ctx: sig.ctx.is_some(),
            args,
            input,
        }
    }

    /// Patterns for the invoker's context and payload parameters; `_` when
    /// unused, so the expansion is warning-free.
    fn invoke_patterns(&self) -> (TokenStream, TokenStream) {
        let ctx = if self.has_ctx {
            quote!(__weft_ctx)
        } else {
            quote!(_)
        };
        (ctx, quote!(__weft_payloads))
    }

    /// Encodes the result of `call`, or converts its error into a `Failure`.
    fn output(&self, call: TokenStream) -> TokenStream {
        let output = quote_spanned!(self.err_span=> ::weft::__private::output(__weft_result));
        quote! {
            let __weft_result = #call;
            #output
        }
    }

    /// Checks the number of payloads, then
    /// `let __weft_argN: T = arg(&payloads, N)?;` for each argument.
    fn decode(&self) -> TokenStream {
        let count = self.args.len();
        let lets = self.args.iter().enumerate().map(|(i, ty)| {
            let ident = format_ident!("__weft_arg{}", i);
            // Spanned at the type: a type that cannot be decoded is
            // reported there, not at the attribute.
            let arg = quote_spanned!(ty.span()=> ::weft::__private::arg(&__weft_payloads, #i));
            quote!(let #ident: #ty = #arg?;)
        });
        quote! {
            ::weft::__private::arity(&__weft_payloads, #count)?;
            #(#lets)*
        }
    }

    fn invoke_async(&self, impl_ident: &Ident, span: Span) -> TokenStream {
        let (ctx_pat, payloads_pat) = self.invoke_patterns();
        let (decode, idents) = (self.decode(), &self.idents);
        let output = self.output(quote!(#impl_ident(#(#idents),*).await));
        let future = boxed(
            span,
            quote! {
                async move {
                    #decode
                    #output
                }
            },
        );
        quote! {
            ::weft::__private::Invoke::Async(|#ctx_pat, #payloads_pat| #future)
        }
    }

    fn invoke_blocking(&self, impl_ident: &Ident) -> TokenStream {
        let (ctx_pat, payloads_pat) = self.invoke_patterns();
        let (decode, idents) = (self.decode(), &self.idents);
        let output = self.output(quote!(#impl_ident(#(#idents),*)));
        quote! {
            ::weft::__private::Invoke::Blocking(|#ctx_pat, #payloads_pat| {
                #decode
                #output
            })
        }
    }

    /// Encodes each argument as its own payload, so workers in other
    /// languages can call the activity with positional arguments.
    fn encode_input(&self) -> TokenStream {
        let payloads = match self.args.as_slice() {
            [] => quote!(),
            [ty] => quote_spanned!(ty.span()=> ::weft::__private::encode(__weft_input)?),
            args => {
                let each = args.iter().enumerate().map(|(i, ty)| {
                    let field = syn::Index::from(i);
                    quote_spanned!(ty.span()=> ::weft::__private::encode(&__weft_input.#field)?)
                });
                quote!(#(#each),*)
            }
        };
        let input = if self.args.is_empty() {
            quote!(_)
        } else {
            quote!(__weft_input)
        };
        quote!(|#input| ::core::result::Result::Ok(::std::vec![#payloads]))
    }
}

/// `Box::pin(inner)` spanned at the user's fn, so a future that is not
/// `Send` is reported there rather than at the attribute.
fn boxed(span: Span, inner: TokenStream) -> TokenStream {
    quote_spanned!(span=> ::std::boxed::Box::pin(#inner))
}

fn ctx_ident() -> Ident {
    Ident::new("__weft_ctx", Span::call_site())
}

fn attrs_named<'a>(attrs: &'a [Attribute], name: &str) -> Vec<&'a Attribute> {
    attrs.iter().filter(|a| a.path().is_ident(name)).collect()
}

/// The signature with `Self` replaced by the impl's type, for the shim fn
/// nested in the const (nested items cannot name the outer `Self`).
fn resolve_self(sig: &ActivitySig, self_ty: &Type) -> ActivitySig {
    let mut replace = ReplaceSelf(self_ty);
    let mut each = |ty: &Type| {
        let mut ty = ty.clone();
        replace.visit_type_mut(&mut ty);
        ty
    };
    ActivitySig {
        ident: sig.ident.clone(),
        is_async: sig.is_async,
        ctx: sig.ctx.as_ref().map(&mut each),
        args: sig.args.iter().map(&mut each).collect(),
        ret: each(&sig.ret),
        ok: each(&sig.ok),
        err: each(&sig.err),
    }
}

/// `ty` with `Self` replaced by the impl's type.
pub(super) fn resolve_self_type(ty: &Type, self_ty: &Type) -> Type {
    let mut ty = ty.clone();
    ReplaceSelf(self_ty).visit_type_mut(&mut ty);
    ty
}

struct ReplaceSelf<'a>(&'a Type);

impl VisitMut for ReplaceSelf<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(path) = ty
            && path.qself.is_none()
            && path.path.is_ident("Self")
        {
            *ty = self.0.clone();
            return;
        }
        visit_mut::visit_type_mut(self, ty);
    }
}
