//! Recursive execution (SPEC §8, issue 3): the runtime socket, cderun itself
//! and its tool shims mounted into the container, the nesting metadata handed
//! to it, host-path translation when nested, and the depth limit.
//!
//! Every run compares the runtime's whole argv. The one word compared
//! differently is the `CDERUN_HOST_MOUNTS=<json>` value: its JSON is parsed
//! and compared as a whole map (key order in the text is not part of the
//! contract), while its position in the argv is still checked.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

use crate::support::*;

/// Three tools, so shims have something to pick from.
const TOOLS: &str = "node:\n  image: node:20\npython:\n  image: python:3\nruby:\n  image: ruby:3\n";

/// Stands in for `-e CDERUN_HOST_MOUNTS=<json>` in expected argvs.
const HOST_MOUNTS: &str = "CDERUN_HOST_MOUNTS=<compared as a parsed map>";

/// The cargo-built cderun with symlinks resolved: what `--mount-cderun`
/// mounts when neither `CDERUN_BINARY` nor `cderunBinary` is set.
fn own_binary() -> PathBuf {
    std::fs::canonicalize(assert_cmd::cargo::cargo_bin!("cderun")).unwrap()
}

fn p(path: &Path) -> String {
    path.to_str().expect("test paths are UTF-8").to_owned()
}

/// A socket inside the sandbox (the fake runtime never connects).
fn socket(s: &Sandbox) -> PathBuf {
    bind_socket(s, "run/docker.sock")
}

/// One expected bind mount.
#[derive(Debug, Clone)]
struct Mnt {
    host: String,
    container: String,
    ro: bool,
}

fn rw(host: impl AsRef<Path>, container: impl AsRef<Path>) -> Mnt {
    Mnt {
        host: p(host.as_ref()),
        container: p(container.as_ref()),
        ro: false,
    }
}

fn ro(host: impl AsRef<Path>, container: impl AsRef<Path>) -> Mnt {
    Mnt {
        ro: true,
        ..rw(host, container)
    }
}

/// The expected runtime call, built up field by field.
#[derive(Debug, Clone)]
struct Want {
    mounts: Vec<Mnt>,
    env: Vec<String>,
    workdir: Option<String>,
    depth: u32,
    tool: String,
    image: String,
    /// Command and passthrough arguments.
    words: Vec<String>,
    /// The expected `CDERUN_HOST_MOUNTS` map; `None` = derive it from
    /// `mounts` (the spec's definition) when `env` holds [`HOST_MOUNTS`].
    host_mounts: Option<BTreeMap<String, String>>,
}

impl Want {
    /// `tool` run as `[tool, args...]` from `cwd` with every setting at its
    /// default: the cwd mounted at the same path and used as the workdir.
    fn new(cwd: &Path, tool: &str, image: &str, args: &[&str]) -> Want {
        let mut words = vec![tool.to_owned()];
        words.extend(args.iter().map(|a| a.to_string()));
        Want {
            mounts: vec![rw(cwd, cwd)],
            env: Vec::new(),
            workdir: Some(p(cwd)),
            depth: 1,
            tool: tool.to_owned(),
            image: image.to_owned(),
            words,
            host_mounts: None,
        }
    }

    /// `node:20` running `node args...` in `proj/`.
    fn node(s: &Sandbox, args: &[&str]) -> Want {
        Want::new(&s.proj, "node", "node:20", args)
    }

    /// Adds the socket mount and its variable (`DOCKER_HOST` / `CONTAINER_HOST`).
    fn socket(mut self, sock: &Path, var: &str) -> Want {
        self.mounts.push(rw(sock, sock));
        self.env.push(format!("{var}=unix://{}", p(sock)));
        self
    }

    /// Adds cderun read-only at /usr/local/bin/cderun and at each shim, and
    /// the nesting variables (after the socket variable).
    fn cderun(mut self, binary: &Path, sock: &Path, shims: &[&str]) -> Want {
        self.mounts.push(ro(binary, "/usr/local/bin/cderun"));
        for shim in shims {
            self.mounts
                .push(ro(binary, format!("/usr/local/bin/{shim}")));
        }
        self.env.push(format!("CDERUN_DEPTH={}", self.depth));
        self.env.push(HOST_MOUNTS.to_owned());
        self.env.push(format!("CDERUN_MOUNT_SOCKET={}", p(sock)));
        self
    }

    /// The whole argv, with [`HOST_MOUNTS`] standing in for that one word.
    fn argv(&self) -> Vec<OsString> {
        let mut v = os(&["run", "--rm", "--network", "bridge"]);
        for m in &self.mounts {
            let ro = if m.ro { ":ro" } else { "" };
            v.extend(os(&[
                "-v".to_owned(),
                format!("{}:{}{ro}", m.host, m.container),
            ]));
        }
        for e in &self.env {
            v.extend(os(&["-e", e]));
        }
        if let Some(w) = &self.workdir {
            v.extend(os(&["-w", w]));
        }
        v.extend(os(&[
            "--label".to_owned(),
            format!("io.cderun.depth={}", self.depth),
            "--label".to_owned(),
            format!("io.cderun.tool={}", self.tool),
            self.image.clone(),
        ]));
        v.extend(os(&self.words));
        v
    }

    fn expected_host_mounts(&self) -> Option<BTreeMap<String, String>> {
        if !self.env.iter().any(|e| e == HOST_MOUNTS) {
            return None;
        }
        Some(self.host_mounts.clone().unwrap_or_else(|| {
            self.mounts
                .iter()
                .map(|m| (m.container.clone(), m.host.clone()))
                .collect()
        }))
    }

    /// Compares a recorded argv with this expectation.
    fn check(&self, actual: &[OsString]) {
        let (words, map) = split_host_mounts(actual);
        assert_eq!(words, self.argv(), "runtime argv");
        assert_eq!(map, self.expected_host_mounts(), "CDERUN_HOST_MOUNTS");
    }
}

/// The argv with the `CDERUN_HOST_MOUNTS=` word replaced by [`HOST_MOUNTS`],
/// and that word's JSON parsed. Fails on invalid JSON or several such words.
fn split_host_mounts(argv: &[OsString]) -> (Vec<OsString>, Option<BTreeMap<String, String>>) {
    let mut map = None;
    let words = argv
        .iter()
        .map(|w| {
            match w
                .to_str()
                .and_then(|w| w.strip_prefix("CDERUN_HOST_MOUNTS="))
            {
                Some(json) => {
                    assert!(map.is_none(), "CDERUN_HOST_MOUNTS passed twice: {argv:?}");
                    map = Some(parse_map(json));
                    OsString::from(HOST_MOUNTS)
                }
                None => w.clone(),
            }
        })
        .collect();
    (words, map)
}

