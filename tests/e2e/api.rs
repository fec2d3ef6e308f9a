//! The Engine API transport (SPEC §11) against the real daemon.
//!
//! Every nested cderun here runs in the busybox image, which has **no**
//! runtime CLI: with `transport: auto` it must find the socket that the level
//! above mounted (`DOCKER_HOST`) and drive the Engine API itself. Where it
//! matters a test proves that choice from the `--verbose --verbose` line
//! `transport auto: ...; Engine API socket SOCKET from DOCKER_HOST`. The host
//! cderun runs with `--transport api` where a test is about the host process
//! itself (signals, a missing image, a TTY) or about "two API levels".

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::harness::{Case, Run, containers, env, q, run_for, wait_until};

/// Runs here are quick; a run that needs longer is hanging (say, a tool
/// that never sees EOF) and fails the test.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Lines of a `--verbose --verbose` stderr in which a cderun with
/// `transport: auto` chose the Engine API over the socket mounted for it.
fn auto_api_lines(stderr: &str) -> usize {
    let want = format!(
        "Engine API socket {} from DOCKER_HOST",
        env().socket.display()
    );
    log_messages(stderr)
        .filter(|m| m.starts_with("transport auto: ") && m.contains(&want))
        .count()
}

/// The messages of cderun's text log lines (`LEVEL message`), level removed.
fn log_messages(stderr: &str) -> impl Iterator<Item = &str> {
    stderr.lines().filter_map(|l| {
        let (level, message) = l.trim_start().split_once(' ')?;
        ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
            .contains(&level)
            .then_some(message)
    })
}

/// Asserts that `n` nested cderuns chose the API, and none the CLI.
fn assert_auto_api(run: &Run, n: usize) {
    assert_eq!(
        auto_api_lines(&run.stderr),
        n,
        "nested cderuns that chose the Engine API by themselves; stderr:\n{}",
        run.stderr
    );
    assert!(
        !log_messages(&run.stderr).any(|m| m.starts_with("transport auto: runtime CLI found")),
        "a nested cderun found a runtime CLI; stderr:\n{}",
        run.stderr
    );
}

/// cderun on the host with `--transport api` and `args`.
fn host_api(case: &Case, args: &[&str]) -> Command {
    let mut c = case.cderun();
    c.arg("--transport=api").args(args);
    c
}

/// [`host_api`] with `--mount-socket` first, for a nested run.
fn host_api_nested(case: &Case, args: &[&str]) -> Command {
    let mut c = case.cderun();
    c.arg("--transport=api").args(case.socket_args()).args(args);
    c
}

/// Host (CLI) → busybox container → `cderun hello` on the API, run from a
/// subdirectory: the nested cderun walks up to `.tools.yaml`, mounts the
/// translated cwd and a project volume, and the sibling reads both.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn one_level_nested_cderun_picks_the_api() {
    let case = Case::new("api-one-level");
    let env = case.env();
    let (sh, hello) = (case.tool("sh"), case.tool("hello"));
    case.write("sub/msg.txt", "cwd file");
    case.write("data/vol.txt", "volume file");
    case.tools_yaml(&format!(
        "{sh}:\n  image: {busybox}\n  command: [sh]\n  mountCderun: true\n\
         {hello}:\n  image: {busybox}\n  volumes: ['./data:/data:ro']\n  command: [sh, -c, {script}, sh]\n",
        busybox = env.busybox,
        script = q(r#"echo "hello $1 in $(pwd): $(cat msg.txt), $(cat /data/vol.txt)""#),
    ));
    let script = format!(
        r#"command -v docker || echo "no docker CLI"; cd sub && cderun --verbose --verbose {hello} world"#
    );
    let run = case.run_nested(&[&sh, "-c", &script]);
    let sub = case.proj.join("sub");
    run.expect(
        0,
        &format!(
            "no docker CLI\nhello world in {}: cwd file, volume file\n",
            sub.display()
        ),
    );
    assert_auto_api(&run, 1);
    assert_eq!(
        case.created(&[&format!("io.cderun.tool={hello}"), "io.cderun.depth=2"]),
        1,
        "the sibling was started at depth 2"
    );
    case.finish();
}

