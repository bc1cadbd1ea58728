//! Limits on guessing passwords, kept in the database (shared by every server instance):
//!
//! - per account and client address: after [`LoginLimits::free_failures`] wrong passwords
//!   each further attempt from that address waits twice as long as the one before (30 s,
//!   1 min, 2 min … up to the window); the same account from another address is not held
//!   up, so an attacker cannot lock the real user out;
//! - per client address: at most [`LoginLimits::per_address`] failures in the window,
//!   whatever names were tried.
//!
//! Nothing is kept for a name that does not exist, and the keys are digests, so what is
//! stored does not grow with what is typed. Rows older than the window are purged by the
//! housekeeping task.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use fazhi_store::{FailedLogin, Store, User};

use crate::Config;
use crate::error::WebError;
use crate::session::sha256_hex;

#[derive(Debug, Clone)]
pub struct LoginLimits {
    pub window: Duration,
    pub free_failures: u64,
    pub first_delay: Duration,
    pub per_address: u64,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            window: Duration::minutes(15),
            free_failures: 5,
            first_delay: Duration::seconds(30),
            per_address: 100,
        }
    }
}

fn address_key(client: &str) -> String {
    sha256_hex(&format!("addr|{client}"))
}

fn account_key(user: &User, client: &str) -> String {
    sha256_hex(&format!("user|{}|{client}", user.id))
}

/// "5分钟" / "30秒"
fn wait_words(d: Duration) -> String {
    let secs = d.num_seconds().max(1);
    if secs >= 60 {
        format!("{}分钟", (secs + 59) / 60)
    } else {
        format!("{secs}秒")
    }
}

impl LoginLimits {
    /// How long the account must wait after `failures` recent failures.
    pub fn delay_after(&self, failures: u64) -> Duration {
        if failures < self.free_failures {
            return Duration::zero();
        }
        let doublings = u32::try_from(failures - self.free_failures)
            .unwrap_or(u32::MAX)
            .min(20);
        let delay = self
            .first_delay
            .checked_mul(1i32 << doublings)
            .unwrap_or(self.window);
        delay.min(self.window)
    }

    /// Err when this address has failed too often, whatever names it tried.
    pub async fn check_address(&self, store: &Store, client: &str) -> Result<(), WebError> {
        let since = Utc::now() - self.window;
        let c = store.login_failures(&address_key(client), since).await?;
        if c.count >= self.per_address {
            return Err(WebError::TooManyRequests(format!(
                "从您的网络地址登录失败的次数过多，请{}后再试",
                wait_words(self.window)
            )));
        }
        Ok(())
    }

    /// Err while the account must wait before another try from this address.
    pub async fn check_account(
        &self,
        store: &Store,
        user: &User,
        client: &str,
    ) -> Result<(), WebError> {
        let now = Utc::now();
        let c = store
            .login_failures(&account_key(user, client), now - self.window)
            .await?;
        let delay = self.delay_after(c.count);
        if let Some(last) = c.last
            && !delay.is_zero()
        {
            let ready: DateTime<Utc> = last + delay;
            if ready > now {
                return Err(WebError::TooManyRequests(format!(
                    "密码错误次数过多，请{}后再试",
                    wait_words(ready - now)
                )));
            }
        }
        Ok(())
    }

    /// Note a failed login: under the address, and under the account when it exists
    /// (which is also recorded in the audit log).
    pub async fn fail(
        &self,
        store: &Store,
        user: Option<&User>,
        client: &str,
    ) -> Result<(), WebError> {
        let addr = address_key(client);
        match user {
            Some(u) => {
                let acct = account_key(u, client);
                store
                    .record_login_failure(
                        &[&addr, &acct],
                        Some(FailedLogin {
                            user: u.id,
                            display_name: &u.display_name,
                            client,
                        }),
                    )
                    .await?
            }
            None => store.record_login_failure(&[&addr], None).await?,
        }
        Ok(())
    }

    pub async fn succeed(&self, store: &Store, user: &User, client: &str) -> Result<(), WebError> {
        store
            .clear_login_failures(&account_key(user, client))
            .await?;
        Ok(())
    }
}

/// The client's address: the right-most address in the configured trusted proxy header
/// (the one the proxy itself added; those left of it are the client's say), else the
/// peer of the connection. "unknown" when neither is there (tests without a socket).
pub fn client_addr(config: &Config, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    if let Some(name) = config.trusted_proxy_header.as_deref() {
        let from_proxy = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(ip) = from_proxy {
            return ip.to_string();
        }
    }
    peer.map(|p| p.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// [`client_addr`] of a request.
pub fn client_addr_of(config: &Config, parts: &Parts) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    client_addr(config, &parts.headers, peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_window() {
        let l = LoginLimits::default();
        assert!(l.delay_after(4).is_zero());
        assert_eq!(l.delay_after(5), Duration::seconds(30));
        assert_eq!(l.delay_after(6), Duration::seconds(60));
        assert_eq!(l.delay_after(9), Duration::seconds(480));
        assert_eq!(l.delay_after(10), Duration::minutes(15));
        assert_eq!(l.delay_after(u64::MAX), Duration::minutes(15));
    }

    #[test]
    fn the_client_address_comes_from_the_trusted_header_only() {
        let mut config = Config::new(([127, 0, 0, 1], 0).into(), "/tmp".into());
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.2".parse().unwrap(),
        );
        let peer = Some(SocketAddr::from(([10, 0, 0, 1], 4000)));
        assert_eq!(client_addr(&config, &h, peer), "10.0.0.1");
        config.trusted_proxy_header = Some("X-Forwarded-For".into());
        assert_eq!(client_addr(&config, &h, peer), "198.51.100.2");
        h.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(client_addr(&config, &h, peer), "10.0.0.1");
        assert_eq!(client_addr(&config, &HeaderMap::new(), None), "unknown");
    }
}