fn parse_map(json: &str) -> BTreeMap<String, String> {
    serde_json::from_str(json).unwrap_or_else(|e| {
        panic!("CDERUN_HOST_MOUNTS is not a JSON object of strings ({e}): {json}")
    })
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(c, h)| (c.to_string(), h.to_string()))
        .collect()
}

/// cderun at `exe` (a copy or a symlink) run from `cwd`, with the same
/// hermetic environment as [`Sandbox::cmd`].
fn cmd_at(s: &Sandbox, exe: &Path, cwd: &Path) -> Command {
    let mut c = Command::new(exe);
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &s.home)
        .env("DOCKER", fake_docker())
        .env("FAKE_DOCKER_RECORD", &s.rec)
        .current_dir(cwd);
    c
}

/// Copies the cderun binary to `to` (executable). The copy is made under a
/// `cderun-*` name (not polyglot) and run once before it is renamed to `to`:
/// a process forked by another test thread while the copy was open for
/// writing can make exec fail with ETXTBSY for a moment.
fn copy_binary(to: &Path) {
    let dir = to.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let tmp = dir.join("cderun-copy-in-progress");
    std::fs::copy(own_binary(), &tmp).unwrap();
    for _ in 0..200 {
        match std::process::Command::new(&tmp).arg("--version").output() {
            Ok(out) if out.status.success() => {
                std::fs::rename(&tmp, to).unwrap();
                return;
            }
            Ok(out) => panic!("copied cderun does not run: {out:?}"),
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            Err(e) => panic!("cannot run the copied cderun: {e}"),
        }
    }
    panic!("the copied cderun stayed busy");
}

/// Runs `cmd` and checks cderun refused: exit 125, nothing on stdout, and
/// stderr is exactly `cderun: error: <message>` plus at most one hint line.
fn refuses(cmd: &mut Command, message: &str) -> Output {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "exit code; stderr: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "stdout");
    let mut lines = stderr.lines();
    assert_eq!(
        lines.next(),
        Some(format!("cderun: error: {message}").as_str()),
        "stderr: {stderr}"
    );
    let rest: Vec<&str> = lines.collect();
    assert!(
        rest.is_empty() || (rest.len() == 1 && rest[0].starts_with("hint: ")),
        "stderr has more than one error line and a hint: {stderr}"
    );
    out
}

/// The hint line of a refusal.
fn hint(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("hint: "))
        .unwrap_or_else(|| panic!("no hint in: {stderr}"))
        .to_owned()
}

// ---------------------------------------------------------------------------
// --mount-socket
// ---------------------------------------------------------------------------

#[test]
fn mount_socket_alone_mounts_it_at_the_same_path_and_sets_docker_host() {
    let s = Sandbox::new();
    s.tools("docker:\n  image: docker:cli\n");
    let sock = socket(&s);
    s.cmd()
        .arg("--mount-socket")
        .arg(&sock)
        .args(["docker", "ps"])
        .assert()
        .success()
        .stderr("");
    // No binary, no shims, no nesting variables: only the socket.
    Want::new(&s.proj, "docker", "docker:cli", &["ps"])
        .socket(&sock, "DOCKER_HOST")
        .check(&s.call().argv);
}

#[test]
fn mount_socket_accepts_a_unix_url() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .arg(format!("--mount-socket=unix://{}", p(&sock)))
        .args(["node", "--version"])
        .assert()
        .success();
    Want::node(&s, &["--version"])
        .socket(&sock, "DOCKER_HOST")
        .check(&s.call().argv);
}

#[test]
fn mount_socket_with_podman_sets_container_host() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .args(["--runtime", "podman", "--mount-socket"])
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    Want::node(&s, &[])
        .socket(&sock, "CONTAINER_HOST")
        .check(&s.call().argv);
}

#[test]
fn mount_socket_from_an_override_after_the_tool() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .args(["node", "a.js", "--cderun-mount-socket"])
        .arg(&sock)
        .arg("b")
        .assert()
        .success();
    Want::node(&s, &["a.js", "b"])
        .socket(&sock, "DOCKER_HOST")
        .check(&s.call().argv);
}

#[test]
fn mount_socket_from_cderun_mount_socket_env() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .env("CDERUN_MOUNT_SOCKET", format!("unix://{}", p(&sock)))
        .arg("node")
        .assert()
        .success();
    Want::node(&s, &[])
        .socket(&sock, "DOCKER_HOST")
        .check(&s.call().argv);
}

#[test]
fn mount_socket_layers_override_flag_over_env() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let from_env = bind_socket(&s, "env.sock");
    let from_flag = bind_socket(&s, "flag.sock");
    let from_override = bind_socket(&s, "override.sock");

    s.cmd()
        .env("CDERUN_MOUNT_SOCKET", &from_env)
        .arg("--mount-socket")
        .arg(&from_flag)
        .arg("node")
        .assert()
        .success();
    s.cmd()
        .env("CDERUN_MOUNT_SOCKET", &from_env)
        .arg("--mount-socket")
        .arg(&from_flag)
        .arg("node")
        .arg(format!("--cderun-mount-socket={}", p(&from_override)))
        .assert()
        .success();
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    Want::node(&s, &[])
        .socket(&from_flag, "DOCKER_HOST")
        .check(&calls[0].argv);
    Want::node(&s, &[])
        .socket(&from_override, "DOCKER_HOST")
        .check(&calls[1].argv);
}

#[test]
fn empty_mount_socket_disables_a_socket_from_the_environment() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .env("CDERUN_MOUNT_SOCKET", &sock)
        .args(["--mount-socket=", "node"])
        .assert()
        .success();
    s.cmd()
        .arg("--mount-socket")
        .arg(&sock)
        .args(["node", "--cderun-mount-socket="])
        .assert()
        .success();
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    for call in calls {
        assert_eq!(
            call.argv,
            default_argv(&s.proj, "node:20", &["node"], &[], "node")
        );
    }
}

