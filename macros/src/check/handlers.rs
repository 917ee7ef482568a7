//! The shapes of a workflow's handlers (`#[signal]`, `#[query]`,
//! `#[update]`, `#[validator(..)]`) and the rules across them: names are
//! unique per kind, and each validator names one `#[update]` fn of the same
//! impl block, which has at most one validator.

use std::collections::HashMap;

use syn::{FnArg, Ident, LitStr, Receiver, ReceiverKind, ReturnType, Signature, Type};

use crate::ast::{self, Handlers, Marked, QueryFn, SignalFn, UpdateFn, ValidatorFn, WorkflowImpl};
use crate::attr::Marker;
use crate::ctxt::Errors;
use crate::symbol::{DYNAMIC_CALL, HANDLE_METHODS, RESULT, WORKFLOW_CONTEXT, WORKFLOW_RESULT};

const SIGNAL_SHAPE: &str = "`#[signal] fn h(&mut self, input: T)` or \
     `#[signal] async fn h(ctx: WorkflowContext<Self>, input: T)` (the input is optional)";
const QUERY_SHAPE: &str = "`#[query] fn q(&self, input: T) -> R` (the input is optional)";
const UPDATE_SHAPE: &str = "`#[update] fn u(&mut self, input: T) -> Result<R, E>` or \
     `#[update] async fn u(ctx: WorkflowContext<Self>, input: T) -> Result<R, E>`, \
     with E: Into<weft::Failure> (the input is optional)";
const VALIDATOR_SHAPE: &str =
    "`#[validator(update_fn)] fn v(&self, input: &T) -> Result<(), E>` (the input as the update's)";

/// The workflow's handlers that checked out. Errors are recorded for the
/// others; the caller expands only when there are none.
pub fn handlers(model: &WorkflowImpl, errors: &mut Errors) -> Handlers {
    let mut handlers = Handlers::default();
    let mut validators = Vec::new();
    for marked in &model.marked {
        match marked.marker {
            Marker::Run | Marker::Init => {}
            Marker::Signal => handlers.signals.extend(signal_fn(marked, errors)),
            Marker::Query => handlers.queries.extend(query_fn(marked, errors)),
            Marker::Update => handlers.updates.extend(update_fn(marked, errors)),
            Marker::Validator => validators.extend(validator_fn(marked, errors)),
        }
    }
    for kind in [Marker::Signal, Marker::Query, Marker::Update] {
        unique_names(model, kind, errors);
    }
    stubs_not_shadowed(model, errors);
    validated_updates_exist(model, errors);
    attach_validators(&mut handlers.updates, validators, errors);
    handlers
}

/// A handler's typed stub is a method named like the fn on the workflow's
/// handle; the handle's own methods (`cancel`, `result`, ..) would win.
fn stubs_not_shadowed(model: &WorkflowImpl, errors: &mut Errors) {
    for marked in &model.marked {
        let kind = match marked.marker {
            Marker::Signal => "signal",
            Marker::Query => "query",
            Marker::Update => "update",
            _ => continue,
        };
        let ident = &marked.sig.ident;
        let name = ident.to_string();
        // A dynamic handler has no stub.
        if !marked.args.dynamic && HANDLE_METHODS.contains(&name.as_str()) {
            errors.spanned(
                ident,
                format!(
                    "`{name}` is a method of weft's workflow handles themselves, so the typed \
                     stub `handle.{name}(..)` for this {kind} would never be called; rename the fn \
                     and keep the {kind}'s name with `#[{kind}(name = \"{name}\")] fn {name}_{kind}(..)`"
                ),
            );
        }
    }
}

fn signal_fn(marked: &Marked, errors: &mut Errors) -> Option<SignalFn> {
    let sig = &marked.sig;
    let before = errors.count();
    ast::fn_header(sig, "a #[signal] fn", errors);
    let is_async = sig.asyncness.is_some();
    let input = if is_async {
        async_params(sig, "#[signal]", SIGNAL_SHAPE, errors)
    } else {
        sync_params(sig, true, "#[signal]", SIGNAL_SHAPE, errors)
    };
    match &sig.output {
        ReturnType::Type(_, ty) if !is_unit(ty) => errors.spanned(
            ty,
            "a #[signal] fn returns nothing: a signal has no result to send back; \
             to answer the caller, make it an #[update] returning Result<R, E>",
        ),
        _ => {}
    }
    if errors.count() != before {
        return None;
    }
    let input = dynamic_input(marked, input?, "#[signal]", errors)?;
    Some(SignalFn {
        ident: sig.ident.clone(),
        name: handler_name(marked),
        dynamic: marked.args.dynamic,
        is_async,
        input,
    })
}

