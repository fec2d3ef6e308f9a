//! Signals while a container exists: every signal `docker run` forwards is
//! caught (so none kills cderun and strands the container) and handed to
//! the session, plus SIGWINCH for the TTY size.

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::err;
use crate::error::Result;

/// A signal cderun handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    /// Ctrl-C: forwarded; a second one stops the container by force.
    Int,
    /// Forwarded; the container is stopped by force 10 s later.
    Term,
    /// As SIGTERM.
    Hup,
    /// Forwarded.
    Quit,
    /// Forwarded.
    Usr1,
    /// Forwarded.
    Usr2,
    /// The terminal was resized.
    Winch,
}

const HANDLED: [Sig; 7] = [
    Sig::Int,
    Sig::Term,
    Sig::Hup,
    Sig::Quit,
    Sig::Usr1,
    Sig::Usr2,
    Sig::Winch,
];

impl Sig {
    fn number(self) -> i32 {
        match self {
            Sig::Int => libc::SIGINT,
            Sig::Term => libc::SIGTERM,
            Sig::Hup => libc::SIGHUP,
            Sig::Quit => libc::SIGQUIT,
            Sig::Usr1 => libc::SIGUSR1,
            Sig::Usr2 => libc::SIGUSR2,
            Sig::Winch => libc::SIGWINCH,
        }
    }

    /// The name the Engine API's kill endpoint takes.
    pub fn name(self) -> &'static str {
        match self {
            Sig::Int => "SIGINT",
            Sig::Term => "SIGTERM",
            Sig::Hup => "SIGHUP",
            Sig::Quit => "SIGQUIT",
            Sig::Usr1 => "SIGUSR1",
            Sig::Usr2 => "SIGUSR2",
            Sig::Winch => "SIGWINCH",
        }
    }

    /// The exit code of a process that died of this signal.
    pub fn exit_code(self) -> i32 {
        128 + self.number()
    }

    /// Whether this signal, arriving before the container runs, ends the
    /// run (the others are only worth forwarding to a running container).
    pub fn stops(self) -> bool {
        matches!(self, Sig::Int | Sig::Term | Sig::Hup | Sig::Quit)
    }
}

/// Handlers for every [`Sig`], installed for the whole session.
pub struct Signals(Vec<(Sig, Signal)>);

impl Signals {
    /// Installs the handlers.
    pub fn new() -> Result<Signals> {
        HANDLED
            .iter()
            .map(|&sig| {
                signal(SignalKind::from_raw(sig.number()))
                    .map(|handler| (sig, handler))
                    .map_err(|e| err!("cannot handle {}: {e}", sig.name()))
            })
            .collect::<Result<_>>()
            .map(Signals)
    }

    /// The next signal.
    pub async fn recv(&mut self) -> Sig {
        let waits = self.0.iter_mut().map(|(sig, handler)| {
            Box::pin(async move {
                handler.recv().await;
                *sig
            })
        });
        futures_util::future::select_all(waits).await.0
    }

    /// Runs `fut` unless a stopping signal arrives first.
    pub async fn cancellable<F: Future>(&mut self, fut: F) -> std::result::Result<F::Output, Sig> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => return Ok(out),
                sig = self.recv() => if sig.stops() { return Err(sig) },
            }
        }
    }

    /// Runs `fut` to completion whatever arrives (abandoning a create
    /// request would leave a container nobody knows about), and returns the
    /// first stopping signal seen meanwhile.
    pub async fn uncancellable<F: Future>(&mut self, fut: F) -> (F::Output, Option<Sig>) {
        tokio::pin!(fut);
        let mut seen = None;
        loop {
            tokio::select! {
                out = &mut fut => return (out, seen),
                sig = self.recv() => if sig.stops() { seen.get_or_insert(sig); },
            }
        }
    }
}
