//! `just bench`: cderun's own cost per invocation.
//!
//! Runs `cderun tool-150 --version` with a 200-tool `.tools.yaml` and
//! `DOCKER=/bin/true` (a runtime that does nothing), and the same `/bin/true`
//! alone, interleaved, and reports the median wall time of each, their
//! difference (cderun's overhead), and cderun's peak RSS. cderun execs the
//! runtime, so the peak RSS of the process covers cderun and the no-op.
//!
//! Targets (issue 2): median overhead ≤ 1 ms, peak RSS ≤ 5 MB.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 400;
const TOOLS: usize = 200;
const NOOP: &str = "/bin/true";

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut yaml = String::new();
    for i in 0..TOOLS {
        let _ = write!(
            yaml,
            "tool-{i:03}:\n  image: registry.example.com/team/tool-{i:03}:1.{i}\n  \
             command: [tool-{i:03}, --flag]\n  tty: auto\n  interactive: auto\n  \
             network: host\n  volumes: [\".:/workspace\", \"~/.cache/tool-{i:03}:/root/.cache\"]\n  \
             env: [TOOL_HOME=/opt/tool-{i:03}, TERM]\n  workdir: /workspace\n"
        );
    }
    std::fs::write(dir.path().join(".tools.yaml"), yaml).expect("write .tools.yaml");
    let home = dir.path().join("home");
    // The tools' cache volumes exist, as they would after a first run.
    for i in 0..TOOLS {
        std::fs::create_dir_all(home.join(format!(".cache/tool-{i:03}"))).expect("mkdir");
    }

    let cderun = env!("CARGO_BIN_EXE_cderun");
    let cd_args: Vec<OsString> = vec!["tool-150".into(), "--version".into()];
    let noop_args: Vec<OsString> = vec!["run".into(), "--rm".into(), "image".into()];

    // Warm-up: page cache, dynamic loader.
    for _ in 0..20 {
        run(cderun, &cd_args, dir.path(), &home);
        run(NOOP, &noop_args, dir.path(), &home);
    }
    let mut with = Vec::with_capacity(RUNS);
    let mut alone = Vec::with_capacity(RUNS);
    let mut rss = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (t, kb) = run(cderun, &cd_args, dir.path(), &home);
        with.push(t);
        rss.push(kb);
        alone.push(run(NOOP, &noop_args, dir.path(), &home).0);
    }
    let (m_with, m_alone) = (median(&mut with), median(&mut alone));
    let overhead = m_with.saturating_sub(m_alone);
    rss.sort_unstable();
    let peak_kb = *rss.last().unwrap_or(&0);
    println!(
        "cderun overhead benchmark: {RUNS} runs each, {TOOLS}-tool .tools.yaml, runtime = {NOOP}"
    );
    println!(
        "  cderun -> no-op   median {:>8.3} ms   p90 {:>8.3} ms",
        ms(m_with),
        ms(p90(&with))
    );
    println!(
        "  no-op alone       median {:>8.3} ms   p90 {:>8.3} ms",
        ms(m_alone),
        ms(p90(&alone))
    );
    println!(
        "  overhead          median {:>8.3} ms   (target <= 1 ms)  {}",
        ms(overhead),
        verdict(overhead <= Duration::from_millis(1))
    );
    println!(
        "  peak RSS          max    {:>8.2} MB   (target <= 5 MB)  {}",
        peak_kb as f64 / 1024.0,
        verdict(peak_kb <= 5 * 1024)
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

/// Runs one command to completion; returns its wall time and peak RSS (KiB).
fn run(program: &str, args: &[OsString], cwd: &Path, home: &Path) -> (Duration, i64) {
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("DOCKER", NOOP)
        .current_dir(cwd)
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value to be overwritten by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; status and usage are valid for writes.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(r, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{program} failed: status {status}"
    );
    std::mem::forget(child); // already reaped
    (elapsed, usage.ru_maxrss)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn p90(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() * 9 / 10]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
