//! The syntax layer of determinism: a visitor over workflow code that
//! rejects calls, types, items and macros known to differ between the first
//! run and a replay, each with the span of the offending code and the fix.
//!
//! The check is syntactic: it matches paths as written (`SystemTime::now`
//! after an import, `std::time::SystemTime::now`, `time::Instant::now`), so it
//! cannot follow renaming imports. The type layer (`.await` needs a
//! `Deterministic` future, see `expand::deterministic`) catches what it
//! misses among futures.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{
    Block, Expr, ExprCall, ExprMethodCall, ExprPath, Fields, GenericArgument, ImplItemFn, ItemFn,
    ItemStatic, Macro, Path, PathArguments, StaticMutability, Token, TypePath,
};

use crate::attr;
use crate::ctxt::Errors;

/// Something workflow code must not do, and how to do it instead.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    WallClock,
    Random,
    Uuid,
    ThreadSpawn,
    ThreadSleep,
    TaskSpawn,
    BlockOn,
    Env,
    Fs,
    Net,
    Process,
    HashCollection,
    StaticMut,
    ThreadLocal,
    GlobalState,
    Select,
    Join,
}

impl Denied {
    /// Why it breaks replay, and the fix.
    fn message(self) -> &'static str {
        match self {
            Denied::WallClock => {
                "the wall clock reads differently on replay; use `ctx.now()`, the time recorded in the workflow's history"
            }
            Denied::Random => {
                "random numbers differ on replay; use `ctx.random()`, seeded from the workflow's history"
            }
            Denied::Uuid => {
                "a new UUID differs on replay; use `ctx.uuid()`, derived from the workflow's history"
            }
            Denied::ThreadSpawn => {
                "a thread runs outside the workflow's history; use `ctx.spawn(async { .. })` for concurrent workflow code, or an activity for other work"
            }
            Denied::ThreadSleep => {
                "sleeping blocks the worker and is not recorded; use `ctx.sleep(duration).await`, a durable timer"
            }
            Denied::TaskSpawn => {
                "a tokio task runs outside the workflow's history; use `ctx.spawn(async { .. })` for concurrent workflow code, or an activity for blocking or other work"
            }
            Denied::BlockOn => {
                "blocking on a future hides it from the workflow; `.await` weft's futures, or run the work in an activity"
            }
            Denied::Env => {
                "the environment differs between workers and on replay; pass configuration in the workflow input, or read it in an activity"
            }
            Denied::Fs => "file system access is I/O; do it in an activity (`ctx.activity(..)`)",
            Denied::Net => "network access is I/O; do it in an activity (`ctx.activity(..)`)",
            Denied::Process => "processes are I/O; run them from an activity (`ctx.activity(..)`)",
            Denied::HashCollection => {
                "the default hasher is seeded randomly, so iteration order differs on replay; use `weft::collections::HashMap`/`HashSet` (named through `weft::collections` or `collections::` after `use weft::collections;`: the check cannot see other imports), or `BTreeMap`/`BTreeSet`"
            }
            Denied::StaticMut => {
                "a `static mut` is shared by every workflow on the worker and is not replayed; keep state in the workflow struct (`ctx.state_mut(..)`)"
            }
            Denied::ThreadLocal => {
                "thread-local state is shared by the workflows a worker thread runs and is not replayed; keep state in the workflow struct (`ctx.state_mut(..)`)"
            }
            Denied::GlobalState => {
                "a static is shared by every workflow on the worker and is not replayed; keep state in the workflow struct (`ctx.state_mut(..)`), or read it in an activity"
            }
            Denied::Select => {
                "this `select!` is not weft's: it picks among ready branches at random and awaits unchecked futures; use `weft::select!`, which polls its branches in order"
            }
            Denied::Join => {
                "this join macro is not weft's: it does not poll in a fixed order and awaits unchecked futures; use `weft::workflow::join(a, b)` or `weft::workflow::join_all(..)`"
            }
        }
    }
}

/// Formatting, assertion and logging macros: their arguments are checked
/// like any other code.
const ALLOWED_MACROS: &[&str] = &[
    "format",
    "format_args",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "vec",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "panic",
    "unreachable",
    "todo",
    "unimplemented",
    "matches",
    "dbg",
    "info",
    "warn",
    "error",
    "debug",
    "trace",
    "event",
    "span",
    "info_span",
    "warn_span",
    "error_span",
    "debug_span",
    "trace_span",
    "log",
];

/// Macros whose arguments are not run: nothing to check.
const INERT_MACROS: &[&str] = &[
    "stringify",
    "concat",
    "line",
    "column",
    "file",
    "module_path",
    "cfg",
    "env",
    "option_env",
    "include_str",
    "include_bytes",
    "compile_error",
];