#[test]
fn a_missing_or_non_socket_path_is_refused_and_nothing_is_created() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let missing = s.root().join("missing/docker.sock");
    let out = s
        .cmd()
        .arg("--mount-socket")
        .arg(&missing)
        .arg("node")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "cderun: error: cannot use the socket {}: No such file or directory (os error 2)\n\
             hint: pass the runtime's socket, for example --mount-socket /var/run/docker.sock\n",
            missing.display()
        )
    );
    assert!(!s.root().join("missing").exists());
    let file = s.write("plain.sock", "");
    refuses(
        s.cmd().arg("--mount-socket").arg(&file).arg("node"),
        &format!("{} is not a socket", file.display()),
    );
    s.assert_no_call();
}

#[test]
fn an_invalid_socket_is_refused() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    refuses(
        s.cmd()
            .args(["--mount-socket", "tcp://127.0.0.1:2375", "node"]),
        "unsupported socket 'tcp://127.0.0.1:2375': only unix sockets can be mounted",
    );
    s.assert_no_call();
}

// ---------------------------------------------------------------------------
// --mount-cderun, from every layer
// ---------------------------------------------------------------------------

#[test]
fn mount_cderun_mounts_the_binary_read_only_and_passes_the_nesting_env() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .arg("--mount-cderun")
        .arg("--mount-socket")
        .arg(&sock)
        .args(["node", "--version"])
        .assert()
        .success()
        .stderr("");
    let bin = own_binary();
    let mut want = Want::node(&s, &["--version"])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&bin, &sock, &[]);
    // Spelled out once: every bind mount, container path → base-host path.
    want.host_mounts = Some(map(&[
        (&p(&s.proj), &p(&s.proj)),
        (&p(&sock), &p(&sock)),
        ("/usr/local/bin/cderun", &p(&bin)),
    ]));
    want.check(&s.call().argv);
}

#[test]
fn mount_cderun_from_an_override_after_the_tool() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .args([
            "node",
            "--cderun-mount-cderun",
            "x",
            "--cderun-mount-socket",
        ])
        .arg(&sock)
        .assert()
        .success();
    Want::node(&s, &["x"])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&own_binary(), &sock, &[])
        .check(&s.call().argv);
}

#[test]
fn mount_cderun_from_cderun_mount_cderun_env() {
    for value in ["1", "true", "YES"] {
        let s = Sandbox::new();
        s.tools(TOOLS);
        let sock = socket(&s);
        s.cmd()
            .env("CDERUN_MOUNT_CDERUN", value)
            .env("CDERUN_MOUNT_SOCKET", &sock)
            .arg("node")
            .assert()
            .success();
        Want::node(&s, &[])
            .socket(&sock, "DOCKER_HOST")
            .cderun(&own_binary(), &sock, &[])
            .check(&s.call().argv);
    }
}

#[test]
fn mount_cderun_from_the_tool_entry() {
    // The seed's example: gemini-cli has mountCderun in .tools.yaml and the
    // socket comes from the command line.
    let s = Sandbox::new();
    s.tools("gemini-cli:\n  image: gemini-cli:latest\n  mountCderun: true\n");
    let sock = socket(&s);
    s.cmd()
        .arg("--mount-socket")
        .arg(&sock)
        .arg("gemini-cli")
        .assert()
        .success();
    Want::new(&s.proj, "gemini-cli", "gemini-cli:latest", &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&own_binary(), &sock, &[])
        .check(&s.call().argv);
}

#[test]
fn mount_cderun_from_cderun_yaml_defaults() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    s.cderun_yaml("defaults:\n  mountCderun: true\n");
    let sock = socket(&s);
    s.cmd()
        .env("CDERUN_MOUNT_SOCKET", &sock)
        .arg("node")
        .assert()
        .success();
    Want::node(&s, &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&own_binary(), &sock, &[])
        .check(&s.call().argv);
}

#[test]
fn mount_cderun_false_in_a_higher_layer_wins() {
    let cases: &[(&str, &str, &[&str])] = &[
        // tool entry true, flag false
        (
            "node:\n  image: node:20\n  mountCderun: true\n",
            "",
            &["--mount-cderun=false", "node"],
        ),
        // defaults true, tool entry false
        (
            "node:\n  image: node:20\n  mountCderun: false\n",
            "defaults:\n  mountCderun: true\n",
            &["node"],
        ),
        // flag true, override false
        (
            "node:\n  image: node:20\n",
            "",
            &["--mount-cderun", "node", "--cderun-mount-cderun=false"],
        ),
    ];
    for (tools, cderun_yaml, args) in cases {
        let s = Sandbox::new();
        s.tools(tools);
        if !cderun_yaml.is_empty() {
            s.cderun_yaml(cderun_yaml);
        }
        let sock = socket(&s);
        s.cmd()
            .env("CDERUN_MOUNT_SOCKET", &sock)
            .args(*args)
            .assert()
            .success();
        Want::node(&s, &[])
            .socket(&sock, "DOCKER_HOST")
            .check(&s.call().argv);
    }
}

#[test]
fn mount_cderun_with_podman_uses_container_host() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .args(["--runtime", "podman", "--mount-cderun", "--mount-socket"])
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    Want::node(&s, &[])
        .socket(&sock, "CONTAINER_HOST")
        .cderun(&own_binary(), &sock, &[])
        .check(&s.call().argv);
}

/// One way of asking for cderun: `.tools.yaml`, `.cderun.yaml` (empty = no
/// file), the environment, the command line.
type Layered<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

#[test]
fn mount_cderun_without_a_socket_from_any_layer_is_refused() {
    let cases: &[Layered] = &[
        (TOOLS, "", &[], &["--mount-cderun", "node"]),
        (TOOLS, "", &[], &["node", "--cderun-mount-cderun"]),
        (TOOLS, "", &[("CDERUN_MOUNT_CDERUN", "1")], &["node"]),
        (
            "node:\n  image: node:20\n  mountCderun: true\n",
            "",
            &[],
            &["node"],
        ),
        (TOOLS, "defaults:\n  mountCderun: true\n", &[], &["node"]),
    ];
    for (tools, cderun_yaml, env, args) in cases {
        let s = Sandbox::new();
        s.tools(tools);
        if !cderun_yaml.is_empty() {
            s.cderun_yaml(cderun_yaml);
        }
        let mut cmd = s.cmd();
        cmd.envs(env.iter().copied()).args(*args);
        refuses(&mut cmd, "--mount-cderun requires --mount-socket");
        s.assert_no_call();
    }
}

