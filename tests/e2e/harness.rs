//! The e2e harness: the daemon, the static binary and the offline images,
//! checked and built once per process; and a [`Case`] per test: its own
//! project directory, its own tool names, and a guard that removes every
//! container the test may have left behind, even when the test panics.
//!
//! Nothing here skips: a test that runs without a daemon, without the static
//! binary or without the images fails with a message saying what to do.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use testcontainers::core::{AccessMode, CmdWaitFor, ExecCommand, Mount};
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, GenericImage, ImageExt};

/// Label on everything the suite starts itself (testcontainers containers).
pub const LABEL_E2E: &str = "io.cderun.e2e";
/// Label naming the test that started a container, so one test's guard never
/// removes a concurrent test's containers.
pub const LABEL_TEST: &str = "io.cderun.e2e.test";
/// cderun's own label (SPEC §9).
pub const LABEL_TOOL: &str = "io.cderun.tool";

/// How long one cderun run may take before the test kills it and fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// What every test needs, set up once per process.
#[derive(Debug)]
pub struct Env {
    /// The static cderun (`CDERUN_E2E_BINARY`), canonical.
    pub binary: PathBuf,
    /// Image with static busybox only.
    pub busybox: String,
    /// Image with busybox and the docker CLI.
    pub docker: String,
    /// The daemon's socket on this machine.
    pub socket: PathBuf,
}

static ENV: OnceLock<Result<Env, String>> = OnceLock::new();

/// The shared setup; panics (fails the test) with the reason when the
/// daemon, the binary or the images are missing.
pub fn env() -> &'static Env {
    match ENV.get_or_init(setup) {
        Ok(env) => env,
        Err(why) => panic!("e2e setup failed: {why}"),
    }
}

fn setup() -> Result<Env, String> {
    let binary = static_binary()?;
    let socket = socket()?;
    check_daemon()?;
    let (busybox, docker) = build_images()?;
    Ok(Env {
        binary,
        busybox,
        docker,
        socket,
    })
}

fn static_binary() -> Result<PathBuf, String> {
    const HOW: &str = "build it with `just static` and run the suite with `just e2e`, \
                       which sets CDERUN_E2E_BINARY to target/x86_64-unknown-linux-musl/release/cderun";
    let Some(path) = std::env::var_os("CDERUN_E2E_BINARY").filter(|p| !p.is_empty()) else {
        return Err(format!(
            "CDERUN_E2E_BINARY is not set: the suite mounts a static Linux cderun into containers; {HOW}"
        ));
    };
    let path = PathBuf::from(path);
    let path = std::fs::canonicalize(&path)
        .map_err(|e| format!("CDERUN_E2E_BINARY={}: {e}; {HOW}", path.display()))?;
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("CDERUN_E2E_BINARY={}: {e}; {HOW}", path.display()))?;
    if has_interpreter(&bytes)? {
        return Err(format!(
            "CDERUN_E2E_BINARY={} is dynamically linked and cannot run in the busybox images; {HOW}",
            path.display()
        ));
    }
    Ok(path)
}

/// Whether an ELF64 little-endian file asks for a dynamic loader
/// (a `PT_INTERP` program header).
fn has_interpreter(elf: &[u8]) -> Result<bool, String> {
    let not_elf = || "CDERUN_E2E_BINARY is not a 64-bit little-endian ELF executable".to_owned();
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 || elf[5] != 1 {
        return Err(not_elf());
    }
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let header = elf.get(at..at + 4).ok_or_else(not_elf)?;
        if u32::from_le_bytes(header.try_into().unwrap()) == 3 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The daemon socket: `DOCKER_HOST=unix://...` or the default path.
fn socket() -> Result<PathBuf, String> {
    let path = match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => match h.strip_prefix("unix://") {
            Some(p) => PathBuf::from(p),
            None => {
                return Err(format!(
                    "DOCKER_HOST={h}: the suite mounts the daemon's socket into containers, \
                     so it needs a unix:// socket"
                ));
            }
        },
        _ => PathBuf::from("/var/run/docker.sock"),
    };
    if !path.exists() {
        return Err(format!(
            "no reachable Docker daemon: the socket {} does not exist. The e2e suite runs \
             against a real daemon and fails (never skips) without one: start Docker or set \
             DOCKER_HOST=unix://PATH",
            path.display()
        ));
    }
    Ok(path)
}

