//! Terminals (SPEC §9), with a real pseudo-terminal: `-t` only when stdin and
//! stdout are both terminals, `tty: auto`, and `interactive: auto` (= `-i`
//! when stdin is not a terminal or a TTY is allocated).

use std::ffi::OsString;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use crate::support::*;

/// A pseudo-terminal pair: (master, slave).
fn openpty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two new descriptors into the out-pointers; the
    // name, termios and winsize arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// What a standard stream of cderun is connected to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Io {
    /// The pty's slave: a terminal.
    Tty,
    /// A pipe.
    Pipe,
}

/// Runs cderun with `args`, stdin and stdout as given (stderr piped), and
/// returns the runtime's argv. Same hermetic environment as `Sandbox::cmd`.
fn run(s: &Sandbox, args: &[&str], stdin: Io, stdout: Io) -> Vec<OsString> {
    let (master, slave) = openpty();
    let stream = |io: Io| match io {
        Io::Tty => Stdio::from(slave.try_clone().unwrap()),
        Io::Pipe => Stdio::piped(),
    };
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("cderun"));
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &s.home)
        .env("DOCKER", fake_docker())
        .env("FAKE_DOCKER_RECORD", &s.rec)
        .current_dir(&s.proj)
        .args(args)
        .stdin(stream(stdin))
        .stdout(stream(stdout))
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Close every parent copy of the slave, so the master sees EOF/EIO once
    // the child is gone, and drain the master so the child can never block
    // on a full terminal buffer.
    drop(cmd);
    drop(slave);
    let drain = std::thread::spawn(move || {
        let mut master = std::fs::File::from(master);
        let mut seen = Vec::new();
        let _ = master.read_to_end(&mut seen); // ends with EIO on Linux
        seen
    });
    let out = child.wait_with_output().unwrap();
    let on_terminal = drain.join().unwrap();
    assert!(out.status.success(), "cderun failed: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "stderr");
    assert_eq!(out.stdout, b"", "stdout");
    assert_eq!(on_terminal, b"", "cderun wrote to the terminal");
    s.call().argv
}

/// The default argv with `flags` (`-t`, `-i`) after `run --rm`.
fn expect(s: &Sandbox, flags: &[&str]) -> Vec<OsString> {
    let mut argv = default_argv(&s.proj, "img", &["t"], &["x"], "t");
    let tail = argv.split_off(2);
    argv.extend(os(flags));
    argv.extend(tail);
    argv
}

fn sandbox(entry: &str) -> Sandbox {
    let s = Sandbox::new();
    s.tools(&format!("t:\n  image: img\n{entry}"));
    s
}

// ------------------------------------------------------------- tty: true

#[test]
fn tty_flag_with_both_terminals_adds_t() {
    let s = sandbox("");
    assert_eq!(
        run(&s, &["--tty", "t", "x"], Io::Tty, Io::Tty),
        expect(&s, &["-t"])
    );
}

#[test]
fn tty_true_in_tools_yaml_with_both_terminals_adds_t() {
    let s = sandbox("  tty: true\n");
    assert_eq!(run(&s, &["t", "x"], Io::Tty, Io::Tty), expect(&s, &["-t"]));
}

#[test]
fn tty_with_stdout_piped_drops_t() {
    let s = sandbox("  tty: true\n");
    assert_eq!(run(&s, &["t", "x"], Io::Tty, Io::Pipe), expect(&s, &[]));
    let s = sandbox("");
    assert_eq!(
        run(&s, &["--tty", "t", "x"], Io::Tty, Io::Pipe),
        expect(&s, &[])
    );
}

#[test]
fn tty_with_stdin_piped_drops_t() {
    let s = sandbox("");
    assert_eq!(
        run(&s, &["--tty", "t", "x"], Io::Pipe, Io::Tty),
        expect(&s, &[])
    );
}

#[test]
fn ti_with_both_terminals_adds_t_and_i() {
    let s = sandbox("");
    assert_eq!(
        run(&s, &["-ti", "t", "x"], Io::Tty, Io::Tty),
        expect(&s, &["-t", "-i"])
    );
}

#[test]
fn no_tty_setting_means_no_t_even_on_a_terminal() {
    let s = sandbox("");
    assert_eq!(run(&s, &["t", "x"], Io::Tty, Io::Tty), expect(&s, &[]));
}

