//! `--dry-run` (SPEC §7) and logging (SPEC §10).
//!
//! The dry run prints the resolved ContainerConfig and never starts the
//! runtime; `-f command` prints exactly the argv a real run executes, which
//! `command_output_is_the_executed_argv` proves by running both.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use serde_json::json;

use crate::support::*;

/// A tool entry that fills every ContainerConfig field.
const FULL: &str = "node:
  image: node:20-alpine
  command: [node, --enable-source-maps]
  entrypoint: \"\"
  network: host
  user: \"1000:1000\"
  env: [NODE_ENV=development]
  volumes: ['./data:/data:ro']
";

/// The command line used with [`FULL`] (after the dry-run flags).
const FULL_ARGS: [&str; 7] = [
    "-e",
    "TOKEN=a b",
    "node",
    "script.js",
    "it's",
    "",
    "--cderun-interactive",
];

/// The ContainerConfig of [`FULL`] + [`FULL_ARGS`], as JSON.
fn full_config(proj: &Path) -> serde_json::Value {
    let p = proj.display().to_string();
    json!({
        "image": "node:20-alpine",
        "command": ["node", "--enable-source-maps"],
        "args": ["script.js", "it's", ""],
        "tty": false,
        "interactive": true,
        "remove": true,
        "network": "host",
        "volumes": [
            {"hostPath": p, "containerPath": p, "readOnly": false},
            {"hostPath": format!("{p}/data"), "containerPath": "/data", "readOnly": true},
        ],
        "env": ["NODE_ENV=development", "TOKEN=a b"],
        "workdir": p,
        "user": "1000:1000",
        "entrypoint": "",
        "labels": {"io.cderun.depth": "1", "io.cderun.tool": "node"},
    })
}

/// Runs a successful dry run and returns stdout; asserts nothing ran.
fn dry(s: &Sandbox, args: &[&str]) -> String {
    let out = s
        .cmd()
        .args(args)
        .assert()
        .success()
        .stderr("")
        .get_output()
        .stdout
        .clone();
    s.assert_no_call();
    String::from_utf8(out).unwrap()
}

fn with(flags: &[&'static str]) -> Vec<&'static str> {
    let mut v = flags.to_vec();
    v.extend(FULL_ARGS);
    v
}

/// Splits a `-f command` line (or a logged argv) back into words.
fn words(line: &str) -> Vec<OsString> {
    shlex::bytes::split(line.trim_end_matches('\n').as_bytes())
        .unwrap_or_else(|| panic!("not valid shell words: {line:?}"))
        .into_iter()
        .map(|w| OsStr::from_bytes(&w).to_os_string())
        .collect()
}

/// `[DOCKER] + argv`, the executed command line.
fn executed(call: &Call) -> Vec<OsString> {
    let mut v = vec![fake_docker().into_os_string()];
    v.extend(call.argv.iter().cloned());
    v
}

// ---------------------------------------------------------------- formats

#[test]
fn yaml_is_the_default_format() {
    let s = Sandbox::new();
    s.tools(FULL);
    let out = dry(&s, &with(&["--dry-run"]));
    assert!(
        out.starts_with("image: node:20-alpine\ncommand:\n- node\n"),
        "{out}"
    );
    let parsed: serde_json::Value = serde_yaml::from_str(&out).unwrap();
    assert_eq!(parsed, full_config(&s.proj));
    // Same as asking for it.
    assert_eq!(dry(&s, &with(&["--dry-run", "-f", "yaml"])), out);
    // A dry run creates no volume directories either.
    assert!(!s.proj.join("data").exists());
}

#[test]
fn json_prints_the_container_config() {
    let s = Sandbox::new();
    s.tools(FULL);
    let out = dry(&s, &with(&["--dry-run", "--dry-run-format", "json"]));
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed, full_config(&s.proj));
}

#[test]
fn json_of_the_defaults() {
    let s = Sandbox::new();
    s.tools("t:\n  image: img\n");
    let out = dry(&s, &["--dry-run", "-f", "json", "t"]);
    let p = s.proj.display().to_string();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        json!({
            "image": "img",
            "command": ["t"],
            "args": [],
            "tty": false,
            "interactive": false,
            "remove": true,
            "network": "bridge",
            "volumes": [{"hostPath": p, "containerPath": p, "readOnly": false}],
            "env": [],
            "workdir": p,
            "user": null,
            "entrypoint": null,
            "labels": {"io.cderun.depth": "1", "io.cderun.tool": "t"},
        })
    );
}

