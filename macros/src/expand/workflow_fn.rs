//! `#[workflow]` on an async fn: a stateless workflow. The fn is kept (its
//! body checked like a run fn's), its context parameter names the type the
//! macro defines for it, and that type implements `Workflow` by calling it.
//!
//! ```text
//! #[workflow]
//! pub async fn say_hello(ctx: WorkflowContext, name: String) -> WorkflowResult<String> { .. }
//! // becomes
//! pub async fn say_hello(ctx: WorkflowContext<SayHello>, name: String) -> WorkflowResult<String> { .. }
//! pub struct SayHello;
//! impl Workflow for SayHello { NAME = "SayHello", run calls say_hello }
//! ```
//!
//! `WorkflowContext<OrderFlow>` in the signature names the type instead.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::{FnArg, GenericArgument, Ident, ItemFn, LitStr, PathArguments, Type, parse_quote};

use super::{deterministic, finish, payload_check};
use crate::ast::RunFn;
use crate::check;
use crate::ctxt::Errors;
use crate::symbol::WORKFLOW_CONTEXT;

/// `#[workflow]` on a fn.
pub fn free_fn(mut item: ItemFn, name: Option<LitStr>, mut errors: Errors) -> TokenStream {
    let run = check::run_fn(&item.sig, check::WORKFLOW_FN, &mut errors);
    let state = state_type(&mut item, &mut errors);
    deterministic::workflow_fn(&mut item, &mut errors);
    match (run, state) {
        (Some(run), Some(state)) if errors.is_empty() => {
            let expanded = expand(&item, &run, &state, name);
            finish(errors, expanded)
        }
        // The type is still defined, so code naming it reports nothing more.
        (_, Some(state)) => {
            let vis = &item.vis;
            finish(errors, quote!(#item #vis struct #state;))
        }
        _ => finish(errors, item),
    }
}

/// The type the workflow's context names, `WorkflowContext<T>`, or the fn's
/// name in CamelCase for a bare `WorkflowContext`, which is rewritten to
/// name it.
fn state_type(item: &mut ItemFn, errors: &mut Errors) -> Option<Ident> {
    let default = camel_case(&item.sig.ident);
    let Some(FnArg::Typed(ctx)) = item.sig.inputs.first_mut() else {
        return None;
    };
    let Type::Path(path) = &mut *ctx.ty else {
        return None;
    };
    let last = path.path.segments.last_mut()?;
    if last.ident != WORKFLOW_CONTEXT {
        return None;
    }
    match &last.arguments {
        PathArguments::None => {
            let ident = default?;
            last.arguments = PathArguments::AngleBracketed(parse_quote!(<#ident>));
            Some(ident)
        }
        PathArguments::AngleBracketed(args) => match args.args.first() {
            Some(GenericArgument::Type(Type::Path(ty)))
                if args.args.len() == 1 && ty.qself.is_none() =>
            {
                match ty.path.get_ident() {
                    Some(ident) if ident != "Self" => Some(ident.clone()),
                    _ => {
                        errors.spanned(
                            ty,
                            "a #[workflow] fn names the type it defines: write `WorkflowContext` \
                             (the type is the fn's name in CamelCase) or `WorkflowContext<Name>` \
                             with a new name; a stateful workflow is a #[workflow] struct and impl",
                        );
                        None
                    }
                }
            }
            _ => {
                errors.spanned(args, "write `WorkflowContext` or `WorkflowContext<Name>`");
                None
            }
        },
        PathArguments::Parenthesized(args) => {
            errors.spanned(args, "write `WorkflowContext` or `WorkflowContext<Name>`");
            None
        }
    }
}

/// `say_hello` to `SayHello`.
fn camel_case(ident: &Ident) -> Option<Ident> {
    let name: String = ident
        .unraw()
        .to_string()
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    (!name.is_empty()).then(|| Ident::new(&name, ident.span()))
}

fn expand(item: &ItemFn, run: &RunFn, state: &Ident, name: Option<LitStr>) -> TokenStream {
    let vis = &item.vis;
    let fn_ident = &item.sig.ident;
    let name = name.unwrap_or_else(|| LitStr::new(&state.to_string(), Span::call_site()));
    let (input, output) = (&run.input, &run.output);
    let payloads = payload_check([input, output], false);
    let call = quote!(#fn_ident(__weft_ctx, __weft_input));
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
    let doc = format!(
        " The workflow [`{fn_ident}`] runs, named `{}`: workers register it with \
         `register_workflow::<{state}>()`, clients start it by its fn, \
         `client.execute_workflow({fn_ident}, input, options)`.",
        name.value()
    );
    quote! {
        #item

        #[doc = #doc]
        #[derive(Debug, Clone, Copy, Default)]
        #vis struct #state;

        const _: () = {
            #payloads

            impl ::weft::__private::Workflow for #state {
                const NAME: &'static str = #name;
                type Input = #input;
                type Output = #output;

                fn init(_: &Self::Input) -> Self {
                    #state
                }

                fn run(
                    __weft_ctx: ::weft::__private::WorkflowContext<Self>,
                    __weft_input: Self::Input,
                ) -> ::weft::__private::LocalBoxFuture<
                    'static,
                    ::weft::__private::WorkflowResult<Self::Output>,
                > {
                    #body
                }
            }
        };
    }
}
