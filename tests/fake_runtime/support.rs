//! Test support for the fake-runtime suite: a hermetic sandbox per test, and
//! a reader for the records of `tests/fake-docker/docker`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// The recording fake runtime.
pub fn fake_docker() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-docker/docker")
}

/// A temp directory with `home/`, `proj/` (the cwd) and `rec/` (records).
/// Every command it builds starts from an empty environment, so no
/// `CDERUN_*`, `DOCKER`, `HOME` or `XDG_CONFIG_HOME` of the machine leaks in.
pub struct Sandbox {
    dir: TempDir,
    /// `$HOME` for the commands.
    pub home: PathBuf,
    /// The working directory for the commands.
    pub proj: PathBuf,
    /// Where the fake docker records its calls.
    pub rec: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("cderun-test")
            .tempdir()
            .unwrap();
        // Canonical, so paths match what the kernel reports as cwd.
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let s = Sandbox {
            home: root.join("home"),
            proj: root.join("proj"),
            rec: root.join("rec"),
            dir,
        };
        for d in [&s.home, &s.proj, &s.rec] {
            std::fs::create_dir_all(d).unwrap();
        }
        s
    }

    /// The sandbox root (canonical).
    pub fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.path()).unwrap()
    }

    /// Writes a file relative to the sandbox root, creating parents.
    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Writes `proj/.tools.yaml`.
    pub fn tools(&self, yaml: &str) -> PathBuf {
        self.write("proj/.tools.yaml", yaml)
    }

    /// Writes `proj/.cderun.yaml`.
    pub fn cderun_yaml(&self, yaml: &str) -> PathBuf {
        self.write("proj/.cderun.yaml", yaml)
    }

    /// cderun in `proj/`, with only PATH, HOME, DOCKER (the fake) and the
    /// record directory set.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin!("cderun"));
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &self.home)
            .env("DOCKER", fake_docker())
            .env("FAKE_DOCKER_RECORD", &self.rec)
            .current_dir(&self.proj);
        c
    }

    /// Every recorded runtime call, in order.
    pub fn calls(&self) -> Vec<Call> {
        let mut dirs: Vec<(usize, PathBuf)> = std::fs::read_dir(&self.rec)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                let n = p.file_name().unwrap().to_str().unwrap()["call-".len()..]
                    .parse()
                    .unwrap();
                (n, p)
            })
            .collect();
        dirs.sort();
        dirs.into_iter().map(|(_, d)| Call::read(&d)).collect()
    }

    /// The one runtime call; fails the test if there were none or several.
    pub fn call(&self) -> Call {
        let mut calls = self.calls();
        assert_eq!(calls.len(), 1, "expected exactly one runtime call");
        calls.remove(0)
    }

    /// Asserts the runtime was never started.
    pub fn assert_no_call(&self) {
        assert!(
            self.calls().is_empty(),
            "the runtime was called: {:?}",
            self.calls()
        );
    }
}

/// One recorded runtime call.
#[derive(Debug, Clone)]
pub struct Call {
    /// Arguments after argv[0], byte for byte.
    pub argv: Vec<OsString>,
    /// argv[0].
    pub argv0: OsString,
    /// The runtime's environment.
    pub env: BTreeMap<OsString, OsString>,
    /// The runtime's working directory.
    pub cwd: PathBuf,
    /// stdin, when recorded (FAKE_DOCKER_STDIN=1).
    pub stdin: Option<Vec<u8>>,
}

impl Call {
    fn read(dir: &Path) -> Call {
        let split = |bytes: Vec<u8>| -> Vec<OsString> {
            let mut parts: Vec<OsString> = bytes
                .split(|&b| b == 0)
                .map(|p| OsString::from_vec(p.to_vec()))
                .collect();
            // Every entry is NUL-terminated, so the last split is empty.
            assert_eq!(
                parts.pop().as_deref(),
                Some(OsStr::new("")),
                "record not NUL-terminated"
            );
            parts
        };
        let argv_bytes = std::fs::read(dir.join("argv")).unwrap();
        let argv = if argv_bytes.is_empty() {
            Vec::new()
        } else {
            split(argv_bytes)
        };
        let env = split(std::fs::read(dir.join("env")).unwrap())
            .into_iter()
            .map(|kv| {
                let b = kv.as_bytes();
                let eq = b.iter().position(|&c| c == b'=').unwrap();
                (
                    OsStr::from_bytes(&b[..eq]).into(),
                    OsStr::from_bytes(&b[eq + 1..]).into(),
                )
            })
            .collect();
        let cwd = String::from_utf8(std::fs::read(dir.join("cwd")).unwrap()).unwrap();
        Call {
            argv,
            argv0: OsString::from_vec(std::fs::read(dir.join("argv0")).unwrap()),
            env,
            cwd: PathBuf::from(cwd.trim_end_matches('\n')),
            stdin: std::fs::read(dir.join("stdin")).ok(),
        }
    }
}

/// `["run", "--rm"]` → `Vec<OsString>`, for whole-argv comparisons.
pub fn os<S: AsRef<OsStr>>(words: &[S]) -> Vec<OsString> {
    words.iter().map(|w| w.as_ref().to_os_string()).collect()
}

/// The argv cderun builds for `tool` with every setting at its default,
/// run from `cwd`: the baseline most tests extend. Spelled out once here so
/// each test's expectation stays readable; tests that change the layout
/// write their whole argv by hand.
pub fn default_argv(
    cwd: &Path,
    image: &str,
    command: &[&str],
    args: &[&str],
    tool: &str,
) -> Vec<OsString> {
    let cwd = cwd.display().to_string();
    let mut v = os(&[
        "run",
        "--rm",
        "--network",
        "bridge",
        "-v",
        &format!("{cwd}:{cwd}"),
        "-w",
        &cwd,
        "--label",
        "io.cderun.depth=1",
        "--label",
        &format!("io.cderun.tool={tool}"),
        image,
    ]);
    v.extend(os(command));
    v.extend(os(args));
    v
}

/// Creates a real (unconnected) unix socket at `rel` under the sandbox root,
/// as `--mount-socket` requires; the fake runtime never connects to it.
pub fn bind_socket(s: &Sandbox, rel: &str) -> PathBuf {
    let path = s.root().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    std::os::unix::net::UnixListener::bind(&path).unwrap();
    path
}
