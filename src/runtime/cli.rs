//! The runtime's own CLI (SPEC §9): `docker run ...` as a list of
//! `OsString`s, never through a shell, then `exec` so the runtime owns the
//! terminal, the signals and the exit code.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use tracing::debug;

use crate::container::{ContainerConfig, Mount};
use crate::error::Error;
use crate::runtime::Runtime;

/// The arguments after the runtime binary. The dry run (`-f command`), the
/// tests and the real exec all use this one function.
pub fn run_argv(cfg: &ContainerConfig) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["run".into()];
    let mut flag = |on: bool, f: &str| {
        if on {
            argv.push(f.into());
        }
    };
    flag(cfg.remove, "--rm");
    flag(cfg.tty, "-t");
    flag(cfg.interactive, "-i");
    argv.extend(["--network".into(), cfg.network.clone().into()]);
    for m in &cfg.volumes {
        add_mount(&mut argv, m);
    }
    for e in &cfg.env {
        argv.extend(["-e".into(), e.clone()]);
    }
    if let Some(w) = &cfg.workdir {
        argv.extend(["-w".into(), w.clone().into_os_string()]);
    }
    if let Some(u) = &cfg.user {
        argv.extend(["--user".into(), u.into()]);
    }
    if let Some(e) = &cfg.entrypoint {
        argv.extend(["--entrypoint".into(), e.into()]);
    }
    for (k, v) in &cfg.labels {
        argv.extend(["--label".into(), format!("{k}={v}").into()]);
    }
    argv.push(cfg.image.clone().into());
    argv.extend(cfg.command.iter().cloned());
    argv.extend(cfg.args.iter().cloned());
    argv
}

/// `-v src:dst[:ro]`, or `--mount type=bind,...` when a path contains `:` or
/// `,` (which `-v` cannot express). In `--mount`, fields are CSV: a field
/// with `,` or `"` is double-quoted with `"` doubled.
fn add_mount(argv: &mut Vec<OsString>, m: &Mount) {
    let src = m.host_path.as_os_str().as_bytes();
    let dst = m.container_path.as_os_str().as_bytes();
    let awkward = |p: &[u8]| p.iter().any(|b| matches!(b, b':' | b','));
    if !awkward(src) && !awkward(dst) {
        let mut v = OsString::from(&m.host_path);
        v.push(":");
        v.push(&m.container_path);
        if m.read_only {
            v.push(":ro");
        }
        argv.extend(["-v".into(), v]);
        return;
    }
    let mut spec = b"type=bind".to_vec();
    for (key, value) in [(&b"source="[..], src), (b"target=", dst)] {
        spec.push(b',');
        let field = [key, value].concat();
        if field.iter().any(|b| matches!(b, b',' | b'"')) {
            spec.push(b'"');
            for &b in &field {
                if b == b'"' {
                    spec.push(b'"');
                }
                spec.push(b);
            }
            spec.push(b'"');
        } else {
            spec.extend_from_slice(&field);
        }
    }
    if m.read_only {
        spec.extend_from_slice(b",readonly");
    }
    argv.extend(["--mount".into(), OsString::from_vec(spec)]);
}

/// The runtime CLI transport.
#[derive(Debug, Clone)]
pub struct Cli {
    /// The runtime binary (`docker`, `podman`, `nerdctl`, or `$DOCKER`).
    pub binary: PathBuf,
}

impl Runtime for Cli {
    /// Replaces this process with `<binary> run ...`; returns only when the
    /// exec itself failed.
    fn run(&self, cfg: &ContainerConfig) -> crate::error::Result<i32> {
        let argv = run_argv(cfg);
        debug!(
            "runtime argv: {}",
            shell_join(
                std::iter::once(self.binary.as_os_str())
                    .chain(argv.iter().map(OsString::as_os_str))
            )
            .to_string_lossy()
        );
        let e = Command::new(&self.binary).args(&argv).exec();
        let message = format!("cannot run {}: {e}", self.binary.display());
        // As a shell reports a command it cannot run.
        Err(match e.kind() {
            std::io::ErrorKind::NotFound => Error::not_found(message),
            std::io::ErrorKind::PermissionDenied => Error::exit(126, message),
            _ => Error::new(message),
        })
    }
}

/// Words joined and shell-quoted so pasting them into sh gives back the same
/// words (SPEC §7: the `command` dry-run format).
/// Bytes that are not UTF-8 are kept as they are, so the line still runs the
/// same argv.
pub fn shell_join<'a>(words: impl IntoIterator<Item = &'a OsStr>) -> OsString {
    // Words come from argv, files or the environment, which cannot hold NUL
    // bytes, the only thing shlex refuses to quote.
    let quoted = shlex::bytes::try_join(words.into_iter().map(OsStr::as_bytes)).unwrap_or_default();
    OsString::from_vec(quoted)
}

/// Why no runtime CLI binary can be used.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    /// The error to report (exit 127).
    pub error: Error,
    /// `DOCKER` or `runtimePath` named a binary that is not there: a
    /// configuration mistake to report, never a reason to use another
    /// binary or transport.
    pub explicit: bool,
}