#[test]
fn emptying_the_socket_makes_mount_cderun_fail() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    refuses(
        s.cmd().env("CDERUN_MOUNT_SOCKET", &sock).args([
            "--mount-cderun",
            "--mount-socket=",
            "node",
        ]),
        "--mount-cderun requires --mount-socket",
    );
    s.assert_no_call();
}

#[test]
fn an_invalid_cderun_mount_cderun_is_refused_naming_the_variable() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let out = s
        .cmd()
        .env("CDERUN_MOUNT_CDERUN", "maybe")
        .arg("node")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("cderun: error: invalid CDERUN_MOUNT_CDERUN=maybe"),
        "{stderr}"
    );
    s.assert_no_call();
}

#[test]
fn config_files_are_not_mounted_or_passed_on() {
    // The seed: a nested cderun finds config by discovery or by variables
    // the user passes; cderun mounts neither file nor hands on their paths.
    let s = Sandbox::new();
    let tools = s.write("conf/tools.yaml", TOOLS);
    let config = s.write("conf/config.yaml", "defaults:\n  mountCderun: true\n");
    let sock = socket(&s);
    s.cmd()
        .env("CDERUN_TOOLS", &tools)
        .env("CDERUN_CONFIG", &config)
        .arg("--mount-socket")
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    Want::node(&s, &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&own_binary(), &sock, &[])
        .check(&s.call().argv);
}

// ---------------------------------------------------------------------------
// Which binary is mounted
// ---------------------------------------------------------------------------

#[test]
fn cderun_binary_env_beats_cderun_binary_in_cderun_yaml() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    let from_env = s.write("bin/from-env", "");
    let from_file = s.write("bin/from-file", "");
    s.cderun_yaml(&format!("cderunBinary: {}\n", p(&from_file)));
    s.cmd()
        .env("CDERUN_BINARY", &from_env)
        .arg("--mount-cderun")
        .arg("--mount-socket")
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    Want::node(&s, &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&from_env, &sock, &[])
        .check(&s.call().argv);
}

#[test]
fn cderun_binary_in_cderun_yaml_beats_the_running_executable() {
    // The spec's own example uses `~`: it is the execution host's home.
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    let linux = s.write("home/.config/cderun/bin/cderun-linux-amd64", "");
    s.cderun_yaml("cderunBinary: ~/.config/cderun/bin/cderun-linux-amd64\n");
    s.cmd()
        .arg("--mount-cderun")
        .arg("--mount-socket")
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    Want::node(&s, &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&linux, &sock, &[])
        .check(&s.call().argv);
}

#[test]
fn a_relative_cderun_binary_is_relative_to_cderun_yaml() {
    // Found from a subdirectory: the path is relative to the file, not the cwd.
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    let linux = s.write("bin/cderun-linux", "");
    s.cderun_yaml("cderunBinary: ../bin/cderun-linux\n");
    let sub = s.proj.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    s.cmd()
        .current_dir(&sub)
        .arg("--mount-cderun")
        .arg("--mount-socket")
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    Want::new(&sub, "node", "node:20", &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&linux, &sock, &[])
        .check(&s.call().argv);
}

#[test]
fn the_running_executable_is_mounted_with_symlinks_resolved() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    let link = s.root().join("bin/cderun");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin!("cderun"), &link).unwrap();
    cmd_at(&s, &link, &s.proj)
        .arg("--mount-cderun")
        .arg("--mount-socket")
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    let real = own_binary();
    assert_ne!(real, link);
    Want::node(&s, &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&real, &sock, &[])
        .check(&s.call().argv);
}

#[test]
fn a_cderun_binary_that_is_not_a_file_is_refused() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    let missing = s.root().join("bin/nope");
    let dir = s.root().join("home");
    for bad in [&missing, &dir] {
        refuses(
            s.cmd()
                .env("CDERUN_BINARY", bad)
                .arg("--mount-cderun")
                .arg("--mount-socket")
                .arg(&sock)
                .arg("node"),
            &format!("cderun binary {} is not a file", p(bad)),
        );
    }
    s.cderun_yaml(&format!("cderunBinary: {}\n", p(&missing)));
    refuses(
        s.cmd()
            .arg("--mount-cderun")
            .arg("--mount-socket")
            .arg(&sock)
            .arg("node"),
        &format!("cderun binary {} is not a file", p(&missing)),
    );
    s.assert_no_call();
}

#[test]
fn cderun_binary_is_ignored_unless_cderun_is_mounted() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    s.cmd()
        .env("CDERUN_BINARY", "/nonexistent/cderun")
        .arg("node")
        .assert()
        .success();
    assert_eq!(
        s.call().argv,
        default_argv(&s.proj, "node:20", &["node"], &[], "node")
    );
}

// ---------------------------------------------------------------------------
// Shims: --mount-tools and --mount-all-tools
// ---------------------------------------------------------------------------

#[test]
fn mount_tools_mounts_the_binary_as_each_tool_and_implies_mount_cderun() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .args(["--mount-tools", "ruby,python", "--mount-socket"])
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    Want::node(&s, &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&own_binary(), &sock, &["ruby", "python"])
        .check(&s.call().argv);
}

#[test]
fn mount_tools_from_an_override_after_the_tool() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .env("CDERUN_MOUNT_SOCKET", &sock)
        .args(["node", "--cderun-mount-tools=python"])
        .assert()
        .success();
    s.cmd()
        .env("CDERUN_MOUNT_SOCKET", &sock)
        .args(["node", "--cderun-mount-all-tools"])
        .assert()
        .success();
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    let want = |shims: &[&str]| {
        Want::node(&s, &[])
            .socket(&sock, "DOCKER_HOST")
            .cderun(&own_binary(), &sock, shims)
    };
    want(&["python"]).check(&calls[0].argv);
    want(&["python", "ruby"]).check(&calls[1].argv);
}

#[test]
fn mount_all_tools_shims_every_tool_but_the_one_being_run() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .arg("--mount-all-tools")
        .arg("--mount-socket")
        .arg(&sock)
        .arg("python")
        .assert()
        .success();
    Want::new(&s.proj, "python", "python:3", &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&own_binary(), &sock, &["node", "ruby"])
        .check(&s.call().argv);
}

