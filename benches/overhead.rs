//! `just bench`: cderun's own cost per invocation.
//!
//! Runs `cderun tool-150 --version` with a 200-tool `.tools.yaml` and
//! `DOCKER=/bin/true` (a runtime that does nothing), and the same `/bin/true`
//! alone, interleaved, and reports the median wall time of each, their
//! difference (cderun's overhead), and cderun's peak RSS. cderun execs the
//! runtime, so the peak RSS of the process covers cderun and the no-op.
//!
//! Targets (issue 2): median overhead ≤ 1 ms, peak RSS ≤ 5 MB.
//!
//! Measured for the binary in `CDERUN_BENCH_BINARY` (`just bench` passes the
//! static musl build, the one that is shipped and mounted into containers)
//! and for cargo's own release build of this bench (dynamically linked).

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

    let mut binaries: Vec<(String, String)> = Vec::new();
    if let Ok(b) = std::env::var("CDERUN_BENCH_BINARY") {
        binaries.push(("static (CDERUN_BENCH_BINARY)".to_owned(), b));
    }
    binaries.push((
        "cargo release build (dynamic)".to_owned(),
        env!("CARGO_BIN_EXE_cderun").to_owned(),
    ));
    println!(
        "cderun overhead benchmark: {RUNS} runs each, {TOOLS}-tool .tools.yaml, runtime = {NOOP}"
    );
    for (label, cderun) in &binaries {
        measure(label, cderun, dir.path(), &home);
    }
}

fn measure(label: &str, cderun: &str, dir: &Path, home: &Path) {
    let cd_args: Vec<OsString> = vec!["tool-150".into(), "--version".into()];
    let noop_args: Vec<OsString> = vec!["run".into(), "--rm".into(), "image".into()];

    // Warm-up: page cache, dynamic loader, the .tools.yaml cache.
    for _ in 0..20 {
        run(cderun, &cd_args, dir, home);
        run(NOOP, &noop_args, dir, home);
    }
    let mut with = Vec::with_capacity(RUNS);
    let mut alone = Vec::with_capacity(RUNS);
    let mut uncached = Vec::with_capacity(RUNS / 4);
    let mut rss = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let (t, kb) = run(cderun, &cd_args, dir, home);
        with.push(t);
        rss.push(kb);
        alone.push(run(NOOP, &noop_args, dir, home).0);
        if i % 4 == 0 {
            // An unusable cache directory: every run parses the YAML, as the
            // first run after each edit of .tools.yaml does.
            let (t, kb) = run_env(cderun, &cd_args, dir, home, Some("/dev/null/no-cache"));
            uncached.push(t);
            rss.push(kb);
        }
    }
    let (m_with, m_alone) = (median(&mut with), median(&mut alone));
    let m_uncached = median(&mut uncached);
    let overhead = m_with.saturating_sub(m_alone);
    rss.sort_unstable();
    let peak_kb = *rss.last().unwrap_or(&0);
    println!("\n{label}: {cderun}");
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
        "  without the cache median {:>8.3} ms   overhead {:.3} ms (first run after editing .tools.yaml)",
        ms(m_uncached),
        ms(m_uncached.saturating_sub(m_alone))
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
    run_env(program, args, cwd, home, None)
}

fn run_env(
    program: &str,
    args: &[OsString],
    cwd: &Path,
    home: &Path,
    cache_home: Option<&str>,
) -> (Duration, i64) {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("DOCKER", NOOP)
        .current_dir(cwd);
    if let Some(c) = cache_home {
        cmd.env("XDG_CACHE_HOME", c);
    }
    let start = Instant::now();
    let child = cmd.spawn().expect("spawn");
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
