//! Parsing of weft's attributes: the arguments of `#[activity(..)]` and
//! `#[workflow(..)]`, and the markers of a workflow's methods (`#[run]`,
//! `#[init]`, `#[signal]`, `#[query]`, `#[update]`, `#[validator(..)]`).

pub mod activity;

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Attribute, Ident, LitStr, Meta, Path};

use crate::ctxt::Errors;
use crate::symbol::{
    ACTIVITY, DETERMINISTIC, DYNAMIC, INIT, NAME, PRELUDE, QUERY, RUN, SIGNAL, Symbol, UPDATE,
    VALIDATOR, WEFT,
};

/// A marker on a method of a `#[workflow]` impl block.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Marker {
    /// `#[run]`
    Run,
    /// `#[init]`
    Init,
    /// `#[signal]` / `#[signal(name = "..")]`
    Signal,
    /// `#[query]` / `#[query(name = "..")]`
    Query,
    /// `#[update]` / `#[update(name = "..")]`
    Update,
    /// `#[validator(update_fn)]`
    Validator,
}

impl Marker {
    const ALL: [Marker; 6] = [
        Marker::Run,
        Marker::Init,
        Marker::Signal,
        Marker::Query,
        Marker::Update,
        Marker::Validator,
    ];

    /// The marker's attribute name.
    pub fn symbol(self) -> Symbol {
        match self {
            Marker::Run => RUN,
            Marker::Init => INIT,
            Marker::Signal => SIGNAL,
            Marker::Query => QUERY,
            Marker::Update => UPDATE,
            Marker::Validator => VALIDATOR,
        }
    }
}

/// What a marker's arguments say.
#[derive(Default)]
pub struct MarkerArgs {
    /// `name = ".."` of a signal, query or update.
    pub name: Option<LitStr>,
    /// The `#[update]` fn a `#[validator(..)]` names.
    pub update: Option<Ident>,
    /// `dynamic` of a signal, query or update: the handler of every name
    /// with no handler of its own.
    pub dynamic: bool,
}

/// Parses the arguments given to `#[activity(..)]` or `#[workflow(..)]`:
/// only `name = ".."` is accepted.
pub fn name_args(attr: Symbol, args: TokenStream, errors: &mut Errors) -> Option<LitStr> {
    let mut name = None;
    let parser = syn::meta::parser(|meta| name_arg(attr, meta, &mut name, errors));
    if let Err(error) = parser.parse2(args) {
        errors.push(error);
    }
    name
}

fn name_arg(
    attr: Symbol,
    meta: ParseNestedMeta,
    slot: &mut Option<LitStr>,
    errors: &mut Errors,
) -> syn::Result<()> {
    if meta.path != NAME {
        let key = path_string(&meta.path);
        return Err(meta.error(format!(
            "unknown #[{attr}] argument `{key}`; the only argument is `name = \"..\"`"
        )));
    }
    let value: LitStr = meta.value()?.parse()?;
    if slot.is_some() {
        errors.spanned(
            &meta.path,
            format!("duplicate `name` in #[{attr}(..)]; give it once"),
        );
    } else if value.value().trim().is_empty() {
        errors.spanned(&value, format!("#[{attr}(name = ..)] must not be empty"));
    } else {
        *slot = Some(value);
    }
    Ok(())
}

/// Rejects arguments where none are accepted (`#[workflow]` on a struct).
pub fn no_args(attr: Symbol, args: TokenStream, hint: &str, errors: &mut Errors) {
    if !args.is_empty() {
        errors.spanned(args, format!("#[{attr}] takes no arguments here; {hint}"));
    }
}

/// The weft marker an attribute is, if any.
pub fn marker(attr: &Attribute) -> Option<Marker> {
    Marker::ALL
        .into_iter()
        .find(|marker| is_weft_path(attr.path(), marker.symbol()))
}

/// Parses a marker's arguments: none for `#[run]` and `#[init]`, an
/// optional `name = ".."` for handlers, the update fn for a validator.
pub fn marker_args(attr: &Attribute, marker: Marker, errors: &mut Errors) -> MarkerArgs {
    let name = marker.symbol();
    match marker {
        Marker::Run | Marker::Init => {
            if !matches!(attr.meta, Meta::Path(_)) {
                errors.spanned(
                    &attr.meta,
                    format!("#[{name}] takes no arguments; write it as `#[{name}]`"),
                );
            }
            MarkerArgs::default()
        }
        Marker::Signal | Marker::Query | Marker::Update => handler_args(name, attr, errors),
        Marker::Validator => MarkerArgs {
            update: validator_arg(attr, errors),
            ..MarkerArgs::default()
        },
    }
}

/// `#[signal]`, `#[signal(name = "..")]` or `#[signal(dynamic)]` (and the
/// same for queries and updates).
fn handler_args(attr_name: Symbol, attr: &Attribute, errors: &mut Errors) -> MarkerArgs {
    let mut args = MarkerArgs::default();
    if let Meta::Path(_) = attr.meta {
        return args;
    }
    let parsed = attr.parse_nested_meta(|meta| {
        if meta.path == DYNAMIC {
            args.dynamic = true;
            return Ok(());
        }
        if meta.path != NAME {
            let key = path_string(&meta.path);
            return Err(meta.error(format!(
                "unknown #[{attr_name}] argument `{key}`; the arguments are `name = \"..\"` \
                 and `dynamic` (the handler of every name with no handler of its own)"
            )));
        }
        name_arg(attr_name, meta, &mut args.name, errors)
    });
    if let Err(error) = parsed {
        errors.push(error);
    }
    if let (true, Some(name)) = (args.dynamic, &args.name) {
        errors.spanned(
            name,
            format!(
                "a dynamic #[{attr_name}] takes every name that has no handler of its own, \
                 so it has no name; drop `name = ..` or `dynamic`"
            ),
        );
    }
    args
}

/// The update fn named by `#[validator(update_fn)]`.
fn validator_arg(attr: &Attribute, errors: &mut Errors) -> Option<Ident> {
    let message = "#[validator] names the #[update] fn it checks: `#[validator(update_fn)]`";
    match &attr.meta {
        Meta::List(list) => match list.parse_args::<Ident>() {
            Ok(ident) => Some(ident),
            Err(_) if list.tokens.is_empty() => {
                errors.spanned(list, message);
                None
            }
            Err(_) => {
                errors.spanned(&list.tokens, message);
                None
            }
        },
        meta => {
            errors.spanned(meta, message);
            None
        }
    }
}

/// Whether an attribute is `#[activity]` / `#[activity(..)]`.
pub fn is_activity(attr: &Attribute) -> bool {
    is_weft_path(attr.path(), ACTIVITY)
}

/// Whether an attribute is `#[weft::deterministic]` (or `#[deterministic]`).
pub fn is_deterministic(attr: &Attribute) -> bool {
    is_weft_path(attr.path(), DETERMINISTIC)
}

/// `sym`, `weft::sym`, `::weft::sym` or `weft::prelude::sym`.
fn is_weft_path(path: &Path, sym: Symbol) -> bool {
    if path.segments.iter().any(|s| !s.arguments.is_none()) {
        return false;
    }
    let idents: Vec<_> = path.segments.iter().map(|s| &s.ident).collect();
    match idents.as_slice() {
        [last] => path.leading_colon.is_none() && *last == sym,
        [krate, last] => *krate == WEFT && *last == sym,
        [krate, module, last] => *krate == WEFT && *module == PRELUDE && *last == sym,
        _ => false,
    }
}

pub(crate) fn path_string(path: &Path) -> String {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    names.join("::")
}
