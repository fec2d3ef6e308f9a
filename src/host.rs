//! The execution host as cderun sees it, gathered once at the edge.
//!
//! Everything the pipeline would otherwise read from process-global state
//! (environment variables, the current directory, the user's ids, whether
//! stdin/stdout are terminals, where the running binary lives) is captured
//! here, so resolution and nesting are pure functions of their inputs and
//! tests can build a `Host` by hand instead of mutating the process.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::PathBuf;

/// A snapshot of the execution host.
#[derive(Debug, Clone)]
pub struct Host {
    /// The process environment.
    pub env: BTreeMap<OsString, OsString>,
    /// The current directory, as the kernel reports it.
    pub cwd: PathBuf,
    /// Real user id of the invoking user.
    pub uid: u32,
    /// Real group id of the invoking user.
    pub gid: u32,
    /// Whether stdin is a terminal.
    pub stdin_tty: bool,
    /// Whether stdout is a terminal.
    pub stdout_tty: bool,
    /// The running executable, if the OS can tell (symlinks are resolved
    /// only when it is needed, for `--mount-cderun`).
    pub current_exe: Option<PathBuf>,
    /// Directory of the system-wide config files (`/etc/cderun`).
    pub system_config_dir: PathBuf,
}

impl Host {
    /// Reads the real process state. The only place cderun touches
    /// `std::env` for resolution purposes.
    pub fn from_process() -> std::io::Result<Host> {
        let cwd = std::env::current_dir()?;
        // SAFETY: getuid/getgid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        Ok(Host {
            env: std::env::vars_os().collect(),
            cwd,
            uid,
            gid,
            stdin_tty: std::io::stdin().is_terminal(),
            stdout_tty: std::io::stdout().is_terminal(),
            current_exe: std::env::current_exe().ok(),
            system_config_dir: PathBuf::from("/etc/cderun"),
        })
    }

    /// A variable's value; `None` when unset.
    pub fn var(&self, name: &str) -> Option<&OsStr> {
        self.env.get(OsStr::new(name)).map(OsString::as_os_str)
    }

    /// A variable's value when set and non-empty. Empty variables count as
    /// unset for paths such as `HOME` and `XDG_CONFIG_HOME`, as in the XDG spec.
    pub fn non_empty_var(&self, name: &str) -> Option<&OsStr> {
        self.var(name).filter(|v| !v.is_empty())
    }

    /// The invoking user's home directory (`$HOME`).
    pub fn home(&self) -> Option<PathBuf> {
        self.non_empty_var("HOME").map(PathBuf::from)
    }
}
