//! Type probes: checks the compiler runs after name resolution, for what
//! syntax cannot see (a `use` alias, a type alias, a field of a sub-struct
//! reached through a method receiver).
//!
//! ```text
//! struct W { m: Map }        =>  probe::<Map>()                 (each state field)
//! let t = Clock::now();      =>  let t = ..; { probe(&t) };     (typed or constructed bindings)
//! n = s.inner.map.len();     =>  { probe(&s.inner.map) }; n = s.inner.map.len();
//! path.exists()              =>  the same, asking whether `path` is a `Path`
//! CONFIG.limit               =>  the same, asking whether `CONFIG` is a global cell
//! Clock::now()               =>  { let v = Clock::now(); probe(&v); v }
//! ```
//!
//! A probe picks `Kind::__weft_kind` when the runtime has a kind for the
//! type (`Instant`, a map with `RandomState`, `File`, a `static` cell, ..)
//! and `Fallback::__weft_kind` otherwise; `refuse` accepts only `Fine`, and
//! its error carries the kind's message, spanned at the user's tokens.
//! Places (`a.b[0].c`, the receivers of method calls, the bases of field
//! accesses on statics, `for` loops' iterables) are probed in a statement
//! of their own before the statement that uses them (`places`), so the
//! user's expressions are left as written.

mod places;

pub use places::{before, closure_body};

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, Fields, Local, LocalInit, Pat, Stmt, Type, parse_quote_spanned};

/// Where a probe looks: at a value, or at the receiver of a method that
/// reads the file system when called on a path.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Context {
    Value,
    Static,
    FsReceiver,
    NowCall,
}

/// `refuse((&of(&value)).__weft_kind())`. The call's opening tokens carry
/// the span of the value's first token and its closing ones the span of its
/// last, so the compiler's error covers the whole value.
fn probe_value(value: &TokenStream, context: Context) -> TokenStream {
    probe_spanned(value, value, context)
}

