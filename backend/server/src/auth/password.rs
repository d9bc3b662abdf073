//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes).
//!
//! Every hash runs on a few threads of its own, one per core, each with
//! its own 19 MiB of argon2 memory allocated once and reused: hashing is
//! CPU-bound, so more at once would only queue for the cores. Run on
//! whichever blocking thread a request happened to get, with memory
//! allocated per hash, a burst of sign-ins left 600 MiB behind for good
//! and spent a third of the time faulting pages in (`cargo xtask bench`).

use std::cell::RefCell;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

type Job = Box<dyn FnOnce() + Send>;

/// Runs `work` on the hashing threads and waits for its result.
fn on_hashing_threads<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    static QUEUE: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (sender, receiver) = channel::<Job>();
        let receiver = std::sync::Arc::new(Mutex::new(receiver));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        for index in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("password-{index}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while taking the next job.
                        let job = receiver.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => break,
                        }
                    }
                })
                .expect("starting a password hashing thread");
        }
        Mutex::new(sender)
    });
    let (reply, result) = channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(work());
    });
    queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).send(job).expect("the hashing threads run as long as the process");
    result.recv().expect("a hashing thread answers every job")
}

thread_local! {
    /// The hashing thread's argon2 memory, reused by every hash it runs.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// argon2 into `out`, in this thread's reused memory.
fn compute(argon2: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), argon2::Error> {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        let needed = argon2.params().block_count();
        if memory.len() < needed {
            memory.resize(needed, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
    })
}

/// Hashes a password into a PHC string (`$argon2id$v=19$…`).
pub fn hash(password: &str) -> String {
    let password = password.to_owned();
    on_hashing_threads(move || {
        let salt = SaltString::generate(&mut OsRng);
        let argon2 = Argon2::default();
        let mut salt_buffer = [0u8; 64];
        let salt_bytes = salt.as_salt().decode_b64(&mut salt_buffer).expect("a generated salt decodes");
        let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
            compute(&argon2, password.as_bytes(), salt_bytes, out).map_err(argon2::password_hash::Error::from)
        })
        .expect("argon2 accepts any password");
        PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::default().into()),
            params: ParamsString::try_from(argon2.params()).expect("the default parameters encode"),
            salt: Some(salt.as_salt()),
            hash: Some(output),
        }
        .to_string()
    })
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub fn verify(stored: &str, password: &str) -> bool {
    let (stored, password) = (stored.to_owned(), password.to_owned());
    on_hashing_threads(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) =
            (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed), parsed.salt, parsed.hash)
        else {
            return false;
        };
        let Ok(version) = parsed.version.map_or(Ok(Version::default()), Version::try_from) else { return false };
        let mut salt_buffer = [0u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_buffer) else { return false };
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        // Output's equality is constant-time.
        compute(&argon2, password.as_bytes(), salt_bytes, &mut out).is_ok() && Output::new(&out).is_ok_and(|output| output == expected)
    })
}

/// Checked against when the user does not exist, so that a login for an
/// unknown user costs as much as one for a known user.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    verify(DUMMY.get_or_init(|| hash("not a password of anyone")), password);
}

/// Passwords too common to allow, lower case.
const COMMON: &str = include_str!("common-passwords.txt");

fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON.lines().filter(|line| !line.starts_with('#')).any(|common| common == lower)
}

/// Whether the password is one run along the keyboard, the alphabet or the
/// digits (qwertyuiop, abcdefgh, 98765432), forwards or backwards.
fn is_sequence(password: &str) -> bool {
    const RUNS: [&str; 6] = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz", "01234567890", "1qaz2wsx3edc4rfv5tgb"];
    let lower = password.to_lowercase();
    let reversed: String = lower.chars().rev().collect();
    RUNS.iter().any(|run| run.contains(lower.as_str()) || run.contains(reversed.as_str()))
}

/// The classes of character a password draws on: lower case, upper case,
/// digits, and anything else (punctuation, Chinese …).
fn classes(password: &str) -> usize {
    let mut found = [false; 4];
    for c in password.chars() {
        let class = if c.is_ascii_lowercase() {
            0
        } else if c.is_ascii_uppercase() {
            1
        } else if c.is_ascii_digit() {
            2
        } else {
            3
        };
        found[class] = true;
    }
    found.iter().filter(|found| **found).count()
}

/// Why a new password is refused: the rule it breaks, named in Chinese
/// with the rule's code, for the user.
pub fn check_strength(password: &str, username: &str, policy: &duban_dto::api::SecurityPolicy) -> Result<(), (&'static str, String)> {
    let length = password.chars().count();
    let minimum = policy.password_min_length as usize;
    if length < minimum {
        return Err(("password_too_short", format!("密码至少 {minimum} 位（the password must have at least {minimum} characters）")));
    }
    if length > duban_dto::limits::PASSWORD {
        let maximum = duban_dto::limits::PASSWORD;
        return Err(("password_too_long", format!("密码至多 {maximum} 位（at most {maximum} characters）")));
    }
    let needed = policy.password_min_classes as usize;
    if classes(password) < needed {
        return Err((
            "password_too_simple",
            format!("密码须包含小写字母、大写字母、数字、其他字符中的至少 {needed} 类（at least {needed} of the 4 classes of character）"),
        ));
    }
    if password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(("password_contains_username", "密码不得包含用户名（the password must not contain the username）".to_owned()));
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) || is_common(password) || is_sequence(password) {
        return Err((
            "password_common",
            "密码过于常见或容易猜测（a well-known password, a run of keys or one repeated character）".to_owned(),
        ));
    }
    Ok(())
}

/// Refuses the demo accounts' published password for any real account.
pub fn check_not_published(password: &str, published: &str) -> Result<(), (&'static str, String)> {
    if password == published {
        return Err(("password_common", "演示账户的密码是公开的，请另选（the demo accounts' password is published）".to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let first = hash("correct horse battery");
        let second = hash("correct horse battery");
        assert!(first.starts_with("$argon2id$"));
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify(&first, "correct horse battery"));
        assert!(!verify(&first, "correct horse battery!"));
        assert!(!verify("not a hash", "anything"));
    }

    #[test]
    fn refuses_weak_passwords_by_the_policy() {
        let policy = duban_dto::api::SecurityPolicy::default();
        let code = |password: &str| check_strength(password, "zhang", &policy).err().map(|(code, _)| code);
        assert_eq!(code("Sh0rt!"), Some("password_too_short"));
        assert_eq!(code("onlylowercase"), Some("password_too_simple"));
        assert_eq!(code("lower-and-digits-2026"), None, "three classes");
        assert_eq!(code("罗平县法治政府建设2026ab"), None, "Chinese counts as another class");
        assert_eq!(code("Zhang-2026-pass"), Some("password_contains_username"));
        for common in ["Password123", "1qaz2wsx3edc", "Password@123"] {
            assert!(code(common).is_some(), "{common}");
        }
        let lenient = duban_dto::api::SecurityPolicy { password_min_classes: 1, ..policy.clone() };
        assert!(check_strength("onlylowercase", "zhang", &lenient).is_ok());
        assert!(check_not_published("demo-password", "demo-password").is_err());
    }
}
