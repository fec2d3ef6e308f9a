//! The Docker Engine API transport (SPEC §11), on bollard.
//!
//! Used where a container has cderun and a socket mounted but no runtime CLI
//! (most real images), or everywhere with `transport: api`. It behaves like
//! `docker run`:
//!
//! 1. create the container from the same [`ContainerConfig`] (pulling a
//!    missing image, with progress on stderr);
//! 2. attach *before* start, so no early output is lost;
//! 3. start; put the host terminal in raw mode for a TTY and keep the
//!    container's TTY size in step (SIGWINCH);
//! 4. stream stdout/stderr (demultiplexed, or raw with a TTY) and stdin
//!    (closed at EOF), forwarding SIGINT/SIGTERM/SIGHUP to the container;
//!    a second SIGINT, or a container still running 10 s after SIGTERM or
//!    SIGHUP, is force-removed;
//! 5. when the output ends, wait for the container to stop, take its exit
//!    code, and remove it (`remove: true`), on every path.
//!
//! The container is removed by cderun rather than with the daemon's
//! auto-remove, so the exit code can always be read after it stops.
//! Limitation: with a TTY, a raw output chunk that starts with a byte 0..=2
//! can be misread as a stream header by bollard's decoder; without a TTY
//! (the multiplexed stream) every byte is exact.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as ApiError;
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::{
    AttachContainerOptions, CreateImageOptions, KillContainerOptions, RemoveContainerOptions,
    ResizeContainerTTYOptions, WaitContainerOptions,
};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tracing::{debug, warn};

use crate::container::ContainerConfig;
use crate::err;
use crate::error::{Error, Result};
use crate::runtime::Runtime;

/// How long a container may keep running after a forwarded SIGTERM/SIGHUP
/// before it is removed by force (`docker stop`'s default).
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The Engine API on a unix socket.
#[derive(Debug, Clone)]
pub struct Api {
    /// The socket path.
    pub socket: PathBuf,
    /// Whether cderun's stdin is a terminal (for raw mode).
    pub stdin_tty: bool,
}

impl Runtime for Api {
    fn run(&self, cfg: &ContainerConfig) -> Result<i32> {
        let body = create_body(cfg)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| err!("cannot start the Engine API client: {e}"))?;
        rt.block_on(self.session(cfg, body))
    }
}

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
            auto_remove: Some(false),
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

/// The signals cderun handles while a container runs.
struct Signals {
    int: Signal,
    term: Signal,
    hup: Signal,
    winch: Signal,
}

/// One received signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sig {
    Int,
    Term,
    Hup,
    Winch,
}

impl Sig {
    fn name(self) -> &'static str {
        match self {
            Sig::Int => "SIGINT",
            Sig::Term => "SIGTERM",
            Sig::Hup => "SIGHUP",
            Sig::Winch => "SIGWINCH",
        }
    }

    /// The exit code of a process that died of this signal.
    fn exit_code(self) -> i32 {
        128 + match self {
            Sig::Int => libc::SIGINT,
            Sig::Term => libc::SIGTERM,
            Sig::Hup => libc::SIGHUP,
            Sig::Winch => libc::SIGWINCH,
        }
    }
}

impl Signals {
    fn new() -> Result<Signals> {
        let on = |k: SignalKind| signal(k).map_err(|e| err!("cannot handle signals: {e}"));
        Ok(Signals {
            int: on(SignalKind::interrupt())?,
            term: on(SignalKind::terminate())?,
            hup: on(SignalKind::hangup())?,
            winch: on(SignalKind::window_change())?,
        })
    }

    async fn recv(&mut self) -> Sig {
        tokio::select! {
            _ = self.int.recv() => Sig::Int,
            _ = self.term.recv() => Sig::Term,
            _ = self.hup.recv() => Sig::Hup,
            _ = self.winch.recv() => Sig::Winch,
        }
    }
}

/// How the container's run ended, before the exit code is known.
enum Ended {
    /// The output streams closed: wait for the exit code.
    Streams,
    /// cderun removed the container by force because of this signal.
    Killed(Sig),
}

