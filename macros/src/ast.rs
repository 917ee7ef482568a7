//! The typed model the expansion works from, built from syn items. Rules
//! about one signature live here; rules across methods live in `check`.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ItemFn, ItemImpl, LitStr, Pat,
    PathArguments, ReceiverKind, ReturnType, Safety, Signature, Type,
};

use crate::attr::activity::{ActivityArgs, Defaults};
use crate::attr::{self, Marker, MarkerArgs};
use crate::ctxt::Errors;
use crate::symbol::{ACTIVITY, ACTIVITY_CONTEXT, RESULT, Symbol};

/// The message for an activity that does not return `Result<T, E>`.
pub const RESULT_MESSAGE: &str =
    "an activity returns Result<T, E> where E: Into<weft::Failure> (e.g. ApplicationError)";

/// An activity's signature, checked.
pub struct ActivitySig {
    /// The fn's name as the user wrote it.
    pub ident: Ident,
    /// `async fn` (run on the runtime) or not (run on the blocking pool).
    pub is_async: bool,
    /// The `ActivityContext` parameter's type, when the fn takes one first.
    pub ctx: Option<Type>,
    /// The other parameters' types, in order: the activity's input.
    pub args: Vec<Type>,
    /// The full return type, `Result<T, E>`.
    pub ret: Type,
    /// `T`, the activity's output.
    pub ok: Type,
    /// `E`, for errors about its conversion into a `Failure`.
    pub err: Type,
}

/// `#[activity]` on a free fn.
pub struct ActivityFn {
    /// The fn as written.
    pub item: ItemFn,
    /// The activity type name.
    pub name: LitStr,
    /// The options its declaration gives.
    pub defaults: Defaults,
    /// Its checked signature.
    pub sig: ActivitySig,
}

/// A `&self` method of an `#[activity]` impl block.
pub struct ActivityMethod {
    /// Index of the method in the impl block's items.
    pub index: usize,
    /// The activity type name.
    pub name: LitStr,
    /// The options its declaration (or the impl block's) gives.
    pub defaults: Defaults,
    /// Its checked signature (without the receiver).
    pub sig: ActivitySig,
}

/// `#[activity]` on an inherent impl block.
pub struct ActivityImpl {
    /// The impl block, `#[activity]` markers on methods removed.
    pub item: ItemImpl,
    /// The activity methods.
    pub methods: Vec<ActivityMethod>,
}

/// A method of a `#[workflow]` impl block carrying a marker.
pub struct Marked {
    /// Which marker.
    pub marker: Marker,
    /// The marker attribute, for spans.
    pub attr: Attribute,
    /// The marker's arguments.
    pub args: MarkerArgs,
    /// The method's signature.
    pub sig: Signature,
}

/// `#[workflow]` on the state struct's inherent impl block.
pub struct WorkflowImpl {
    /// The impl block, markers removed.
    pub item: ItemImpl,
    /// The workflow type name.
    pub name: LitStr,
    /// The marked methods, in order.
    pub marked: Vec<Marked>,
}

/// The checked `#[run]` fn.
pub struct RunFn {
    /// Its name.
    pub ident: Ident,
    /// `I`, the type of its second parameter.
    pub input: Type,
    /// `O`, from its return type.
    pub output: Type,
    /// True for `Result<O, E>` (the error is converted into a `Failure`),
    /// false for `WorkflowResult<O>`.
    pub converts_error: bool,
}

/// The checked `#[init]` fn.
pub struct InitFn {
    /// Its name.
    pub ident: Ident,
    /// The type of its parameter, for spans.
    pub param: Type,
}

/// A checked `#[signal]` fn.
pub struct SignalFn {
    /// The fn's name.
    pub ident: Ident,
    /// The handler name senders use.
    pub name: LitStr,
    /// `#[..(dynamic)]`: takes every name with no handler of its own;
    /// its input is a `DynamicCall`.
    pub dynamic: bool,
    /// `async fn h(ctx, ..)` (a task of the workflow) or `fn h(&mut self, ..)`.
    pub is_async: bool,
    /// The input's type, when it takes one.
    pub input: Option<Type>,
}

