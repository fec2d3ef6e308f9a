//! Runtimes consume a [`ContainerConfig`] and nothing else (SPEC §9, §11).
//!
//! Two transports implement [`Runtime`]:
//! - [`cli::Cli`]: the runtime's own CLI (`docker run ...`), exec'd;
//! - [`api::Api`]: the Docker Engine API over a unix socket, for containers
//!   that have cderun and a socket mounted but no runtime CLI.
//!
//! [`select`] picks one: with `transport: auto`, the CLI when its binary
//! resolves, else the API when a socket exists, else exit 127 naming
//! everything that was tried.

pub mod api;
pub mod cli;

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::config::resolve::Resolved;
use crate::container::ContainerConfig;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::value::{RuntimeKind, Transport};

/// Something that can run a ContainerConfig to completion.
pub trait Runtime {
    /// Runs the container and returns the tool's exit code. The CLI
    /// transport replaces the process instead and only returns on failure.
    fn run(&self, cfg: &ContainerConfig) -> Result<i32>;
}

/// The transport chosen for this run, and why (for the debug log).
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// What to use.
    pub target: Target,
    /// One line saying why.
    pub why: String,
}

/// A concrete runtime endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The runtime CLI at this path.
    Cli(PathBuf),
    /// The Engine API on this unix socket.
    Api(PathBuf),
}

impl Choice {
    /// The runtime for this choice.
    pub fn runtime(&self) -> Box<dyn Runtime> {
        match &self.target {
            Target::Cli(binary) => Box::new(cli::Cli {
                binary: binary.clone(),
            }),
            Target::Api(socket) => Box::new(api::Api {
                socket: socket.clone(),
            }),
        }
    }
}

/// Where an Engine API socket may be, in order, each with what it is
/// called in messages: `DOCKER_HOST` (and `CONTAINER_HOST` for podman), the
/// socket this run mounts (`--mount-socket`, `CDERUN_MOUNT_SOCKET`), then
/// the runtime's default path. nerdctl has no Engine API: none.
pub fn socket_candidates(r: &Resolved, host: &Host) -> Vec<(String, Option<PathBuf>)> {
    // `unix://PATH` variables; any other scheme is named but unusable.
    let unix_var = |name: &str| match host.non_empty_var(name) {
        None => (name.to_owned(), None),
        Some(value) => {
            let text = value.to_string_lossy();
            match text.strip_prefix("unix://") {
                Some(path) => (name.to_owned(), Some(PathBuf::from(path))),
                None => (format!("{name}={text} (not a unix socket)"), None),
            }
        }
    };
    let mounted = || ("--mount-socket".to_owned(), r.mount_socket.clone());
    let default = |p: &str| (p.to_owned(), Some(PathBuf::from(p)));
    match r.runtime {
        RuntimeKind::Docker => vec![
            unix_var("DOCKER_HOST"),
            mounted(),
            default("/var/run/docker.sock"),
        ],
        RuntimeKind::Podman => vec![
            unix_var("CONTAINER_HOST"),
            unix_var("DOCKER_HOST"),
            mounted(),
            default("/run/podman/podman.sock"),
            default("/var/run/docker.sock"),
        ],
        RuntimeKind::Nerdctl => Vec::new(),
    }
}

fn is_socket(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket())
}