#[test]
fn simple_prints_one_key_value_line_per_field() {
    let s = Sandbox::new();
    s.tools(FULL);
    let out = dry(&s, &with(&["--dry-run", "-f", "simple"]));
    let p = s.proj.display().to_string();
    assert_eq!(
        out,
        format!(
            "Image: node:20-alpine\n\
             Command: node --enable-source-maps\n\
             Args: script.js \"it's\" ''\n\
             Tty: false\n\
             Interactive: true\n\
             Remove: true\n\
             Network: host\n\
             Volumes: {p}:{p} {p}/data:/data:ro\n\
             Env: 'NODE_ENV=development' 'TOKEN=a b'\n\
             Workdir: {p}\n\
             User: 1000:1000\n\
             Entrypoint: ''\n\
             Labels: 'io.cderun.depth=1' 'io.cderun.tool=node'\n"
        )
    );
}

#[test]
fn command_prints_the_shell_quoted_runtime_argv() {
    let s = Sandbox::new();
    s.tools(FULL);
    let out = dry(&s, &with(&["--dry-run", "-f", "command"]));
    let p = s.proj.display().to_string();
    assert_eq!(
        out,
        format!(
            "{} run --rm -i --network host -v {p}:{p} -v {p}/data:/data:ro \
             -e 'NODE_ENV=development' -e 'TOKEN=a b' -w {p} --user 1000:1000 --entrypoint '' \
             --label 'io.cderun.depth=1' --label 'io.cderun.tool=node' node:20-alpine node \
             --enable-source-maps script.js \"it's\" ''\n",
            fake_docker().display()
        )
    );
}

#[test]
fn command_output_is_the_executed_argv() {
    let s = Sandbox::new();
    s.tools(FULL);
    // A cwd with `:` and `,` and a volume with `,`: both need `--mount`.
    let cwd = s.proj.join("we,ird dir:x");
    let comma = s.root().join("a,b \"c\"");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(&comma).unwrap();
    let volume = format!("{}:/ab", comma.display());
    let flags = [
        "-i",
        "--network",
        "my net",
        "-e",
        "Q=it's \"quoted\" $HOME `x`",
        "-e",
        "EMPTY=",
        "-e",
        "NL=a\nb",
        "-v",
        volume.as_str(),
        "--user",
        "host",
        "node",
        "",
        "ünïcødé ✓",
        "--",
        "-t",
        "a'b\"c",
        "*",
        "--cderun-env=LATE=1",
    ];
    let mut dry_args = vec!["--dry-run", "-f", "command"];
    dry_args.extend(flags);
    let printed = s
        .cmd()
        .args(&dry_args)
        .current_dir(&cwd)
        .assert()
        .success()
        .stderr("")
        .get_output()
        .stdout
        .clone();
    s.assert_no_call();
    s.cmd()
        .args(flags)
        .current_dir(&cwd)
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let call = s.call();
    assert_eq!(words(&String::from_utf8(printed).unwrap()), executed(&call));
    // The awkward paths really used the --mount form.
    let mounts = call
        .argv
        .iter()
        .filter(|a| a.as_bytes().starts_with(b"type=bind,"))
        .count();
    assert_eq!(mounts, 2, "{:?}", call.argv);
}

#[test]
fn command_output_keeps_non_utf8_arguments() {
    let s = Sandbox::new();
    s.tools("t:\n  image: img\n");
    let raw = OsStr::from_bytes(b"caf\xe9");
    let printed = s
        .cmd()
        .args(["--dry-run", "-f", "command", "t"])
        .arg(raw)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    s.assert_no_call();
    s.cmd().arg("t").arg(raw).assert().success();
    let words: Vec<OsString> = shlex::bytes::split(printed.strip_suffix(b"\n").unwrap_or(&printed))
        .unwrap()
        .into_iter()
        .map(|w| OsStr::from_bytes(&w).to_os_string())
        .collect();
    assert_eq!(words, executed(&s.call()));
}