/// A checked `#[query]` fn: `fn q(&self, ..) -> R`.
pub struct QueryFn {
    /// The fn's name.
    pub ident: Ident,
    /// The handler name callers use.
    pub name: LitStr,
    /// `#[..(dynamic)]`: takes every name with no handler of its own;
    /// its input is a `DynamicCall`.
    pub dynamic: bool,
    /// The input's type, when it takes one.
    pub input: Option<Type>,
    /// `R`, the answer.
    pub output: Type,
}

/// A checked `#[update]` fn, with its validator.
pub struct UpdateFn {
    /// The fn's name.
    pub ident: Ident,
    /// The handler name callers use.
    pub name: LitStr,
    /// `#[..(dynamic)]`: takes every name with no handler of its own;
    /// its input is a `DynamicCall`.
    pub dynamic: bool,
    /// `async fn u(ctx, ..)` (a task of the workflow) or `fn u(&mut self, ..)`.
    pub is_async: bool,
    /// The input's type, when it takes one.
    pub input: Option<Type>,
    /// `R`, the result.
    pub ok: Type,
    /// `E`, for errors about its conversion into a `Failure`.
    pub err: Type,
    /// The `#[validator(..)]` naming this fn, if any.
    pub validator: Option<ValidatorFn>,
}

/// A checked `#[validator(update_fn)]` fn: `fn v(&self, ..) -> Result<(), E>`.
pub struct ValidatorFn {
    /// The fn's name.
    pub ident: Ident,
    /// The update fn it names.
    pub update: Ident,
    /// The `&T` parameter's type, when it takes the input.
    pub param: Option<Type>,
    /// `E`, for errors about its conversion into a `Failure`.
    pub err: Type,
}

/// The checked handlers of a workflow.
#[derive(Default)]
pub struct Handlers {
    /// `#[signal]` fns.
    pub signals: Vec<SignalFn>,
    /// `#[query]` fns.
    pub queries: Vec<QueryFn>,
    /// `#[update]` fns, with their validators.
    pub updates: Vec<UpdateFn>,
}

impl ActivityFn {
    /// Checks a free fn; `None` when an error was recorded.
    pub fn parse(item: ItemFn, args: ActivityArgs, errors: &mut Errors) -> Option<Self> {
        let sig = ActivitySig::parse(&item.sig, false, errors)?;
        let name = args.name.unwrap_or_else(|| type_name(&item.sig.ident));
        Some(ActivityFn {
            item,
            name,
            defaults: args.defaults,
            sig,
        })
    }
}

impl ActivityImpl {
    /// Strips `#[activity]` markers from the methods and checks every
    /// `&self` method. The model is built even when errors were recorded
    /// (holding the methods that checked out); the caller expands only when
    /// there are none.
    pub fn parse(mut item: ItemImpl, outer: &Defaults, errors: &mut Errors) -> Self {
        impl_header(&item, ACTIVITY, errors);
        let mut methods = Vec::new();
        for (index, impl_item) in item.items.iter_mut().enumerate() {
            let markers = take_attrs(impl_item, attr::is_activity);
            let ImplItem::Fn(func) = impl_item else {
                for marker in &markers {
                    errors.spanned(
                        marker,
                        "#[activity] goes on a method of an #[activity] impl block",
                    );
                }
                continue;
            };
            if let Some(method) = ActivityMethod::parse(index, func, &markers, outer, errors) {
                methods.push(method);
            }
        }
        ActivityImpl { item, methods }
    }
}

impl ActivityMethod {
    fn parse(
        index: usize,
        func: &ImplItemFn,
        markers: &[Attribute],
        outer: &Defaults,
        errors: &mut Errors,
    ) -> Option<Self> {
        let mut args = ActivityArgs::default();
        for (i, marker) in markers.iter().enumerate() {
            if i > 0 {
                errors.spanned(marker, "duplicate #[activity] on this method");
            } else {
                args = attr::activity::attr(marker, errors);
            }
        }
        if !is_ref_self(&func.sig) {
            if let Some(marker) = markers.first() {
                errors.spanned(
                    marker,
                    "#[activity] on a method needs a `&self` receiver; \
                     methods without one are left as they are",
                );
            }
            return None;
        }
        if func.sig.asyncness.is_none() {
            errors.spanned(
                func.sig.fn_token,
                "a method activity must be `async`; move helper methods to a separate \
                 impl block, or make a blocking activity a free fn with #[activity]",
            );
        }
        let sig = ActivitySig::parse(&func.sig, true, errors)?;
        let name = args.name.unwrap_or_else(|| type_name(&func.sig.ident));
        Some(ActivityMethod {
            index,
            name,
            defaults: args.defaults.or(outer),
            sig,
        })
    }
}

