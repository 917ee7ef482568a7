//! `#[workflow]` on an impl block: the block is kept (markers removed) and
//! `Workflow` is implemented for its type, calling the `#[run]` and
//! `#[init]` fns and the handlers (`#[signal]`, `#[query]`, `#[update]`,
//! `#[validator(..)]`), and the typed client stubs of the handlers.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemImpl, LitStr, Type};

use super::activity::resolve_self_type as resolve_self;
use super::{deterministic, finish, handlers, payload_check, stubs};
use crate::ast::{Handlers, InitFn, RunFn, WorkflowImpl};
use crate::check;
use crate::ctxt::Errors;

/// `#[workflow]` on the state struct's inherent impl block.
///
/// Determinism errors do not stop the expansion: the `Workflow` impl is
/// still emitted when the handlers' shapes are right, so the rest of the
/// crate type-checks and reports its own errors alongside.
pub fn impl_block(item: ItemImpl, name: Option<LitStr>, mut errors: Errors) -> TokenStream {
    let mut model = WorkflowImpl::parse(item, name, &mut errors);
    let shape = check::workflow(&model, &mut errors);
    let handlers = check::handlers(&model, &mut errors);
    let shape_ok = errors.is_empty();
    // Every method is workflow code: awaits checked, async blocks vouched
    // for, values probed.
    deterministic::workflow_methods(&mut model.item, &mut errors);
    match shape {
        Some((run, init)) if shape_ok => {
            let expanded = expand(&model, &run, init.as_ref(), &handlers);
            finish(errors, expanded)
        }
        _ => finish(errors, model.item),
    }
}

fn expand(
    model: &WorkflowImpl,
    run: &RunFn,
    init: Option<&InitFn>,
    handlers: &Handlers,
) -> TokenStream {
    let item = &model.item;
    let self_ty = &*item.self_ty;
    let (name, input, output) = (&model.name, &run.input, &run.output);
    let (default_state, init_fn) = match init {
        Some(init) => (quote!(), init_with(self_ty, init)),
        None => default_init(self_ty),
    };
    let (input_ty, output_ty) = (resolve_self(input, self_ty), resolve_self(output, self_ty));
    let handler_types: Vec<Type> = handlers::payload_types(handlers)
        .into_iter()
        .map(|ty| resolve_self(ty, self_ty))
        .collect();
    // The client stubs of queries and updates encode and decode with it.
    let codec = !handlers.queries.is_empty() || !handlers.updates.is_empty();
    let payloads = payload_check(
        [&input_ty, &output_ty].into_iter().chain(&handler_types),
        codec,
    );
    let overrides = handlers::overrides(self_ty, handlers);
    let (stubs_trait, stubs_impl) = stubs::client_stubs(self_ty, handlers);
    let (signals_trait, signals_impl) = stubs::workflow_signal_stubs(self_ty, handlers);
    let run_ident = &run.ident;
    let call = quote!(<#self_ty>::#run_ident(__weft_ctx, __weft_input));
    // The struct needs #[workflow] too: reported at the impl's type.
    let state_check = quote_spanned! {self_ty.span()=>
        let _ = ::weft::__private::workflow_state::<#self_ty>;
    };
    let body = if run.converts_error {
        quote! {
            ::std::boxed::Box::pin(async move {
                ::core::result::Result::map_err(
                    #call.await,
                    ::core::convert::Into::<::weft::__private::Failure>::into,
                )
            })
        }
    } else {
        quote!(::std::boxed::Box::pin(#call))
    };
    quote! {
        #item

        #stubs_trait
        #signals_trait

        const _: () = {
            #state_check
            #default_state
            #payloads
            #stubs_impl
            #signals_impl

            impl ::weft::__private::Workflow for #self_ty {
                const NAME: &'static str = #name;
                type Input = #input;
                type Output = #output;

                #init_fn

                fn run(
                    __weft_ctx: ::weft::__private::WorkflowContext<Self>,
                    __weft_input: Self::Input,
                ) -> ::weft::__private::LocalBoxFuture<
                    'static,
                    ::weft::__private::WorkflowResult<Self::Output>,
                > {
                    #body
                }

                #overrides
            }
        };
    }
}

/// `init` calling the user's `#[init]` fn; a wrong parameter type is
/// reported at that fn's parameter.
fn init_with(self_ty: &Type, init: &InitFn) -> TokenStream {
    let ident = &init.ident;
    let arg = quote_spanned!(init.param.span()=> __weft_input);
    quote! {
        fn init(__weft_input: &Self::Input) -> Self {
            <#self_ty>::#ident(#arg)
        }
    }
}

/// `init` from `Default`, behind a local trait whose diagnostic names the
/// two fixes when the state type has no `Default`.
fn default_init(self_ty: &Type) -> (TokenStream, TokenStream) {
    let check = quote! {
        #[allow(non_camel_case_types)]
        #[diagnostic::on_unimplemented(
            message = "the workflow `{Self}` has no #[init] fn and does not implement `Default`",
            label = "add #[derive(Default)] or an #[init] fn",
            note = "without an #[init] fn, the workflow's state starts as `Default::default()`"
        )]
        trait __weft_DefaultState: ::core::marker::Sized {
            fn __weft_default() -> Self;
        }

        impl<T: ::core::default::Default> __weft_DefaultState for T {
            fn __weft_default() -> Self {
                ::core::default::Default::default()
            }
        }
    };
    let state =
        quote_spanned!(self_ty.span()=> <#self_ty as __weft_DefaultState>::__weft_default());
    let init = quote! {
        fn init(_: &Self::Input) -> Self {
            #state
        }
    };
    (check, init)
}
