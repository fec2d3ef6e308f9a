//! The argument-parsing matrix of SPEC §2, through the real binary: where
//! cderun's flags end, what reaches the tool, the `--cderun-*` overrides and
//! polyglot entry through a real symlink.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::support::*;

const NODE: &str = "node:\n  image: node:20\n";

/// The cderun binary under test.
fn cderun_bin() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("cderun")
}

/// A real symlink `<sandbox>/bin/<name>` pointing at the cderun binary.
fn link(s: &Sandbox, name: &str) -> PathBuf {
    let dir = s.root().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::os::unix::fs::symlink(cderun_bin(), &path).unwrap();
    path
}

/// [`Sandbox::cmd`]'s hermetic setup, running `program` instead of cderun.
fn cmd_at(s: &Sandbox, program: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(program);
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &s.home)
        .env("DOCKER", fake_docker())
        .env("FAKE_DOCKER_RECORD", &s.rec)
        .current_dir(&s.proj);
    c
}

/// `default_argv` with extra words right after `run --rm` (`-i`, ...).
fn with_after_rm(mut argv: Vec<OsString>, extra: &[&str]) -> Vec<OsString> {
    let tail = argv.split_off(2);
    argv.extend(os(extra));
    argv.extend(tail);
    argv
}

// ---------------------------------------------------------------- the split

#[test]
fn a_value_flag_consumes_its_value_so_the_tool_is_sh() {
    let s = Sandbox::new();
    s.cmd()
        .args(["--image", "alpine:3", "sh", "-c", "echo hi"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(
        s.call().argv,
        default_argv(&s.proj, "alpine:3", &["sh"], &["-c", "echo hi"], "sh")
    );
}

#[test]
fn env_and_network_values_are_not_taken_for_the_tool() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd()
        .args(["-e", "FOO", "--network", "host", "node"])
        .env("FOO", "from-host")
        .assert()
        .success();
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "host",
            "-v",
            &format!("{p}:{p}"),
            "-e",
            "FOO=from-host",
            "-w",
            &p,
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=node",
            "node:20",
            "node",
        ])
    );
}

#[test]
fn every_value_flag_takes_the_next_argument() {
    let s = Sandbox::new();
    s.tools(NODE);
    let vol = s.root().join("data");
    std::fs::create_dir(&vol).unwrap();
    let vol_spec = format!("{}:/data:ro", vol.display());
    s.cmd()
        .args([
            "--image",
            "img:1",
            "--network",
            "none",
            "--env",
            "A=1",
            "-e",
            "B=2",
            "--volume",
            &vol_spec,
            "--workdir",
            "/srv",
            "-u",
            "1:2",
            "--runtime",
            "docker",
            // -f alone would ask for a dry run; this one only names a format.
            "--dry-run=false",
            "-f",
            "yaml",
            "--log-level",
            "warn",
            "--log-format",
            "text",
            "node",
            "x",
        ])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &format!("{p}:{p}"),
            "-v",
            &format!("{}:/data:ro", vol.display()),
            "-e",
            "A=1",
            "-e",
            "B=2",
            "-w",
            "/srv",
            "--user",
            "1:2",
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=node",
            "img:1",
            "node",
            "x",
        ])
    );
}

#[test]
fn short_flags_cluster() {
    // stdout is a pipe here, so `-t` is dropped (SPEC §9); `-i` stays.
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd().args(["-ti", "node", "x"]).assert().success();
    assert_eq!(
        s.call().argv,
        with_after_rm(
            default_argv(&s.proj, "node:20", &["node"], &["x"], "node"),
            &["-i"]
        )
    );
}

#[test]
fn a_cluster_ending_in_a_value_flag_takes_the_next_argument() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd().args(["-ie", "K=V", "node"]).assert().success();
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "-i",
            "--network",
            "bridge",
            "-v",
            &format!("{p}:{p}"),
            "-e",
            "K=V",
            "-w",
            &p,
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=node",
            "node:20",
            "node",
        ])
    );
}