/// [`probe_value`], its error spanning the tokens of `at`.
fn probe_spanned(value: &TokenStream, at: &TokenStream, context: Context) -> TokenStream {
    let first = at
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |tt| tt.span());
    let last = at.clone().into_iter().last().map_or(first, |tt| tt.span());
    let of = match context {
        Context::Value => quote_spanned!(first=> ::weft::__private::probe::of),
        Context::Static => quote_spanned!(first=> ::weft::__private::probe::of_static),
        Context::FsReceiver => quote_spanned!(first=> ::weft::__private::probe::of_fs_receiver),
        Context::NowCall => quote_spanned!(first=> ::weft::__private::probe::of_now_call),
    };
    let mut args = Group::new(Delimiter::Parenthesis, TokenStream::new());
    args.set_span(last);
    let kind = quote_spanned!(last=> .__weft_kind #args);
    quote_spanned! {first=>
        #[allow(unused_imports)]
        use ::weft::__private::probe::{Fallback as _, Kind as _};
        ::weft::__private::probe::refuse((&#of(&#value)) #kind);
    }
}

/// Probes of the state struct's field types, in a `const _` block. A
/// generic struct's fields are not probed (the probe needs concrete types).
pub fn fields(ident: &syn::Ident, generics: &syn::Generics, fields: &Fields) -> TokenStream {
    if !generics.params.is_empty() {
        return TokenStream::new();
    }
    let probes = fields.iter().map(|field| {
        let ty = &field.ty;
        let span = ty.span();
        quote_spanned! {span=>
            {
                #[allow(unused_imports)]
                use ::weft::__private::probe::{Fallback as _, Kind as _};
                ::weft::__private::probe::refuse(
                    (&::weft::__private::probe::Probe::<#ty>::new()).__weft_kind(),
                );
            }
        }
    });
    quote! {
        const _: () = {
            #[allow(dead_code, non_snake_case)]
            fn __weft_state_fields(_: &#ident) {
                #(#probes)*
            }
        };
    }
}

/// The probe statement that follows a `let`, when the binding's type is
/// known where it is bound: written out (`let m: Map = ..`), or built by a
/// type's associated fn (`let t = Clock::now();`, `File::open(p)?`).
pub fn after_let(local: &Local) -> Option<Stmt> {
    let (ident, ty) = match &local.pat {
        Pat::Ident(pat) if pat.subpat.is_none() && pat.by_ref.is_none() => (&pat.ident, None),
        Pat::Type(typed) => match &*typed.pat {
            Pat::Ident(pat) if pat.subpat.is_none() && pat.by_ref.is_none() => {
                (&pat.ident, Some(&*typed.ty))
            }
            _ => return None,
        },
        _ => return None,
    };
    let init = local.init.as_ref()?;
    let known = match ty {
        Some(Type::Infer(_)) => false,
        Some(_) => true,
        None => constructed(&init.expr),
    };
    if !known || has_else(init) {
        return None;
    }
    let span = ty.map_or_else(|| init.expr.span(), Spanned::span);
    let probe = probe_value(&ident.to_token_stream(), Context::Value);
    Some(parse_quote_spanned!(span=> { #probe };))
}

fn has_else(init: &LocalInit) -> bool {
    init.diverge.is_some()
}

/// Traits whose associated fns return a type chosen by the caller.
const TRAITS: &[&str] = &[
    "Default",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "FromStr",
    "FromIterator",
    "Iterator",
    "IntoIterator",
    "Clone",
    "ToOwned",
    "AsRef",
    "Deserialize",
    "Sum",
    "Product",
    "Extend",
];

/// Associated fns that return `Self` (or `Result<Self, _>`) by
/// convention, so the probe never meets a type still to be inferred.
const CONSTRUCTORS: &[&str] = &[
    "new",
    "default",
    "now",
    "now_utc",
    "open",
    "create",
    "create_new",
    "options",
    "current",
    "try_current",
    "connect",
    "bind",
    "spawn",
    "build",
    "with_capacity",
    "with_hasher",
    "from",
    "from_iter",
];

/// `Type::new(..)` (see [`CONSTRUCTORS`]), possibly behind `?`, `.unwrap()` or `.expect(..)`:
/// its type is known once the call is resolved.
fn constructed(expr: &Expr) -> bool {
    match expr {
        Expr::Try(inner) => constructed(&inner.expr),
        Expr::MethodCall(call)
            if matches!(call.method.to_string().as_str(), "unwrap" | "expect") =>
        {
            constructed(&call.receiver)
        }
        Expr::MethodCall(call) => call.turbofish.is_some() && call.method == "collect",
        Expr::Call(call) => match &*call.func {
            Expr::Path(path) if path.qself.is_none() => {
                let segs = &path.path.segments;
                segs.len() >= 2
                    && segs
                        .last()
                        .is_some_and(|f| CONSTRUCTORS.contains(&f.ident.to_string().as_str()))
                    && segs.iter().rev().nth(1).is_some_and(|ty| {
                        let name = ty.ident.to_string();
                        name.starts_with(|c: char| c.is_ascii_uppercase())
                            && !TRAITS.contains(&name.as_str())
                    })
            }
            _ => false,
        },
        _ => false,
    }
}

/// `Type::now()` through a name the syntax check does not know (a `use`
/// alias): the value probed.
pub fn now_call(call: &ExprCall) -> Option<Expr> {
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    let last = path.path.segments.last()?;
    if !(last.ident == "now" && path.path.segments.len() >= 2 && call.args.is_empty()) {
        return None;
    }
    let segs = crate::determinism::segments(&path.path);
    if crate::determinism::rules::denied_path(&segs, true).is_some() {
        return None;
    }
    let span = call.span();
    let value = quote_spanned!(span=> __weft_value);
    let probe = probe_spanned(&value, &call.to_token_stream(), Context::NowCall);
    Some(parse_quote_spanned! {span=> {
        let __weft_value = #call;
        #probe
        __weft_value
    }})
}