impl Api {
    async fn session(&self, cfg: &ContainerConfig, body: ContainerCreateBody) -> Result<i32> {
        let mut signals = Signals::new()?;
        let docker = self.connect().await?;
        let id = tokio::select! {
            id = create(&docker, cfg, body) => id?,
            sig = signals.recv() => return Ok(sig.exit_code()),
        };
        debug!("created container {id}");
        let (started, result) = self.attach_and_run(&docker, &id, cfg, &mut signals).await;
        // Never leave a created-but-not-started container, whatever `remove` says.
        if cfg.remove || !started {
            remove(&docker, &id).await;
        }
        result
    }

    async fn connect(&self) -> Result<Docker> {
        let path = self.socket.to_string_lossy();
        let unreachable = |e: ApiError| {
            err!("cannot reach the Docker Engine API at {path}: {e}")
                .with_hint("check that the daemon runs and that this user may use its socket")
        };
        let docker = Docker::connect_with_unix(&path, 120, bollard::API_DEFAULT_VERSION)
            .map_err(unreachable)?;
        docker.negotiate_version().await.map_err(unreachable)
    }

    /// Attaches, starts and streams. Returns whether the container started,
    /// and the exit code.
    async fn attach_and_run(
        &self,
        docker: &Docker,
        id: &str,
        cfg: &ContainerConfig,
        signals: &mut Signals,
    ) -> (bool, Result<i32>) {
        let options = AttachContainerOptions {
            stream: true,
            stdin: cfg.interactive,
            stdout: true,
            stderr: true,
            logs: false,
            detach_keys: None,
        };
        let attached = match docker.attach_container(id, Some(options)).await {
            Ok(a) => a,
            Err(e) => return (false, Err(api_error("attach to", &e))),
        };
        let _raw = (cfg.tty && cfg.interactive && self.stdin_tty)
            .then(RawMode::enable)
            .flatten();
        if let Err(e) = docker.start_container(id, None).await {
            return (false, Err(start_error(&e)));
        }
        if cfg.tty {
            resize(docker, id).await;
        }
        if cfg.interactive {
            tokio::spawn(pump_stdin(attached.input));
        }
        (
            true,
            self.stream(docker, id, attached.output, signals).await,
        )
    }

    async fn stream(
        &self,
        docker: &Docker,
        id: &str,
        mut output: std::pin::Pin<
            Box<dyn futures_util::Stream<Item = std::result::Result<LogOutput, ApiError>> + Send>,
        >,
        signals: &mut Signals,
    ) -> Result<i32> {
        let mut deadline: Option<(Sig, tokio::time::Instant)> = None;
        let mut interrupts = 0;
        let mut streams_open = true;
        loop {
            let grace = async {
                match deadline {
                    Some((_, at)) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let ended = tokio::select! {
                chunk = output.next(), if streams_open => match chunk {
                    Some(Ok(out)) => match write_output(out) {
                        Ok(()) => None,
                        // Our stdout is gone (`| head`): end as SIGPIPE would.
                        Err(_) => {
                            remove(docker, id).await;
                            return Ok(128 + libc::SIGPIPE);
                        }
                    },
                    Some(Err(e)) => return Err(api_error("read the output of", &e)),
                    None => {
                        streams_open = false;
                        Some(Ended::Streams)
                    }
                },
                code = wait(docker, id), if !streams_open => return code,
                sig = signals.recv() => {
                    match sig {
                        Sig::Winch => resize(docker, id).await,
                        Sig::Int if interrupts > 0 => {
                            debug!("second SIGINT: removing container {id}");
                            remove(docker, id).await;
                            return Ok(Sig::Int.exit_code());
                        }
                        other => {
                            if other == Sig::Int {
                                interrupts += 1;
                            } else {
                                deadline.get_or_insert((other, tokio::time::Instant::now() + STOP_GRACE));
                            }
                            kill(docker, id, other).await;
                        }
                    }
                    None
                },
                () = grace => {
                    let sig = deadline.map_or(Sig::Term, |(s, _)| s);
                    warn!("container {id} still runs {}s after {}; removing it", STOP_GRACE.as_secs(), sig.name());
                    Some(Ended::Killed(sig))
                },
            };
            match ended {
                Some(Ended::Killed(sig)) => {
                    remove(docker, id).await;
                    return Ok(sig.exit_code());
                }
                Some(Ended::Streams) | None => {}
            }
        }
    }
}

/// Creates the container, pulling its image first if the daemon lacks it.
async fn create(
    docker: &Docker,
    cfg: &ContainerConfig,
    body: ContainerCreateBody,
) -> Result<String> {
    match docker.create_container(None, body.clone()).await {
        Ok(r) => Ok(r.id),
        Err(ApiError::DockerResponseServerError {
            status_code: 404, ..
        }) => {
            pull(docker, &cfg.image).await?;
            docker
                .create_container(None, body)
                .await
                .map(|r| r.id)
                .map_err(|e| api_error("create", &e))
        }
        Err(e) => Err(api_error("create", &e)),
    }
}

/// Pulls `image`, with a progress bar per layer when stderr is a terminal
/// and one line per layer and status otherwise.
async fn pull(docker: &Docker, image: &str) -> Result<()> {
    let (name, tag) = pull_reference(image);
    let options = CreateImageOptions {
        from_image: Some(name),
        tag: (!tag.is_empty()).then_some(tag),
        ..CreateImageOptions::default()
    };
    let mut progress = Progress::new(image);
    let mut stream = docker.create_image(Some(options), None, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => progress.update(
                info.id.as_deref(),
                info.status.as_deref().unwrap_or(""),
                info.progress_detail.as_ref().and_then(|d| d.current),
                info.progress_detail.as_ref().and_then(|d| d.total),
            ),
            Err(e) => {
                progress.finish();
                let why = match e {
                    ApiError::DockerStreamError { error } => error,
                    ApiError::DockerResponseServerError { message, .. } => message,
                    other => other.to_string(),
                };
                return Err(err!("cannot pull image '{image}': {why}").with_hint(
                    "check the image name and that its registry is reachable (private registries need the CLI transport after `docker login`)",
                ));
            }
        }
    }
    progress.finish();
    Ok(())
}

/// Pull progress on stderr.
enum Progress {
    Bars {
        multi: indicatif::MultiProgress,
        bars: HashMap<String, indicatif::ProgressBar>,
    },
    Lines {
        image: String,
        last: HashMap<String, String>,
    },
}

impl Progress {
    fn new(image: &str) -> Progress {
        if std::io::stderr().is_terminal() {
            let multi =
                indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
            let _ = multi.println(format!("Pulling {image}"));
            Progress::Bars {
                multi,
                bars: HashMap::new(),
            }
        } else {
            eprintln_safe(&format!("Pulling {image}"));
            Progress::Lines {
                image: image.to_owned(),
                last: HashMap::new(),
            }
        }
    }

