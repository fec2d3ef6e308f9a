//! The runtime owns the run (SPEC §9, §10): its exit code, stdout, stderr and
//! stdin pass through unchanged, and cderun adds nothing of its own.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::support::*;

const NODE: &str = "node:\n  image: node:20\n";

#[test]
fn the_runtimes_exit_code_is_returned_unchanged() {
    for code in [0, 1, 2, 42, 125, 126, 127, 130, 255] {
        let s = Sandbox::new();
        s.tools(NODE);
        s.cmd()
            .args(["node", "x"])
            .env("FAKE_DOCKER_EXIT", code.to_string())
            .assert()
            .code(code)
            .stdout("")
            .stderr("");
        assert_eq!(
            s.call().argv,
            default_argv(&s.proj, "node:20", &["node"], &["x"], "node"),
            "exit code {code}"
        );
    }
}

#[test]
fn the_runtimes_stdout_and_stderr_arrive_unchanged() {
    let s = Sandbox::new();
    s.tools(NODE);
    let out =
        OsStr::from_bytes(b"line 1\n  indented \t tab\n\xff\xfe raw bytes\nno newline at the end");
    let err = OsStr::from_bytes(b"warning: something\r\n\x1b[31mred\x1b[0m\n");
    s.cmd()
        .args(["node", "x"])
        .env("FAKE_DOCKER_STDOUT", out)
        .env("FAKE_DOCKER_STDERR", err)
        .env("FAKE_DOCKER_EXIT", "3")
        .assert()
        .code(3)
        .stdout(out.as_bytes().to_vec())
        .stderr(err.as_bytes().to_vec());
    s.call();
}

#[test]
fn stdin_is_passed_through_to_the_runtime() {
    let s = Sandbox::new();
    s.tools(NODE);
    let input: &[u8] = b"{\"a\": 1}\nsecond line\n\xff\x00binary\x00\n";
    s.cmd()
        .args(["-i", "node", "-e", "process.stdin.pipe(process.stdout)"])
        .env("FAKE_DOCKER_STDIN", "1")
        .write_stdin(input)
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let call = s.call();
    assert_eq!(call.stdin.as_deref(), Some(input));
    let p = s.proj.display().to_string();
    assert_eq!(
        call.argv,
        os(&[
            "run",
            "--rm",
            "-i",
            "--network",
            "bridge",
            "-v",
            &format!("{p}:{p}"),
            "-w",
            &p,
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=node",
            "node:20",
            "node",
            "-e",
            "process.stdin.pipe(process.stdout)",
        ])
    );
}

#[test]
fn cderun_prints_nothing_of_its_own_on_success() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cderun_yaml("defaults:\n  network: host\n");
    s.cmd()
        .args(["-e", "A=1", "node", "--version"])
        .env("FAKE_DOCKER_STDOUT", "v20.0.0\n")
        .assert()
        .success()
        .stdout("v20.0.0\n")
        .stderr("");
    s.call();
}

#[test]
fn cderun_prints_nothing_of_its_own_when_the_tool_fails() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd()
        .args(["node", "bad.js"])
        .env("FAKE_DOCKER_STDERR", "Error: Cannot find module 'bad.js'\n")
        .env("FAKE_DOCKER_EXIT", "1")
        .assert()
        .code(1)
        .stdout("")
        .stderr("Error: Cannot find module 'bad.js'\n");
    s.call();
}

#[test]
fn the_runtime_runs_in_the_current_directory() {
    let s = Sandbox::new();
    s.tools(NODE);
    let sub = s.proj.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    s.cmd().arg("node").current_dir(&sub).assert().success();
    let call = s.call();
    assert_eq!(call.cwd, sub);
    assert_eq!(call.argv0, fake_docker().into_os_string());
}

#[test]
fn the_runtime_is_called_exactly_once_per_invocation() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd().arg("node").assert().success();
    s.cmd()
        .arg("node")
        .env("FAKE_DOCKER_EXIT", "9")
        .assert()
        .code(9);
    assert_eq!(s.calls().len(), 2);
}

// ------------------------------------------------- which binary (SPEC §9)

/// A PATH directory holding `names` as links to the fake runtime, plus the
/// few programs the fake itself needs, and nothing else.
fn path_with(s: &Sandbox, names: &[&str]) -> std::path::PathBuf {
    let bin = s.root().join("path-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in names {
        std::os::unix::fs::symlink(fake_docker(), bin.join(name)).unwrap();
    }
    for tool in ["bash", "env", "mkdir", "cat"] {
        let real = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| std::path::Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no {tool} on this machine"));
        std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
    }
    bin
}

#[test]
fn the_runtime_name_is_looked_up_on_path_without_docker_or_runtime_path() {
    for (flags, name) in [
        (&[][..], "docker"),
        (&["--runtime", "podman"][..], "podman"),
        (&["--runtime=nerdctl"][..], "nerdctl"),
    ] {
        let s = Sandbox::new();
        s.tools(NODE);
        let bin = path_with(&s, &["docker", "podman", "nerdctl"]);
        s.cmd()
            .args(flags)
            .arg("node")
            .env_remove("DOCKER")
            .env("PATH", &bin)
            .assert()
            .success()
            .stdout("")
            .stderr("");
        let call = s.call();
        assert_eq!(call.argv0, bin.join(name).into_os_string(), "{flags:?}");
        assert_eq!(
            call.argv,
            default_argv(&s.proj, "node:20", &["node"], &[], "node")
        );
    }
}

#[test]
fn the_runtime_from_cderun_yaml_is_looked_up_on_path() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cderun_yaml("runtime: podman\n");
    let bin = path_with(&s, &["docker", "podman"]);
    s.cmd()
        .arg("node")
        .env_remove("DOCKER")
        .env("PATH", &bin)
        .assert()
        .success();
    assert_eq!(s.call().argv0, bin.join("podman").into_os_string());
}

#[test]
fn runtime_path_is_used_when_docker_is_unset() {
    let s = Sandbox::new();
    s.tools(NODE);
    let bin = path_with(&s, &["docker", "my-runtime"]);
    s.cderun_yaml(&format!(
        "runtimePath: {}\n",
        bin.join("my-runtime").display()
    ));
    s.cmd()
        .arg("node")
        .env_remove("DOCKER")
        .env("PATH", &bin)
        .assert()
        .success();
    let call = s.call();
    assert_eq!(call.argv0, bin.join("my-runtime").into_os_string());
    assert_eq!(
        call.argv,
        default_argv(&s.proj, "node:20", &["node"], &[], "node")
    );
}

#[test]
fn docker_beats_runtime_path() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cderun_yaml("runtimePath: /nonexistent/docker\n");
    s.cmd().arg("node").assert().success().stderr("");
    assert_eq!(s.call().argv0, fake_docker().into_os_string());
}
