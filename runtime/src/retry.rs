//! Retry policies with Temporal's defaults and backoff arithmetic.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::failure::{Failure, RetryState};

/// How a failed activity is retried.
///
/// The defaults are Temporal's: initial interval 1 s, backoff coefficient 2.0,
/// maximum interval 100 x the initial interval, unlimited attempts, no
/// non-retryable types.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Delay before the first retry.
    pub initial_interval: Duration,
    /// Each retry waits this many times longer than the one before.
    pub backoff_coefficient: f64,
    /// Cap on the delay; `None` means 100 x `initial_interval`.
    pub maximum_interval: Option<Duration>,
    /// Total attempts allowed, the first included; 0 means unlimited.
    pub maximum_attempts: u32,
    /// Failure type names that are never retried.
    pub non_retryable_error_types: Vec<String>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_interval: Duration::from_secs(1),
            backoff_coefficient: 2.0,
            maximum_interval: None,
            maximum_attempts: 0,
            non_retryable_error_types: Vec::new(),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn no_retries() -> Self {
        RetryPolicy {
            maximum_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets `maximum_attempts`.
    pub fn with_maximum_attempts(mut self, n: u32) -> Self {
        self.maximum_attempts = n;
        self
    }

    /// Sets `initial_interval`.
    pub fn with_initial_interval(mut self, d: Duration) -> Self {
        self.initial_interval = d;
        self
    }

    /// Sets `backoff_coefficient`.
    pub fn with_backoff_coefficient(mut self, c: f64) -> Self {
        self.backoff_coefficient = c;
        self
    }

    /// Sets `maximum_interval`.
    pub fn with_maximum_interval(mut self, d: Duration) -> Self {
        self.maximum_interval = Some(d);
        self
    }

    /// Adds failure type names that are never retried.
    pub fn with_non_retryable_error_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.non_retryable_error_types
            .extend(types.into_iter().map(Into::into));
        self
    }

    /// Checks the policy's numbers, as Temporal does when it is submitted.
    pub fn validate(&self) -> Result<(), String> {
        if self.initial_interval.is_zero() {
            // Zero would retry a failing activity at once, forever, with a
            // commit each time.
            return Err("initial_interval must be greater than zero".into());
        }
        if !(self.backoff_coefficient >= 1.0 && self.backoff_coefficient.is_finite()) {
            return Err(format!(
                "backoff_coefficient must be a finite number of at least 1.0, got {}",
                self.backoff_coefficient
            ));
        }
        if let Some(max) = self.maximum_interval
            && max < self.initial_interval
        {
            return Err("maximum_interval must not be less than initial_interval".into());
        }
        Ok(())
    }

    /// The delay before the attempt after `attempt` (1-based), or why there is
    /// none. `failure` is the failure of `attempt`.
    pub fn next_delay(&self, attempt: u32, failure: &Failure) -> Result<Duration, RetryState> {
        if failure.is_non_retryable()
            || self
                .non_retryable_error_types
                .iter()
                .any(|t| t == failure.type_name())
        {
            return Err(RetryState::NonRetryableFailure);
        }
        if self.maximum_attempts != 0 && attempt >= self.maximum_attempts {
            return Err(RetryState::MaximumAttemptsReached);
        }
        if let Failure::Application(app) = failure
            && let Some(delay) = app.next_retry_delay
        {
            return Ok(delay);
        }
        let max = self
            .maximum_interval
            .unwrap_or_else(|| self.initial_interval.saturating_mul(100));
        let exponent = attempt.saturating_sub(1).min(1024) as i32;
        let secs = self.initial_interval.as_secs_f64() * self.backoff_coefficient.powi(exponent);
        let delay = Duration::try_from_secs_f64(secs).unwrap_or(max);
        Ok(delay.min(max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::ApplicationError;

    fn err() -> Failure {
        ApplicationError::new("x").with_type("Boom").into()
    }

    #[test]
    fn defaults_are_temporals() {
        let p = RetryPolicy::default();
        assert_eq!(p.next_delay(1, &err()), Ok(Duration::from_secs(1)));
        assert_eq!(p.next_delay(2, &err()), Ok(Duration::from_secs(2)));
        assert_eq!(p.next_delay(3, &err()), Ok(Duration::from_secs(4)));
        assert_eq!(p.next_delay(30, &err()), Ok(Duration::from_secs(100)));
        assert_eq!(p.next_delay(u32::MAX, &err()), Ok(Duration::from_secs(100)));
    }

    #[test]
    fn attempts_and_types_stop_retries() {
        let p = RetryPolicy::default().with_maximum_attempts(3);
        assert!(p.next_delay(2, &err()).is_ok());
        assert_eq!(
            p.next_delay(3, &err()),
            Err(RetryState::MaximumAttemptsReached)
        );
        let p = RetryPolicy::default().with_non_retryable_error_types(["Boom"]);
        assert_eq!(
            p.next_delay(1, &err()),
            Err(RetryState::NonRetryableFailure)
        );
        let nr: Failure = ApplicationError::new("x").non_retryable().into();
        assert_eq!(
            RetryPolicy::default().next_delay(1, &nr),
            Err(RetryState::NonRetryableFailure)
        );
    }

    #[test]
    fn validate_rejects_bad_numbers() {
        assert!(
            RetryPolicy::default()
                .with_backoff_coefficient(0.5)
                .validate()
                .is_err()
        );
        assert!(
            RetryPolicy::default()
                .with_backoff_coefficient(f64::NAN)
                .validate()
                .is_err()
        );
        assert!(RetryPolicy::default().validate().is_ok());
        let zero = RetryPolicy::default().with_initial_interval(Duration::ZERO);
        assert!(zero.validate().unwrap_err().contains("initial_interval"));
    }
}
