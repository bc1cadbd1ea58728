//! Passwords: Argon2id hashes (PHC strings), the password rule, generated first
//! passwords, and a limiter against guessing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::PasswordVerifier;
use argon2::{Argon2, PasswordHasher};

use crate::error::WebError;

/// Hash a password with Argon2id and a random salt. Slow on purpose: request handlers call
/// [`hash_async`].
pub fn hash(password: &str) -> Result<String, WebError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| WebError::internal(format!("密码哈希失败：{e}")))
}

pub fn verify(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// At most this many Argon2 computations at once: each takes 19 MiB and a core, so a burst
/// of logins must queue rather than grow the server's memory by N × 19 MiB.
const CONCURRENT_HASHES: usize = 2;

static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_HASHES);

/// [`hash`] on a blocking thread, at most [`CONCURRENT_HASHES`] at a time.
pub async fn hash_async(password: String) -> Result<String, WebError> {
    let _permit = HASHING.acquire().await.map_err(WebError::internal)?;
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(WebError::internal)?
}

/// [`verify`] on a blocking thread, at most [`CONCURRENT_HASHES`] at a time.
pub async fn verify_async(password: String, phc: String) -> Result<bool, WebError> {
    let _permit = HASHING.acquire().await.map_err(WebError::internal)?;
    tokio::task::spawn_blocking(move || verify(&password, &phc))
        .await
        .map_err(WebError::internal)
}

/// A hash that never verifies, to spend the same time on unknown user names.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3Vn7tYIj8ZsMxcAa0O/O1tDpLD3qpd4tZdIUyUlyYqM";

/// The password rule, in words the users see.
pub const RULE: &str = "密码至少10位，且同时包含字母和数字";

pub fn check_rule(password: &str) -> Result<(), WebError> {
    let long = password.chars().count() >= 10;
    let letter = password.chars().any(|c| c.is_alphabetic());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    if long && letter && digit {
        Ok(())
    } else {
        Err(WebError::BadRequest(RULE.into()))
    }
}

/// A first password to hand to a new user: three groups of four lower-case letters and
/// digits without look-alikes (`k7mq-2xzp-9hta`), easy to read out over the phone; the
/// user must change it at first login.
pub fn generate() -> Result<String, WebError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| WebError::internal(format!("随机数不可用：{e}")))?;
    let mut chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    // Guarantee the rule: a digit and a letter in fixed places.
    chars[1] = '7';
    chars[6] = 'k';
    let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
    Ok(groups.join("-"))
}

/// Counts failed logins per key (user name and client) in a sliding window.
pub struct LoginLimiter {
    window: Duration,
    max_failures: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        LoginLimiter {
            window,
            max_failures,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn recent(&self, key: &str) -> usize {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let entry = map.entry(key.to_string()).or_default();
        entry.retain(|t| now.duration_since(*t) < self.window);
        entry.len()
    }

    /// Err when the key has used up its attempts.
    pub fn check(&self, key: &str) -> Result<(), WebError> {
        if self.recent(key) >= self.max_failures {
            return Err(WebError::TooManyRequests(format!(
                "登录失败次数过多，请{}分钟后再试",
                self.window.as_secs().div_ceil(60)
            )));
        }
        Ok(())
    }

    pub fn fail(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_string()).or_default().push(Instant::now());
        // Keep the map from growing without bound under a spray of names.
        if map.len() > 10_000 {
            let now = Instant::now();
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < self.window));
        }
    }

    pub fn succeed(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash("correct horse 12").unwrap();
        let b = hash("correct horse 12").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify("correct horse 12", &a));
        assert!(!verify("wrong", &a));
        assert!(!verify("anything", DUMMY_HASH));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn generated_passwords_follow_the_rule() {
        for _ in 0..50 {
            let p = generate().unwrap();
            assert_eq!(p.chars().count(), 14);
            assert_eq!(p.matches('-').count(), 2);
            check_rule(&p).unwrap();
        }
        assert!(check_rule("short1").is_err());
        assert!(check_rule("onlyletterslong").is_err());
        assert!(check_rule("12345678901").is_err());
    }

    #[test]
    fn limiter_blocks_after_max_failures_and_resets_on_success() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            l.check("u").unwrap();
            l.fail("u");
        }
        assert!(matches!(l.check("u"), Err(WebError::TooManyRequests(_))));
        l.check("other").unwrap();
        l.succeed("u");
        l.check("u").unwrap();
    }
}