#[test]
fn mount_tools_naming_the_tool_itself_does_not_shadow_it() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .args(["--mount-tools", "node,python", "--mount-socket"])
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    s.cmd()
        .args(["--mount-tools", "node", "--mount-socket"])
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    let want = |shims: &[&str]| {
        Want::node(&s, &[])
            .socket(&sock, "DOCKER_HOST")
            .cderun(&own_binary(), &sock, shims)
    };
    want(&["python"]).check(&calls[0].argv);
    // Only the tool itself was named: still --mount-cderun, no shim.
    want(&[]).check(&calls[1].argv);
}

#[test]
fn mount_tools_and_mount_all_tools_together_mount_each_shim_once() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .args([
            "--mount-all-tools",
            "--mount-tools",
            "ruby,ruby",
            "--mount-socket",
        ])
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    // Each shim once, in the order first named; never the tool itself.
    Want::node(&s, &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&own_binary(), &sock, &["ruby", "python"])
        .check(&s.call().argv);
}

/// The container side of every `-v` in an argv.
fn mount_targets(argv: &[OsString]) -> Vec<String> {
    argv.windows(2)
        .filter(|w| w[0] == "-v")
        .map(|w| w[1].to_str().unwrap().split(':').nth(1).unwrap().to_owned())
        .collect()
}

#[test]
fn a_tool_named_cderun_is_refused_as_a_shim() {
    // A shim named `cderun` would sit on the binary's own mount, and any
    // `cderun*` name runs cderun itself rather than a tool.
    for (args, place) in [
        ("--mount-all-tools", "in .tools.yaml (--mount-all-tools)"),
        ("--mount-tools=cderun", "in --mount-tools"),
    ] {
        let s = Sandbox::new();
        s.tools("node:\n  image: node:20\ncderun:\n  image: x\n");
        let sock = socket(&s);
        refuses(
            s.cmd()
                .arg(args)
                .arg("--mount-socket")
                .arg(&sock)
                .arg("node"),
            &format!("tool 'cderun' {place} cannot be mounted as a shim"),
        );
        s.assert_no_call();
    }
}

#[test]
fn a_user_volume_at_a_self_mount_path_gives_way() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    let mut volume = s.root().join("x").into_os_string();
    volume.push(":/usr/local/bin/cderun");
    let out = s
        .cmd()
        .args(["--mount-cderun", "-v"])
        .arg(volume)
        .arg("--mount-socket")
        .arg(&sock)
        .arg("node")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let targets = mount_targets(&s.call().argv);
    let at_binary = targets
        .iter()
        .filter(|t| *t == "/usr/local/bin/cderun")
        .count();
    assert_eq!(at_binary, 1, "{targets:?}");
}

#[test]
fn shims_need_a_socket_too() {
    for (args, flag) in [
        (&["--mount-tools", "python", "node"][..], "--mount-tools"),
        (&["--mount-all-tools", "node"][..], "--mount-all-tools"),
    ] {
        let s = Sandbox::new();
        s.tools(TOOLS);
        refuses(
            s.cmd().args(args),
            &format!("{flag} requires --mount-socket"),
        );
        s.assert_no_call();
    }
}

#[test]
fn an_unknown_shim_is_refused_listing_the_available_tools() {
    let s = Sandbox::new();
    s.tools("node:\n  image: node:20\npython:\n  image: python:3\n");
    let sock = socket(&s);
    let out = refuses(
        s.cmd()
            .args(["--mount-tools", "python,ruby", "--mount-socket"])
            .arg(&sock)
            .arg("node"),
        "unknown tool 'ruby' in --mount-tools",
    );
    assert_eq!(hint(&out), "available tools: node, python");
    s.assert_no_call();
}

#[test]
fn an_unknown_shim_without_tools_yaml_says_there_are_none() {
    let s = Sandbox::new();
    let sock = socket(&s);
    let out = refuses(
        s.cmd()
            .args([
                "--image",
                "alpine:3",
                "--mount-tools",
                "python",
                "--mount-socket",
            ])
            .arg(&sock)
            .arg("sh"),
        "unknown tool 'python' in --mount-tools",
    );
    assert!(
        hint(&out).starts_with("available tools: none"),
        "{}",
        hint(&out)
    );
    s.assert_no_call();
}

#[test]
fn invalid_shim_names_are_refused_before_anything_runs() {
    for name in ["../x", "a/b", ".hidden", "-x", "x y", ""] {
        let s = Sandbox::new();
        s.tools(TOOLS);
        let sock = socket(&s);
        let missing = s.root().join("must-not-be-created");
        refuses(
            s.cmd()
                .arg(format!("--mount-tools={name}"))
                .arg("--mount-socket")
                .arg(&sock)
                .arg("-v")
                .arg(format!("{}:/data", p(&missing)))
                .arg("node"),
            &format!("invalid tool name '{name}' in --mount-tools"),
        );
        s.assert_no_call();
        assert!(
            !missing.exists(),
            "a volume directory was created for a refused run"
        );
    }
}

#[test]
fn an_invalid_name_is_refused_even_when_it_is_in_tools_yaml() {
    // A .tools.yaml key that cannot be a file name in /usr/local/bin.
    let s = Sandbox::new();
    s.tools("node:\n  image: node:20\n.hidden:\n  image: x\n");
    let sock = socket(&s);
    refuses(
        s.cmd()
            .args(["--mount-tools", ".hidden", "--mount-socket"])
            .arg(&sock)
            .arg("node"),
        "invalid tool name '.hidden' in --mount-tools",
    );
    let out = s
        .cmd()
        .arg("--mount-all-tools")
        .arg("--mount-socket")
        .arg(&sock)
        .arg("node")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.starts_with("cderun: error: ") && stderr.contains("'.hidden'"),
        "names the tool: {stderr}"
    );
    s.assert_no_call();
}

// ---------------------------------------------------------------------------
// Nested: a cderun running inside a container that cderun started
// ---------------------------------------------------------------------------

/// A fake container filesystem under `<sandbox>/c`: cderun copied to
/// `c/usr/local/bin/cderun`, the project at `c/work` (with `.tools.yaml`),
/// the socket at `c/var/run/docker.sock`, and the `CDERUN_HOST_MOUNTS` an
/// outer cderun would have set for it.
struct Nested {
    c: PathBuf,
    work: PathBuf,
    exe: PathBuf,
    sock: PathBuf,
    host_mounts: String,
}

