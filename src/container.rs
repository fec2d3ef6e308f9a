//! `ContainerConfig`: the one value every runtime consumes (SPEC §7), and
//! how a [`Resolved`] becomes one on this execution host (terminals, the cwd
//! mount, nesting and self-mounts, SPEC §6, §8, §9).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};
use tracing::debug;

use crate::config::resolve::{Resolved, env_key, last_wins};
use crate::err;
use crate::error::Result;
use crate::host::Host;
use crate::nesting::{self, HostMounts, Nesting};
use crate::value::Switch;

/// A bind mount as the runtime will see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mount {
    /// Source on the base host (already translated when nested).
    #[serde(serialize_with = "lossy")]
    pub host_path: PathBuf,
    /// Target in the container.
    #[serde(serialize_with = "lossy")]
    pub container_path: PathBuf,
    /// Mounted read-only.
    pub read_only: bool,
}

/// Everything needed to start the container, and nothing else.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerConfig {
    /// Image reference.
    pub image: String,
    /// argv prefix run in the container.
    #[serde(serialize_with = "lossy_list")]
    pub command: Vec<OsString>,
    /// Passthrough arguments, after `command`.
    #[serde(serialize_with = "lossy_list")]
    pub args: Vec<OsString>,
    /// Allocate a pseudo-TTY.
    pub tty: bool,
    /// Keep stdin attached.
    pub interactive: bool,
    /// Remove the container when it exits.
    pub remove: bool,
    /// Network.
    pub network: String,
    /// Bind mounts, in order.
    pub volumes: Vec<Mount>,
    /// `KEY=value` entries.
    #[serde(serialize_with = "lossy_list")]
    pub env: Vec<OsString>,
    /// Working directory.
    #[serde(serialize_with = "lossy_opt")]
    pub workdir: Option<PathBuf>,
    /// `--user`.
    pub user: Option<String>,
    /// `--entrypoint`.
    pub entrypoint: Option<String>,
    /// Labels (`io.cderun.*`).
    pub labels: BTreeMap<String, String>,
}

/// A ContainerConfig plus the host-side work to do before starting it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The container.
    pub config: ContainerConfig,
    /// Missing volume directories to create on the execution host (as the
    /// invoking user) right before the runtime starts.
    pub create_dirs: Vec<PathBuf>,
}

/// Label naming the tool.
pub const LABEL_TOOL: &str = "io.cderun.tool";
/// Label holding the container's depth.
pub const LABEL_DEPTH: &str = "io.cderun.depth";
/// Label naming the container whose cderun started this one (nested runs
/// only), so stopping a container by force can also remove what was
/// started from inside it.
pub const LABEL_PARENT: &str = "io.cderun.parent";

/// Builds the ContainerConfig for this execution host. Pure apart from
/// reading whether paths exist.
pub fn plan(r: &Resolved, host: &Host) -> Result<Plan> {
    let nesting = Nesting::from_host(host)?;
    let depth = nesting.check_depth(r.max_depth)?;

    let mut volumes = Vec::new();
    let mut create_dirs = Vec::new();
    let cwd_mounted = mount_cwd(r, host, &nesting, &mut volumes);
    for v in &r.volumes {
        if std::fs::symlink_metadata(&v.host).is_err() {
            create_dirs.push(v.host.clone());
        }
        // Nested, a symlink would be followed on the base host, where it may
        // point elsewhere: translate the path it resolves to here.
        let real = match nesting.host_mounts {
            Some(_) => std::fs::canonicalize(&v.host).unwrap_or_else(|_| v.host.clone()),
            None => v.host.clone(),
        };
        volumes.push(Mount {
            host_path: nesting.translate(&real)?,
            container_path: v.container.clone(),
            read_only: v.read_only,
        });
    }
    if let Some(socket) = &r.mount_socket {
        check_socket(socket)?;
        volumes.push(Mount {
            host_path: nesting.translate(socket)?,
            container_path: socket.clone(),
            read_only: false,
        });
    }
    if r.mount_cderun {
        let binary = cderun_binary(r, host)?;
        let source = nesting.translate(&binary)?;
        let targets = std::iter::once(PathBuf::from(nesting::BINARY_IN_CONTAINER)).chain(
            r.mount_tools
                .iter()
                .map(|t| Path::new(nesting::SHIM_DIR).join(t)),
        );
        for target in targets {
            volumes.push(Mount {
                host_path: source.clone(),
                container_path: target,
                read_only: true,
            });
        }
    }

    // A self-mount replaces a user volume at the same path (the runtime
    // refuses two mounts at one target).
    let volumes = last_wins(volumes, |m| m.container_path.clone());

    // cderun's own variables come last, so they replace same-named entries.
    let mut env = r.env.clone();
    let mut set = |key: &str, value: OsString| {
        let mut entry = OsString::from(format!("{key}="));
        entry.push(&value);
        env.push(entry);
    };
    if let Some(socket) = &r.mount_socket {
        let mut url = OsString::from("unix://");
        url.push(socket);
        set(r.runtime.socket_env(), url);
    }
    if r.mount_cderun {
        let map = HostMounts::from_pairs(
            volumes
                .iter()
                .map(|m| (m.container_path.clone(), m.host_path.clone())),
        );
        set(nesting::DEPTH_VAR, depth.to_string().into());
        set(nesting::HOST_MOUNTS_VAR, map.to_json()?.into());
        if let Some(socket) = &r.mount_socket {
            set(nesting::SOCKET_VAR, socket.clone().into_os_string());
        }
    }

    let env = last_wins(env, |e| env_key(e).to_vec());

    let (tty, interactive) = terminals(r, host);
    let workdir = r
        .workdir
        .clone()
        .or_else(|| cwd_mounted.then(|| host.cwd.clone()));
    let mut labels = BTreeMap::from([
        (LABEL_TOOL.to_owned(), r.tool.to_string_lossy().into_owned()),
        (LABEL_DEPTH.to_owned(), depth.to_string()),
    ]);
    if let Some(parent) = &host.container_id {
        labels.insert(LABEL_PARENT.to_owned(), parent.clone());
    }
    Ok(Plan {
        config: ContainerConfig {
            image: r.image.clone(),
            command: r.command.clone(),
            args: r.args.clone(),
            tty,
            interactive,
            remove: r.remove,
            network: r.network.clone(),
            volumes,
            env,
            workdir,
            user: r.user.clone(),
            entrypoint: r.entrypoint.clone(),
            labels,
        },
        create_dirs,
    })
}

