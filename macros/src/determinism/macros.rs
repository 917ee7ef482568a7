//! Macros in workflow code: which ones the check reads into, which ones it
//! refuses, and which ones it cannot see into.
//!
//! A macro invocation expands after the workflow's macro has run, so the
//! check sees only its tokens. The formatting, assertion and logging macros
//! of std and the common crates are read as expressions; a `macro_rules!`
//! defined inside the checked item has its definition scanned; any other
//! macro is refused, since what it expands to (a clock read, a random
//! number) cannot be seen.

use proc_macro2::{TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::{Expr, Macro, Path, Token};

use super::rules::Denied;
use super::segments;

/// Formatting, assertion and logging macros, and macros of common crates
/// that only build values: their arguments are checked like any other
/// code.
const CHECKED: &[&str] = &[
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
    "pin",
    "pin_mut",
    "addr_of",
    "addr_of_mut",
    "json",
    "anyhow",
    "bail",
    "ensure",
    "format_err",
    "btreemap",
    "btreeset",
];

/// Macros whose arguments are not run: nothing to check.
const INERT: &[&str] = &[
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
    "uuid",
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
    /// `macro_rules!`: its definition is scanned, its invocations allowed.
    Definition,
    /// Any other macro: the check cannot see what it expands to.
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
        "lazy_static" => MacroKind::Denied(Denied::GlobalState),
        "hashmap" | "hashset" => MacroKind::Denied(Denied::HashCollection),
        "nanoid" => MacroKind::Denied(Denied::Uuid),
        "macro_rules" => MacroKind::Definition,
        name if CHECKED.contains(&name) => MacroKind::Checked,
        name if INERT.contains(&name) => MacroKind::Inert,
        _ => MacroKind::Opaque,
    }
}

/// A checked macro's arguments as comma-separated expressions, when they
/// parse that way.
pub fn macro_exprs(mac: &Macro) -> Option<Punctuated<Expr, Token![,]>> {
    mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
        .ok()
}

/// The macro's name as written, `a::b`.
pub fn macro_name(mac: &Macro) -> String {
    segments(&mac.path).join("::")
}

/// Whether the tokens hold an `.await`.
pub fn contains_await(tokens: TokenStream) -> bool {
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

/// The names of the `macro_rules!` defined anywhere in a block: their
/// definitions are scanned, so their invocations are allowed.
pub fn local_macros(block: &syn::Block) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
            if item.mac.path.is_ident("macro_rules")
                && let Some(ident) = &item.ident
            {
                self.0.push(ident.to_string());
            }
        }
    }
    let mut finder = Finder(Vec::new());
    syn::visit::Visit::visit_block(&mut finder, block);
    finder.0
}