/// Host (API) → l1 → l2 → l3, all busybox: every cderun is on the Engine
/// API, the two nested ones by their own choice. Each level reads the
/// project file through the cwd mount and through a volume whose source is
/// the previous level's mount point (/data1 → /data2 → /data3).
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn three_levels_on_the_api_read_the_project_through_translated_mounts() {
    let case = Case::new("api-three-levels");
    let env = case.env();
    let (l1, l2, l3) = (case.tool("l1"), case.tool("l2"), case.tool("l3"));
    case.write("data/msg.txt", "M");
    let level = |n: u32, next: Option<&str>| {
        let mut s = format!(
            r#"echo "L{n} depth=$CDERUN_DEPTH pwd=$(pwd) cwd=$(cat data/msg.txt) vol=$(cat /data{n}/msg.txt)""#
        );
        match next {
            Some(next) => s.push_str(&format!(" && exec cderun --verbose --verbose {next}")),
            None => s.push_str(r#" && echo "$CDERUN_HOST_MOUNTS""#),
        }
        q(&s)
    };
    case.tools_yaml(&format!(
        "{l1}:\n  image: {bb}\n  mountCderun: true\n  volumes: ['./data:/data1:ro']\n  command: [sh, -c, {s1}]\n\
         {l2}:\n  image: {bb}\n  mountCderun: true\n  volumes: ['/data1:/data2:ro']\n  command: [sh, -c, {s2}]\n\
         {l3}:\n  image: {bb}\n  mountCderun: true\n  volumes: ['/data2:/data3:ro']\n  command: [sh, -c, {s3}]\n",
        bb = env.busybox,
        s1 = level(1, Some(&l2)),
        s2 = level(2, Some(&l3)),
        s3 = level(3, None),
    ));
    let mut c = host_api(&case, &["--verbose", "--verbose"]);
    c.args(case.socket_args()).arg(&l1);
    let run = run_for(c, None, TIMEOUT);
    let out = run.stdout();
    let lines: Vec<&str> = out.lines().collect();
    let proj = case.proj.display();
    let expected: Vec<String> = (1..=3)
        .map(|n| format!("L{n} depth={n} pwd={proj} cwd=M vol=M"))
        .collect();
    assert!(
        run.code == 0 && lines.len() == 4 && lines[..3] == expected[..],
        "exit {}; expected lines {expected:#?}, got {lines:#?}\nstderr:\n{}",
        run.code,
        run.stderr
    );
    let mounts: std::collections::BTreeMap<String, String> =
        serde_json::from_str(lines[3]).expect("CDERUN_HOST_MOUNTS is a JSON object");
    assert_eq!(
        mounts.get("/data3"),
        Some(&case.proj.join("data").display().to_string()),
        "level 3's /data3 maps to the base host's project data: {mounts:?}"
    );
    // The host on `--transport api`, l1 and l2 on the API by themselves.
    assert!(
        log_messages(&run.stderr).any(|m| m.starts_with("transport api; Engine API socket")),
        "the host cderun did not log its API choice; stderr:\n{}",
        run.stderr
    );
    assert_auto_api(&run, 2);
    for (tool, depth) in [(&l1, "1"), (&l2, "2"), (&l3, "3")] {
        assert_eq!(
            case.created(&[
                &format!("io.cderun.tool={tool}"),
                &format!("io.cderun.depth={depth}")
            ]),
            1,
            "{tool} created once at depth {depth}"
        );
    }
    case.finish();
}

/// Two API levels (host `--transport api` → busybox → nested cderun):
/// the tool's exit code comes back unchanged, cderun stays silent on
/// stderr, and a command missing from the image is 127 as with `docker run`.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn exit_codes_through_two_api_levels() {
    let case = Case::new("api-exit-codes");
    let env = case.env();
    let (outer, code, missing, outer_missing) = (
        case.tool("outer"),
        case.tool("code"),
        case.tool("missing"),
        case.tool("outer-missing"),
    );
    case.tools_yaml(&format!(
        "{outer}:\n  image: {bb}\n  mountCderun: true\n  command: [cderun, {code}]\n\
         {code}:\n  image: {bb}\n  command: [sh, -c, {script}, sh]\n\
         {outer_missing}:\n  image: {bb}\n  mountCderun: true\n  command: [cderun, {missing}]\n\
         {missing}:\n  image: {bb}\n  command: [no-such-command-e2e]\n",
        bb = env.busybox,
        script = q(r#"echo "exiting with $1"; exit "$1""#),
    ));
    for c in [0, 7, 255] {
        let cmd = host_api_nested(&case, &[outer.as_str(), &c.to_string()]);
        let run = run_for(cmd, None, TIMEOUT);
        run.expect(c, &format!("exiting with {c}\n"));
        assert_eq!(run.stderr, "", "cderun is silent when the tool ran");
    }
    // `remove: false` on the API keeps the stopped container, as `docker run`
    // without `--rm` does, with the tool's exit code.
    let run = run_for(
        host_api(&case, &["--remove=false", &code, "7"]),
        None,
        TIMEOUT,
    );
    run.expect(7, "exiting with 7\n");
    let kept = containers(&[format!("label=io.cderun.tool={code}")]);
    assert_eq!(kept.len(), 1, "the container is kept: {kept:?}");
    let state = crate::harness::docker(&[
        "inspect",
        "--format",
        "{{.State.Status}} {{.State.ExitCode}}",
        &kept[0],
    ]);
    assert_eq!(state.trim(), "exited 7");
    crate::harness::docker(&["rm", &kept[0]]);

    let cmd = host_api_nested(&case, &[&outer_missing]);
    run_for(cmd, None, TIMEOUT)
        .expect(127, "")
        .stderr_has("cderun: error: cannot start the container: ")
        .stderr_has("\"no-such-command-e2e\": executable file not found");
    assert_eq!(
        containers(&[format!("label=io.cderun.tool={missing}")]),
        Vec::<String>::new(),
        "the container that could not start was removed"
    );
    case.finish();
}

/// Stdin through two API levels: the tool sees EOF (`wc -c` ends and prints
/// the exact count), binary input arrives byte for byte, and empty input is
/// an immediate EOF. A lost EOF hangs the tool and fails on the timeout.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn stdin_through_two_api_levels_is_closed_at_eof() {
    let case = Case::new("api-stdin");
    let env = case.env();
    let (outer_wc, wc, outer_cat, cat) = (
        case.tool("outer-wc"),
        case.tool("wc"),
        case.tool("outer-cat"),
        case.tool("cat"),
    );
    case.tools_yaml(&format!(
        "{outer_wc}:\n  image: {bb}\n  mountCderun: true\n  interactive: true\n  command: [cderun, {wc}]\n\
         {wc}:\n  image: {bb}\n  interactive: auto\n  command: [sh, -c, 'wc -c; echo after EOF']\n\
         {outer_cat}:\n  image: {bb}\n  mountCderun: true\n  interactive: true\n  command: [cderun, {cat}]\n\
         {cat}:\n  image: {bb}\n  interactive: auto\n  command: [cat]\n",
        bb = env.busybox,
    ));
    let pipe = |tool: &str, input: &[u8]| {
        let c = host_api_nested(&case, &[tool]);
        run_for(c, Some(input.to_vec()), Duration::from_secs(30))
    };
    let data = crate::streams::random_bytes(3 * 1024 * 1024 + 17, 0xcde_57d1);
    pipe(&outer_wc, &data).expect(0, &format!("{}\nafter EOF\n", data.len()));
    pipe(&outer_wc, b"").expect(0, "0\nafter EOF\n");
    let run = pipe(&outer_cat, &data);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert_same(&run.stdout, &data);
    case.finish();
}

