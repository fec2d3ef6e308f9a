//! The Docker Engine API transport (SPEC §11), on bollard.
//!
//! Used where a container has cderun and a socket mounted but no runtime CLI
//! (most real images), or everywhere with `transport: api`. It behaves like
//! `docker run`:
//!
//! 1. create the container from the same [`ContainerConfig`], with the
//!    daemon's auto-remove for `remove: true` (so it goes away even if cderun
//!    itself dies), pulling a missing image first (`pull`);
//! 2. attach *before* start, so no early output is lost, and ask for the
//!    exit status (`wait`, condition `removed` or `next-exit`) before start;
//! 3. start; for a TTY put the host terminal in raw mode and keep the
//!    container's TTY size in step (SIGWINCH);
//! 4. copy stdout/stderr (demultiplexed, or raw with a TTY) and stdin
//!    (closed at EOF) (`io`); forward the signals `docker run` forwards
//!    (`signals`); a second SIGINT, or a container still running 10 s after
//!    SIGTERM/SIGHUP, is stopped by force (killed, and removed when `remove`);
//! 5. return the exit status once the output has ended.
//!
//! A signal that arrives while the container is being created does not
//! abandon it: creation finishes, then the container is removed. A created
//! container that cannot be started is always removed.
//!
//! Limitation: with a TTY, bollard's stream decoder takes a raw output chunk
//! that starts with a byte 0x00..=0x02 for a stream header, which loses
//! bytes and can hold output back until the container exits. Without a TTY
//! (the multiplexed stream: pipes, MCP servers) every byte is exact.

mod io;
mod pull;
mod request;
mod signals;

pub use request::{create_body, pull_reference};

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as ApiError;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    AttachContainerOptions, KillContainerOptions, ListContainersOptions, RemoveContainerOptions,
    ResizeContainerTTYOptions, WaitContainerOptions,
};
use futures_util::StreamExt;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::container::{ContainerConfig, LABEL_PARENT};
use crate::err;
use crate::error::Result;
use crate::runtime::Runtime;
use io::{OutputEnd, RawMode};
use request::{api_error, start_error};
use signals::{Sig, Signals};

/// How long a container may keep running after a forwarded SIGTERM/SIGHUP
/// before it is stopped by force (`docker stop`'s default).
const STOP_GRACE: Duration = Duration::from_secs(10);

/// After the output ends, a container still running this much later was
/// detached from (the daemon's detach keys), not finished.
const DETACH_CHECK: Duration = Duration::from_secs(1);