impl Nested {
    fn new(s: &Sandbox, tools: &str) -> Nested {
        let c = s.root().join("c");
        let work = c.join("work");
        let exe = c.join("usr/local/bin/cderun");
        copy_binary(&exe);
        s.write("c/work/.tools.yaml", tools);
        let sock = bind_socket(s, "c/var/run/docker.sock");
        let host_mounts = serde_json::to_string(&map(&[
            (&p(&work), "/base/home/proj"),
            (&p(&exe), "/base/bin/cderun"),
            (&p(&sock), "/base/run/docker.sock"),
        ]))
        .unwrap();
        Nested {
            c,
            work,
            exe,
            sock,
            host_mounts,
        }
    }

    /// The copy, in `c/work`, at depth 1 with the outer cderun's map.
    fn cmd(&self, s: &Sandbox) -> Command {
        let mut c = cmd_at(s, &self.exe, &self.work);
        c.env("CDERUN_DEPTH", "1")
            .env("CDERUN_HOST_MOUNTS", &self.host_mounts);
        c
    }
}

#[test]
fn nested_cderun_mounts_base_host_paths_and_hands_them_on() {
    let s = Sandbox::new();
    let n = Nested::new(&s, "python:\n  image: python:3\n");
    n.cmd(&s)
        .arg("--mount-cderun")
        .arg("--mount-socket")
        .arg(&n.sock)
        .args(["-v", "./data:/data", "python", "script.py"])
        .assert()
        .success()
        .stderr("");
    let work = p(&n.work);
    let sock = p(&n.sock);
    let want = Want {
        mounts: vec![
            // The cwd: base-host source, the execution host's path inside.
            rw("/base/home/proj", &work),
            rw("/base/home/proj/data", "/data"),
            rw("/base/run/docker.sock", &sock),
            ro("/base/bin/cderun", "/usr/local/bin/cderun"),
        ],
        env: vec![
            format!("DOCKER_HOST=unix://{sock}"),
            "CDERUN_DEPTH=2".to_owned(),
            HOST_MOUNTS.to_owned(),
            format!("CDERUN_MOUNT_SOCKET={sock}"),
        ],
        workdir: Some(work.clone()),
        depth: 2,
        tool: "python".to_owned(),
        image: "python:3".to_owned(),
        words: vec!["python".to_owned(), "script.py".to_owned()],
        host_mounts: Some(map(&[
            (&work, "/base/home/proj"),
            ("/data", "/base/home/proj/data"),
            (&sock, "/base/run/docker.sock"),
            ("/usr/local/bin/cderun", "/base/bin/cderun"),
        ])),
    };
    want.check(&s.call().argv);
    // The missing volume directory was created on the execution host (which,
    // through the read-write mount, is the base host's directory).
    assert!(n.work.join("data").is_dir());
    assert!(n.c.is_dir());
}

#[test]
fn nested_shims_are_mounted_from_the_base_host_binary() {
    let s = Sandbox::new();
    let n = Nested::new(&s, "python:\n  image: python:3\nnode:\n  image: node:20\n");
    n.cmd(&s)
        .env("CDERUN_MOUNT_SOCKET", &n.sock)
        .args(["--mount-all-tools", "python"])
        .assert()
        .success();
    let mut want = Want::new(&n.work, "python", "python:3", &[]);
    want.depth = 2;
    want.mounts = vec![rw("/base/home/proj", &n.work)];
    want.mounts.push(rw("/base/run/docker.sock", &n.sock));
    want.env.push(format!("DOCKER_HOST=unix://{}", p(&n.sock)));
    let want = want.cderun(Path::new("/base/bin/cderun"), &n.sock, &["node"]);
    want.check(&s.call().argv);
}

#[test]
fn nested_run_without_mount_cderun_passes_no_nesting_env() {
    // The execution host's CDERUN_* variables and anything else of its
    // environment stay out; only the depth label and the paths change.
    let s = Sandbox::new();
    let n = Nested::new(&s, "python:\n  image: python:3\n");
    n.cmd(&s)
        .env("MY_VAR", "hello")
        .args(["python", "-V"])
        .assert()
        .success();
    let mut want = Want::new(&n.work, "python", "python:3", &["-V"]);
    want.depth = 2;
    want.mounts = vec![rw("/base/home/proj", &n.work)];
    want.check(&s.call().argv);
}

#[test]
fn a_nested_shim_runs_its_tool_in_a_sibling_container() {
    // Inside a container started with --mount-tools python: the shim is a
    // copy of cderun named `python` (polyglot entry), and the container's
    // environment holds what the outer cderun set.
    let s = Sandbox::new();
    let n = Nested::new(&s, "python:\n  image: python:3\n");
    let shim = n.c.join("usr/local/bin/python");
    copy_binary(&shim);
    cmd_at(&s, &shim, &n.work)
        .env("CDERUN_DEPTH", "1")
        .env("CDERUN_HOST_MOUNTS", &n.host_mounts)
        .env("CDERUN_MOUNT_SOCKET", &n.sock)
        .env("DOCKER_HOST", format!("unix://{}", p(&n.sock)))
        .args(["-c", "print(1)"])
        .assert()
        .success();
    let mut want = Want::new(&n.work, "python", "python:3", &["-c", "print(1)"]);
    want.depth = 2;
    want.mounts = vec![rw("/base/home/proj", &n.work)];
    // CDERUN_MOUNT_SOCKET is the P3 form of --mount-socket.
    want.mounts.push(rw("/base/run/docker.sock", &n.sock));
    want.env.push(format!("DOCKER_HOST=unix://{}", p(&n.sock)));
    want.check(&s.call().argv);
}

#[test]
fn nested_volume_outside_every_mount_is_refused() {
    let s = Sandbox::new();
    let n = Nested::new(&s, "python:\n  image: python:3\n");
    let outside = s.write("c/tmp/scratch/file", "");
    let outside = outside.parent().unwrap();
    refuses(
        n.cmd(&s)
            .arg("-v")
            .arg(format!("{}:/scratch", p(outside)))
            .arg("python"),
        &format!(
            "{} exists only inside this container; the runtime cannot mount it",
            p(outside)
        ),
    );
    s.assert_no_call();
}