/// What kind of macro an invocation is, as far as the check is concerned.
pub enum MacroKind {
    /// A formatting or logging macro, or one of weft's own: its arguments
    /// are checked (and rewritten) where they parse.
    Checked,
    /// A macro whose arguments are not run (`stringify!`, `concat!`, ..).
    Inert,
    /// A macro that breaks determinism.
    Denied(Denied),
    /// Any other macro: the check cannot see inside it.
    Opaque,
}

/// Classifies a macro invocation by its path.
pub fn macro_kind(path: &Path) -> MacroKind {
    let segs = segments(path);
    let Some(last) = segs.last() else {
        return MacroKind::Opaque;
    };
    if segs.first().is_some_and(|s| s == "weft") {
        return MacroKind::Checked;
    }
    match last.as_str() {
        "select" | "select_biased" => MacroKind::Denied(Denied::Select),
        "join" | "try_join" => MacroKind::Denied(Denied::Join),
        "thread_local" => MacroKind::Denied(Denied::ThreadLocal),
        name if ALLOWED_MACROS.contains(&name) => MacroKind::Checked,
        name if INERT_MACROS.contains(&name) => MacroKind::Inert,
        _ => MacroKind::Opaque,
    }
}

/// A checked macro's arguments as comma-separated expressions, when they
/// parse that way.
pub fn macro_exprs(mac: &Macro) -> Option<Punctuated<Expr, Token![,]>> {
    mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
        .ok()
}

/// Checks a method of a `#[workflow]` impl block, signature included.
pub fn check_method(func: &ImplItemFn, errors: &mut Errors) {
    Checker { errors }.visit_impl_item_fn_inner(func);
}

/// Checks a fn, signature included.
pub fn check_fn(func: &ItemFn, errors: &mut Errors) {
    let mut checker = Checker { errors };
    checker.visit_signature(&func.sig);
    checker.visit_block(&func.block);
}

/// Checks the fields of the `#[workflow]` state struct.
pub fn check_fields(fields: &Fields, errors: &mut Errors) {
    Checker { errors }.visit_fields(fields);
}

struct Checker<'a> {
    errors: &'a mut Errors,
}

