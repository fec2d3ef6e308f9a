//! `just bench-docker`: what cderun and one level of nesting cost on a real
//! Docker daemon, with the offline images of `tests/e2e/images.sh`.
//!
//! Median wall time of N runs each (default 15, `BENCH_RUNS` to change,
//! at least 10), interleaved so drift in the daemon hits all of them alike:
//!
//! - (a) `docker run --rm BUSYBOX true`, the runtime alone;
//! - (b) the static cderun running the same (`DOCKER` unset, the real
//!   docker on PATH; cderun's defaults add the cwd mount and its labels)
//!   → ratio b/a;
//! - (c) one nested level: host cderun → a container with cderun and the
//!   socket mounted → `cderun <tool>` running `true` → ratio c/b;
//! - (d) the static cderun on `--transport api` running the same as (b):
//!   the Engine API instead of exec'ing `docker run` → ratios d/b and d/a;
//! - (e) one nested level as (c), the level-1 container being the busybox
//!   image (no docker CLI): the nested cderun is on the Engine API → e/c.
//!
//! It also prints the size of the static binary (the one that gets
//! mounted into containers).
//!
//! Uses the static binary (`CDERUN_E2E_BINARY`, default the musl release
//! build of `just static`): it is mounted into the level-1 container. Fails
//! with a clear message when no daemon is reachable. Under `cargo test
//! --all-targets` (no `--bench` argument) it does nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEFAULT_RUNS: usize = 15;
const WARMUP: usize = 2;

/// Builds a fresh command for one sample.
type MakeCommand<'a> = Box<dyn Fn() -> Command + 'a>;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("docker benchmark: skipped outside `cargo bench` (run `just bench-docker`)");
        return;
    }
    if let Err(e) = bench() {
        eprintln!("docker benchmark: error: {e}");
        std::process::exit(1);
    }
}