fn query_fn(marked: &Marked, errors: &mut Errors) -> Option<QueryFn> {
    let sig = &marked.sig;
    let before = errors.count();
    ast::fn_header(sig, "a #[query] fn", errors);
    if let Some(token) = &sig.asyncness {
        errors.spanned(
            token,
            format!(
                "a #[query] fn cannot be async: it answers from the state at once, \
                 without waiting: {QUERY_SHAPE}"
            ),
        );
    }
    let input = sync_params(sig, false, "#[query]", QUERY_SHAPE, errors);
    let output = match &sig.output {
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => {
            errors.spanned(
                &sig.ident,
                format!("a #[query] fn returns its answer: {QUERY_SHAPE}"),
            );
            None
        }
    };
    if errors.count() != before {
        return None;
    }
    let input = dynamic_input(marked, input?, "#[query]", errors)?;
    Some(QueryFn {
        ident: sig.ident.clone(),
        name: handler_name(marked),
        dynamic: marked.args.dynamic,
        input,
        output: output?,
    })
}

fn update_fn(marked: &Marked, errors: &mut Errors) -> Option<UpdateFn> {
    let sig = &marked.sig;
    let before = errors.count();
    ast::fn_header(sig, "an #[update] fn", errors);
    let is_async = sig.asyncness.is_some();
    let input = if is_async {
        async_params(sig, "#[update]", UPDATE_SHAPE, errors)
    } else {
        sync_params(sig, true, "#[update]", UPDATE_SHAPE, errors)
    };
    let message = format!("an #[update] fn returns Result<R, E>: {UPDATE_SHAPE}");
    let result = result_types(sig, &message, errors);
    if errors.count() != before {
        return None;
    }
    let (ok, err) = result?;
    let input = dynamic_input(marked, input?, "#[update]", errors)?;
    Some(UpdateFn {
        ident: sig.ident.clone(),
        name: handler_name(marked),
        dynamic: marked.args.dynamic,
        is_async,
        input,
        ok,
        err,
        validator: None,
    })
}

fn validator_fn(marked: &Marked, errors: &mut Errors) -> Option<ValidatorFn> {
    let sig = &marked.sig;
    let before = errors.count();
    ast::fn_header(sig, "a #[validator] fn", errors);
    if let Some(token) = &sig.asyncness {
        errors.spanned(
            token,
            format!(
                "a #[validator] fn cannot be async: it accepts or rejects the update at once, \
                 from the state: {VALIDATOR_SHAPE}"
            ),
        );
    }
    let param = validator_param(sig, errors);
    let message = format!("a #[validator] fn returns Result<(), E>: {VALIDATOR_SHAPE}");
    let result = result_types(sig, &message, errors);
    if let Some((ok, _)) = &result
        && !is_unit(ok)
    {
        errors.spanned(
            ok,
            format!(
                "a #[validator] fn only accepts (`Ok(())`) or rejects (`Err(e)`) the update; \
                 the update fn returns its result: {VALIDATOR_SHAPE}"
            ),
        );
    }
    if errors.count() != before {
        return None;
    }
    Some(ValidatorFn {
        ident: sig.ident.clone(),
        update: marked.args.update.clone()?,
        param: param?,
        err: result?.1,
    })
}

/// A dynamic handler's input is the `DynamicCall` (name and arguments);
/// others' input is left as it is.
fn dynamic_input(
    marked: &Marked,
    input: Option<Type>,
    what: &str,
    errors: &mut Errors,
) -> Option<Option<Type>> {
    if !marked.args.dynamic {
        return Some(input);
    }
    if let Some(ty) = &input
        && ast::last_segment_is(ty, DYNAMIC_CALL)
    {
        return Some(input);
    }
    let message = format!(
        "a dynamic {what} fn takes the call, with the name the caller used and its \
         arguments: `call: weft::workflow::DynamicCall` as its input"
    );
    match &input {
        Some(ty) => errors.spanned(ty, message),
        None => errors.spanned(&marked.sig.ident, message),
    }
    None
}

/// The validator's optional `&T` parameter, after checking its `&self`.
fn validator_param(sig: &Signature, errors: &mut Errors) -> Option<Option<Type>> {
    let params = receiver_and_params(sig, false, "#[validator]", VALIDATOR_SHAPE, errors)?;
    match params.as_slice() {
        [] => Some(None),
        [Type::Reference(reference)] if reference.mutability.is_none() => {
            Some(Some(Type::Reference(reference.clone())))
        }
        [ty] => {
            errors.spanned(
                ty,
                format!(
                    "a #[validator] fn borrows the update's input: take `&T`: {VALIDATOR_SHAPE}"
                ),
            );
            None
        }
        [_, extra, ..] => {
            errors.spanned(extra, too_many("#[validator]"));
            None
        }
    }
}

