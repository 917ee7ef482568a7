//! Rules across the methods of one impl block: a workflow has exactly one
//! `#[run]` and at most one `#[init]`, each with the right shape; activity
//! type names in one block are distinct. The handlers' rules are in
//! `handlers`.

mod handlers;

use std::collections::HashMap;

use syn::{FnArg, ReturnType, Signature, Type};

use crate::ast::{self, ActivityMethod, InitFn, RunFn, WorkflowImpl};
use crate::attr::Marker;
use crate::ctxt::Errors;
use crate::symbol::{RESULT, WORKFLOW_CONTEXT, WORKFLOW_RESULT};

pub use handlers::handlers;

/// What a run fn is called in messages, and the shape it must have.
#[derive(Clone, Copy)]
pub struct RunShape {
    what: &'static str,
    shape: &'static str,
    context: &'static str,
}

/// The `#[run]` fn of a `#[workflow]` impl block.
const RUN: RunShape = RunShape {
    what: "the #[run] fn",
    shape: "`#[run] async fn run(ctx: WorkflowContext<Self>, input: I) -> WorkflowResult<O>`",
    context: "WorkflowContext<Self>",
};

/// A stateless workflow: `#[workflow]` on an async fn.
pub const WORKFLOW_FN: RunShape = RunShape {
    what: "a #[workflow] fn",
    shape: "`#[workflow] async fn name(ctx: WorkflowContext, input: I) -> WorkflowResult<O>`",
    context: "WorkflowContext",
};

const RUN_SHAPE: &str = RUN.shape;
const INIT_SHAPE: &str = "`#[init] fn new(input: &I) -> Self`";

/// The run fn and the optional init fn of a workflow; `None` when an error
/// was recorded.
pub fn workflow(model: &WorkflowImpl, errors: &mut Errors) -> Option<(RunFn, Option<InitFn>)> {
    let before = errors.count();
    let (mut run, mut init) = (None, None);
    let (mut runs, mut inits) = (0, 0);
    for marked in &model.marked {
        match marked.marker {
            Marker::Run => {
                runs += 1;
                if runs > 1 {
                    errors.spanned(
                        &marked.attr,
                        "duplicate #[run]: a workflow has exactly one run fn",
                    );
                }
                run = run.or(run_fn(&marked.sig, RUN, errors));
            }
            Marker::Init => {
                inits += 1;
                if inits > 1 {
                    errors.spanned(
                        &marked.attr,
                        "duplicate #[init]: a workflow has at most one init fn",
                    );
                }
                init = init.or(init_fn(&marked.sig, errors));
            }
            Marker::Signal | Marker::Query | Marker::Update | Marker::Validator => {}
        }
    }
    // A trait impl was already reported; asking it for a #[run] is noise.
    if runs == 0 && model.item.trait_.is_none() {
        errors.spanned(
            &model.item.self_ty,
            format!("this #[workflow] impl block has no #[run] fn; add one: {RUN_SHAPE}"),
        );
    }
    if errors.count() != before {
        return None;
    }
    Some((run?, init))
}

/// Activity type names within one impl block must differ.
pub fn activity_names(methods: &[ActivityMethod], errors: &mut Errors) {
    let mut seen = HashMap::new();
    for method in methods {
        let name = method.name.value();
        if seen.insert(name.clone(), ()).is_some() {
            errors.spanned(
                &method.name,
                format!("two activities in this impl block are named {name:?}; give one another `name = ..`"),
            );
        }
    }
}

/// Checks a run fn: `#[run]` in an impl block, or a `#[workflow]` fn.
pub fn run_fn(sig: &Signature, kind: RunShape, errors: &mut Errors) -> Option<RunFn> {
    let RunShape {
        what,
        shape,
        context,
    } = kind;
    let before = errors.count();
    ast::fn_header(sig, what, errors);
    if sig.asyncness.is_none() {
        errors.spanned(sig.fn_token, format!("{what} must be `async`: {shape}"));
    }
    let receiver = format!(
        "{what} takes no `self`; workflow code reaches its state \
         through `ctx.state(..)` and `ctx.state_mut(..)`"
    );
    let params = typed_params(sig, &receiver, errors);
    let input = match params.as_slice() {
        [ctx, input] => {
            if !ast::last_segment_is(ctx, WORKFLOW_CONTEXT) {
                errors.spanned(
                    ctx,
                    format!("{what}'s first parameter is the {context}: {shape}"),
                );
            }
            if let Type::Reference(_) = input {
                errors.spanned(
                    input,
                    "the workflow input is decoded from a payload, so it is an owned value \
                     (e.g. String instead of &str)",
                );
            }
            Some(input.clone())
        }
        _ => {
            let message = format!("{what} takes exactly two parameters: {shape}");
            if sig.inputs.is_empty() {
                errors.spanned(&sig.ident, message);
            } else {
                errors.spanned(&sig.inputs, message);
            }
            None
        }
    };
    let output = run_output(sig, what, errors);
    if errors.count() != before {
        return None;
    }
    let (output, converts_error) = output?;
    Some(RunFn {
        ident: sig.ident.clone(),
        input: input?,
        output,
        converts_error,
    })
}

/// `O` and whether the error needs converting, from the run fn's return type.
fn run_output(sig: &Signature, what: &str, errors: &mut Errors) -> Option<(Type, bool)> {
    let message =
        format!("{what} returns WorkflowResult<O> (or Result<O, E> where E: Into<weft::Failure>)");
    let ReturnType::Type(_, ty) = &sig.output else {
        errors.spanned(&sig.ident, message);
        return None;
    };
    if let Some([output]) = ast::generic_args(ty, WORKFLOW_RESULT).as_deref() {
        return Some((output.clone(), false));
    }
    if let Some([output, _]) = ast::generic_args(ty, RESULT).as_deref() {
        return Some((output.clone(), true));
    }
    errors.spanned(ty, message);
    None
}

fn init_fn(sig: &Signature, errors: &mut Errors) -> Option<InitFn> {
    let before = errors.count();
    ast::fn_header(sig, "the #[init] fn", errors);
    if let Some(token) = &sig.asyncness {
        errors.spanned(
            token,
            format!("the #[init] fn is not async: it builds the state before the run starts: {INIT_SHAPE}"),
        );
    }
    let params = typed_params(
        sig,
        "the #[init] fn takes no `self`: it builds `Self` from the input",
        errors,
    );
    let param = match params.as_slice() {
        [param @ Type::Reference(_)] => Some(param.clone()),
        [param] => {
            errors.spanned(
                param,
                format!("the #[init] fn borrows the run fn's input: take `&I`: {INIT_SHAPE}"),
            );
            None
        }
        _ => {
            let message = format!("the #[init] fn takes one parameter: {INIT_SHAPE}");
            if sig.inputs.is_empty() {
                errors.spanned(&sig.ident, message);
            } else {
                errors.spanned(&sig.inputs, message);
            }
            None
        }
    };
    if let ReturnType::Default = sig.output {
        errors.spanned(
            &sig.ident,
            format!("the #[init] fn returns Self: {INIT_SHAPE}"),
        );
    }
    if errors.count() != before {
        return None;
    }
    Some(InitFn {
        ident: sig.ident.clone(),
        param: param?,
    })
}

/// The parameter types, after rejecting a `self` receiver.
fn typed_params(sig: &Signature, receiver_message: &str, errors: &mut Errors) -> Vec<Type> {
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.spanned(receiver, receiver_message),
            FnArg::Typed(typed) => params.push((*typed.ty).clone()),
        }
    }
    params
}