fn check_daemon() -> Result<(), String> {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.APIVersion}}"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run the docker CLI ({e}); install it and put it on PATH"))?;
    if !out.status.success() {
        return Err(format!(
            "no reachable Docker daemon: `docker version` failed: {}\nThe e2e suite runs \
             against a real daemon and fails (never skips) without one: start Docker or set \
             DOCKER_HOST",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

fn build_images() -> Result<(String, String), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/images.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
            .map(str::to_owned)
            .ok_or_else(|| format!("{} printed no `{key}=IMAGE` line: {text}", script.display()))
    };
    Ok((get("busybox")?, get("docker")?))
}

/// Runs `docker ARGS` and returns its stdout; panics on failure.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run docker");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("docker output is UTF-8")
}

/// Ids of the containers (any state) matching every label filter.
pub fn containers(filters: &[String]) -> Vec<String> {
    let mut args = vec!["ps", "-aq", "--no-trunc"];
    for f in filters {
        args.extend(["--filter", f.as_str()]);
    }
    docker(&args).lines().map(str::to_owned).collect()
}

/// Quotes a string for YAML (single-quoted style).
pub fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The outcome of one cderun run.
#[derive(Debug)]
pub struct Run {
    /// Exit code; 128+signal when killed by a signal.
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Asserts the exit code and the whole stdout.
    pub fn expect(&self, code: i32, stdout: &str) -> &Run {
        assert!(
            self.code == code && self.stdout == stdout.as_bytes(),
            "expected exit {code} and stdout {stdout:?}\n     got exit {} and stdout {:?}\n\
             stderr:\n{}",
            self.code,
            self.stdout(),
            self.stderr
        );
        self
    }

    /// Asserts that stderr contains `needle`.
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr does not contain {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

/// One test: a project directory with its `.tools.yaml`, tool names unique
/// to the test, and a guard. Dropping it removes every container labelled
/// with one of its tools or with its test label, whatever the test's outcome.
pub struct Case {
    /// The test's id, used in tool names and labels.
    pub name: String,
    /// Removed (best effort) after the guard ran.
    _dir: tempfile::TempDir,
    /// The project (canonical): cwd of every host-side run.
    pub proj: PathBuf,
    /// `$HOME` of the host-side runs (outside the project).
    pub home: PathBuf,
    tools: Mutex<BTreeSet<String>>,
    started: SystemTime,
}

impl Case {
    /// Sets up (or fails) and creates the project directory.
    pub fn new(name: &str) -> Case {
        assert!(
            name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "case names are used in tool names: letters, digits and '-' only"
        );
        env();
        let dir = tempfile::Builder::new()
            .prefix("cderun-e2e-")
            .tempdir()
            .expect("temp dir");
        // Canonical, so the paths match what the kernel reports as cwd.
        let root = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
        let (proj, home) = (root.join("proj"), root.join("home"));
        std::fs::create_dir_all(&proj).expect("mkdir proj");
        std::fs::create_dir_all(&home).expect("mkdir home");
        let case = Case {
            name: name.to_owned(),
            _dir: dir,
            proj,
            home,
            tools: Mutex::new(BTreeSet::new()),
            started: SystemTime::now(),
        };
        // A test process killed outright (Ctrl-C) runs no Drop; remove what
        // an earlier run of this test left, so it is not blamed on this one.
        let stale = case.leftovers();
        if !stale.is_empty() {
            eprintln!("e2e {name}: removing containers of an earlier, interrupted run: {stale:?}");
            case.cleanup();
        }
        case
    }

    pub fn env(&self) -> &'static Env {
        env()
    }

    /// A tool name unique to this test (`BASE-CASE`), registered with the
    /// guard.
    pub fn tool(&self, base: &str) -> String {
        let name = format!("{base}-{}", self.name);
        self.tools.lock().unwrap().insert(name.clone());
        name
    }

    /// Writes a file relative to the project, creating parents.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.proj.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).expect("mkdir");
        std::fs::write(&p, content).expect("write");
        p
    }