/// 10 MiB of random bytes `cat` two API levels down arrive complete and
/// identical on stdout (no TTY: the multiplexed stream), and what the tool
/// writes to stderr after them arrives on stderr only.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn large_output_through_two_api_levels() {
    let case = Case::new("api-large-output");
    let env = case.env();
    let (outer, cat) = (case.tool("outer"), case.tool("cat"));
    let data = crate::streams::random_bytes(10 * 1024 * 1024, 0x0a91_cde7);
    case.write("big.bin", &data);
    case.tools_yaml(&format!(
        "{outer}:\n  image: {bb}\n  mountCderun: true\n  command: [cderun, {cat}]\n\
         {cat}:\n  image: {bb}\n  command: [sh, -c, 'cat big.bin && echo \"stderr after $(wc -c < big.bin) bytes\" >&2']\n",
        bb = env.busybox,
    ));
    let c = host_api_nested(&case, &[&outer]);
    let run = run_for(c, None, TIMEOUT);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert_same(&run.stdout, &data);
    assert_eq!(run.stderr, "stderr after 10485760 bytes\n");
    case.finish();
}

fn assert_same(got: &[u8], want: &[u8]) {
    assert_eq!(got.len(), want.len(), "output length");
    if let Some(at) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!("output differs from the input at byte {at}");
    }
}

/// `--mount-tools` in the busybox image: the shims run the configured tools
/// through the API (output, stdin, exit code), `cderun` is mounted too.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn mount_tools_shims_on_the_api() {
    let case = Case::new("api-shims");
    let env = case.env();
    let (sh, hello, upper, fail) = (
        case.tool("sh"),
        case.tool("hello"),
        case.tool("upper"),
        case.tool("fail"),
    );
    case.tools_yaml(&format!(
        "{sh}:\n  image: {bb}\n  command: [sh]\n\
         {hello}:\n  image: {bb}\n  command: [echo, 'hello:']\n\
         {upper}:\n  image: {bb}\n  interactive: auto\n  command: [tr, a-z, A-Z]\n\
         {fail}:\n  image: {bb}\n  command: [sh, -c, 'exit 3']\n",
        bb = env.busybox,
    ));
    let script = format!(
        "command -v docker || echo 'no docker CLI'; {hello} world && echo abc | {upper} \
         && {{ {fail}; echo \"{fail} exited $?\"; }} && command -v {hello} && command -v cderun \
         && CDERUN_LOG_LEVEL=debug {hello} logged"
    );
    let tools = format!("{hello},{upper},{fail}");
    let run = case.run_nested(&["--mount-tools", &tools, &sh, "-c", &script]);
    run.expect(
        0,
        &format!(
            "no docker CLI\nhello: world\nABC\n{fail} exited 3\n/usr/local/bin/{hello}\n\
             /usr/local/bin/cderun\nhello: logged\n"
        ),
    );
    assert_auto_api(&run, 1);
    case.finish();
}

/// A tool that runs itself in the busybox image, `maxDepth: 2`: depths 1
/// and 2 run (the nested one on the API), depth 3 is refused before the
/// API is asked for anything.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn depth_limit_on_the_api() {
    let case = Case::new("api-depth");
    let env = case.env();
    let tool = case.tool("loop");
    case.write(".cderun.yaml", "maxDepth: 2\n");
    case.tools_yaml(&format!(
        "{tool}:\n  image: {}\n  mountCderun: true\n  command: [sh, -c, {}]\n",
        env.busybox,
        q(&format!(
            r#"echo "loop at depth $CDERUN_DEPTH"; exec cderun {tool}"#
        ))
    ));
    let c = host_api_nested(&case, &[&tool]);
    run_for(c, None, TIMEOUT)
        .expect(125, "loop at depth 1\nloop at depth 2\n")
        .stderr_has("cderun: error: nesting depth 3 exceeds the limit of 2");
    let label = format!("io.cderun.tool={tool}");
    assert_eq!(case.created(&[&label]), 2, "containers created");
    assert_eq!(case.created(&[&label, "io.cderun.depth=3"]), 0);
    case.finish();
}

