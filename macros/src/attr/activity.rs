//! The arguments of `#[activity(..)]`: the type name, and the options the
//! activity carries for calls that do not set them (timeouts, a retry
//! policy), checked here so a wrong value is a compile error at the value.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Attribute, Expr, ExprArray, Lit, LitInt, LitStr, Meta};

use crate::ctxt::Errors;

/// The keys `#[activity(..)]` takes, for the unknown-key message.
const KEYS: &str = "`name`, `start_to_close_timeout`, `schedule_to_close_timeout`, \
                    `schedule_to_start_timeout`, `heartbeat_timeout`, `retry(..)`";
/// The keys `retry(..)` takes.
const RETRY_KEYS: &str = "`maximum_attempts`, `initial_interval`, `backoff_coefficient`, \
                          `maximum_interval`, `non_retryable_errors`";
/// How durations are written.
const DURATION_FORM: &str = "a duration is a string of a number and a unit (ms, s, m, h, d), e.g. \"30s\", \"500ms\" or \"1h30m\"";

/// A duration given in an attribute, in milliseconds.
#[derive(Clone, Copy)]
pub struct Millis {
    pub millis: u64,
    pub span: Span,
}

/// `retry(..)`: the parts given; the rest are Temporal's defaults.
#[derive(Clone, Default)]
pub struct Retry {
    pub maximum_attempts: Option<u32>,
    pub initial_interval: Option<Millis>,
    pub backoff_coefficient: Option<(f64, Span)>,
    pub maximum_interval: Option<Millis>,
    pub non_retryable_errors: Option<Vec<LitStr>>,
}

/// The options an activity carries.
#[derive(Clone, Default)]
pub struct Defaults {
    pub start_to_close_timeout: Option<Millis>,
    pub schedule_to_close_timeout: Option<Millis>,
    pub schedule_to_start_timeout: Option<Millis>,
    pub heartbeat_timeout: Option<Millis>,
    pub retry: Option<Retry>,
}

impl Defaults {
    /// These options, with `outer`'s (the impl block's) where these have none.
    pub fn or(&self, outer: &Defaults) -> Defaults {
        Defaults {
            start_to_close_timeout: self.start_to_close_timeout.or(outer.start_to_close_timeout),
            schedule_to_close_timeout: self
                .schedule_to_close_timeout
                .or(outer.schedule_to_close_timeout),
            schedule_to_start_timeout: self
                .schedule_to_start_timeout
                .or(outer.schedule_to_start_timeout),
            heartbeat_timeout: self.heartbeat_timeout.or(outer.heartbeat_timeout),
            retry: self.retry.clone().or_else(|| outer.retry.clone()),
        }
    }

    /// Whether none was given.
    pub fn is_empty(&self) -> bool {
        self.start_to_close_timeout.is_none()
            && self.schedule_to_close_timeout.is_none()
            && self.schedule_to_start_timeout.is_none()
            && self.heartbeat_timeout.is_none()
            && self.retry.is_none()
    }
}

/// What `#[activity(..)]` says.
#[derive(Default)]
pub struct ActivityArgs {
    pub name: Option<LitStr>,
    pub defaults: Defaults,
}

/// Parses the arguments of `#[activity(..)]` on a fn or an impl block.
pub fn args(args: TokenStream, errors: &mut Errors) -> ActivityArgs {
    let mut out = ActivityArgs::default();
    let parser = syn::meta::parser(|meta| arg(meta, &mut out, errors));
    if let Err(error) = parser.parse2(args) {
        errors.push(error);
    }
    out
}

/// Parses `#[activity]` or `#[activity(..)]` written on a method.
pub fn attr(attr: &Attribute, errors: &mut Errors) -> ActivityArgs {
    let mut out = ActivityArgs::default();
    if let Meta::Path(_) = attr.meta {
        return out;
    }
    if let Err(error) = attr.parse_nested_meta(|meta| arg(meta, &mut out, errors)) {
        errors.push(error);
    }
    out
}

fn arg(meta: ParseNestedMeta, out: &mut ActivityArgs, errors: &mut Errors) -> syn::Result<()> {
    let key = meta
        .path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_default();
    let defaults = &mut out.defaults;
    let slot = match key.as_str() {
        "name" => return name(&meta, &mut out.name, errors),
        "retry" => return retry(meta, &mut defaults.retry, errors),
        "start_to_close_timeout" => &mut defaults.start_to_close_timeout,
        "schedule_to_close_timeout" => &mut defaults.schedule_to_close_timeout,
        "schedule_to_start_timeout" => &mut defaults.schedule_to_start_timeout,
        "heartbeat_timeout" => &mut defaults.heartbeat_timeout,
        _ => {
            let key = crate::attr::path_string(&meta.path);
            return Err(meta.error(format!(
                "unknown #[activity] argument `{key}`; it takes {KEYS}"
            )));
        }
    };
    if let Some(value) = duration(&meta, &key, errors)? {
        set_once(slot, value, &meta, &key, errors);
    }
    Ok(())
}

fn name(meta: &ParseNestedMeta, slot: &mut Option<LitStr>, errors: &mut Errors) -> syn::Result<()> {
    let value: LitStr = meta.value()?.parse()?;
    if value.value().trim().is_empty() {
        errors.spanned(&value, "#[activity(name = ..)] must not be empty");
        return Ok(());
    }
    set_once(slot, value, meta, "name", errors);
    Ok(())
}

fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    meta: &ParseNestedMeta,
    key: &str,
    errors: &mut Errors,
) {
    if slot.is_some() {
        errors.spanned(
            &meta.path,
            format!("duplicate `{key}` in #[activity(..)]; give it once"),
        );
    } else {
        *slot = Some(value);
    }
}