#[test]
fn values_attach_to_short_and_long_flags() {
    let s = Sandbox::new();
    s.cmd()
        .args([
            "-eK=V",
            "--image=img:2",
            "--network=none",
            "-w/srv",
            "-ie",
            "Q=1",
            "tool",
            "a",
        ])
        .assert()
        .success();
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "-i",
            "--network",
            "none",
            "-v",
            &format!("{p}:{p}"),
            "-e",
            "K=V",
            "-e",
            "Q=1",
            "-w",
            "/srv",
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=tool",
            "img:2",
            "tool",
            "a",
        ])
    );
}

#[test]
fn double_dash_ends_cderuns_flags_and_the_next_word_is_the_tool() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd()
        .args(["--network", "host", "--", "node", "--", "-t"])
        .assert()
        .success();
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "host",
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
            "--",
            "-t",
        ])
    );
}

#[test]
fn a_tool_that_looks_like_a_flag_after_double_dash() {
    let s = Sandbox::new();
    s.cmd()
        .args(["--image", "img", "--", "-weird", "x"])
        .assert()
        .success();
    assert_eq!(
        s.call().argv,
        default_argv(&s.proj, "img", &["-weird"], &["x"], "-weird")
    );
}

// ---------------------------------------------------------- passthrough

#[test]
fn everything_after_the_tool_is_passed_verbatim() {
    let s = Sandbox::new();
    s.tools(NODE);
    let args = [
        "a b",
        "  leading and trailing  ",
        "it's",
        "\"double\"",
        "$HOME `x` $(y) ;|&*?",
        "ünïcødé ✓ 日本語",
        "",
        "line\nbreak",
        "\ttab",
        "--",
        "-t",
        "--tty",
        "-ti",
        "-i",
        "--help",
        "-h",
        "--version",
        "-V",
        "--image",
        "other",
        "-e",
        "X=1",
        "--network=host",
        "-v",
        "--",
        "",
    ];
    let mut argv = vec!["node"];
    argv.extend(args);
    s.cmd().args(&argv).assert().success().stdout("").stderr("");
    assert_eq!(
        s.call().argv,
        default_argv(&s.proj, "node:20", &["node"], &args, "node")
    );
}

#[test]
fn non_utf8_passthrough_arguments_arrive_byte_for_byte() {
    let s = Sandbox::new();
    s.tools(NODE);
    let raw: [&[u8]; 4] = [b"\xff\xfe", b"caf\xe9", b"mixed \xc3\x28 \x80", b"ok"];
    let args: Vec<&OsStr> = raw.iter().map(|b| OsStr::from_bytes(b)).collect();
    s.cmd().arg("node").args(&args).assert().success();
    let mut expected = default_argv(&s.proj, "node:20", &["node"], &[], "node");
    expected.extend(args.iter().map(|a| a.to_os_string()));
    let call = s.call();
    assert_eq!(call.argv, expected);
    // Spelled out as bytes too, so a lossy round trip cannot hide.
    let tail: Vec<&[u8]> = call.argv[call.argv.len() - 4..]
        .iter()
        .map(|a| a.as_bytes())
        .collect();
    assert_eq!(tail, raw);
}

#[test]
fn non_utf8_env_values_arrive_byte_for_byte() {
    let s = Sandbox::new();
    s.tools(NODE);
    let mut kv = OsString::from("K=");
    kv.push(OsStr::from_bytes(b"\xff\x01v"));
    s.cmd().arg("-e").arg(&kv).arg("node").assert().success();
    let p = s.proj.display().to_string();
    let mut expected = os(&[
        "run",
        "--rm",
        "--network",
        "bridge",
        "-v",
        &format!("{p}:{p}"),
        "-e",
    ]);
    expected.push(kv);
    expected.extend(os(&[
        "-w",
        &p,
        "--label",
        "io.cderun.depth=1",
        "--label",
        "io.cderun.tool=node",
        "node:20",
        "node",
    ]));
    assert_eq!(s.call().argv, expected);
}

// ------------------------------------------------------------ overrides

#[test]
fn overrides_are_lifted_from_anywhere_after_the_tool() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd()
        .args([
            "node",
            "a",
            "--cderun-network=host",
            "b",
            "--cderun-env",
            "K=V",
            "c",
            "--cderun-image",
            "img:2",
            "--cderun-env=L=W",
            "--cderun-tty=false",
            "d",
            "--cderun-remove=false",
            "--cderun-workdir",
            "/srv",
        ])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--network",
            "host",
            "-v",
            &format!("{p}:{p}"),
            "-e",
            "K=V",
            "-e",
            "L=W",
            "-w",
            "/srv",
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=node",
            "img:2",
            "node",
            "a",
            "b",
            "c",
            "d",
        ])
    );
}