/// The optional input of `fn h(&self, ..)` / `fn h(&mut self, ..)`.
fn sync_params(
    sig: &Signature,
    mutable: bool,
    what: &str,
    shape: &str,
    errors: &mut Errors,
) -> Option<Option<Type>> {
    let params = receiver_and_params(sig, mutable, what, shape, errors)?;
    input_param(&params, what, errors)
}

/// The optional input of `async fn h(ctx: WorkflowContext<Self>, ..)`.
fn async_params(
    sig: &Signature,
    what: &str,
    shape: &str,
    errors: &mut Errors,
) -> Option<Option<Type>> {
    if let Some(receiver) = sig.receiver() {
        errors.spanned(
            receiver,
            format!(
                "an async {what} fn takes no `self`: it reaches the state through \
                 `ctx.state(..)` and `ctx.state_mut(..)`: {shape}"
            ),
        );
        return None;
    }
    let params = typed_params(sig);
    let Some((ctx, rest)) = params.split_first() else {
        errors.spanned(
            &sig.ident,
            format!("an async {what} fn takes the WorkflowContext<Self> first: {shape}"),
        );
        return None;
    };
    if !ast::last_segment_is(ctx, WORKFLOW_CONTEXT) {
        errors.spanned(
            ctx,
            format!("an async {what} fn takes the WorkflowContext<Self> first: {shape}"),
        );
        return None;
    }
    input_param(rest, what, errors)
}

/// The parameter types after checking the receiver: `&mut self` when
/// `mutable`, `&self` otherwise.
fn receiver_and_params(
    sig: &Signature,
    mutable: bool,
    what: &str,
    shape: &str,
    errors: &mut Errors,
) -> Option<Vec<Type>> {
    let wanted = if mutable { "&mut self" } else { "&self" };
    // Signals and updates may also be async; queries and validators never are.
    let a = if mutable { "a sync" } else { article(what) };
    match sig.receiver().map(receiver_mutability) {
        Some(Some(found)) if found == mutable => Some(typed_params(sig)),
        Some(Some(_)) if mutable => {
            errors.spanned(
                sig.receiver(),
                format!("a sync {what} fn changes the state: take `&mut self`: {shape}"),
            );
            None
        }
        Some(Some(_)) => {
            let kind = if what == "#[query]" {
                "queries"
            } else {
                "validators"
            };
            errors.spanned(
                sig.receiver(),
                format!("{kind} cannot change state; take &self: {shape}"),
            );
            None
        }
        Some(None) => {
            errors.spanned(
                sig.receiver(),
                format!("{a} {what} fn borrows the state: take `{wanted}`: {shape}"),
            );
            None
        }
        None => {
            errors.spanned(
                &sig.ident,
                format!("{a} {what} fn takes `{wanted}`: {shape}"),
            );
            None
        }
    }
}

/// `Some(is_mut)` for `&self` / `&mut self` (or `self: &Self` / `self: &mut Self`).
fn receiver_mutability(receiver: &Receiver) -> Option<bool> {
    match &receiver.kind {
        ReceiverKind::Reference(_, _, mutability) => Some(mutability.is_some()),
        ReceiverKind::Typed(_, ty) => match &**ty {
            Type::Reference(reference) if is_self(&reference.elem) => {
                Some(reference.mutability.is_some())
            }
            _ => None,
        },
        _ => None,
    }
}

fn is_self(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self"))
}

/// At most one input, owned and concrete.
fn input_param(params: &[Type], what: &str, errors: &mut Errors) -> Option<Option<Type>> {
    match params {
        [] => Some(None),
        [input] => match input {
            Type::Reference(_) => {
                errors.spanned(
                    input,
                    format!(
                        "{} {what} fn's input is decoded from a payload, so it is an owned value \
                         (e.g. String instead of &str)",
                        article(what)
                    ),
                );
                None
            }
            Type::ImplTrait(_) => {
                errors.spanned(
                    input,
                    format!(
                        "{} {what} fn's input needs a concrete type, not `impl Trait`: \
                         it is decoded from a payload",
                        article(what)
                    ),
                );
                None
            }
            _ => Some(Some(input.clone())),
        },
        [_, extra, ..] => {
            errors.spanned(extra, too_many(what));
            None
        }
    }
}

fn too_many(what: &str) -> String {
    let a = article(what);
    format!("{a} {what} fn takes at most one input; put several values in a struct or a tuple")
}

/// "an #[update]", "a #[signal]".
fn article(what: &str) -> &'static str {
    if what == "#[update]" { "an" } else { "a" }
}