impl Checker<'_> {
    fn deny(&mut self, tokens: impl ToTokens, what: &str, denied: Denied) {
        let message = format!("`{what}` in workflow code: {}", denied.message());
        self.errors.spanned(tokens, message);
    }

    fn deny_at(&mut self, span: Span, what: &str, denied: Denied) {
        let message = format!("`{what}` in workflow code: {}", denied.message());
        self.errors.push(syn::Error::new(span, message));
    }

    /// A path used as a value or called; `call` holds the call expression.
    fn check_expr_path(&mut self, expr: &ExprPath, call: Option<&ExprCall>) {
        let segs = segments(&expr.path);
        if let Some(denied) = denied_path(&segs, call.is_some()) {
            let what = segs.join("::");
            match call {
                Some(call) => self.deny(call, &what, denied),
                None => self.deny(&expr.path, &what, denied),
            }
        }
        visit::visit_expr_path(self, expr);
    }

    fn visit_impl_item_fn_inner(&mut self, func: &ImplItemFn) {
        visit::visit_impl_item_fn(self, func);
    }

    /// Scans the tokens of a checked macro whose arguments are not plain
    /// expressions: brace groups that parse as blocks are checked, and an
    /// `.await` or denied path anywhere else is rejected.
    fn check_macro_tokens(&mut self, mac: &Macro, tokens: TokenStream) {
        let mut path: Vec<(String, Span)> = Vec::new();
        let mut after_colon = false;
        let mut iter = tokens.into_iter().peekable();
        while let Some(tt) = iter.next() {
            let colon = matches!(&tt, TokenTree::Punct(p) if p.as_char() == ':');
            if let TokenTree::Ident(_) = &tt
                && !after_colon
            {
                self.end_path(&mut path);
            }
            after_colon = colon;
            match &tt {
                TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                    self.end_path(&mut path);
                    match syn::parse2::<Block>(tt.to_token_stream()) {
                        Ok(block) => self.visit_block(&block),
                        Err(_) => self.check_macro_tokens(mac, group.stream()),
                    }
                }
                TokenTree::Group(group) => {
                    self.end_path(&mut path);
                    self.check_macro_tokens(mac, group.stream());
                }
                TokenTree::Punct(p) if p.as_char() == '.' => {
                    self.end_path(&mut path);
                    if let Some(TokenTree::Ident(ident)) = iter.peek()
                        && ident == "await"
                    {
                        self.opaque_await(mac, ident.span());
                    }
                }
                TokenTree::Punct(p) if p.as_char() == ':' => {}
                TokenTree::Ident(ident) => path.push((ident.to_string(), ident.span())),
                _ => self.end_path(&mut path),
            }
        }
        self.end_path(&mut path);
    }

    /// Reports a denied path collected from a macro's tokens.
    fn end_path(&mut self, path: &mut Vec<(String, Span)>) {
        let names: Vec<String> = path.iter().map(|(name, _)| name.clone()).collect();
        if let (Some(denied), Some((_, span))) = (denied_path(&names, false), path.first()) {
            self.deny_at(*span, &names.join("::"), denied);
        }
        path.clear();
    }

    fn opaque_await(&mut self, mac: &Macro, span: Span) {
        let name = macro_name(mac);
        self.errors.push(syn::Error::new(
            span,
            format!(
                "cannot check this `.await` inside `{name}!`: move it out of the macro \
                 (`let value = future.await;`) or into a block `{{ .. }}`"
            ),
        ));
    }

    /// A macro the check cannot see into: rejected when its tokens hold an
    /// `.await` or a denied path.
    fn opaque_macro(&mut self, mac: &Macro) {
        let name = macro_name(mac);
        if contains_await(mac.tokens.clone()) {
            self.errors.spanned(
                mac,
                format!(
                    "cannot check inside this macro: `{name}!` has an `.await` in its arguments; \
                     await outside the macro (`let value = future.await;`) and pass the value in"
                ),
            );
            return;
        }
        let mut inner = Errors::new();
        Checker { errors: &mut inner }.check_macro_tokens(mac, mac.tokens.clone());
        if let Err(error) = inner.finish() {
            self.errors.spanned(
                mac,
                format!("cannot check inside this macro: `{name}!` contains {error}"),
            );
        }
    }
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        for attr in &call.attrs {
            self.visit_attribute(attr);
        }
        match &*call.func {
            Expr::Path(path) => self.check_expr_path(path, Some(call)),
            func => self.visit_expr(func),
        }
        for arg in &call.args {
            self.visit_expr(arg);
        }
    }

    fn visit_expr_path(&mut self, expr: &'ast ExprPath) {
        self.check_expr_path(expr, None);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        let method = call.method.to_string();
        if method == "side_effect" {
            // `ctx.side_effect(|| ..)` is the place for a nondeterministic
            // read: its value is recorded once and read back on replay. Only
            // the receiver is checked.
            self.visit_expr(&call.receiver);
            return;
        }
        if method == "block_on" {
            self.deny(call, &format!(".{method}(..)"), Denied::BlockOn);
        } else if is_state_method(&method)
            && let Expr::Path(receiver) = &*call.receiver
            && let Some(last) = receiver.path.segments.last()
            && is_screaming(&last.ident.to_string())
        {
            let what = format!("{}.{method}(..)", segments(&receiver.path).join("::"));
            self.deny(call, &what, Denied::GlobalState);
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_type_path(&mut self, ty: &'ast TypePath) {
        if let Some(what) = default_hasher_type(&ty.path) {
            self.deny(ty, &what, Denied::HashCollection);
        }
        visit::visit_type_path(self, ty);
    }

    fn visit_item_static(&mut self, item: &'ast ItemStatic) {
        if let StaticMutability::Mut(token) = &item.mutability {
            let (static_token, ident) = (&item.static_token, &item.ident);
            let what = format!("static mut {}", item.ident);
            self.deny(
                quote::quote!(#static_token #token #ident),
                &what,
                Denied::StaticMut,
            );
        }
        visit::visit_item_static(self, item);
    }

    fn visit_item_fn(&mut self, item: &'ast ItemFn) {
        // A nested `#[weft::deterministic]` fn is checked by its own macro.
        if !item.attrs.iter().any(attr::is_deterministic) {
            visit::visit_item_fn(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast ImplItemFn) {
        if !item.attrs.iter().any(attr::is_deterministic) {
            visit::visit_impl_item_fn(self, item);
        }
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        match macro_kind(&mac.path) {
            MacroKind::Denied(denied) => {
                let what = format!("{}!", segments(&mac.path).join("::"));
                self.deny(mac, &what, denied);
            }
            MacroKind::Checked => match macro_exprs(mac) {
                Some(exprs) => exprs.iter().for_each(|e| self.visit_expr(e)),
                None => self.check_macro_tokens(mac, mac.tokens.clone()),
            },
            MacroKind::Inert => {}
            MacroKind::Opaque => self.opaque_macro(mac),
        }
    }
}

/// The path's identifiers, without generic arguments.
pub fn segments(path: &Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

fn macro_name(mac: &Macro) -> String {
    segments(&mac.path).join("::")
}

fn contains_await(tokens: TokenStream) -> bool {
    let mut previous_dot = false;
    for tt in tokens {
        match &tt {
            TokenTree::Group(group) if contains_await(group.stream()) => return true,
            TokenTree::Ident(ident) if previous_dot && ident == "await" => return true,
            _ => {}
        }
        previous_dot = matches!(&tt, TokenTree::Punct(p) if p.as_char() == '.');
    }
    false
}

/// The rule a path breaks, if any. `call` is true when the path is called
/// (`rng()` is only suspicious as a call).
fn denied_path(segs: &[String], call: bool) -> Option<Denied> {
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let denied = match segs.as_slice() {
        [.., "SystemTime" | "Instant" | "Utc" | "Local", "now"] => Denied::WallClock,
        ["rand", "random" | "rng" | "thread_rng"] | [.., "thread_rng"] => Denied::Random,
        ["rng"] if call => Denied::Random,
        [.., "Uuid", "new_v4" | "now_v7"] => Denied::Uuid,
        [.., "thread", "spawn" | "scope"] => Denied::ThreadSpawn,
        [.., "thread", "sleep"] => Denied::ThreadSleep,
        [.., "tokio", "spawn" | "spawn_local"]
        | [.., "task", "spawn" | "spawn_local"]
        | [.., "spawn_blocking" | "block_in_place"] => Denied::TaskSpawn,
        [.., "block_on"] => Denied::BlockOn,
        [.., "env", name] if is_env_fn(name) => Denied::Env,
        [.., "File", "open" | "create" | "create_new" | "options"] | ["OpenOptions", "new"] => {
            Denied::Fs
        }
        ["TcpStream", "connect"] | ["TcpListener" | "UdpSocket", "bind"] => Denied::Net,
        _ if io_module(&segs, "fs") => Denied::Fs,
        _ if io_module(&segs, "net") && !segs.iter().any(|s| is_address_type(s)) => Denied::Net,
        _ if io_module(&segs, "process") => Denied::Process,
        _ => return hash_constructor(&segs).then_some(Denied::HashCollection),
    };
    Some(denied)
}

fn is_env_fn(name: &str) -> bool {
    matches!(
        name,
        "var"
            | "vars"
            | "var_os"
            | "vars_os"
            | "set_var"
            | "remove_var"
            | "args"
            | "args_os"
            | "current_dir"
            | "set_current_dir"
            | "current_exe"
            | "temp_dir"
            | "home_dir"
    )
}

/// `std::fs::..`, `tokio::fs::..`, or `fs::..` after an import.
fn io_module(segs: &[&str], module: &str) -> bool {
    segs.iter().enumerate().any(|(i, seg)| {
        *seg == module
            && i + 1 < segs.len()
            && (i == 0 || matches!(segs[i - 1], "std" | "tokio" | "async_std"))
    })
}

/// `std::net`'s plain data types, which do no I/O.
fn is_address_type(name: &str) -> bool {
    matches!(
        name,
        "IpAddr" | "Ipv4Addr" | "Ipv6Addr" | "SocketAddr" | "SocketAddrV4" | "SocketAddrV6"
    )
}

/// `HashMap::new()`, `std::collections::HashSet::with_capacity(..)`, ..:
/// constructors that pick the random default hasher.
fn hash_constructor(segs: &[&str]) -> bool {
    let Some(at) = segs
        .iter()
        .position(|s| matches!(*s, "HashMap" | "HashSet"))
    else {
        return false;
    };
    !weft_collection(&segs[..at])
        && matches!(
            segs.get(at + 1),
            Some(&("new" | "with_capacity" | "from" | "from_iter"))
        )
}

/// Whether the path before `HashMap`/`HashSet` names weft's collections:
/// `weft::collections::` or `collections::` (after `use weft::collections;`).
fn weft_collection(prefix: &[&str]) -> bool {
    prefix.contains(&"weft") || prefix == ["collections"]
}

/// `HashMap<K, V>` / `HashSet<T>` (no hasher parameter), outside `weft::`.
fn default_hasher_type(path: &Path) -> Option<String> {
    let last = path.segments.last()?;
    let wanted = match last.ident.to_string().as_str() {
        "HashMap" => 2,
        "HashSet" => 1,
        _ => return None,
    };
    let segs = segments(path);
    let prefix: Vec<&str> = segs[..segs.len() - 1].iter().map(String::as_str).collect();
    if weft_collection(&prefix) {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let types = args
        .args
        .iter()
        .filter(|a| matches!(a, GenericArgument::Type(_)))
        .count();
    (types == wanted).then(|| format!("{}<..>", segments(path).join("::")))
}

/// Methods that read or write a global atomic or lock.
fn is_state_method(method: &str) -> bool {
    matches!(
        method,
        "load"
            | "store"
            | "swap"
            | "compare_exchange"
            | "compare_exchange_weak"
            | "fetch_add"
            | "fetch_sub"
            | "fetch_and"
            | "fetch_nand"
            | "fetch_or"
            | "fetch_xor"
            | "fetch_max"
            | "fetch_min"
            | "fetch_update"
            | "lock"
    )
}

/// `COUNTER`, `HITS_2`: the name of a static (or const).
fn is_screaming(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}