    /// Writes the project's `.tools.yaml`.
    pub fn tools_yaml(&self, yaml: &str) {
        self.write(".tools.yaml", yaml);
    }

    /// The static cderun in the project, with an environment holding only
    /// PATH, HOME and DOCKER_HOST (no CDERUN_*, no DOCKER) and stdin closed.
    pub fn cderun(&self) -> Command {
        let mut c = Command::new(&env().binary);
        c.env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
            .env("HOME", &self.home)
            .current_dir(&self.proj)
            .stdin(Stdio::null());
        if let Some(h) = std::env::var_os("DOCKER_HOST") {
            c.env("DOCKER_HOST", h);
        }
        c
    }

    /// `--mount-socket SOCKET`, the first arguments of a nested run.
    pub fn socket_args(&self) -> [String; 2] {
        [
            "--mount-socket".to_owned(),
            env().socket.display().to_string(),
        ]
    }

    /// Runs cderun with `args`, `--mount-socket` first.
    pub fn run_nested(&self, args: &[&str]) -> Run {
        let mut c = self.cderun();
        c.args(self.socket_args()).args(args);
        run(c, None)
    }

    /// Like [`Case::run_nested`] with `stdin` piped in.
    pub fn run_nested_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        let mut c = self.cderun();
        c.args(self.socket_args()).args(args);
        run(c, Some(stdin.to_vec()))
    }

    /// Containers (any state) carrying one of this test's labels.
    pub fn leftovers(&self) -> Vec<String> {
        let mut ids = BTreeSet::new();
        for filter in self.filters() {
            ids.extend(containers(&[filter]));
        }
        ids.into_iter().collect()
    }

    fn filters(&self) -> Vec<String> {
        let mut f: Vec<String> = self
            .tools
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|t| format!("label={LABEL_TOOL}={t}"))
            .collect();
        f.push(format!("label={LABEL_TEST}={}", self.name));
        f
    }

    /// Removes this test's containers by label. Never panics (it runs in
    /// Drop, possibly while unwinding).
    pub fn cleanup(&self) {
        for filter in self.filters() {
            let Ok(out) = Command::new("docker")
                .args(["ps", "-aq", "--no-trunc", "--filter", &filter])
                .stdin(Stdio::null())
                .output()
            else {
                continue;
            };
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect();
            if !ids.is_empty() {
                let _ = Command::new("docker")
                    .args(["rm", "-f"])
                    .args(&ids)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }

    /// Ends the test: asserts that no container with its labels is left.
    /// (The guard still removes them when this fails.)
    pub fn finish(self) {
        let left = self.leftovers();
        assert!(
            left.is_empty(),
            "test {} left containers behind: {left:?}",
            self.name
        );
    }

    /// How many containers the daemon created since this test started that
    /// carry every one of `labels` (`key=value`), from the daemon's event log:
    /// this also counts containers that are already removed.
    pub fn created(&self, labels: &[&str]) -> usize {
        let stamp = |t: SystemTime| {
            let d = t.duration_since(UNIX_EPOCH).unwrap();
            format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
        };
        let (since, until) = (stamp(self.started), stamp(SystemTime::now()));
        let mut args = vec![
            "events".to_owned(),
            "--since".to_owned(),
            since,
            "--until".to_owned(),
            until,
            "--filter".to_owned(),
            "type=container".to_owned(),
            "--filter".to_owned(),
            "event=create".to_owned(),
            "--format".to_owned(),
            "{{.ID}}".to_owned(),
        ];
        for l in labels {
            args.extend(["--filter".to_owned(), format!("label={l}")]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        docker(&args).lines().count()
    }

    /// Starts an execution host with testcontainers (see [`ExecHost`]).
    pub fn exec_host(&self) -> ExecHost {
        ExecHost::start(self)
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        // The project directory goes with `dir` afterwards (best effort:
        // files written by containers belong to the containers' user).
        self.cleanup();
    }
}

/// Runs a prepared command with a timeout; stdin is written from a thread so
/// a large input cannot deadlock against the output.
pub fn run(c: Command, stdin: Option<Vec<u8>>) -> Run {
    run_for(c, stdin, RUN_TIMEOUT)
}

/// [`run`] with its own timeout, for runs that must end quickly (a tool
/// that would hang if it never saw EOF).
pub fn run_for(mut c: Command, stdin: Option<Vec<u8>>, timeout: Duration) -> Run {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    if stdin.is_some() {
        c.stdin(Stdio::piped());
    }
    let mut child = c.spawn().expect("spawn cderun");
    let writer = stdin.map(|data| {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            // The tool may stop reading early; that is its business.
            let _ = pipe.write_all(&data);
        })
    });
    let out = wait_with_timeout(child, timeout);
    if let Some(w) = writer {
        w.join().unwrap();
    }
    out
}

/// Collects a child's output, killing it (and failing) after `timeout`.
pub fn wait_with_timeout(mut child: Child, timeout: Duration) -> Run {
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        let status = child.wait();
        let _ = tx.send((s, status));
    });
    let (stdout, status) = match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("cderun did not finish within {timeout:?}");
        }
    };
    let status = status.expect("wait for cderun");
    let code = status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        128 + status.signal().unwrap_or(0)
    });
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    Run {
        code,
        stdout,
        stderr,
    }
}