/// A volume from a directory that exists only in the busybox container:
/// the nested cderun (API) refuses it with 125 and creates nothing; run from
/// such a directory, the cwd mount is skipped instead and the tool runs.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn untranslatable_path_on_the_api() {
    let case = Case::new("api-untranslatable");
    let env = case.env();
    let (outer, inner, plain) = (case.tool("outer"), case.tool("inner"), case.tool("plain"));
    case.tools_yaml(&format!(
        "{outer}:\n  image: {bb}\n  mountCderun: true\n  command: [sh, -c]\n\
         {inner}:\n  image: {bb}\n  volumes: ['/tmp/inside:/inside']\n  command: [cat, /inside/f]\n\
         {plain}:\n  image: {bb}\n  command: [sh, -c, 'echo \"plain in $(pwd)\"']\n",
        bb = env.busybox,
    ));
    let script = format!(
        "mkdir -p /tmp/inside && echo x > /tmp/inside/f && exec cderun --verbose --verbose {inner}"
    );
    let run = case.run_nested(&[&outer, &script]);
    run.expect(125, "").stderr_has(
        "cderun: error: /tmp/inside exists only inside this container; the runtime cannot mount it",
    );
    assert_eq!(
        case.created(&[&format!("io.cderun.tool={inner}")]),
        0,
        "a container for {inner} was created"
    );

    let tools = case.proj.join(".tools.yaml").display().to_string();
    let script = format!(
        "mkdir -p /tmp/inside && cd /tmp/inside && CDERUN_TOOLS={tools} cderun --verbose --verbose {plain}"
    );
    let run = case.run_nested(&[&outer, &script]);
    run.expect(0, "plain in /\n");
    assert_auto_api(&run, 1);
    case.finish();
}

/// The same tool entry run by `--transport cli` (docker run) and
/// `--transport api` makes the same container: user, workdir, network,
/// environment, read-only and read-write volumes, entrypoint and arguments
/// (spaces, empty strings) all come out the same.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn cli_and_api_transports_make_the_same_container() {
    let case = Case::new("api-parity");
    let env = case.env();
    let tool = case.tool("probe");
    case.write("ro/f", "ro");
    case.write("rw/.keep", "");
    case.write(
        "probe.sh",
        r#"echo "user=$(id -u):$(id -g) pwd=$(pwd) args=[$1][$2][$3] argc=$#"
echo "net=$(ls /sys/class/net | tr '\n' ' ')"
touch /ro/x 2>/dev/null && echo "ro writable" || echo "ro read-only"
[ -w /rw ] && echo "rw writable"
env | grep -v '^HOSTNAME=' | sort
"#,
    );
    let proj = case.proj.display();
    case.tools_yaml(&format!(
        "{tool}:\n  image: {bb}\n  user: '1234:5678'\n  workdir: /rw\n  network: none\n\
         \x20 env: [A=1, 'B=two  words', C=]\n  volumes: ['./ro:/ro:ro', './rw:/rw']\n\
         \x20 entrypoint: /bin/sh\n  command: [{proj}/probe.sh]\n",
        bb = env.busybox,
    ));
    // Writable for uid 1234 whatever the test's own uid.
    std::fs::set_permissions(
        case.proj.join("rw"),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod rw");
    let on = |transport: &str| {
        let mut c = case.cderun();
        c.args([&format!("--transport={transport}"), &tool, "a  b", "", "c"]);
        let run = run_for(c, None, TIMEOUT);
        assert_eq!(run.code, 0, "{transport}: stderr:\n{}", run.stderr);
        assert_eq!(run.stderr, "", "{transport}: stderr");
        run.stdout()
    };
    let (cli, api) = (on("cli"), on("api"));
    assert_eq!(api, cli, "API and CLI transports differ");
    let head: Vec<&str> = api.lines().take(4).collect();
    assert_eq!(
        head,
        [
            "user=1234:5678 pwd=/rw args=[a  b][][c] argc=3",
            "net=lo ",
            "ro read-only",
            "rw writable",
        ]
    );
    for var in ["A=1", "B=two  words", "C="] {
        assert!(api.lines().any(|l| l == var), "{var} missing:\n{api}");
    }
    case.finish();
}

/// An argument that is not UTF-8 cannot travel in the API's JSON: a clear
/// 125 before anything is created (the CLI transport would pass it).
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn non_utf8_argument_is_refused_on_the_api() {
    use std::os::unix::ffi::OsStrExt;
    let case = Case::new("api-non-utf8");
    let env = case.env();
    let tool = case.tool("echo");
    case.tools_yaml(&format!(
        "{tool}:\n  image: {}\n  command: [echo]\n",
        env.busybox
    ));
    let mut c = host_api(&case, &[&tool]);
    c.arg(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    run_for(c, None, TIMEOUT).expect(125, "").stderr_has(
        "cderun: error: the Engine API cannot carry the non-UTF-8 argument 'caf\u{fffd}'",
    );
    assert_eq!(case.created(&[&format!("io.cderun.tool={tool}")]), 0);
    case.finish();
}

/// When cderun's stdout closes (`| head`), the container is removed and
/// cderun exits 141 as a process killed by SIGPIPE would.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn closed_stdout_removes_the_container() {
    let case = Case::new("api-closed-stdout");
    let env = case.env();
    let tool = case.tool("yes");
    case.tools_yaml(&format!(
        "{tool}:\n  image: {}\n  command: ['yes']\n",
        env.busybox
    ));
    let mut live = Live::spawn_reading(host_api(&case, &[&tool]), 256 * 1024);
    let run = live.finish(Duration::from_secs(30));
    assert_eq!(run.code, 141, "stderr:\n{}", run.stderr);
    assert!(run.stdout.starts_with(b"y\ny\ny\n"));
    assert_eq!(
        containers(&[format!("label=io.cderun.tool={tool}")]),
        Vec::<String>::new(),
        "the container is gone"
    );
    case.finish();
}