/// Finds the runtime binary: `DOCKER`, then `runtimePath`, then the name on
/// PATH. An explicit setting that does not exist is not skipped: it is the
/// error, since falling back would run a different runtime than asked.
pub fn locate(
    docker_env: Option<&OsStr>,
    runtime_path: Option<&Path>,
    name: &str,
    path_var: Option<&OsStr>,
    cwd: &Path,
) -> Result<PathBuf, Missing> {
    let explicit = |error: Error| Missing {
        error,
        explicit: true,
    };
    if let Some(d) = docker_env.filter(|d| !d.is_empty()) {
        let p = if d.as_bytes().contains(&b'/') {
            cwd.join(d)
        } else {
            return which::which_in(d, path_var, cwd).map_err(|_| {
                explicit(
                    Error::not_found(format!(
                        "runtime binary not found: DOCKER={} is not on PATH",
                        d.to_string_lossy()
                    ))
                    .with_hint("set DOCKER to the runtime's path, or unset it"),
                )
            });
        };
        return executable(&p).ok_or_else(|| {
            explicit(
                Error::not_found(format!(
                    "runtime binary not found: DOCKER={} is not an executable file",
                    d.to_string_lossy()
                ))
                .with_hint("set DOCKER to the runtime's path, or unset it"),
            )
        });
    }
    if let Some(p) = runtime_path {
        return executable(p).ok_or_else(|| {
            explicit(
                Error::not_found(format!(
                    "runtime binary not found: runtimePath {} is not an executable file",
                    p.display()
                ))
                .with_hint("fix runtimePath in .cderun.yaml, or remove it to search PATH"),
            )
        });
    }
    which::which_in(name, path_var, cwd).map_err(|_| Missing {
        error: Error::not_found(format!(
            "runtime binary not found: '{name}' is not on PATH, DOCKER is not set and no runtimePath is configured"
        ))
        .with_hint(format!(
            "install {name}, or set DOCKER / runtimePath to its path, or pick another --runtime"
        )),
        explicit: false,
    })
}

fn executable(p: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(p).ok()?;
    (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then(|| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ContainerConfig {
        crate::container::sample()
    }

    fn strs(v: &[OsString]) -> Vec<String> {
        v.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn argv_in_spec_order() {
        assert_eq!(
            strs(&run_argv(&cfg())),
            [
                "run",
                "--rm",
                "-t",
                "-i",
                "--network",
                "bridge",
                "-v",
                "/h:/c:ro",
                "-e",
                "A=1",
                "-w",
                "/w",
                "--user",
                "1000:1000",
                "--entrypoint",
                "",
                "--label",
                "io.cderun.depth=1",
                "--label",
                "io.cderun.tool=node",
                "node:20",
                "node",
                "--version",
                ""
            ]
        );
    }

    #[test]
    fn awkward_paths_use_the_mount_form() {
        let mut c = cfg();
        c.volumes = vec![
            Mount {
                host_path: "/a:b".into(),
                container_path: "/c".into(),
                read_only: false,
            },
            Mount {
                host_path: "/x,y".into(),
                container_path: "/q\"z,".into(),
                read_only: true,
            },
        ];
        let argv = strs(&run_argv(&c));
        assert_eq!(
            argv[6..10],
            [
                "--mount",
                "type=bind,source=/a:b,target=/c",
                "--mount",
                "type=bind,\"source=/x,y\",\"target=/q\"\"z,\",readonly"
            ]
        );
    }

    #[test]
    fn shell_join_quotes_for_sh() {
        let line = shell_join(["/usr/bin/docker", "run", "a b", "", "it's"].map(OsStr::new));
        assert_eq!(line, r#"/usr/bin/docker run 'a b' '' "it's""#);
        let raw = shell_join([OsStr::from_bytes(b"caf\xe9 x")]);
        assert_eq!(raw.as_bytes(), b"'caf\xe9 x'");
    }

    #[test]
    fn locate_order_and_errors() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let bin = t.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let fake = bin.join("docker");
        std::fs::write(&fake, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = bin.as_os_str();
        let other = t.path().join("other");
        std::fs::write(&other, "").unwrap();
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o755)).unwrap();

        assert_eq!(
            locate(None, None, "docker", Some(path), t.path()).unwrap(),
            fake
        );
        assert_eq!(
            locate(None, Some(&other), "docker", Some(path), t.path()).unwrap(),
            other
        );
        assert_eq!(
            locate(
                Some(other.as_os_str()),
                Some(&fake),
                "docker",
                Some(path),
                t.path()
            )
            .unwrap(),
            other
        );

        let m = locate(None, None, "podman", Some(path), t.path()).unwrap_err();
        assert_eq!((m.error.exit_code(), m.explicit), (127, false));
        assert!(m.error.message().contains("'podman' is not on PATH"));
        let nope = Some(OsStr::new("/nope/docker"));
        let m = locate(nope, None, "docker", Some(path), t.path()).unwrap_err();
        assert_eq!(
            m.error.message(),
            "runtime binary not found: DOCKER=/nope/docker is not an executable file"
        );
        assert!(m.explicit);
        let m = locate(
            None,
            Some(Path::new("/nope")),
            "docker",
            Some(path),
            t.path(),
        )
        .unwrap_err();
        assert_eq!((m.error.exit_code(), m.explicit), (127, true));
    }
}