impl ActivitySig {
    /// Checks an activity signature; for a method, the first input is the
    /// `&self` receiver. `None` when an error was recorded.
    pub fn parse(sig: &Signature, method: bool, errors: &mut Errors) -> Option<Self> {
        let before = errors.count();
        fn_header(sig, "an #[activity] fn", errors);
        value_name_free(&sig.ident, errors);
        let mut ctx = None;
        let mut args = Vec::new();
        for (position, input) in sig.inputs.iter().enumerate() {
            match input {
                FnArg::Receiver(receiver) if !method => errors.spanned(
                    receiver,
                    "#[activity] on a method: put #[activity] on the impl block instead",
                ),
                FnArg::Receiver(_) => {}
                FnArg::Typed(typed) => {
                    let first = position == usize::from(method);
                    if first && last_segment_is(&typed.ty, ACTIVITY_CONTEXT) {
                        ctx = Some((*typed.ty).clone());
                    } else if activity_arg(&typed.pat, &typed.ty, errors) {
                        args.push((*typed.ty).clone());
                    }
                }
            }
        }
        let ret = activity_return(sig, errors);
        if errors.count() != before {
            return None;
        }
        let (ret, ok, err) = ret?;
        Some(ActivitySig {
            ident: sig.ident.clone(),
            is_async: sig.asyncness.is_some(),
            ctx,
            args,
            ret,
            ok,
            err,
        })
    }
}

impl WorkflowImpl {
    /// Strips the markers and records the marked methods. The model is
    /// built even when errors were recorded, so `check` reports its errors
    /// too; the caller expands only when there are none.
    pub fn parse(mut item: ItemImpl, name: Option<LitStr>, errors: &mut Errors) -> Self {
        impl_header(&item, crate::symbol::WORKFLOW, errors);
        let default_name = self_type_name(&item.self_ty, errors);
        let mut marked = Vec::new();
        for impl_item in &mut item.items {
            let markers = take_attrs(impl_item, |a| attr::marker(a).is_some());
            let mut first: Option<Marker> = None;
            for marker_attr in markers {
                let Some(marker) = attr::marker(&marker_attr) else {
                    continue;
                };
                let args = attr::marker_args(&marker_attr, marker, errors);
                match (&*impl_item, first) {
                    (ImplItem::Fn(_), Some(first)) => {
                        let first = first.symbol();
                        errors.spanned(
                            &marker_attr,
                            format!(
                                "#[{}] on a method already marked #[{first}]: \
                                 a method carries one weft marker",
                                marker.symbol()
                            ),
                        );
                    }
                    (ImplItem::Fn(func), None) => {
                        first = Some(marker);
                        marked.push(Marked {
                            marker,
                            attr: marker_attr,
                            args,
                            sig: func.sig.clone(),
                        });
                    }
                    (_, _) => errors.spanned(
                        &marker_attr,
                        format!(
                            "#[{}] goes on a method of the #[workflow] impl block",
                            marker.symbol()
                        ),
                    ),
                }
            }
        }
        let name = name
            .or(default_name)
            .unwrap_or_else(|| LitStr::new("", Span::call_site()));
        WorkflowImpl { item, name, marked }
    }
}