/// A cderun process running in the background, its stdout and stderr
/// collected as they come, so a test can wait for a line and then signal it.
struct Live {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Live {
    fn spawn(c: Command) -> Live {
        Live::spawn_reading(c, usize::MAX)
    }

    /// Like [`Live::spawn`], but closes the read end of stdout once
    /// `stdout_limit` bytes arrived (as `| head -c N` would).
    fn spawn_reading(mut c: Command, stdout_limit: usize) -> Live {
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn cderun");
        let (stdout, stderr) = (Arc::default(), Arc::default());
        let collect = |mut from: Box<dyn Read + Send>, into: &Arc<Mutex<Vec<u8>>>, limit: usize| {
            let into = Arc::clone(into);
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n @ 1..) = from.read(&mut buf) {
                    let mut into = into.lock().unwrap();
                    into.extend_from_slice(&buf[..n]);
                    if into.len() >= limit {
                        break; // `from` is dropped: the pipe closes
                    }
                }
            })
        };
        let readers = vec![
            collect(
                Box::new(child.stdout.take().unwrap()),
                &stdout,
                stdout_limit,
            ),
            collect(Box::new(child.stderr.take().unwrap()), &stderr, usize::MAX),
        ];
        Live {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    fn text(buf: &Mutex<Vec<u8>>) -> String {
        String::from_utf8_lossy(&buf.lock().unwrap()).into_owned()
    }

    fn wait_for_stdout(&self, needle: &str) {
        wait_until(TIMEOUT, &format!("{needle:?} on stdout"), || {
            Self::text(&self.stdout).contains(needle)
        });
    }

    fn wait_for_stderr(&self, needle: &str) {
        wait_until(TIMEOUT, &format!("{needle:?} on stderr"), || {
            Self::text(&self.stderr).contains(needle)
        });
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own, not yet reaped, child.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Waits for the exit (failing after `timeout`) and the end of output.
    fn finish(&mut self, timeout: Duration) -> Run {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait for cderun") {
                break s;
            }
            assert!(
                start.elapsed() < timeout,
                "cderun did not exit within {timeout:?}; stderr:\n{}",
                Self::text(&self.stderr)
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in self.readers.drain(..) {
            r.join().unwrap();
        }
        let code = status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        });
        Run {
            code,
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: Self::text(&self.stderr),
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn running(tool: &str) -> Vec<String> {
    containers(&[
        format!("label=io.cderun.tool={tool}"),
        "status=running".into(),
    ])
}

/// A shell that traps TERM and reports it; prints `ready` once the trap is set.
const TRAPS_TERM: &str = r#"trap 'echo caught TERM; exit 143' TERM; echo ready; sleep 300 & wait"#;

/// SIGTERM to the host cderun on `--transport api` is forwarded: the
/// container's shell runs its trap and exits 143, cderun returns that, well
/// before the 10 s grace, and removes the container.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn sigterm_to_the_host_cderun_is_forwarded_and_the_container_removed() {
    let case = Case::new("api-sigterm");
    let env = case.env();
    let tool = case.tool("trap");
    case.tools_yaml(&format!(
        "{tool}:\n  image: {}\n  command: [sh, -c, {}]\n",
        env.busybox,
        q(TRAPS_TERM)
    ));
    let mut live = Live::spawn(host_api(&case, &[&tool]));
    live.wait_for_stdout("ready\n");
    assert_eq!(running(&tool).len(), 1, "the container runs");
    let sent = Instant::now();
    live.signal(libc::SIGTERM);
    let run = live.finish(Duration::from_secs(30));
    let took = sent.elapsed();
    run.expect(143, "ready\ncaught TERM\n");
    assert!(
        took < Duration::from_secs(5),
        "took {took:?}: not forwarded?"
    );
    assert_eq!(run.stderr, "", "nothing of cderun's own on stderr");
    assert_eq!(
        containers(&[format!("label=io.cderun.tool={tool}")]),
        Vec::<String>::new(),
        "the container is gone"
    );
    case.finish();
}

/// SIGTERM travels down two API levels: host cderun → the busybox container
/// whose PID 1 is the nested cderun → the trapping shell. Every level exits
/// 143 and removes its container: nothing is left at either depth.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn sigterm_through_two_api_levels_leaves_nothing() {
    let case = Case::new("api-sigterm-nested");
    let env = case.env();
    let (outer, tool) = (case.tool("outer"), case.tool("trap"));
    case.tools_yaml(&format!(
        "{outer}:\n  image: {bb}\n  mountCderun: true\n  command: [cderun, {tool}]\n\
         {tool}:\n  image: {bb}\n  command: [sh, -c, {script}]\n",
        bb = env.busybox,
        script = q(TRAPS_TERM)
    ));
    let c = host_api_nested(&case, &[&outer]);
    let mut live = Live::spawn(c);
    live.wait_for_stdout("ready\n");
    assert_eq!(running(&outer).len(), 1, "level 1 runs");
    assert_eq!(running(&tool).len(), 1, "level 2 runs");
    let sent = Instant::now();
    live.signal(libc::SIGTERM);
    let run = live.finish(Duration::from_secs(30));
    let took = sent.elapsed();
    run.expect(143, "ready\ncaught TERM\n");
    assert!(
        took < Duration::from_secs(5),
        "took {took:?}: not forwarded?"
    );
    assert_eq!(run.stderr, "", "nothing of cderun's own on stderr");
    case.finish();
}