/// Polls `check` every 50 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An "execution host" started with testcontainers the way a user's own
/// container would be: the busybox+docker image running `sleep`, the static
/// cderun bind-mounted read-only at /usr/local/bin/cderun, the daemon socket
/// mounted, and the project mounted at the same path (its working directory).
/// No CDERUN_* variable is set: cderun in it sees itself at depth 0.
pub struct ExecHost {
    container: Container<GenericImage>,
}

impl ExecHost {
    fn start(case: &Case) -> ExecHost {
        let env = env();
        let (name, tag) = env.docker.rsplit_once(':').expect("image has a tag");
        let proj = case.proj.display().to_string();
        let socket = env.socket.display().to_string();
        // testcontainers 0.28 has no pull policy: it pulls only when the
        // daemon answers 404 to create, which a locally built image never
        // gets, so nothing is pulled.
        let container = GenericImage::new(name, tag)
            .with_cmd(["sleep", "600"])
            .with_mount(
                Mount::bind_mount(env.binary.display().to_string(), "/usr/local/bin/cderun")
                    .with_access_mode(AccessMode::ReadOnly),
            )
            .with_mount(Mount::bind_mount(socket.clone(), socket))
            .with_mount(Mount::bind_mount(proj.clone(), proj.clone()))
            .with_working_dir(proj)
            .with_label(LABEL_E2E, "1")
            .with_label(LABEL_TEST, case.name.clone())
            .start()
            .unwrap_or_else(|e| panic!("testcontainers could not start {}: {e}", env.docker));
        ExecHost { container }
    }

    /// Runs `cmd` in the execution host (cwd: the project) to completion.
    pub fn exec(&self, cmd: &[&str]) -> Run {
        let mut r = self
            .container
            .exec(
                ExecCommand::new(cmd.iter().copied()).with_cmd_ready_condition(CmdWaitFor::exit()),
            )
            .unwrap_or_else(|e| panic!("exec {cmd:?}: {e}"));
        let stdout = r.stdout_to_vec().expect("exec stdout");
        let stderr = String::from_utf8_lossy(&r.stderr_to_vec().expect("exec stderr")).into_owned();
        let code = r
            .exit_code()
            .expect("exec exit code")
            .expect("exec finished") as i32;
        Run {
            code,
            stdout,
            stderr,
        }
    }

    pub fn id(&self) -> &str {
        self.container.id()
    }
}