fn bench() -> Result<(), String> {
    let runs = match std::env::var("BENCH_RUNS") {
        Ok(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 10)
            .ok_or_else(|| format!("BENCH_RUNS={v}: want a whole number >= 10"))?,
        Err(_) => DEFAULT_RUNS,
    };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = match std::env::var_os("CDERUN_E2E_BINARY") {
        Some(p) => PathBuf::from(p),
        None => manifest.join("target/x86_64-unknown-linux-musl/release/cderun"),
    };
    if !binary.is_file() {
        return Err(format!(
            "the static cderun {} does not exist: build it with `just static` \
             (or run `just bench-docker`, which does)",
            binary.display()
        ));
    }
    let binary = std::fs::canonicalize(&binary).map_err(|e| e.to_string())?;

    let version = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run the docker CLI: {e}"))?;
    if !version.status.success() {
        return Err(format!(
            "no reachable Docker daemon (`docker version` failed: {}); start Docker or set DOCKER_HOST",
            String::from_utf8_lossy(&version.stderr).trim()
        ));
    }
    let socket = match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => PathBuf::from(
            h.strip_prefix("unix://")
                .ok_or_else(|| format!("DOCKER_HOST={h}: need a unix:// socket to mount"))?,
        ),
        _ => PathBuf::from("/var/run/docker.sock"),
    };

    let images = Command::new("bash")
        .arg(manifest.join("tests/e2e/images.sh"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run images.sh: {e}"))?;
    if !images.status.success() {
        return Err(format!(
            "images.sh failed: {}",
            String::from_utf8_lossy(&images.stderr).trim()
        ));
    }
    let images = String::from_utf8_lossy(&images.stdout).into_owned();
    let image = |key: &str| {
        images
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_owned)
            .ok_or_else(|| format!("images.sh printed no {key}= line"))
    };
    let (busybox, docker) = (image("busybox")?, image("docker")?);

    let dir = tempfile::Builder::new()
        .prefix("cderun-bench-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let root = std::fs::canonicalize(dir.path()).map_err(|e| e.to_string())?;
    let (proj, home) = (root.join("proj"), root.join("home"));
    for d in [&proj, &home] {
        std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
    }
    std::fs::write(
        proj.join(".tools.yaml"),
        format!(
            "true-bench:\n  image: {busybox}\n  command: [\"true\"]\n\
             nest-bench:\n  image: {docker}\n  mountCderun: true\n  command: [cderun, true-bench]\n\
             nest-api-bench:\n  image: {busybox}\n  mountCderun: true\n  command: [cderun, true-bench]\n"
        ),
    )
    .map_err(|e| e.to_string())?;

    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    let cderun = |args: &[&str]| {
        let mut c = Command::new(&binary);
        c.env_clear()
            .env("PATH", &path)
            .env("HOME", &home)
            .args(args)
            .current_dir(&proj);
        if let Some(h) = std::env::var_os("DOCKER_HOST") {
            c.env("DOCKER_HOST", h);
        }
        c
    };
    let socket_s = socket.display().to_string();
    let cases: Vec<(&str, MakeCommand)> = vec![
        (
            "(a) docker run --rm IMAGE true",
            Box::new(|| {
                let mut c = Command::new("docker");
                c.args(["run", "--rm", &busybox, "true"]);
                c
            }),
        ),
        (
            "(b) cderun true-bench",
            Box::new(|| cderun(&["true-bench"])),
        ),
        (
            "(c) cderun -> container -> cderun true-bench",
            Box::new(|| cderun(&["--mount-socket", &socket_s, "nest-bench"])),
        ),
        (
            "(d) cderun --transport api true-bench",
            Box::new(|| cderun(&["--transport", "api", "true-bench"])),
        ),
        (
            "(e) cderun -> container -> cderun (API) true-bench",
            Box::new(|| cderun(&["--mount-socket", &socket_s, "nest-api-bench"])),
        ),
    ];

    for _ in 0..WARMUP {
        for (name, make) in &cases {
            time(name, make())?;
        }
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); cases.len()];
    for _ in 0..runs {
        for (i, (name, make)) in cases.iter().enumerate() {
            samples[i].push(time(name, make())?);
        }
    }
    let medians: Vec<Duration> = samples.iter_mut().map(|s| median(s)).collect();

    println!(
        "docker benchmark: median of {runs} runs each (interleaved, {WARMUP} warm-up rounds), daemon {}",
        String::from_utf8_lossy(&version.stdout).trim()
    );
    for (i, (name, _)) in cases.iter().enumerate() {
        let s = &samples[i];
        println!(
            "  {name:<52} median {:>8.1} ms   min {:>8.1} ms   max {:>8.1} ms",
            ms(medians[i]),
            ms(s[0]),
            ms(s[s.len() - 1])
        );
    }
    println!(
        "  ratio b/a (cderun + docker run vs docker run alone):   {:.3}",
        ratio(medians[1], medians[0])
    );
    println!(
        "  ratio c/b (one nested level vs one plain level):       {:.3}",
        ratio(medians[2], medians[1])
    );
    println!(
        "  ratio d/b (API transport vs CLI transport):            {:.3}",
        ratio(medians[3], medians[1])
    );
    println!(
        "  ratio d/a (API transport vs docker run alone):         {:.3}",
        ratio(medians[3], medians[0])
    );
    println!(
        "  ratio e/c (nested level on the API vs on the CLI):     {:.3}",
        ratio(medians[4], medians[2])
    );
    let size = std::fs::metadata(&binary).map_err(|e| e.to_string())?.len();
    println!(
        "  static binary {}: {size} bytes ({:.2} MiB)",
        binary.display(),
        size as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

/// Runs one command to completion (output discarded) and returns its wall
/// time; a failure is an error, not a sample.
fn time(name: &str, mut c: Command) -> Result<Duration, String> {
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let out = c.output().map_err(|e| format!("{name}: {e}"))?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(elapsed)
}

/// Sorts the samples and returns the median.
fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