#[test]
fn an_override_beats_the_same_flag_before_the_tool() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd()
        .args(["--network", "none", "node", "--cderun-network", "host"])
        .assert()
        .success();
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "host",
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
        ])
    );
}

#[test]
fn an_override_before_the_tool_is_an_error_naming_it() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd()
        .args(["--cderun-tty", "node", "x"])
        .assert()
        .code(125)
        .stdout("")
        .stderr(
            "cderun: error: override '--cderun-tty' must be written after the tool\n\
             hint: move it after the tool (cderun <tool> --cderun-tty ...), or use '--tty' before the tool\n",
        );
    s.assert_no_call();
}

#[test]
fn an_override_with_a_separate_value_before_the_tool_is_an_error() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd()
        .args(["--cderun-env", "K=V", "node"])
        .assert()
        .code(125)
        .stdout("")
        .stderr(
            "cderun: error: override '--cderun-env' must be written after the tool\n\
             hint: move it after the tool (cderun <tool> --cderun-env ...), or use '--env' before the tool\n",
        );
    s.assert_no_call();
}

#[test]
fn an_unknown_override_is_an_error_with_the_nearest_one() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd()
        .args(["node", "x", "--cderun-imag=alpine"])
        .assert()
        .code(125)
        .stdout("")
        .stderr("cderun: error: unknown override '--cderun-imag'\nhint: did you mean '--cderun-image'?\n");
    s.assert_no_call();
}

#[test]
fn an_override_missing_its_value_is_an_error() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd()
        .args(["node", "--cderun-env"])
        .assert()
        .code(125)
        .stdout("")
        .stderr(
            "cderun: error: override '--cderun-env' needs a value\n\
             hint: write '--cderun-env=VALUE' or '--cderun-env VALUE'\n",
        );
    s.assert_no_call();
}

// --------------------------------------------------------------- polyglot

#[test]
fn polyglot_entry_through_a_symlink_named_after_the_tool() {
    let s = Sandbox::new();
    s.tools(NODE);
    let node = link(&s, "node");
    cmd_at(&s, &node)
        .args(["--cderun-tty=false", "--version"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    s.cmd()
        .args(["--tty=false", "node", "--version"])
        .assert()
        .success();
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    let expected = default_argv(&s.proj, "node:20", &["node"], &["--version"], "node");
    assert_eq!(calls[0].argv, expected);
    assert_eq!(calls[1].argv, expected, "the symlink and cderun disagree");
}

#[test]
fn polyglot_overrides_apply_and_cderuns_flags_belong_to_the_tool() {
    let s = Sandbox::new();
    s.tools(NODE);
    let node = link(&s, "node");
    cmd_at(&s, &node)
        .args([
            "--help",
            "--cderun-network=host",
            "-t",
            "--image",
            "x",
            "--version",
            "-e",
            "K=V",
            "--",
            "--cderun-env",
            "A=1",
        ])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "host",
            "-v",
            &format!("{p}:{p}"),
            "-e",
            "A=1",
            "-w",
            &p,
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=node",
            "node:20",
            "node",
            "--help",
            "-t",
            "--image",
            "x",
            "--version",
            "-e",
            "K=V",
            "--",
        ])
    );
}

#[test]
fn polyglot_without_arguments_runs_the_tool_not_the_help() {
    let s = Sandbox::new();
    s.tools(NODE);
    let node = link(&s, "node");
    cmd_at(&s, &node).assert().success().stdout("");
    assert_eq!(
        s.call().argv,
        default_argv(&s.proj, "node:20", &["node"], &[], "node")
    );
}

#[test]
fn polyglot_with_an_unconfigured_name_is_a_no_image_error() {
    let s = Sandbox::new();
    s.tools(NODE);
    let python = link(&s, "python3");
    cmd_at(&s, &python)
        .arg("--version")
        .assert()
        .code(125)
        .stdout("")
        .stderr(
            "cderun: error: no image configured for tool 'python3'\n\
             hint: add 'python3: {image: ...}' to .tools.yaml or pass --image\n",
        );
    s.assert_no_call();
}