#[test]
fn nested_socket_or_binary_outside_every_mount_is_refused() {
    let s = Sandbox::new();
    let n = Nested::new(&s, "python:\n  image: python:3\n");
    let other_sock = bind_socket(&s, "c/run/other.sock");
    refuses(
        n.cmd(&s)
            .arg("--mount-socket")
            .arg(&other_sock)
            .arg("python"),
        &format!(
            "{} exists only inside this container; the runtime cannot mount it",
            p(&other_sock)
        ),
    );
    let other_bin = s.write("c/opt/cderun", "");
    refuses(
        n.cmd(&s)
            .env("CDERUN_BINARY", &other_bin)
            .arg("--mount-cderun")
            .arg("--mount-socket")
            .arg(&n.sock)
            .arg("python"),
        &format!(
            "{} exists only inside this container; the runtime cannot mount it",
            p(&other_bin)
        ),
    );
    s.assert_no_call();
}

#[test]
fn nested_untranslatable_cwd_is_skipped_and_the_run_proceeds() {
    let s = Sandbox::new();
    let n = Nested::new(&s, "python:\n  image: python:3\n");
    let elsewhere = n.c.join("tmp");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(n.work.join(".tools.yaml"), elsewhere.join(".tools.yaml")).unwrap();
    cmd_at(&s, &n.exe, &elsewhere)
        .env("CDERUN_DEPTH", "1")
        .env("CDERUN_HOST_MOUNTS", &n.host_mounts)
        .args(["python", "-V"])
        .assert()
        .success()
        .stderr("");
    let mut want = Want::new(&elsewhere, "python", "python:3", &["-V"]);
    want.depth = 2;
    want.mounts.clear();
    want.workdir = None;
    want.check(&s.call().argv);
}

#[test]
fn nested_translation_matches_whole_path_components_only() {
    // `<c>/work` is mounted; `<c>/workspace/x` must not become
    // `/base/home/projspace/x`.
    let s = Sandbox::new();
    let n = Nested::new(&s, "python:\n  image: python:3\n");
    let lookalike = n.c.join("workspace/x");
    std::fs::create_dir_all(&lookalike).unwrap();
    refuses(
        n.cmd(&s)
            .arg("-v")
            .arg(format!("{}:/x", p(&lookalike)))
            .arg("python"),
        &format!(
            "{} exists only inside this container; the runtime cannot mount it",
            p(&lookalike)
        ),
    );
    s.assert_no_call();
}

#[test]
fn nested_translation_uses_the_longest_prefix() {
    let s = Sandbox::new();
    let n = Nested::new(&s, "python:\n  image: python:3\n");
    let cache = n.work.join("cache");
    std::fs::create_dir_all(cache.join("k")).unwrap();
    let mounts = serde_json::to_string(&map(&[
        (&p(&n.work), "/base/home/proj"),
        (&p(&cache), "/base/var/cache"),
    ]))
    .unwrap();
    n.cmd(&s)
        .env("CDERUN_HOST_MOUNTS", mounts)
        .args(["-v", "./cache/k:/k", "-v", "./src:/src", "python"])
        .assert()
        .success();
    let mut want = Want::new(&n.work, "python", "python:3", &[]);
    want.depth = 2;
    want.mounts = vec![
        rw("/base/home/proj", &n.work),
        rw("/base/var/cache/k", "/k"),
        rw("/base/home/proj/src", "/src"),
    ];
    want.check(&s.call().argv);
}

// ---------------------------------------------------------------------------
// Depth limit
// ---------------------------------------------------------------------------

#[test]
fn depth_at_the_default_limit_passes() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    s.cmd()
        .env("CDERUN_DEPTH", "4")
        .arg("node")
        .assert()
        .success();
    let mut want = Want::node(&s, &[]);
    want.depth = 5;
    want.check(&s.call().argv);
}

#[test]
fn one_over_the_default_limit_is_refused_before_anything_runs() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let missing = s.root().join("must-not-be-created");
    refuses(
        s.cmd()
            .env("CDERUN_DEPTH", "5")
            .arg("-v")
            .arg(format!("{}:/data", p(&missing)))
            .arg("node"),
        "nesting depth 6 exceeds the limit of 5",
    );
    refuses(
        s.cmd().env("CDERUN_DEPTH", "5").args(["--dry-run", "node"]),
        "nesting depth 6 exceeds the limit of 5",
    );
    s.assert_no_call();
    assert!(
        !missing.exists(),
        "a volume directory was created for a refused run"
    );
}

#[test]
fn cderun_max_depth_sets_the_limit() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    s.cmd()
        .env("CDERUN_MAX_DEPTH", "2")
        .env("CDERUN_DEPTH", "1")
        .arg("node")
        .assert()
        .success();
    let mut want = Want::node(&s, &[]);
    want.depth = 2;
    want.check(&s.call().argv);
    refuses(
        s.cmd()
            .env("CDERUN_MAX_DEPTH", "2")
            .env("CDERUN_DEPTH", "2")
            .arg("node"),
        "nesting depth 3 exceeds the limit of 2",
    );
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn max_depth_in_cderun_yaml_sets_the_limit() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    s.cderun_yaml("maxDepth: 2\n");
    s.cmd()
        .env("CDERUN_DEPTH", "1")
        .arg("node")
        .assert()
        .success();
    let mut want = Want::node(&s, &[]);
    want.depth = 2;
    want.check(&s.call().argv);
    refuses(
        s.cmd().env("CDERUN_DEPTH", "2").arg("node"),
        "nesting depth 3 exceeds the limit of 2",
    );
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn cderun_max_depth_beats_max_depth_in_cderun_yaml() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    s.cderun_yaml("maxDepth: 1\n");
    s.cmd()
        .env("CDERUN_MAX_DEPTH", "3")
        .env("CDERUN_DEPTH", "2")
        .arg("node")
        .assert()
        .success();
    let mut want = Want::node(&s, &[]);
    want.depth = 3;
    want.check(&s.call().argv);
}

#[test]
fn invalid_nesting_variables_are_refused() {
    for (var, value) in [
        ("CDERUN_DEPTH", "abc"),
        ("CDERUN_DEPTH", "-1"),
        ("CDERUN_DEPTH", "1.5"),
        ("CDERUN_HOST_MOUNTS", "not json"),
        ("CDERUN_HOST_MOUNTS", "[\"/a\"]"),
        ("CDERUN_HOST_MOUNTS", "{\"work\":\"/h\"}"),
        ("CDERUN_HOST_MOUNTS", "{\"/work\":\"h\"}"),
        ("CDERUN_MAX_DEPTH", "many"),
    ] {
        let s = Sandbox::new();
        s.tools(TOOLS);
        let out = s.cmd().env(var, value).arg("node").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{var}={value}: {stderr}");
        assert!(
            stderr.starts_with(&format!("cderun: error: invalid {var}")),
            "{var}={value}: the error names the variable: {stderr}"
        );
        s.assert_no_call();
    }
}

