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
    /// The id of the container this process runs in, when it runs in one
    /// that cderun started (read only then).
    pub container_id: Option<String>,
}

/// The container id in `/proc/self/mountinfo`: Docker and Podman bind-mount
/// `/etc/hostname` and friends from `.../containers/<64 hex>/...` on the host.
pub fn container_id_in(mountinfo: &str) -> Option<String> {
    const MARK: &str = "containers/";
    mountinfo.lines().find_map(|line| {
        line.match_indices(MARK).find_map(|(at, _)| {
            let rest = &line[at + MARK.len()..];
            let id = rest.get(..64)?;
            (id.bytes().all(|b| b.is_ascii_hexdigit()) && rest[64..].starts_with('/'))
                .then(|| id.to_owned())
        })
    })
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
            container_id: std::env::var_os("CDERUN_DEPTH")
                .and_then(|_| std::fs::read_to_string("/proc/self/mountinfo").ok())
                .and_then(|m| container_id_in(&m)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_container_id_in_mountinfo() {
        let id = "6adf5b6c2e680d6161365b7c6e49ff98466c404e557386d7dad1640df38d3473";
        let docker = format!(
            "22 27 0:21 / /proc rw - proc proc rw\n89 72 254:0 /var/lib/docker/containers/{id}/resolv.conf /etc/resolv.conf rw - ext4 /dev/vda rw\n"
        );
        assert_eq!(container_id_in(&docker).as_deref(), Some(id));
        let podman = format!(
            "1 2 0:3 /var/lib/containers/storage/overlay-containers/{id}/userdata/hostname /etc/hostname rw\n"
        );
        assert_eq!(container_id_in(&podman).as_deref(), Some(id));
        assert_eq!(
            container_id_in("22 27 0:21 / /proc rw - proc proc rw\n"),
            None
        );
        assert_eq!(container_id_in("x /containers/abc/y\n"), None);
    }
}