#[test]
fn names_starting_with_cderun_dash_are_cderun_itself() {
    let s = Sandbox::new();
    s.tools(NODE);
    let me = link(&s, "cderun-linux-amd64");
    cmd_at(&s, &me)
        .args(["--network", "host", "node", "--version"])
        .assert()
        .success();
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "host",
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
            "--version",
        ])
    );
    // And without arguments it prints cderun's help, like `cderun`.
    let help = cmd_at(&s, &me)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let own = s.cmd().assert().success().get_output().stdout.clone();
    assert!(String::from_utf8_lossy(&own).contains("Usage: cderun [FLAGS] <TOOL> [ARGS]..."));
    assert_eq!(
        String::from_utf8_lossy(&help),
        String::from_utf8_lossy(&own)
    );
    assert_eq!(s.calls().len(), 1, "help must not call the runtime");
}

#[test]
fn a_symlink_named_cderun_is_cderun_itself() {
    let s = Sandbox::new();
    s.tools(NODE);
    let me = link(&s, "cderun");
    cmd_at(&s, &me)
        .arg("--version")
        .assert()
        .success()
        .stdout(concat!("cderun ", env!("CARGO_PKG_VERSION"), "\n"));
    s.assert_no_call();
}

#[test]
fn a_name_that_merely_starts_with_cderun_is_a_tool() {
    let s = Sandbox::new();
    s.tools("cderunx:\n  image: cx:1\n");
    let x = link(&s, "cderunx");
    cmd_at(&s, &x).arg("--version").assert().success();
    assert_eq!(
        s.call().argv,
        default_argv(&s.proj, "cx:1", &["cderunx"], &["--version"], "cderunx")
    );
}

// ------------------------------------------------------- help and version

#[test]
fn help_before_the_tool_is_cderuns_on_stdout() {
    let s = Sandbox::new();
    s.tools(NODE);
    for flag in ["--help", "-h"] {
        let out = s
            .cmd()
            .args([flag, "node", "x"])
            .assert()
            .success()
            .stderr("")
            .get_output()
            .stdout
            .clone();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with("Run command-line tools in throw-away containers.\n\nUsage: cderun [FLAGS] <TOOL> [ARGS]...\n"),
            "{flag}: {out}"
        );
        assert!(out.contains("--mount-socket <SOCKET>"), "{flag}: {out}");
    }
    s.assert_no_call();
}

#[test]
fn version_before_the_tool_is_cderuns_on_stdout() {
    let s = Sandbox::new();
    s.tools(NODE);
    for flag in ["--version", "-V"] {
        s.cmd()
            .args([flag, "node", "--version"])
            .assert()
            .success()
            .stdout(concat!("cderun ", env!("CARGO_PKG_VERSION"), "\n"))
            .stderr("");
    }
    s.assert_no_call();
}

#[test]
fn help_and_version_after_the_tool_belong_to_the_tool() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cmd()
        .args(["node", "--help"])
        .assert()
        .success()
        .stdout("");
    s.cmd()
        .args(["node", "--version"])
        .assert()
        .success()
        .stdout("");
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0].argv,
        default_argv(&s.proj, "node:20", &["node"], &["--help"], "node")
    );
    assert_eq!(
        calls[1].argv,
        default_argv(&s.proj, "node:20", &["node"], &["--version"], "node")
    );
}

#[test]
fn no_arguments_print_the_help_on_stdout_and_exit_0() {
    let s = Sandbox::new();
    let out = s
        .cmd()
        .assert()
        .success()
        .stderr("")
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    // The same text as `-h` (clap's `--help` is the long form of it).
    let help = s
        .cmd()
        .arg("-h")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        out.contains("Usage: cderun [FLAGS] <TOOL> [ARGS]..."),
        "{out}"
    );
    assert_eq!(out, String::from_utf8(help).unwrap());
    s.assert_no_call();
}

#[test]
fn flags_without_a_tool_print_the_help() {
    let s = Sandbox::new();
    let out = s
        .cmd()
        .args(["--network", "host", "-t"])
        .assert()
        .success()
        .stderr("")
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("Usage: cderun [FLAGS] <TOOL> [ARGS]..."));
    s.assert_no_call();
}