/// The Engine API on a unix socket.
#[derive(Debug, Clone)]
pub struct Api {
    /// The socket path.
    pub socket: PathBuf,
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

impl Api {
    async fn session(&self, cfg: &ContainerConfig, body: ContainerCreateBody) -> Result<i32> {
        let mut signals = Signals::new()?;
        let docker = match signals.cancellable(self.connect()).await {
            Ok(docker) => docker?,
            Err(sig) => return Ok(sig.exit_code()),
        };
        let id = match create(&docker, cfg, body, &mut signals).await? {
            Ok(id) => id,
            Err(sig) => return Ok(sig.exit_code()),
        };
        debug!("created container {id}");
        let (started, result) = attach_and_run(&docker, &id, cfg, &mut signals).await;
        // Auto-remove only acts on a container that ran.
        if !started {
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
}

/// Creates the container, pulling its image first if the daemon lacks it.
/// `Ok(Err(sig))`: a stopping signal arrived, and nothing was left behind.
async fn create(
    docker: &Docker,
    cfg: &ContainerConfig,
    body: ContainerCreateBody,
    signals: &mut Signals,
) -> Result<std::result::Result<String, Sig>> {
    let (mut created, mut sig) = signals
        .uncancellable(docker.create_container(None, body.clone()))
        .await;
    if let Err(ApiError::DockerResponseServerError {
        status_code: 404, ..
    }) = created
    {
        if let Some(sig) = sig {
            return Ok(Err(sig));
        }
        match signals.cancellable(pull::pull(docker, &cfg.image)).await {
            Ok(pulled) => pulled?,
            Err(sig) => return Ok(Err(sig)),
        }
        (created, sig) = signals
            .uncancellable(docker.create_container(None, body))
            .await;
    }
    let id = created.map_err(|e| api_error("create", &e))?.id;
    if let Some(sig) = sig {
        remove(docker, &id).await;
        return Ok(Err(sig));
    }
    Ok(Ok(id))
}

/// Attaches, starts and supervises. Returns whether the container started,
/// and the exit code.
async fn attach_and_run(
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
    let attached = match signals
        .uncancellable(docker.attach_container(id, Some(options)))
        .await
    {
        (Ok(a), None) => a,
        (Ok(_), Some(sig)) => return (false, Ok(sig.exit_code())),
        (Err(e), _) => return (false, Err(api_error("attach to", &e))),
    };
    // The exit status is asked for before start, as `docker run` does, so
    // it is known even when the daemon removes the container at once.
    let condition = if cfg.remove { "removed" } else { "next-exit" };
    let exit = tokio::spawn(wait(docker.clone(), id.to_owned(), condition));
    // Let the wait request go out ahead of the start request.
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
    // `cfg.tty` is only set when stdin and stdout are terminals.
    let _raw = (cfg.tty && cfg.interactive).then(RawMode::enable).flatten();
    match signals
        .uncancellable(docker.start_container(id, None))
        .await
    {
        (Err(e), _) => return (false, Err(start_error(&e))),
        (Ok(()), Some(sig)) => {
            stop(docker, id, cfg.remove).await;
            return (true, Ok(sig.exit_code()));
        }
        (Ok(()), None) => {}
    }
    if cfg.tty {
        resize(docker, id).await;
    }
    // The attach connection closes only when both halves are gone: keep the
    // input half only while stdin is being pumped.
    let pump = if cfg.interactive {
        Some(tokio::spawn(io::pump_stdin(attached.input)))
    } else {
        drop(attached.input);
        None
    };
    let output = io::forward_output(attached.output);
    let result = supervise(docker, id, cfg, exit, output, pump.as_ref(), signals).await;
    if let Some(pump) = pump {
        pump.abort();
    }
    (true, result)
}

/// Handles signals while the container runs, until its output has ended
/// and its exit status is known.
async fn supervise(
    docker: &Docker,
    id: &str,
    cfg: &ContainerConfig,
    mut exit: JoinHandle<Result<i32>>,
    mut output: oneshot::Receiver<OutputEnd>,
    pump: Option<&JoinHandle<()>>,
    signals: &mut Signals,
) -> Result<i32> {
    let mut status: Option<i32> = None;
    let mut output_done = false;
    let mut interrupted = false;
    let mut grace: Option<(Sig, Instant)> = None;
    let mut detach_check: Option<Instant> = None;
    loop {
        if let (true, Some(code)) = (output_done, status) {
            return Ok(code);
        }
        tokio::select! {
            end = &mut output, if !output_done => {
                output_done = true;
                match end {
                    Ok(OutputEnd::Eof) | Err(_) => detach_check = Some(Instant::now() + DETACH_CHECK),
                    Ok(OutputEnd::Broken) => {
                        debug!("stdout is closed: stopping container {id}");
                        // Close the attach connection first: the daemon will
                        // not finish removing a container whose output it is
                        // still trying to write to us.
                        if let Some(pump) = pump {
                            pump.abort();
                        }
                        stop(docker, id, cfg.remove).await;
                        return Ok(128 + libc::SIGPIPE);
                    }
                    Ok(OutputEnd::Failed(e)) => return Err(api_error("read the output of", &e)),
                }
            }
            code = &mut exit, if status.is_none() => {
                status = Some(code.map_err(|e| err!("lost the exit status of container {id}: {e}"))??);
            }
            sig = signals.recv() => match sig {
                Sig::Winch => resize(docker, id).await,
                Sig::Int if interrupted => {
                    debug!("second SIGINT: stopping container {id} by force");
                    stop(docker, id, cfg.remove).await;
                    return Ok(sig.exit_code());
                }
                other => {
                    interrupted |= other == Sig::Int;
                    if matches!(other, Sig::Term | Sig::Hup) {
                        grace.get_or_insert((other, Instant::now() + STOP_GRACE));
                    }
                    kill(docker, id, other.name()).await;
                }
            },
            () = sleep_until(grace.map(|(_, at)| at)) => {
                let sig = grace.map_or(Sig::Term, |(sig, _)| sig);
                warn!(
                    "container {id} still runs {}s after {}; stopping it by force",
                    STOP_GRACE.as_secs(),
                    sig.name()
                );
                stop(docker, id, cfg.remove).await;
                return Ok(sig.exit_code());
            }
            () = sleep_until(detach_check) => {
                detach_check = None;
                if status.is_none() && is_running(docker, id).await {
                    let _ = writeln!(std::io::stderr(), "cderun: detached from container {id}; it keeps running");
                    return Ok(0);
                }
            }
        }
    }
}

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The container's exit status, once `condition` is reached.
async fn wait(docker: Docker, id: String, condition: &'static str) -> Result<i32> {
    let options = WaitContainerOptions {
        condition: condition.to_owned(),
    };
    let mut stream = docker.wait_container(&id, Some(options));
    match stream.next().await {
        Some(Ok(r)) => Ok(clamp(r.status_code)),
        // bollard reports a non-zero exit as an error carrying the code.
        Some(Err(ApiError::DockerContainerWaitError { code, .. })) => Ok(clamp(code)),
        Some(Err(e)) => Err(api_error("wait for", &e)),
        None => Err(err!(
            "the daemon closed the wait for container {id} without an exit status"
        )),
    }
}

fn clamp(code: i64) -> i32 {
    i32::try_from(code.clamp(0, 255)).unwrap_or(255)
}

async fn is_running(docker: &Docker, id: &str) -> bool {
    docker
        .inspect_container(id, None)
        .await
        .ok()
        .and_then(|c| c.state)
        .and_then(|s| s.running)
        .unwrap_or(false)
}

async fn kill(docker: &Docker, id: &str, signal: &str) {
    debug!("forwarding {signal} to container {id}");
    let options = KillContainerOptions {
        signal: signal.to_owned(),
    };
    if let Err(e) = docker.kill_container(id, Some(options)).await {
        debug!("could not send {signal}: {e}");
    }
}

/// Stops the container by force: removed when `remove`, else killed and
/// kept, as the user asked. Killing it also kills any cderun inside it
/// before that cderun can clean up, so the containers it started (labelled
/// with their parent's id, at any depth) are removed first.
async fn stop(docker: &Docker, id: &str, remove_it: bool) {
    remove_descendants(docker, id).await;
    if remove_it {
        remove(docker, id).await;
    } else {
        kill(docker, id, "SIGKILL").await;
    }
}

/// Removes every container started from inside `id`, depth first.
async fn remove_descendants(docker: &Docker, id: &str) {
    let mut pending = vec![id.to_owned()];
    let mut found = Vec::new();
    while let Some(parent) = pending.pop() {
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![format!("{LABEL_PARENT}={parent}")],
            )])),
            ..ListContainersOptions::default()
        };
        let children = docker
            .list_containers(Some(options))
            .await
            .unwrap_or_default();
        for child in children.into_iter().filter_map(|c| c.id) {
            pending.push(child.clone());
            found.push(child);
        }
    }
    // Deepest first, so no cderun outlives the containers it watches.
    for child in found.iter().rev() {
        debug!("removing container {child}, started inside {id}");
        remove(docker, child).await;
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
            status_code: 404 | 409,
            ..
        }) => {}
        Err(e) => warn!("could not remove container {id}: {e}"),
    }
}

/// Sets the container's TTY to the host terminal's size. Right after start
/// the process may not be ready for it yet, so a failure is retried a few
/// times, as `docker run` does.
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
    for attempt in 0..5 {
        match docker.resize_container_tty(id, options.clone()).await {
            Ok(()) => return,
            Err(e) if attempt == 4 => debug!("could not resize the TTY: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(10 << attempt)).await,
        }
    }
}