#[test]
fn an_override_turns_a_configured_tty_off_on_a_terminal() {
    let s = sandbox("  tty: true\n");
    assert_eq!(
        run(&s, &["t", "--cderun-tty=false", "x"], Io::Tty, Io::Tty),
        expect(&s, &[])
    );
}

#[test]
fn debug_log_says_why_t_was_dropped() {
    let s = sandbox("  tty: true\n");
    let (master, slave) = openpty();
    let out = Command::new(assert_cmd::cargo::cargo_bin!("cderun"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &s.home)
        .env("DOCKER", fake_docker())
        .env("FAKE_DOCKER_RECORD", &s.rec)
        .current_dir(&s.proj)
        .args(["--log-level=debug", "t", "x"])
        .stdin(Stdio::from(slave))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    drop(master);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.ends_with("DEBUG not allocating a TTY: stdin or stdout is not a terminal")),
        "{stderr}"
    );
    assert_eq!(s.call().argv, expect(&s, &[]));
}

// ------------------------------------------------------------- tty: auto

#[test]
fn tty_auto_allocates_exactly_when_both_are_terminals() {
    for (stdin, stdout, flags) in [
        (Io::Tty, Io::Tty, &["-t"][..]),
        (Io::Tty, Io::Pipe, &[][..]),
        (Io::Pipe, Io::Tty, &[][..]),
        (Io::Pipe, Io::Pipe, &[][..]),
    ] {
        let s = sandbox("  tty: auto\n");
        assert_eq!(
            run(&s, &["t", "x"], stdin, stdout),
            expect(&s, flags),
            "stdin {stdin:?}, stdout {stdout:?}"
        );
    }
}

#[test]
fn tty_auto_from_the_flag() {
    let s = sandbox("");
    assert_eq!(
        run(&s, &["--tty=auto", "t", "x"], Io::Tty, Io::Tty),
        expect(&s, &["-t"])
    );
    let s = sandbox("");
    assert_eq!(
        run(&s, &["-t=auto", "t", "x"], Io::Tty, Io::Pipe),
        expect(&s, &[])
    );
}

// ----------------------------------------------------- interactive: auto

#[test]
fn interactive_auto_attaches_stdin_when_it_is_not_a_terminal() {
    for stdout in [Io::Tty, Io::Pipe] {
        let s = sandbox("  interactive: auto\n");
        assert_eq!(
            run(&s, &["t", "x"], Io::Pipe, stdout),
            expect(&s, &["-i"]),
            "stdout {stdout:?}"
        );
    }
}

#[test]
fn interactive_auto_does_not_attach_a_terminal_without_a_tty() {
    // stdin is a terminal and no TTY is allocated (a background job).
    for stdout in [Io::Tty, Io::Pipe] {
        let s = sandbox("  interactive: auto\n");
        assert_eq!(
            run(&s, &["t", "x"], Io::Tty, stdout),
            expect(&s, &[]),
            "stdout {stdout:?}"
        );
    }
}

#[test]
fn interactive_auto_attaches_stdin_when_a_tty_is_allocated() {
    let s = sandbox("  tty: auto\n  interactive: auto\n");
    assert_eq!(
        run(&s, &["t", "x"], Io::Tty, Io::Tty),
        expect(&s, &["-t", "-i"])
    );
    let s = sandbox("  interactive: auto\n");
    assert_eq!(
        run(&s, &["--tty", "t", "x"], Io::Tty, Io::Tty),
        expect(&s, &["-t", "-i"])
    );
    // The requested TTY was dropped (stdout piped): stdin stays detached.
    let s = sandbox("  interactive: auto\n");
    assert_eq!(
        run(&s, &["--tty", "t", "x"], Io::Tty, Io::Pipe),
        expect(&s, &[])
    );
}

#[test]
fn interactive_true_and_false_ignore_the_terminals() {
    let s = sandbox("  interactive: true\n");
    assert_eq!(run(&s, &["t", "x"], Io::Tty, Io::Tty), expect(&s, &["-i"]));
    let s = sandbox("  interactive: false\n");
    assert_eq!(run(&s, &["t", "x"], Io::Pipe, Io::Pipe), expect(&s, &[]));
}
