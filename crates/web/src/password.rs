//! Passwords: Argon2id hashes (PHC strings), the password rule, generated first
//! passwords (the limits on guessing are in `login_limits`).

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
/// user must change it at first login. Every character is drawn uniformly from the
/// alphabet (about 59 bits); a draw without a letter or a digit is drawn again.
pub fn generate() -> Result<String, WebError> {
    loop {
        let chars = (0..12)
            .map(|_| uniform_char(GENERATED_ALPHABET))
            .collect::<Result<Vec<char>, WebError>>()?;
        let letter = chars.iter().any(char::is_ascii_alphabetic);
        let digit = chars.iter().any(char::is_ascii_digit);
        if letter && digit {
            let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
            return Ok(groups.join("-"));
        }
    }
}

const GENERATED_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// One character of `alphabet`, each equally likely: random bytes at or above the largest
/// multiple of its length are thrown away (a plain `% len` would favour the first ones).
fn uniform_char(alphabet: &[u8]) -> Result<char, WebError> {
    let len = alphabet.len();
    let limit = 256 - 256 % len;
    loop {
        let mut byte = [0u8; 1];
        getrandom::fill(&mut byte).map_err(|e| WebError::internal(format!("随机数不可用：{e}")))?;
        let b = usize::from(byte[0]);
        if b < limit {
            return Ok(char::from(alphabet[b % len]));
        }
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

    /// Every position takes every character of the alphabet (the old generator fixed
    /// positions 1 and 6), and no character is far from its fair share.
    #[test]
    fn generated_characters_are_uniform_in_every_position() {
        let mut counts = vec![std::collections::HashMap::<char, usize>::new(); 12];
        let draws = 3000;
        for _ in 0..draws {
            let p: Vec<char> = generate().unwrap().chars().filter(|c| *c != '-').collect();
            for (i, c) in p.into_iter().enumerate() {
                *counts[i].entry(c).or_default() += 1;
            }
        }
        let fair = draws / GENERATED_ALPHABET.len();
        for (i, pos) in counts.iter().enumerate() {
            assert_eq!(pos.len(), GENERATED_ALPHABET.len(), "position {i}: {pos:?}");
            for (c, n) in pos {
                assert!(
                    *n > fair / 3 && *n < fair * 3,
                    "position {i}, {c}: {n} of {draws}"
                );
            }
        }
    }
}