/// Adds the automatic cwd mount (SPEC §6) and says whether the cwd is
/// available in the container (mounted here, or by an explicit volume).
fn mount_cwd(r: &Resolved, host: &Host, nesting: &Nesting, volumes: &mut Vec<Mount>) -> bool {
    if !r.mount_cwd {
        return false;
    }
    if host.cwd == Path::new("/") {
        debug!("not mounting the current directory: it is /");
        return false;
    }
    if r.volumes.iter().any(|v| v.container == host.cwd) {
        debug!(
            "current directory: an explicit volume targets {}",
            host.cwd.display()
        );
        return true;
    }
    match nesting.translate(&host.cwd) {
        Ok(source) => {
            volumes.push(Mount {
                host_path: source,
                container_path: host.cwd.clone(),
                read_only: false,
            });
            true
        }
        Err(e) => {
            debug!("not mounting the current directory: {}", e.message());
            false
        }
    }
}

/// `--mount-socket` must name a socket that exists here: otherwise the
/// runtime would create an empty, root-owned directory at that path and the
/// tool inside would find no daemon.
fn check_socket(socket: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let hint = "pass the runtime's socket, for example --mount-socket /var/run/docker.sock";
    match std::fs::metadata(socket) {
        Ok(m) if m.file_type().is_socket() => Ok(()),
        Ok(_) => Err(err!("{} is not a socket", socket.display()).with_hint(hint)),
        Err(e) => Err(err!("cannot use the socket {}: {e}", socket.display()).with_hint(hint)),
    }
}

/// The binary `--mount-cderun` mounts: `CDERUN_BINARY`, `cderunBinary`, or
/// the running executable (SPEC §8).
fn cderun_binary(r: &Resolved, host: &Host) -> Result<PathBuf> {
    let binary = r
        .cderun_binary
        .clone()
        .or_else(|| {
            let exe = host.current_exe.clone()?;
            Some(std::fs::canonicalize(&exe).unwrap_or(exe))
        })
        .ok_or_else(|| {
            err!("cannot find cderun's own executable to mount")
                .with_hint("set CDERUN_BINARY or cderunBinary in .cderun.yaml")
        })?;
    if !binary.is_file() {
        return Err(err!("cderun binary {} is not a file", binary.display())
            .with_hint("point CDERUN_BINARY or cderunBinary at a Linux build of cderun"));
    }
    Ok(binary)
}

/// `-t` and `-i` from the modes and the terminals (SPEC §9).
fn terminals(r: &Resolved, host: &Host) -> (bool, bool) {
    let terminals = host.stdin_tty && host.stdout_tty;
    let tty = match r.tty {
        Switch::Off => false,
        Switch::Auto => terminals,
        Switch::On => {
            if !terminals {
                debug!("not allocating a TTY: stdin or stdout is not a terminal");
            }
            terminals
        }
    };
    let interactive = match r.interactive {
        Switch::On => true,
        Switch::Off => false,
        Switch::Auto => !host.stdin_tty || tty,
    };
    (tty, interactive)
}

fn lossy<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

fn lossy_opt<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_some(&p.to_string_lossy()),
        None => s.serialize_none(),
    }
}

fn lossy_list<S: Serializer>(v: &[OsString], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| x.to_string_lossy()))
}

/// A ContainerConfig with every field set, for the runtimes' unit tests.
#[cfg(test)]
pub(crate) fn sample() -> ContainerConfig {
    ContainerConfig {
        image: "node:20".into(),
        command: vec!["node".into()],
        args: vec!["--version".into(), "".into()],
        tty: true,
        interactive: true,
        remove: true,
        network: "bridge".into(),
        volumes: vec![Mount {
            host_path: "/h".into(),
            container_path: "/c".into(),
            read_only: true,
        }],
        env: vec!["A=1".into()],
        workdir: Some("/w".into()),
        user: Some("1000:1000".into()),
        entrypoint: Some(String::new()),
        labels: BTreeMap::from([
            ("io.cderun.depth".into(), "1".into()),
            ("io.cderun.tool".into(), "node".into()),
        ]),
    }
}
