//! Collects every error a macro finds, so one expansion reports them all.

use std::fmt::Display;

use quote::ToTokens;

/// The errors found so far, combined into one `syn::Error`.
#[derive(Default)]
pub struct Errors {
    combined: Option<syn::Error>,
    count: usize,
}

impl Errors {
    /// No errors yet.
    pub fn new() -> Self {
        Errors::default()
    }

    /// Records an error.
    pub fn push(&mut self, error: syn::Error) {
        self.count += 1;
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Records an error spanning `tokens`.
    pub fn spanned<T: ToTokens>(&mut self, tokens: T, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// How many errors were recorded; compare before and after a check to
    /// see whether it failed.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether any error was recorded.
    pub fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// `Ok` when nothing was recorded, otherwise every error.
    pub fn finish(self) -> syn::Result<()> {
        match self.combined {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