// ------------------------------------------------------- never the runtime

#[test]
fn a_dry_run_works_without_a_runtime_binary() {
    let s = Sandbox::new();
    s.tools("t:\n  image: img\n");
    let out = s
        .cmd()
        .args(["--dry-run", "-f", "command", "t"])
        .env("DOCKER", s.root().join("no/docker"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    s.assert_no_call();
    let p = s.proj.display().to_string();
    assert_eq!(
        words(&String::from_utf8(out).unwrap()),
        os(&[
            "docker",
            "run",
            "--rm",
            "--network",
            "bridge",
            "-v",
            &format!("{p}:{p}"),
            "-w",
            &p,
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=t",
            "img",
            "t",
        ])
    );
}

#[test]
fn cderun_dry_run_variable_turns_it_on() {
    let s = Sandbox::new();
    s.tools("t:\n  image: img\n");
    for on in ["1", "true", "YES"] {
        let out = s
            .cmd()
            .arg("t")
            .env("CDERUN_DRY_RUN", on)
            .env("CDERUN_DRY_RUN_FORMAT", "json")
            .assert()
            .success()
            .stderr("")
            .get_output()
            .stdout
            .clone();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["image"], "img", "CDERUN_DRY_RUN={on}");
    }
    s.assert_no_call();
}

#[test]
fn dry_run_false_on_the_command_line_beats_the_variable() {
    let s = Sandbox::new();
    s.tools("t:\n  image: img\n");
    s.cmd()
        .args(["--dry-run=false", "t"])
        .env("CDERUN_DRY_RUN", "1")
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        s.call().argv,
        default_argv(&s.proj, "img", &["t"], &[], "t")
    );
}

#[test]
fn dry_run_as_an_override_after_the_tool() {
    let s = Sandbox::new();
    s.tools("t:\n  image: img\n");
    let out = dry(
        &s,
        &[
            "t",
            "x",
            "--cderun-dry-run",
            "--cderun-dry-run-format=command",
        ],
    );
    let mut expected = vec![fake_docker().into_os_string()];
    expected.extend(default_argv(&s.proj, "img", &["t"], &["x"], "t"));
    assert_eq!(words(&out), expected);
}

// ---------------------------------------------------------------- logging

/// The message part of a text log line (`LEVEL message`, optionally after
/// a timestamp).
fn message_after<'a>(line: &'a str, level: &str) -> Option<&'a str> {
    let at = line.find(&format!("{level} "))?;
    Some(&line[at + level.len() + 1..])
}

#[test]
fn debug_shows_the_config_files_and_the_runtime_argv_on_stderr() {
    let s = Sandbox::new();
    let tools = s.tools("t:\n  image: img\n");
    let config = s.cderun_yaml("defaults:\n  network: host\n");
    let out = s
        .cmd()
        .args(["--verbose", "--verbose", "t", "a b"])
        .assert()
        .success()
        .stdout("")
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(out).unwrap();
    let call = s.call();
    let debug: Vec<&str> = stderr
        .lines()
        .filter_map(|l| message_after(l, "DEBUG"))
        .collect();
    assert!(
        debug.contains(
            &format!(
                "config files: .cderun.yaml: {}, .tools.yaml: {}",
                config.display(),
                tools.display()
            )
            .as_str()
        ),
        "{stderr}"
    );
    let argv = debug
        .iter()
        .find_map(|m| m.strip_prefix("runtime argv: "))
        .unwrap_or_else(|| panic!("no runtime argv logged: {stderr}"));
    assert_eq!(words(argv), executed(&call));
}

#[test]
fn debug_says_none_for_a_missing_config_file() {
    let s = Sandbox::new();
    let tools = s.tools("t:\n  image: img\n");
    let out = s
        .cmd()
        .args(["--log-level", "debug", "t"])
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(out).unwrap();
    assert!(
        stderr.lines().any(|l| message_after(l, "DEBUG")
            == Some(
                format!(
                    "config files: .cderun.yaml: none, .tools.yaml: {}",
                    tools.display()
                )
                .as_str()
            )),
        "{stderr}"
    );
    s.call();
}