/// A container that ignores SIGTERM (`sleep` as PID 1 has no handler) is
/// removed by force 10 s after the forwarded SIGTERM: exit 143, a warning,
/// nothing left.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn ignored_sigterm_is_force_removed_after_the_grace() {
    let case = Case::new("api-sigterm-ignored");
    let env = case.env();
    let tool = case.tool("sleeper");
    case.tools_yaml(&format!(
        "{tool}:\n  image: {}\n  command: [sleep, '300']\n",
        env.busybox
    ));
    let mut live = Live::spawn(host_api(&case, &["--verbose", "--verbose", &tool]));
    live.wait_for_stderr("DEBUG created container");
    wait_until(TIMEOUT, "the sleep", || running(&tool).len() == 1);
    let sent = Instant::now();
    live.signal(libc::SIGTERM);
    let run = live.finish(Duration::from_secs(30));
    let took = sent.elapsed();
    run.expect(143, "")
        .stderr_has("forwarding SIGTERM to container")
        .stderr_has("still runs 10s after SIGTERM; stopping it by force");
    assert!(
        (Duration::from_millis(9_500)..Duration::from_secs(14)).contains(&took),
        "force-removed after {took:?}, want ~10 s"
    );
    assert_eq!(
        containers(&[format!("label=io.cderun.tool={tool}")]),
        Vec::<String>::new(),
        "the container is gone"
    );
    case.finish();
}

/// The first SIGINT is forwarded (and ignored by `sleep` as PID 1: the
/// container keeps running); the second removes it by force: exit 130.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn second_sigint_force_removes_the_container() {
    let case = Case::new("api-sigint");
    let env = case.env();
    let tool = case.tool("sleeper");
    case.tools_yaml(&format!(
        "{tool}:\n  image: {}\n  command: [sleep, '300']\n",
        env.busybox
    ));
    let mut live = Live::spawn(host_api(&case, &["--verbose", "--verbose", &tool]));
    wait_until(TIMEOUT, "the sleep", || running(&tool).len() == 1);
    live.signal(libc::SIGINT);
    live.wait_for_stderr("forwarding SIGINT to container");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(running(&tool).len(), 1, "still runs after one SIGINT");
    let sent = Instant::now();
    live.signal(libc::SIGINT);
    let run = live.finish(Duration::from_secs(30));
    let took = sent.elapsed();
    run.expect(130, "")
        .stderr_has("second SIGINT: stopping container");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(
        containers(&[format!("label=io.cderun.tool={tool}")]),
        Vec::<String>::new(),
        "the container is gone"
    );
    case.finish();
}

// Forced stops of a container that runs a nested cderun: on a second
// SIGINT, at the end of the 10 s grace and when stdout closes, the container
// is stopped by force, which SIGKILLs the nested cderun before it can stop
// *its* container. cderun therefore first removes every container labelled
// `io.cderun.parent=<that container>` (at any depth); these tests prove
// nothing is left at depth 2.

/// `docker inspect` format: tool, depth and state of a container.
const DESCRIBE: &str = r#"{{index .Config.Labels "io.cderun.tool"}} at depth {{index .Config.Labels "io.cderun.depth"}}: {{.State.Status}}"#;

