//! Login throttling: too many failed logins for one account, or from one
//! address, within a window are refused with 429 until the window passes.
//!
//! Kept in memory: a county runs one duban process, and a restart
//! forgetting failures is an acceptable loss for the simplicity.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_account: usize,
    pub per_address: usize,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { per_account: 5, per_address: 20, window: Duration::from_secs(15 * 60) }
    }
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    limits: Limits,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    pub fn new(limits: Limits) -> Self {
        LoginThrottle { limits, failures: Mutex::default() }
    }

    fn keys(account: &str, address: Option<&str>) -> [(String, bool); 2] {
        [(format!("account:{}", account.to_lowercase()), true), (format!("address:{}", address.unwrap_or("unknown")), false)]
    }

    /// `Err(wait)` when the account or the address must wait before trying again.
    pub fn check(&self, account: &str, address: Option<&str>) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("the throttle lock is never poisoned");
        let mut wait = Duration::ZERO;
        for (key, is_account) in Self::keys(account, address) {
            let limit = if is_account { self.limits.per_account } else { self.limits.per_address };
            if let Some(times) = failures.get_mut(&key) {
                while times.front().is_some_and(|t| now.duration_since(*t) > self.limits.window) {
                    times.pop_front();
                }
                if times.len() >= limit {
                    let oldest = *times.front().expect("at least `limit` entries");
                    wait = wait.max(self.limits.window.saturating_sub(now.duration_since(oldest)));
                }
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait.max(Duration::from_secs(1))) }
    }

    pub fn record_failure(&self, account: &str, address: Option<&str>) {
        let mut failures = self.failures.lock().expect("the throttle lock is never poisoned");
        for (key, _) in Self::keys(account, address) {
            failures.entry(key).or_default().push_back(Instant::now());
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        let mut failures = self.failures.lock().expect("the throttle lock is never poisoned");
        failures.remove(&format!("account:{}", account.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_accounts_and_addresses_separately() {
        let throttle = LoginThrottle::new(Limits { per_account: 2, per_address: 3, window: Duration::from_secs(60) });
        throttle.record_failure("zhang", Some("10.0.0.1"));
        assert!(throttle.check("zhang", Some("10.0.0.1")).is_ok());
        throttle.record_failure("zhang", Some("10.0.0.1"));
        assert!(throttle.check("zhang", Some("10.0.0.2")).is_err(), "the account is limited from anywhere");
        assert!(throttle.check("wang", Some("10.0.0.9")).is_ok());
        throttle.record_failure("li", Some("10.0.0.1"));
        assert!(throttle.check("wang", Some("10.0.0.1")).is_err(), "the address is limited for any account");
        throttle.record_success("zhang");
        assert!(throttle.check("zhang", Some("10.0.0.2")).is_ok());
    }

    #[test]
    fn forgets_after_the_window() {
        let throttle = LoginThrottle::new(Limits { per_account: 1, per_address: 10, window: Duration::from_millis(50) });
        throttle.record_failure("zhang", None);
        assert!(throttle.check("zhang", None).is_err());
        std::thread::sleep(Duration::from_millis(80));
        assert!(throttle.check("zhang", None).is_ok());
    }
}
