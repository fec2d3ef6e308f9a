//! The container's streams on the host: output copied by a plain thread
//! (a slow reader never delays signal handling), stdin pumped in and closed
//! at EOF, and the terminal in raw mode for a TTY session.

use std::io::Write;
use std::pin::Pin;

use bollard::container::LogOutput;
use bollard::errors::Error as ApiError;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;

/// The attach output stream.
pub type Output = Pin<Box<dyn Stream<Item = Result<LogOutput, ApiError>> + Send>>;

/// How the output ended.
pub enum OutputEnd {
    /// The container closed its streams.
    Eof,
    /// Our stdout or stderr is gone (`| head`).
    Broken,
    /// Reading from the daemon failed.
    Failed(ApiError),
}

/// Copies the container's output to stdout/stderr; the receiver says how
/// it ended.
pub fn forward_output(mut output: Output) -> oneshot::Receiver<OutputEnd> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<LogOutput, ApiError>>(16);
    let (done_tx, done_rx) = oneshot::channel();
    tokio::spawn(async move {
        while let Some(item) = output.next().await {
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        let end = loop {
            match rx.blocking_recv() {
                None => break OutputEnd::Eof,
                Some(Err(e)) => break OutputEnd::Failed(e),
                Some(Ok(out)) => {
                    if write_output(out).is_err() {
                        break OutputEnd::Broken;
                    }
                }
            }
        };
        let _ = done_tx.send(end);
    });
    done_rx
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
pub async fn pump_stdin(mut input: Pin<Box<dyn AsyncWrite + Send>>) {
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

/// The host terminal in raw mode for the life of a TTY session; restored
/// on drop, on every exit path.
pub struct RawMode {
    saved: rustix::termios::Termios,
}

impl RawMode {
    /// Puts stdin's terminal in raw mode; `None` when it is not a terminal.
    pub fn enable() -> Option<RawMode> {
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