/// Fails unless every container of the case is gone within 5 s of `what`.
fn settled(case: &Case, what: &str) {
    let start = Instant::now();
    while !case.leftovers().is_empty() {
        if start.elapsed() > Duration::from_secs(5) {
            let left: Vec<String> = case
                .leftovers()
                .iter()
                .map(|id| {
                    let out = Command::new("docker")
                        .args(["inspect", "--format", DESCRIBE, id])
                        .output()
                        .expect("docker inspect");
                    String::from_utf8_lossy(&out.stdout).trim().to_owned()
                })
                .collect();
            panic!("containers left 5 s after {what}: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Two API levels, `sleep` (ignores SIGINT) at depth 2: a double SIGINT to
/// the host cderun must leave nothing at any depth.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn forced_stop_second_sigint_through_two_api_levels_leaves_nothing() {
    let case = Case::new("forced-sigint-nested");
    let env = case.env();
    let (outer, sleeper) = (case.tool("outer"), case.tool("sleeper"));
    case.tools_yaml(&format!(
        "{outer}:\n  image: {bb}\n  mountCderun: true\n  command: [cderun, {sleeper}]\n\
         {sleeper}:\n  image: {bb}\n  command: [sleep, '300']\n",
        bb = env.busybox
    ));
    let mut live = Live::spawn(host_api_nested(&case, &["--verbose", "--verbose", &outer]));
    wait_until(TIMEOUT, "the nested sleep", || running(&sleeper).len() == 1);
    live.signal(libc::SIGINT);
    live.wait_for_stderr("forwarding SIGINT to container");
    std::thread::sleep(Duration::from_millis(500));
    live.signal(libc::SIGINT);
    let run = live.finish(Duration::from_secs(30));
    assert_eq!(run.code, 130, "stderr:\n{}", run.stderr);
    settled(&case, "the double SIGINT");
    case.finish();
}

/// Two API levels where level 1 is `sh -c 'cderun ...; ...'`: `sh` as PID 1
/// ignores the forwarded SIGTERM and does not pass it on, so the host cderun
/// stops level 1 by force after the 10 s grace. That must still leave
/// nothing at any depth. (Also when the nested cderun does get the SIGTERM
/// and its tool ignores it, both graces race and the host's usually ends
/// first, with the same leak.)
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn forced_stop_ignored_sigterm_through_two_api_levels_leaves_nothing() {
    let case = Case::new("forced-sigterm-nested");
    let env = case.env();
    let (outer, sleeper) = (case.tool("outer"), case.tool("sleeper"));
    case.tools_yaml(&format!(
        "{outer}:\n  image: {bb}\n  mountCderun: true\n  command: [sh, -c, 'cderun {sleeper}; echo after']\n\
         {sleeper}:\n  image: {bb}\n  command: [sleep, '300']\n",
        bb = env.busybox
    ));
    let mut live = Live::spawn(host_api_nested(&case, &[&outer]));
    wait_until(TIMEOUT, "the nested sleep", || running(&sleeper).len() == 1);
    live.signal(libc::SIGTERM);
    let run = live.finish(Duration::from_secs(30));
    assert_eq!(run.code, 143, "stderr:\n{}", run.stderr);
    settled(&case, "the grace");
    case.finish();
}

/// Two API levels, `yes` at depth 2: closing the host cderun's stdout must
/// remove every level.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn forced_stop_closed_stdout_through_two_api_levels_leaves_nothing() {
    let case = Case::new("forced-closed-stdout-nested");
    let env = case.env();
    let (outer, yes) = (case.tool("outer"), case.tool("yes"));
    case.tools_yaml(&format!(
        "{outer}:\n  image: {bb}\n  mountCderun: true\n  command: [cderun, {yes}]\n\
         {yes}:\n  image: {bb}\n  command: ['yes']\n",
        bb = env.busybox
    ));
    let mut live = Live::spawn_reading(host_api_nested(&case, &[&outer]), 256 * 1024);
    let run = live.finish(Duration::from_secs(30));
    assert_eq!(run.code, 141, "stderr:\n{}", run.stderr);
    settled(&case, "stdout closed");
    case.finish();
}

/// An image the daemon lacks, with no registry reachable: the host cderun
/// on `--transport api` and a nested one (auto → API) both try to pull it
/// ("Pulling ..." on stderr), then exit 125 with the clear error, and no
/// container of that tool is ever created.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn missing_image_is_a_clear_125_on_the_api() {
    const IMAGE: &str = "cderun-e2e/does-not-exist:1";
    let case = Case::new("api-missing-image");
    let env = case.env();
    assert!(
        !Command::new("docker")
            .args(["image", "inspect", IMAGE])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("docker image inspect")
            .success(),
        "{IMAGE} exists on this daemon; remove it (docker rmi {IMAGE})"
    );
    let (outer, ghost) = (case.tool("outer"), case.tool("ghost"));
    case.tools_yaml(&format!(
        "{outer}:\n  image: {bb}\n  mountCderun: true\n  command: [cderun, {ghost}]\n\
         {ghost}:\n  image: {IMAGE}\n  command: ['true']\n",
        bb = env.busybox,
    ));
    let check = |run: Run| {
        run.expect(125, "")
            .stderr_has(&format!("cderun: error: cannot pull image '{IMAGE}':"));
        assert!(
            run.stderr.starts_with(&format!("Pulling {IMAGE}\n")),
            "stderr does not start with the pull:\n{}",
            run.stderr
        );
    };
    check(run_for(host_api(&case, &[&ghost]), None, TIMEOUT));
    let c = host_api_nested(&case, &[&outer]);
    check(run_for(c, None, TIMEOUT));
    assert_eq!(
        case.created(&[&format!("io.cderun.tool={ghost}")]),
        0,
        "a container for the missing image was created"
    );
    assert_eq!(case.created(&[&format!("io.cderun.tool={outer}")]), 1);
    case.finish();
}

/// A TTY session on `--transport api` from the host, under a real pty: the
/// tool sees a /dev/pts terminal of the pty's size, follows a resize
/// (SIGWINCH), reads what is typed on the host terminal, and its exit code
/// comes back; the host terminal is out of raw mode afterwards, also when
/// the session ends by a double SIGINT.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn tty_session_on_the_api_under_a_pty() {
    let case = Case::new("api-tty");
    let env = case.env();
    let (term, sleeper) = (case.tool("term"), case.tool("sleeper"));
    // Prints each non-zero size it sees until 20x60, then reads a line.
    // Docker creates the TTY at 0x0 and the client resizes it after start
    // (API 1.41 has no size at create), so the first looks may see 0 0.
    case.write(
        "term.sh",
        r#"tty
last=
i=0
while [ "$i" -lt 300 ]; do
  s=$(stty size 2>/dev/null) || s=
  if [ -n "$s" ] && [ "$s" != "0 0" ] && [ "$s" != "$last" ]; then echo "size $s"; last=$s; fi
  if [ "$s" = "20 60" ]; then
    stty -echo
    echo "type:"
    read -r line
    echo "got [$line]"
    exit 5
  fi
  sleep 0.05
  i=$((i + 1))
done
echo "no resize to 20 60 (last size: $last)"
exit 9
"#,
    );
    case.tools_yaml(&format!(
        "{term}:\n  image: {bb}\n  tty: true\n  interactive: auto\n  command: [sh, term.sh]\n\
         {sleeper}:\n  image: {bb}\n  tty: true\n  interactive: auto\n  command: [sleep, '300']\n",
        bb = env.busybox
    ));

    let mut pty = Pty::open(33, 101);
    let mut child = pty.spawn(host_api(&case, &[&term]));
    pty.wait_for("size 33 101");
    pty.resize(20, 60);
    pty.wait_for("type:");
    pty.write(b"hello tty\n");
    let status = wait_child(&mut child, &pty);
    let text = pty.finish();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        status.code() == Some(5)
            && lines.len() == 5
            && lines[0].starts_with("/dev/pts/")
            && lines[1..] == ["size 33 101", "size 20 60", "type:", "got [hello tty]"],
        "exit {status:?}; output:\n{text}"
    );
    assert!(pty.cooked(), "the pty was left in raw mode");

    // The signal path: a first SIGINT is forwarded (sleep ignores it), the
    // second removes the container; raw mode is undone all the same.
    let mut pty = Pty::open(24, 80);
    let mut child = pty.spawn(host_api(&case, &["--verbose", "--verbose", &sleeper]));
    wait_until(TIMEOUT, "the sleep", || running(&sleeper).len() == 1);
    assert!(!pty.cooked(), "raw mode while the session runs");
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on our own, not yet reaped, child.
    unsafe { libc::kill(pid, libc::SIGINT) };
    pty.wait_for("forwarding SIGINT");
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = wait_child(&mut child, &pty);
    let text = pty.finish();
    assert_eq!(status.code(), Some(130), "output:\n{text}");
    assert!(pty.cooked(), "the pty was left in raw mode after SIGINT");
    assert_eq!(
        containers(&[format!("label=io.cderun.tool={term}")]),
        Vec::<String>::new()
    );
    assert_eq!(
        containers(&[format!("label=io.cderun.tool={sleeper}")]),
        Vec::<String>::new()
    );
    case.finish();
}