// ---------------------------------------------------------------------------
// Dry run
// ---------------------------------------------------------------------------

#[test]
fn dry_run_json_shows_the_self_mounts_and_the_nesting_env() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    let out = s
        .cmd()
        .args([
            "--dry-run",
            "-f",
            "json",
            "--mount-tools",
            "python",
            "--mount-socket",
        ])
        .arg(&sock)
        .args(["node", "--version"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.assert_no_call();
    let mut shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Take the CDERUN_HOST_MOUNTS entry out and compare it as a map.
    let env = shown["env"].as_array_mut().unwrap();
    let hm = env
        .iter_mut()
        .find(|e| {
            e.as_str()
                .is_some_and(|e| e.starts_with("CDERUN_HOST_MOUNTS="))
        })
        .expect("CDERUN_HOST_MOUNTS in the dry-run env");
    let json = hm.as_str().unwrap()["CDERUN_HOST_MOUNTS=".len()..].to_owned();
    *hm = serde_json::Value::from(HOST_MOUNTS);
    let bin = p(&own_binary());
    let (proj, sock) = (p(&s.proj), p(&sock));
    assert_eq!(
        parse_map(&json),
        map(&[
            (&proj, &proj),
            (&sock, &sock),
            ("/usr/local/bin/cderun", &bin),
            ("/usr/local/bin/python", &bin),
        ])
    );
    let mount = |h: &str, c: &str, ro: bool| serde_json::json!({"hostPath": h, "containerPath": c, "readOnly": ro});
    assert_eq!(
        shown,
        serde_json::json!({
            "image": "node:20",
            "command": ["node"],
            "args": ["--version"],
            "tty": false,
            "interactive": false,
            "remove": true,
            "network": "bridge",
            "volumes": [
                mount(&proj, &proj, false),
                mount(&sock, &sock, false),
                mount(&bin, "/usr/local/bin/cderun", true),
                mount(&bin, "/usr/local/bin/python", true),
            ],
            "env": [
                format!("DOCKER_HOST=unix://{sock}"),
                "CDERUN_DEPTH=1",
                HOST_MOUNTS,
                format!("CDERUN_MOUNT_SOCKET={sock}"),
            ],
            "workdir": proj,
            "user": null,
            "entrypoint": null,
            "labels": {"io.cderun.depth": "1", "io.cderun.tool": "node"},
        })
    );
}

#[test]
fn dry_run_command_is_the_exact_runtime_argv() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    let args = |c: &mut Command| {
        c.args(["--mount-tools", "python", "--mount-socket"])
            .arg(&sock)
            .args(["node", "--version"]);
    };
    let mut dry = s.cmd();
    dry.args(["--dry-run", "-f", "command"]);
    args(&mut dry);
    let out = dry.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.assert_no_call();
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(line.lines().count(), 1, "one line: {line}");
    let words = shlex::split(&line).expect("the command line is valid sh");
    let (argv0, argv) = words.split_first().unwrap();
    assert_eq!(Path::new(argv0), fake_docker());
    let argv: Vec<OsString> = os(argv);
    Want::node(&s, &["--version"])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&own_binary(), &sock, &["python"])
        .check(&argv);

    // And a real run records exactly what the dry run printed.
    let mut real = s.cmd();
    args(&mut real);
    real.assert().success();
    assert_eq!(s.call().argv, argv);
}

// ---------------------------------------------------------------------------
// The execution host's environment never leaks
// ---------------------------------------------------------------------------

#[test]
fn user_environment_reaches_the_container_only_when_asked() {
    let s = Sandbox::new();
    s.tools(TOOLS);
    let sock = socket(&s);
    s.cmd()
        .env("MY_VAR", "hello")
        .arg("--mount-cderun")
        .arg("--mount-socket")
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    s.cmd()
        .env("MY_VAR", "hello")
        .args(["-e", "MY_VAR", "--mount-cderun", "--mount-socket"])
        .arg(&sock)
        .arg("node")
        .assert()
        .success();
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    let want = Want::node(&s, &[])
        .socket(&sock, "DOCKER_HOST")
        .cderun(&own_binary(), &sock, &[]);
    want.check(&calls[0].argv);
    let mut asked = want.clone();
    asked.env.insert(0, "MY_VAR=hello".to_owned());
    asked.check(&calls[1].argv);
}

#[test]
fn nested_symlinked_volumes_translate_the_path_they_resolve_to() {
    let s = Sandbox::new();
    let work = s.root().join("c/work");
    std::fs::create_dir_all(work.join("real")).unwrap();
    std::fs::create_dir_all(s.root().join("c/outside")).unwrap();
    std::os::unix::fs::symlink(work.join("real"), work.join("inside-link")).unwrap();
    std::os::unix::fs::symlink(s.root().join("c/outside"), work.join("outside-link")).unwrap();
    s.write("c/work/.tools.yaml", "node:\n  image: node:20\n");
    let mounts = format!(r#"{{"{}":"/base/proj"}}"#, work.display());
    let run = |volume: &str| {
        s.cmd()
            .current_dir(&work)
            .env("CDERUN_DEPTH", "1")
            .env("CDERUN_HOST_MOUNTS", &mounts)
            .args(["--mount-cwd=false", "-v", volume, "node"])
            .output()
            .unwrap()
    };
    // A link to a directory under the mount: the base-host path of its target.
    assert!(run("./inside-link:/x").status.success());
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "bridge",
            "-v",
            "/base/proj/real:/x",
            "--label",
            "io.cderun.depth=2",
            "--label",
            "io.cderun.tool=node",
            "node:20",
            "node",
        ])
    );
    // A link that leaves every mount is refused, not mounted from the base host.
    let out = run("./outside-link:/x");
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().next(),
        Some(
            format!(
                "cderun: error: {} exists only inside this container; the runtime cannot mount it",
                s.root().join("c/outside").display()
            )
            .as_str()
        )
    );
    assert_eq!(s.calls().len(), 1);
}