#[test]
fn one_verbose_is_info_without_debug_lines() {
    let s = Sandbox::new();
    s.tools("t:\n  image: img\n");
    let out = s
        .cmd()
        .args(["--verbose", "t"])
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(out).unwrap();
    assert!(stderr.lines().any(|l| l.contains("INFO ")), "{stderr}");
    assert!(!stderr.contains("DEBUG"), "{stderr}");
    s.call();
}

#[test]
fn log_file_takes_the_logs_instead_of_stderr() {
    let s = Sandbox::new();
    let tools = s.tools("t:\n  image: img\n");
    let log = s.root().join("logs/cderun.log");
    s.cmd()
        .args(["--verbose", "--verbose", "--log-file"])
        .arg(&log)
        .args(["t", "x"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let call = s.call();
    let text = std::fs::read_to_string(&log).unwrap();
    let debug: Vec<&str> = text
        .lines()
        .filter_map(|l| message_after(l, "DEBUG"))
        .collect();
    assert!(
        debug.contains(
            &format!(
                "config files: .cderun.yaml: none, .tools.yaml: {}",
                tools.display()
            )
            .as_str()
        ),
        "{text}"
    );
    let argv = debug
        .iter()
        .find_map(|m| m.strip_prefix("runtime argv: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(words(argv), executed(&call));
}

#[test]
fn logging_settings_from_cderun_yaml_with_a_file_relative_to_it() {
    let s = Sandbox::new();
    s.tools("t:\n  image: img\n");
    s.cderun_yaml("logging:\n  level: debug\n  file: logs/cderun.log\n");
    let sub = s.proj.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    s.cmd()
        .arg("t")
        .current_dir(&sub)
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let text = std::fs::read_to_string(s.proj.join("logs/cderun.log")).unwrap();
    assert!(
        text.lines().any(|l| l.contains("DEBUG runtime argv: ")),
        "{text}"
    );
    s.call();
}

#[test]
fn log_format_json_gives_json_lines() {
    let s = Sandbox::new();
    let tools = s.tools("t:\n  image: img\n");
    let out = s
        .cmd()
        .args(["--verbose", "--verbose", "--log-format", "json", "t"])
        .assert()
        .success()
        .stdout("")
        .get_output()
        .stderr
        .clone();
    let call = s.call();
    let stderr = String::from_utf8(out).unwrap();
    assert!(!stderr.is_empty());
    let mut messages = Vec::new();
    for line in stderr.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(v["level"].is_string(), "{line}");
        messages.push((
            v["level"].as_str().unwrap().to_owned(),
            v["fields"]["message"]
                .as_str()
                .unwrap_or_else(|| panic!("{line}"))
                .to_owned(),
        ));
    }
    assert!(messages.contains(&(
        "DEBUG".to_owned(),
        format!(
            "config files: .cderun.yaml: none, .tools.yaml: {}",
            tools.display()
        )
    )));
    let argv = messages
        .iter()
        .find_map(|(_, m)| m.strip_prefix("runtime argv: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(words(argv), executed(&call));
}

#[test]
fn log_variables_work_like_the_flags() {
    let s = Sandbox::new();
    s.tools("t:\n  image: img\n");
    let out = s
        .cmd()
        .arg("t")
        .env("CDERUN_LOG_LEVEL", "debug")
        .env("CDERUN_LOG_FORMAT", "json")
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(out).unwrap();
    assert!(
        stderr
            .lines()
            .any(|l| serde_json::from_str::<serde_json::Value>(l)
                .is_ok_and(|v| v["level"] == "DEBUG")),
        "{stderr}"
    );
    s.call();
}

#[test]
fn a_format_flag_alone_asks_for_a_dry_run_but_a_format_variable_does_not() {
    let s = Sandbox::new();
    s.tools("node:\n  image: node:20\n");
    let out = s.cmd().args(["-f", "simple", "node"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Image: node:20\n"));
    s.assert_no_call();
    s.cmd()
        .arg("node")
        .env("CDERUN_DRY_RUN_FORMAT", "simple")
        .assert()
        .success()
        .stdout("");
    assert_eq!(s.calls().len(), 1);
}