    fn update(&mut self, id: Option<&str>, status: &str, current: Option<i64>, total: Option<i64>) {
        match self {
            Progress::Bars { multi, bars } => {
                let Some(id) = id else {
                    let _ = multi.println(status);
                    return;
                };
                let bar = bars.entry(id.to_owned()).or_insert_with(|| {
                    let bar = multi.add(indicatif::ProgressBar::new(0));
                    bar.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{prefix:12} {msg:20} [{bar:30}] {bytes}/{total_bytes}",
                        )
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                    );
                    bar.set_prefix(id.to_owned());
                    bar
                });
                bar.set_message(status.to_owned());
                if let (Some(c), Some(t)) = (current, total) {
                    bar.set_length(u64::try_from(t).unwrap_or(0));
                    bar.set_position(u64::try_from(c).unwrap_or(0));
                }
            }
            Progress::Lines { image, last } => {
                let key = id.unwrap_or("").to_owned();
                if last.get(&key).map(String::as_str) != Some(status) {
                    match id {
                        Some(id) => eprintln_safe(&format!("{image}: {id}: {status}")),
                        None => eprintln_safe(&format!("{image}: {status}")),
                    }
                    last.insert(key, status.to_owned());
                }
            }
        }
    }

    fn finish(&mut self) {
        if let Progress::Bars { bars, .. } = self {
            for bar in bars.values() {
                bar.finish();
            }
        }
    }
}