/// Waits for a child on a pty, killing it (and failing) after [`TIMEOUT`].
fn wait_child(child: &mut Child, pty: &Pty) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cderun did not exit; output so far:\n{}", pty.text());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A pseudo-terminal pair. A child runs with the slave as its controlling
/// terminal and stdio; a thread collects what the master reads.
struct Pty {
    master: OwnedFd,
    slave: Option<OwnedFd>,
    output: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl Pty {
    fn open(rows: u16, cols: u16) -> Pty {
        let (mut master, mut slave) = (-1, -1);
        let size = winsize(rows, cols);
        // SAFETY: openpty writes two fds; name and termios may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // openpty's fds are inheritable: without close-on-exec, processes
        // that concurrent tests spawn would keep the slave open (no EIO on
        // the master when our child exits).
        for fd in [master, slave] {
            // SAFETY: fcntl on fds we own.
            let rc = unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            assert_eq!(rc, 0, "FD_CLOEXEC: {}", std::io::Error::last_os_error());
        }
        // SAFETY: both fds are fresh and owned by nobody else.
        unsafe {
            Pty {
                master: OwnedFd::from_raw_fd(master),
                slave: Some(OwnedFd::from_raw_fd(slave)),
                output: Arc::default(),
                reader: None,
            }
        }
    }

    /// Spawns `c` in a session of its own with the slave as controlling
    /// terminal (so the pty's resizes send it SIGWINCH) and as stdio, then
    /// closes our slave: the master reads EIO once the child's copies close.
    fn spawn(&mut self, mut c: Command) -> Child {
        let slave = self.slave.take().expect("one child per pty");
        let stdio = || Stdio::from(slave.try_clone().expect("dup slave"));
        c.stdin(stdio()).stdout(stdio()).stderr(stdio());
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            c.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = c.spawn().expect("spawn cderun on the pty");
        drop(c);
        drop(slave);
        let mut master = std::fs::File::from(self.master.try_clone().expect("dup master"));
        let into = Arc::clone(&self.output);
        self.reader = Some(std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = master.read(&mut buf) {
                into.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        }));
        child
    }

    /// Everything read so far, CR LF as LF.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).replace("\r\n", "\n")
    }

    fn wait_for(&self, needle: &str) {
        wait_until(TIMEOUT, &format!("{needle:?} on the pty"), || {
            self.text().contains(needle)
        });
        assert!(self.text().contains(needle), "{}", self.text());
    }

    /// Waits for the reader (the child has exited) and returns the output.
    fn finish(&mut self) -> String {
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        self.text()
    }

    /// Types `bytes` on the terminal.
    fn write(&self, bytes: &[u8]) {
        use std::io::Write;
        let mut master = std::fs::File::from(self.master.try_clone().expect("dup master"));
        master.write_all(bytes).expect("write to the pty");
    }

    fn resize(&self, rows: u16, cols: u16) {
        let size = winsize(rows, cols);
        // SAFETY: TIOCSWINSZ reads a winsize.
        let rc = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(rc, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
    }

    /// Whether the terminal is in cooked mode (canonical input, echo), as
    /// openpty made it. The master reports the slave's settings.
    fn cooked(&self) -> bool {
        // SAFETY: tcgetattr fills a termios.
        let t = unsafe {
            let mut t = std::mem::zeroed::<libc::termios>();
            assert_eq!(
                libc::tcgetattr(self.master.as_raw_fd(), &mut t),
                0,
                "tcgetattr: {}",
                std::io::Error::last_os_error()
            );
            t
        };
        t.c_lflag & libc::ICANON != 0 && t.c_lflag & libc::ECHO != 0
    }
}

fn winsize(rows: u16, cols: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}
