//! What the Engine API is asked: the create request built from a
//! [`ContainerConfig`], and the reference to pull.

use std::collections::HashMap;
use std::ffi::OsStr;

use bollard::errors::Error as ApiError;
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};

use crate::container::ContainerConfig;
use crate::err;
use crate::error::{Error, Result};

/// The create request for `cfg`: the same fields `docker run` would send.
/// The API speaks JSON, so every string must be UTF-8.
pub fn create_body(cfg: &ContainerConfig) -> Result<ContainerCreateBody> {
    let cmd: Vec<String> = cfg
        .command
        .iter()
        .chain(&cfg.args)
        .map(|a| utf8(a, "argument"))
        .collect::<Result<_>>()?;
    let env: Vec<String> = cfg
        .env
        .iter()
        .map(|e| utf8(e, "environment entry"))
        .collect::<Result<_>>()?;
    let mounts: Vec<Mount> = cfg
        .volumes
        .iter()
        .map(|m| {
            Ok(Mount {
                typ: Some(MountType::BIND),
                source: Some(utf8(m.host_path.as_os_str(), "path")?),
                target: Some(utf8(m.container_path.as_os_str(), "path")?),
                read_only: Some(m.read_only),
                ..Mount::default()
            })
        })
        .collect::<Result<_>>()?;
    let workdir = cfg
        .workdir
        .as_ref()
        .map(|w| utf8(w.as_os_str(), "path"))
        .transpose()?;
    let console_size = cfg
        .tty
        .then(|| rustix::termios::tcgetwinsize(std::io::stdout()).ok())
        .flatten()
        .filter(|s| s.ws_row > 0 && s.ws_col > 0)
        .map(|s| vec![usize::from(s.ws_row), usize::from(s.ws_col)]);
    Ok(ContainerCreateBody {
        image: Some(cfg.image.clone()),
        cmd: (!cmd.is_empty()).then_some(cmd),
        // As `docker run --entrypoint ""`: an empty entrypoint resets it.
        entrypoint: cfg.entrypoint.as_ref().map(|e| vec![e.clone()]),
        env: (!env.is_empty()).then_some(env),
        working_dir: workdir,
        user: cfg.user.clone(),
        labels: Some(cfg.labels.clone().into_iter().collect::<HashMap<_, _>>()),
        tty: Some(cfg.tty),
        open_stdin: Some(cfg.interactive),
        stdin_once: Some(cfg.interactive),
        attach_stdin: Some(cfg.interactive),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        host_config: Some(HostConfig {
            network_mode: Some(cfg.network.clone()),
            mounts: (!mounts.is_empty()).then_some(mounts),
            // The daemon removes it even if cderun itself is killed.
            auto_remove: Some(cfg.remove),
            // Start at the right size (daemons that know ConsoleSize).
            console_size,
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    })
}

fn utf8(s: &OsStr, what: &str) -> Result<String> {
    s.to_str().map(str::to_owned).ok_or_else(|| {
        err!(
            "the Engine API cannot carry the non-UTF-8 {what} '{}'",
            s.to_string_lossy()
        )
        .with_hint("install the runtime CLI (transport cli) to pass non-UTF-8 bytes")
    })
}

/// `name[:tag]` → (name, tag) for a pull; `latest` when there is no tag, as
/// `docker pull` does (the API would otherwise pull every tag).
pub fn pull_reference(image: &str) -> (String, String) {
    if image.contains('@') {
        return (image.to_owned(), String::new());
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) => {
            let name = &image[..image.len() - tag.len() - 1];
            (name.to_owned(), tag.to_owned())
        }
        None => (image.to_owned(), "latest".to_owned()),
    }
}

/// The daemon's message for an API error (its own text when it sent one).
pub fn daemon_message(e: &ApiError) -> String {
    match e {
        ApiError::DockerResponseServerError { message, .. } => message.clone(),
        ApiError::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

/// `docker run`'s exit codes for a container that cannot start: 127 when
/// the command does not exist, 126 when it cannot be executed, else 125.
pub fn start_error(e: &ApiError) -> Error {
    let message = format!("cannot start the container: {}", daemon_message(e));
    if message.contains("executable file not found")
        || message.contains("no such file or directory")
    {
        Error::not_found(message).with_hint("check the tool's command and the image")
    } else if message.contains("permission denied") {
        Error::exit(126, message)
    } else {
        Error::new(message)
    }
}

/// An API call about the container failed.
pub fn api_error(action: &str, e: &ApiError) -> Error {
    err!("cannot {action} the container: {}", daemon_message(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::Mount as CfgMount;
    use bollard::models::{HostConfig, Mount, MountType};
    use std::collections::BTreeMap;
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    /// The shared sample, without a TTY, on the host network, with a `:` in
    /// a mount source (which the CLI could only pass with `--mount`).
    fn cfg() -> ContainerConfig {
        ContainerConfig {
            tty: false,
            network: "host".into(),
            volumes: vec![CfgMount {
                host_path: "/h/a:b".into(),
                container_path: "/c".into(),
                read_only: true,
            }],
            user: Some("1000:100".into()),
            labels: BTreeMap::from([("io.cderun.tool".into(), "node".into())]),
            ..crate::container::sample()
        }
    }

    #[test]
    fn create_body_maps_every_field() {
        let body = create_body(&cfg()).unwrap();
        let expected = ContainerCreateBody {
            image: Some("node:20".into()),
            cmd: Some(vec!["node".into(), "--version".into(), "".into()]),
            entrypoint: Some(vec![String::new()]),
            env: Some(vec!["A=1".into()]),
            working_dir: Some("/w".into()),
            user: Some("1000:100".into()),
            labels: Some(HashMap::from([("io.cderun.tool".into(), "node".into())])),
            tty: Some(false),
            open_stdin: Some(true),
            stdin_once: Some(true),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                mounts: Some(vec![Mount {
                    typ: Some(MountType::BIND),
                    source: Some("/h/a:b".into()),
                    target: Some("/c".into()),
                    read_only: Some(true),
                    ..Mount::default()
                }]),
                auto_remove: Some(true),
                ..HostConfig::default()
            }),
            ..ContainerCreateBody::default()
        };
        assert_eq!(body, expected);
    }

    #[test]
    fn empty_command_and_no_entrypoint_leave_the_image_defaults() {
        let mut c = cfg();
        c.command.clear();
        c.args.clear();
        c.entrypoint = None;
        c.volumes.clear();
        c.env.clear();
        let body = create_body(&c).unwrap();
        assert_eq!((body.cmd, body.entrypoint, body.env), (None, None, None));
        assert_eq!(body.host_config.unwrap().mounts, None);
    }

    #[test]
    fn non_utf8_is_a_clear_error() {
        let mut c = cfg();
        c.args.push(OsString::from_vec(b"caf\xe9".to_vec()));
        let e = create_body(&c).unwrap_err();
        assert_eq!(
            e.message(),
            "the Engine API cannot carry the non-UTF-8 argument 'caf\u{fffd}'"
        );
    }

    #[test]
    fn pull_references_get_latest_only_when_untagged() {
        let p = |s: &str| pull_reference(s);
        assert_eq!(p("node"), ("node".into(), "latest".into()));
        assert_eq!(p("node:20-alpine"), ("node".into(), "20-alpine".into()));
        assert_eq!(
            p("localhost:5000/team/tool"),
            ("localhost:5000/team/tool".into(), "latest".into())
        );
        assert_eq!(
            p("localhost:5000/team/tool:1.2"),
            ("localhost:5000/team/tool".into(), "1.2".into())
        );
        assert_eq!(
            p("alpine@sha256:abc"),
            ("alpine@sha256:abc".into(), String::new())
        );
    }

    #[test]
    fn start_errors_map_to_docker_run_codes() {
        let e = |m: &str| {
            start_error(&ApiError::DockerResponseServerError {
                status_code: 400,
                message: m.into(),
            })
        };
        assert_eq!(
            e("exec: \"nope\": executable file not found in $PATH").exit_code(),
            127
        );
        assert_eq!(e("exec: \"/x\": permission denied").exit_code(), 126);
        assert_eq!(e("invalid mount config").exit_code(), 125);
    }
}