fn eprintln_safe(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Writes one chunk of container output where it belongs.
fn write_output(out: LogOutput) -> std::io::Result<()> {
    match out {
        LogOutput::StdErr { message } => {
            let mut e = std::io::stderr().lock();
            e.write_all(&message)?;
            e.flush()
        }
        LogOutput::StdOut { message } | LogOutput::Console { message } => {
            let mut o = std::io::stdout().lock();
            o.write_all(&message)?;
            o.flush()
        }
        LogOutput::StdIn { .. } => Ok(()),
    }
}

/// Copies cderun's stdin into the container and closes the container's
/// stdin at EOF. Reading happens on a plain thread (stdin reads block).
async fn pump_stdin(mut input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    while let Some(chunk) = rx.recv().await {
        if input.write_all(&chunk).await.is_err() {
            return;
        }
        let _ = input.flush().await;
    }
    let _ = input.shutdown().await;
}

/// Waits until the container is not running and returns its exit code.
async fn wait(docker: &Docker, id: &str) -> Result<i32> {
    let options = WaitContainerOptions {
        condition: "not-running".to_owned(),
    };
    let mut stream = docker.wait_container(id, Some(options));
    match stream.next().await {
        Some(Ok(r)) => Ok(clamp(r.status_code)),
        // bollard reports a non-zero exit as an error carrying the code.
        Some(Err(ApiError::DockerContainerWaitError { code, .. })) => Ok(clamp(code)),
        Some(Err(e)) => Err(api_error("wait for", &e)),
        None => Err(err!(
            "the daemon closed the wait for container {id} without an exit code"
        )),
    }
}

fn clamp(code: i64) -> i32 {
    i32::try_from(code.clamp(0, 255)).unwrap_or(255)
}

async fn kill(docker: &Docker, id: &str, sig: Sig) {
    debug!("forwarding {} to container {id}", sig.name());
    let options = KillContainerOptions {
        signal: sig.name().to_owned(),
    };
    if let Err(e) = docker.kill_container(id, Some(options)).await {
        debug!("could not forward {}: {e}", sig.name());
    }
}

/// Force-removes the container; a container already gone is fine.
async fn remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptions {
        force: true,
        v: false,
        link: false,
    };
    match docker.remove_container(id, Some(options)).await {
        Ok(()) => debug!("removed container {id}"),
        Err(ApiError::DockerResponseServerError {
            status_code: 404, ..
        }) => {}
        Err(e) => warn!("could not remove container {id}: {e}"),
    }
}

/// Sets the container's TTY to the host terminal's size.
async fn resize(docker: &Docker, id: &str) {
    let Ok(size) = rustix::termios::tcgetwinsize(std::io::stdout()) else {
        return;
    };
    if size.ws_row == 0 || size.ws_col == 0 {
        return;
    }
    let options = ResizeContainerTTYOptions {
        h: i32::from(size.ws_row),
        w: i32::from(size.ws_col),
    };
    if let Err(e) = docker.resize_container_tty(id, options).await {
        debug!("could not resize the TTY: {e}");
    }
}

/// `docker run`'s exit codes for a container that cannot start: 127 when
/// the command does not exist, 126 when it cannot be executed, else 125.
fn start_error(e: &ApiError) -> Error {
    let message = match e {
        ApiError::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    let code = if message.contains("executable file not found")
        || message.contains("no such file or directory")
    {
        127
    } else if message.contains("permission denied") {
        126
    } else {
        125
    };
    let e = err!("cannot start the container: {message}");
    match code {
        127 => Error::not_found(e.message()).with_hint("check the tool's command and the image"),
        126 => Error::exit(126, e.message()),
        _ => e,
    }
}

fn api_error(action: &str, e: &ApiError) -> Error {
    let message = match e {
        ApiError::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    err!("cannot {action} the container: {message}")
}

/// The host terminal in raw mode for the life of a TTY session; restored
/// on drop, on every exit path.
struct RawMode {
    saved: rustix::termios::Termios,
}

impl RawMode {
    fn enable() -> Option<RawMode> {
        use rustix::termios::{OptionalActions, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        tcsetattr(&stdin, OptionalActions::Now, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        use rustix::termios::{OptionalActions, tcsetattr};
        let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::Mount as CfgMount;
    use std::collections::BTreeMap;
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    fn cfg() -> ContainerConfig {
        ContainerConfig {
            image: "node:20".into(),
            command: vec!["node".into()],
            args: vec!["--version".into(), "".into()],
            tty: false,
            interactive: true,
            remove: true,
            network: "host".into(),
            volumes: vec![CfgMount {
                host_path: "/h/a:b".into(),
                container_path: "/c".into(),
                read_only: true,
            }],
            env: vec!["A=1".into()],
            workdir: Some("/w".into()),
            user: Some("1000:100".into()),
            entrypoint: Some(String::new()),
            labels: BTreeMap::from([("io.cderun.tool".into(), "node".into())]),
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
                auto_remove: Some(false),
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
