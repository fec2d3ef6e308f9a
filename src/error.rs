//! cderun's own errors and the exit-code table (SPEC §10).
//!
//! Every failure cderun detects itself ends the process with one
//! `cderun: error: ...` line, an optional `hint: ...` line, and exit code 125.
//! The exceptions follow `docker run` and the shell: 127 when no runtime can
//! be found or the container's command does not exist, 126 when it cannot be
//! executed. The tool's own exit code is not an error: the CLI transport
//! execs the runtime, and the Engine API transport returns the code.

use std::fmt;

/// Exit code for every error cderun detects itself (usage, config, resolution,
/// depth, path translation), matching `docker run`.
pub const EXIT_CDERUN: i32 = 125;
/// Exit code when no runtime binary can be found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// An error a person can act on: what failed, and optionally what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    hint: Option<String>,
    code: i32,
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A cderun error (exit 125).
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            hint: None,
            code: EXIT_CDERUN,
        }
    }

    /// The runtime binary is missing (exit 127).
    pub fn not_found(message: impl Into<String>) -> Self {
        Error {
            code: EXIT_NOT_FOUND,
            ..Error::new(message)
        }
    }

    /// An error with a specific exit code (such as 126 for a command that
    /// cannot be executed, as `docker run` reports it).
    pub fn exit(code: i32, message: impl Into<String>) -> Self {
        Error {
            code,
            ..Error::new(message)
        }
    }

    /// Adds the line printed after the error, saying what to do about it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The one-line message, without the `cderun: error: ` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The hint line, if any.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        self.code
    }
}

impl fmt::Display for Error {
    /// The exact text printed on stderr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cderun: error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// `bail!`-style constructor: `err!("no image for '{}'", tool)`.
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::error::Error::new(format!($($arg)*)) };
}

/// The closest candidate to `word`, if one is close enough to be a typo;
/// used for "did you mean" hints on flags and config keys.
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .map(|c| (strsim::damerau_levenshtein(&word, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_prefix_and_hint_line() {
        let e = Error::new("no image configured for tool 'node'")
            .with_hint("add 'node: {image: ...}' to .tools.yaml or pass --image");
        assert_eq!(
            e.to_string(),
            "cderun: error: no image configured for tool 'node'\n\
             hint: add 'node: {image: ...}' to .tools.yaml or pass --image"
        );
        assert_eq!(e.exit_code(), 125);
        assert_eq!(Error::not_found("x").exit_code(), 127);
    }

    #[test]
    fn nearest_finds_typos_case_insensitively() {
        let keys = ["image", "mountCderun", "mountCwd", "network"];
        assert_eq!(
            nearest("mountcderun", keys.into_iter()),
            Some("mountCderun")
        );
        assert_eq!(nearest("imgae", keys.into_iter()), Some("image"));
        assert_eq!(nearest("completely-else", keys.into_iter()), None);
    }
}