/// Picks the transport (SPEC §11). `cli` is the result of looking up the
/// runtime CLI; `sockets` the candidates of [`socket_candidates`], checked
/// with `exists`.
pub fn select(
    transport: Transport,
    cli: std::result::Result<PathBuf, cli::Missing>,
    sockets: &[(String, Option<PathBuf>)],
    exists: impl Fn(&Path) -> bool,
) -> Result<Choice> {
    let socket = || {
        sockets.iter().find_map(|(name, path)| {
            path.as_ref()
                .filter(|p| exists(p))
                .map(|p| (name.clone(), p.clone()))
        })
    };
    let tried_sockets = || {
        sockets
            .iter()
            .map(|(name, path)| match path {
                Some(_) if name.starts_with('/') => format!("{name} (missing)"),
                Some(p) => format!("{name}={} (missing)", p.display()),
                None if name.contains('(') => name.clone(),
                None => format!("{name} (unset)"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let api = |why: String| {
        socket()
            .map(|(name, path)| Choice {
                why: format!("{why}; Engine API socket {} from {name}", path.display()),
                target: Target::Api(path),
            })
            .ok_or_else(|| {
                Error::not_found(format!(
                    "no Engine API socket found: tried {}",
                    tried_sockets()
                ))
                .with_hint(
                    "mount the runtime socket (--mount-socket) or set DOCKER_HOST=unix://PATH",
                )
            })
    };
    match transport {
        Transport::Cli => cli
            .map(|b| Choice {
                why: format!("transport cli: runtime CLI {}", b.display()),
                target: Target::Cli(b),
            })
            .map_err(|m| m.error),
        Transport::Api => api("transport api".to_owned()),
        Transport::Auto => match cli {
            Ok(b) => Ok(Choice {
                why: format!("transport auto: runtime CLI found at {}", b.display()),
                target: Target::Cli(b),
            }),
            // DOCKER / runtimePath pointing nowhere is a mistake to report.
            Err(missing) if missing.explicit => Err(missing.error),
            Err(cli::Missing { error: cli_err, .. }) => api(format!("transport auto: {}", cli_err.message())).map_err(|_| {
                Error::not_found(format!(
                    "{}, and no Engine API socket was found (tried {})",
                    cli_err.message(),
                    tried_sockets()
                ))
                .with_hint(
                    "install the runtime CLI, set DOCKER or runtimePath, or mount/point DOCKER_HOST at a runtime socket",
                )
            }),
        },
    }
}

/// [`select`] on the real host.
pub fn choose(r: &Resolved, host: &Host) -> Result<Choice> {
    if r.runtime == RuntimeKind::Nerdctl && r.transport == Transport::Api {
        return Err(
            crate::err!("nerdctl has no Engine API: transport api cannot drive it")
                .with_hint("use transport cli (or auto) with nerdctl"),
        );
    }
    select(
        r.transport,
        locate_cli(r, host),
        &socket_candidates(r, host),
        is_socket,
    )
}

/// The runtime CLI binary for this run (SPEC §9).
pub fn locate_cli(r: &Resolved, host: &Host) -> std::result::Result<PathBuf, cli::Missing> {
    cli::locate(
        host.var("DOCKER"),
        r.runtime_path.as_deref(),
        r.runtime.name(),
        host.var("PATH"),
        &host.cwd,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sockets(docker_host: Option<&str>, mounted: Option<&str>) -> Vec<(String, Option<PathBuf>)> {
        vec![
            ("DOCKER_HOST".into(), docker_host.map(PathBuf::from)),
            ("--mount-socket".into(), mounted.map(PathBuf::from)),
            (
                "/var/run/docker.sock".into(),
                Some("/var/run/docker.sock".into()),
            ),
        ]
    }

    fn cli_missing() -> std::result::Result<PathBuf, cli::Missing> {
        Err(cli::Missing {
            error: Error::not_found("runtime binary not found: 'docker' is not on PATH"),
            explicit: false,
        })
    }

    #[test]
    fn auto_prefers_the_cli() {
        let c = select(
            Transport::Auto,
            Ok("/usr/bin/docker".into()),
            &sockets(Some("/s"), None),
            |_| true,
        )
        .unwrap();
        assert_eq!(c.target, Target::Cli("/usr/bin/docker".into()));
    }

    #[test]
    fn auto_falls_back_to_the_first_existing_socket() {
        let s = sockets(Some("/gone"), Some("/run/m.sock"));
        let c = select(Transport::Auto, cli_missing(), &s, |p| {
            p != Path::new("/gone")
        })
        .unwrap();
        assert_eq!(c.target, Target::Api("/run/m.sock".into()));
        assert!(c.why.contains("from --mount-socket"), "{}", c.why);
    }

    #[test]
    fn auto_with_nothing_is_127_naming_everything_tried() {
        let e = select(
            Transport::Auto,
            cli_missing(),
            &sockets(None, Some("/m")),
            |_| false,
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 127);
        assert_eq!(
            e.message(),
            "runtime binary not found: 'docker' is not on PATH, and no Engine API socket was found \
             (tried DOCKER_HOST (unset), --mount-socket=/m (missing), /var/run/docker.sock (missing))"
        );
    }

    #[test]
    fn a_broken_explicit_cli_is_reported_not_replaced_by_the_api() {
        let broken = Err(cli::Missing {
            error: Error::not_found(
                "runtime binary not found: DOCKER=/nope is not an executable file",
            ),
            explicit: true,
        });
        let e = select(Transport::Auto, broken, &sockets(Some("/s"), None), |_| {
            true
        })
        .unwrap_err();
        assert_eq!(
            e.message(),
            "runtime binary not found: DOCKER=/nope is not an executable file"
        );
    }

    #[test]
    fn explicit_transports_do_not_fall_back() {
        let e = select(
            Transport::Cli,
            cli_missing(),
            &sockets(Some("/s"), None),
            |_| true,
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 127);
        let c = select(
            Transport::Api,
            Ok("/usr/bin/docker".into()),
            &sockets(Some("/s"), None),
            |_| true,
        )
        .unwrap();
        assert_eq!(c.target, Target::Api("/s".into()));
        let e = select(
            Transport::Api,
            Ok("/usr/bin/docker".into()),
            &sockets(None, None),
            |_| false,
        )
        .unwrap_err();
        assert!(
            e.message()
                .starts_with("no Engine API socket found: tried DOCKER_HOST (unset)"),
            "{}",
            e.message()
        );
    }
}