/// Rejects `const`, `unsafe`, `extern`, generic and variadic fns.
pub fn fn_header(sig: &Signature, what: &str, errors: &mut Errors) {
    if let Some(token) = &sig.constness {
        errors.spanned(token, format!("{what} cannot be `const`"));
    }
    if let Safety::Unsafe(token) = &sig.safety {
        errors.spanned(token, format!("{what} cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, format!("{what} cannot be `extern`"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanned(
            &sig.generics,
            format!(
                "{what} cannot be generic: it is registered and called by name, \
                 with concrete input and output types"
            ),
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, format!("{what} cannot be variadic"));
    }
}

/// An activity's value is named after its fn in capitals; a fn already
/// named so would clash with it.
fn value_name_free(ident: &Ident, errors: &mut Errors) {
    let name = ident.unraw().to_string();
    if name == name.to_uppercase() {
        errors.spanned(
            ident,
            format!(
                "#[activity] defines the constant `{name}` (the fn's name in capitals) as the \
                 activity's value, so the fn cannot have that name too: name it in snake_case"
            ),
        );
    }
}

/// Rejects trait impls and generic impl blocks.
fn impl_header(item: &ItemImpl, attr: Symbol, errors: &mut Errors) {
    if let Some((path, _)) = &item.trait_ {
        errors.spanned(
            path,
            format!("#[{attr}] goes on an inherent impl block (`impl MyType {{ .. }}`), not a trait impl"),
        );
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.spanned(
            &item.generics,
            format!("#[{attr}] impl blocks cannot be generic: the type is registered by name"),
        );
    }
    if let Some(token) = &item.unsafety {
        errors.spanned(token, format!("#[{attr}] impl blocks cannot be `unsafe`"));
    }
}

/// Checks one activity argument; true when it is usable.
fn activity_arg(pat: &Pat, ty: &Type, errors: &mut Errors) -> bool {
    let before = errors.count();
    match pat {
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {}
        _ => errors.spanned(
            pat,
            "activity arguments are plain names (`amount: u32`); destructure inside the body",
        ),
    }
    match ty {
        Type::Reference(_) => errors.spanned(
            ty,
            "activity arguments are decoded from payloads, so they are owned values: \
             use an owned type (e.g. String instead of &str)",
        ),
        Type::ImplTrait(_) => errors.spanned(
            ty,
            "activity arguments need a concrete type, not `impl Trait`: \
             the worker decodes them from payloads",
        ),
        _ if last_segment_is(ty, ACTIVITY_CONTEXT) => {
            errors.spanned(ty, "ActivityContext must be the activity's first parameter")
        }
        _ => {}
    }
    errors.count() == before
}

/// `(Result<T, E>, T, E)` from an activity's return type.
fn activity_return(sig: &Signature, errors: &mut Errors) -> Option<(Type, Type, Type)> {
    let ty = match &sig.output {
        ReturnType::Type(_, ty) => &**ty,
        ReturnType::Default => {
            errors.spanned(&sig.ident, RESULT_MESSAGE);
            return None;
        }
    };
    match generic_args(ty, RESULT).as_deref() {
        Some([ok, err]) => Some((ty.clone(), ok.clone(), err.clone())),
        _ => {
            errors.spanned(ty, RESULT_MESSAGE);
            None
        }
    }
}

/// The type arguments of a path type whose last segment is `name`.
pub fn generic_args(ty: &Type, name: Symbol) -> Option<Vec<Type>> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args
        .iter()
        .map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty.clone()),
            _ => None,
        })
        .collect()
}

/// Whether a type is a path whose last segment is `name`.
pub fn last_segment_is(ty: &Type, name: Symbol) -> bool {
    match ty {
        Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == name),
        _ => false,
    }
}

/// Whether a method's receiver is exactly `&self`.
pub fn is_ref_self(sig: &Signature) -> bool {
    sig.receiver().is_some_and(|r| {
        r.mutability.is_none() && matches!(r.kind, ReceiverKind::Reference(_, _, None))
    })
}

/// Removes the attributes an impl item carries that match `pred`.
fn take_attrs(item: &mut ImplItem, pred: impl Fn(&Attribute) -> bool) -> Vec<Attribute> {
    let attrs = match item {
        ImplItem::Fn(f) => &mut f.attrs,
        ImplItem::Const(c) => &mut c.attrs,
        ImplItem::Type(t) => &mut t.attrs,
        ImplItem::Macro(m) => &mut m.attrs,
        _ => return Vec::new(),
    };
    let (taken, kept) = std::mem::take(attrs).into_iter().partition(|a| pred(a));
    *attrs = kept;
    taken
}

/// The default type name: the fn's own name.
pub fn type_name(ident: &Ident) -> LitStr {
    LitStr::new(&ident.unraw().to_string(), ident.span())
}

/// The default workflow type name: the impl's self type's last segment.
fn self_type_name(ty: &Type, errors: &mut Errors) -> Option<LitStr> {
    if let Type::Path(path) = ty
        && path.qself.is_none()
        && let Some(last) = path.path.segments.last()
    {
        return Some(type_name(&last.ident));
    }
    errors.spanned(ty, "#[workflow] goes on the impl block of a named struct");
    None
}