/// `key = "30s"`: a duration above zero. A string that is not one is
/// recorded (`None`), so the other arguments are still checked.
fn duration(meta: &ParseNestedMeta, key: &str, errors: &mut Errors) -> syn::Result<Option<Millis>> {
    let lit: LitStr = meta.value()?.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key}` takes a duration: {DURATION_FORM}"),
        )
    })?;
    match parse_duration(&lit.value()) {
        None => errors.spanned(&lit, format!("`{key}`: {DURATION_FORM}")),
        Some(0) => errors.spanned(&lit, format!("`{key}` must be greater than zero")),
        Some(millis) => {
            return Ok(Some(Millis {
                millis,
                span: lit.span(),
            }));
        }
    }
    Ok(None)
}

/// Milliseconds in `"1h30m"`, `"500ms"`, `"10s"`, `"2d"`; `None` when it is
/// not such a string or overflows.
pub fn parse_duration(text: &str) -> Option<u64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = [
            ("ms", 1),
            ("s", 1_000),
            ("m", 60_000),
            ("h", 3_600_000),
            ("d", 86_400_000),
        ]
        .into_iter()
        .find(|(unit, _)| rest.starts_with(unit))
        .map(|(unit, factor)| (factor, unit.len()))?;
        rest = &rest[len..];
        total = total.checked_add(number.checked_mul(unit)?)?;
    }
    Some(total)
}

fn retry(meta: ParseNestedMeta, slot: &mut Option<Retry>, errors: &mut Errors) -> syn::Result<()> {
    if slot.is_some() {
        errors.spanned(
            &meta.path,
            "duplicate `retry(..)` in #[activity(..)]; give it once",
        );
    }
    let mut retry = Retry::default();
    meta.parse_nested_meta(|inner| retry_arg(inner, &mut retry, errors))?;
    check_retry(&retry, errors);
    slot.get_or_insert(retry);
    Ok(())
}

fn retry_arg(meta: ParseNestedMeta, retry: &mut Retry, errors: &mut Errors) -> syn::Result<()> {
    let key = meta
        .path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_default();
    let duplicate = match key.as_str() {
        "maximum_attempts" => {
            let lit: LitInt = meta.value()?.parse()?;
            retry
                .maximum_attempts
                .replace(lit.base10_parse()?)
                .is_some()
        }
        "initial_interval" => match duration(&meta, &key, errors)? {
            Some(d) => retry.initial_interval.replace(d).is_some(),
            None => false,
        },
        "maximum_interval" => match duration(&meta, &key, errors)? {
            Some(d) => retry.maximum_interval.replace(d).is_some(),
            None => false,
        },
        "backoff_coefficient" => {
            let value = coefficient(&meta)?;
            retry.backoff_coefficient.replace(value).is_some()
        }
        "non_retryable_errors" => {
            let types = string_list(&meta)?;
            retry.non_retryable_errors.replace(types).is_some()
        }
        _ => {
            return Err(meta.error(format!(
                "unknown `retry(..)` argument; it takes {RETRY_KEYS}"
            )));
        }
    };
    if duplicate {
        errors.spanned(
            &meta.path,
            format!("duplicate `{key}` in retry(..); give it once"),
        );
    }
    Ok(())
}

/// `backoff_coefficient = 2.0` (or `2`).
fn coefficient(meta: &ParseNestedMeta) -> syn::Result<(f64, Span)> {
    let value = meta.value()?;
    let span = value.span();
    let parsed = match value.parse::<Lit>()? {
        Lit::Float(f) => f.base10_parse::<f64>()?,
        Lit::Int(i) => i.base10_parse::<f64>()?,
        other => {
            return Err(syn::Error::new(
                other.span(),
                "`backoff_coefficient` takes a number, e.g. 2.0",
            ));
        }
    };
    Ok((parsed, span))
}

/// `non_retryable_errors = ["ValueError", ..]`.
fn string_list(meta: &ParseNestedMeta) -> syn::Result<Vec<LitStr>> {
    let array: ExprArray = meta.value()?.parse()?;
    array
        .elems
        .iter()
        .map(|elem| match elem {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Str(s) => Ok(s.clone()),
                other => Err(syn::Error::new(
                    other.span(),
                    "expected a failure type name string",
                )),
            },
            other => Err(syn::Error::new_spanned(
                other,
                "expected a failure type name string",
            )),
        })
        .collect()
}

/// The checks Temporal makes when a retry policy is submitted, made here.
fn check_retry(retry: &Retry, errors: &mut Errors) {
    if let Some((c, span)) = retry.backoff_coefficient
        && !(c >= 1.0 && c.is_finite())
    {
        let message =
            format!("`backoff_coefficient` must be a finite number of at least 1.0, got {c}");
        errors.push(syn::Error::new(span, message));
    }
    let initial = retry.initial_interval.map_or(1_000, |d| d.millis);
    if let Some(max) = retry.maximum_interval
        && max.millis < initial
    {
        let message = format!(
            "`maximum_interval` ({} ms) must not be less than `initial_interval` ({initial} ms{})",
            max.millis,
            if retry.initial_interval.is_none() {
                ", the default"
            } else {
                ""
            }
        );
        errors.push(syn::Error::new(max.span, message));
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_parse_in_milliseconds() {
        assert_eq!(parse_duration("500ms"), Some(500));
        assert_eq!(parse_duration("10s"), Some(10_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration("2d"), Some(172_800_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000));
        for bad in ["", "10", "s", "10x", "1.5s", "-1s", "99999999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