fn typed_params(sig: &Signature) -> Vec<Type> {
    sig.inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some((*typed.ty).clone()),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// `(R, E)` from `Result<R, E>`, or `(R, Failure)` from `WorkflowResult<R>`.
fn result_types(sig: &Signature, message: &str, errors: &mut Errors) -> Option<(Type, Type)> {
    let ReturnType::Type(_, ty) = &sig.output else {
        errors.spanned(&sig.ident, message);
        return None;
    };
    if let Some([ok, err]) = ast::generic_args(ty, RESULT).as_deref() {
        return Some((ok.clone(), err.clone()));
    }
    if let Some([ok]) = ast::generic_args(ty, WORKFLOW_RESULT).as_deref() {
        return Some((ok.clone(), syn::parse_quote!(::weft::__private::Failure)));
    }
    errors.spanned(ty, message);
    None
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

/// The name given with `name = ".."`, or the fn's own.
fn handler_name(marked: &Marked) -> LitStr {
    marked
        .args
        .name
        .clone()
        .unwrap_or_else(|| ast::type_name(&marked.sig.ident))
}

/// Handler names are unique per kind; checked on every marked fn, also
/// those whose shape failed.
fn unique_names(model: &WorkflowImpl, kind: Marker, errors: &mut Errors) {
    let mut seen = HashMap::new();
    let mut dynamic = None;
    for marked in model.marked.iter().filter(|m| m.marker == kind) {
        if marked.args.dynamic {
            if let Some(first) = dynamic.replace(&marked.sig.ident) {
                let kind = kind.symbol();
                errors.spanned(
                    &marked.sig.ident,
                    format!(
                        "`{first}` is already this workflow's dynamic #[{kind}]; \
                         a workflow has at most one per kind"
                    ),
                );
            }
            continue;
        }
        let name = handler_name(marked);
        let value = name.value();
        if seen.insert(value.clone(), ()).is_some() {
            let kind = kind.symbol();
            errors.spanned(
                &name,
                format!(
                    "two #[{kind}] fns of this workflow are named {value:?}; \
                     give one another name with #[{kind}(name = \"..\")]"
                ),
            );
        }
    }
}

/// Each `#[validator(..)]` names an `#[update]` fn of this impl block
/// (whether or not either's shape checked out).
fn validated_updates_exist(model: &WorkflowImpl, errors: &mut Errors) {
    let update_fns: Vec<&Ident> = model
        .marked
        .iter()
        .filter(|m| m.marker == Marker::Update)
        .map(|m| &m.sig.ident)
        .collect();
    let targets = model
        .marked
        .iter()
        .filter(|m| m.marker == Marker::Validator)
        .filter_map(|m| m.args.update.as_ref());
    for target in targets {
        if !update_fns.contains(&target) {
            errors.spanned(target, missing_update(target, &update_fns));
        }
    }
}

/// Gives each checked update its checked validator: an update has at most
/// one, taking an input exactly when the update does.
fn attach_validators(updates: &mut [UpdateFn], validators: Vec<ValidatorFn>, errors: &mut Errors) {
    for validator in validators {
        // A missing update was reported; one whose shape failed, too.
        let Some(update) = updates.iter_mut().find(|u| u.ident == validator.update) else {
            continue;
        };
        if let Some(first) = &update.validator {
            errors.spanned(
                &validator.update,
                format!(
                    "`{}` already has a validator, `{}`; an update has at most one: \
                     merge the checks into one fn",
                    update.ident, first.ident
                ),
            );
            continue;
        }
        if inputs_match(update, &validator, errors) {
            update.validator = Some(validator);
        }
    }
}

fn missing_update(name: &Ident, update_fns: &[&Ident]) -> String {
    if update_fns.is_empty() {
        return format!(
            "#[validator({name})] names no #[update] fn: this impl block has none; \
             a validator checks an #[update] fn of the same impl block"
        );
    }
    let list: Vec<String> = update_fns.iter().map(|u| format!("`{u}`")).collect();
    format!(
        "#[validator({name})] names no #[update] fn of this impl block; the #[update] fns are {}",
        list.join(", ")
    )
}

fn inputs_match(update: &UpdateFn, validator: &ValidatorFn, errors: &mut Errors) -> bool {
    match (&update.input, &validator.param) {
        (Some(_), Some(_)) | (None, None) => true,
        (Some(input), None) => {
            errors.spanned(
                &validator.ident,
                format!(
                    "`{}` takes an input, so its validator `{}` borrows it: add a parameter `input: &{}`",
                    update.ident,
                    validator.ident,
                    quote::ToTokens::to_token_stream(input)
                ),
            );
            false
        }
        (None, Some(param)) => {
            errors.spanned(
                param,
                format!(
                    "`{}` takes no input, so its validator `{}` takes none either",
                    update.ident, validator.ident
                ),
            );
            false
        }
    }
}
