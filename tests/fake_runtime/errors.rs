//! Every error cderun detects itself (SPEC §10): exit 125, exactly one
//! `cderun: error: ...` line (plus an optional `hint: ...` line) on stderr,
//! nothing on stdout, and the runtime never started. A missing runtime
//! binary exits 127 the same way.

use assert_cmd::Command;

use crate::support::*;

const NODE: &str = "node:\n  image: node:20\n";

/// Runs `cmd` and checks the shape of a cderun error: exit `code`, empty
/// stdout, one `cderun: error: ` line and at most one `hint: ` line, no
/// runtime call. Returns (message, hint) without their prefixes.
fn error_with_code(s: &Sandbox, mut cmd: Command, code: i32) -> (String, Option<String>) {
    let out = cmd.assert().code(code).stdout("").get_output().clone();
    s.assert_no_call();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.ends_with('\n'),
        "stderr does not end with a newline: {stderr:?}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        matches!(lines.len(), 1 | 2),
        "expected one error line and at most one hint line: {stderr:?}"
    );
    let message = lines[0]
        .strip_prefix("cderun: error: ")
        .unwrap_or_else(|| panic!("first line is not a cderun error: {stderr:?}"));
    assert!(!message.is_empty(), "{stderr:?}");
    let hint = lines.get(1).map(|h| {
        h.strip_prefix("hint: ")
            .unwrap_or_else(|| panic!("second line is not a hint: {stderr:?}"))
            .to_owned()
    });
    (message.to_owned(), hint)
}

/// [`error_with_code`] for cderun's own errors (125).
fn error(s: &Sandbox, cmd: Command) -> (String, Option<String>) {
    error_with_code(s, cmd, 125)
}

/// Asserts the exact message and hint of a 125 error.
fn exact(s: &Sandbox, cmd: Command, message: &str, hint: Option<&str>) {
    let (m, h) = error(s, cmd);
    assert_eq!(m, message);
    assert_eq!(h.as_deref(), hint);
}

// ------------------------------------------------------------------ image

#[test]
fn no_image_without_any_tools_file() {
    let s = Sandbox::new();
    let mut cmd = s.cmd();
    cmd.args(["node", "--version"]);
    exact(
        &s,
        cmd,
        "no image configured for tool 'node'",
        Some("add 'node: {image: ...}' to .tools.yaml or pass --image"),
    );
}

#[test]
fn no_image_for_a_tool_missing_from_the_tools_file() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cderun_yaml("defaults:\n  network: host\n");
    let mut cmd = s.cmd();
    cmd.arg("python");
    exact(
        &s,
        cmd,
        "no image configured for tool 'python'",
        Some("add 'python: {image: ...}' to .tools.yaml or pass --image"),
    );
}

#[test]
fn an_empty_image_is_an_error() {
    let s = Sandbox::new();
    s.tools(NODE);
    let mut cmd = s.cmd();
    cmd.args(["--image=", "node"]);
    exact(
        &s,
        cmd,
        "empty image for tool 'node'",
        Some("set a non-empty image in .tools.yaml or with --image"),
    );
}

// ----------------------------------------------------------- config files

#[test]
fn invalid_yaml_names_file_line_and_column() {
    let s = Sandbox::new();
    let path = s.tools("node:\n  image: \"unterminated\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    let (m, _) = error(&s, cmd);
    let place = format!("{}:3:1: ", path.display());
    assert!(m.starts_with(&place), "{m}");
    assert!(m.len() > place.len(), "no reason given: {m}");
}

#[test]
fn invalid_yaml_in_cderun_yaml_names_file_line_and_column() {
    let s = Sandbox::new();
    s.tools(NODE);
    let path = s.cderun_yaml("defaults:\n\tremove: false\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    let (m, _) = error(&s, cmd);
    assert!(m.starts_with(&format!("{}:2:1: ", path.display())), "{m}");
}

#[test]
fn a_wrong_type_names_file_line_column_and_key() {
    let s = Sandbox::new();
    let path = s.tools("node:\n  image: node:20\n  remove: maybe\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    exact(
        &s,
        cmd,
        &format!(
            "{}:3:11: node.remove: invalid type: string \"maybe\", expected a boolean",
            path.display()
        ),
        None,
    );
}

#[test]
fn a_list_where_a_string_belongs_is_a_wrong_type() {
    let s = Sandbox::new();
    let path = s.tools("node:\n  image: [a, b]\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    exact(
        &s,
        cmd,
        &format!(
            "{}:2:10: node.image: invalid type: sequence, expected a string",
            path.display()
        ),
        None,
    );
}

#[test]
fn a_wrong_type_in_cderun_yaml() {
    let s = Sandbox::new();
    s.tools(NODE);
    let path = s.cderun_yaml("maxDepth: x\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    exact(
        &s,
        cmd,
        &format!(
            "{}:1:11: maxDepth: invalid type: string \"x\", expected u32",
            path.display()
        ),
        None,
    );
}

#[test]
fn a_bad_tty_value_names_its_own_line_and_key() {
    let s = Sandbox::new();
    let path = s.tools("node:\n  image: node:20\n  tty: maybe\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    let (m, _) = error(&s, cmd);
    let place = format!("{}:3:8: node.tty: ", path.display());
    assert!(
        m.starts_with(&place),
        "expected it to start with {place:?}: {m}"
    );
}

#[test]
fn a_tool_defined_twice_names_the_second_definition() {
    let s = Sandbox::new();
    let path = s.tools("node:\n  image: a\nnode:\n  image: b\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    let (m, _) = error(&s, cmd);
    let place = format!("{}:3:", path.display());
    assert!(
        m.starts_with(&place),
        "expected it to start with {place:?}: {m}"
    );
    assert!(m.contains("tool 'node' is defined twice"), "{m}");
}

#[test]
fn an_unknown_key_in_a_tool_entry_suggests_the_nearest_key() {
    let s = Sandbox::new();
    let path = s.tools("node:\n  image: node:20\n  mountcderun: true\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    exact(
        &s,
        cmd,
        &format!(
            "{}:3:3: unknown key 'mountcderun' in 'node'",
            path.display()
        ),
        Some(
            "did you mean 'mountCderun'? valid keys: image, command, entrypoint, tty, interactive, \
             network, remove, user, mountCwd, mountCderun, volumes, env, workdir, strictEnv",
        ),
    );
}

#[test]
fn an_unknown_key_in_defaults_suggests_the_nearest_key() {
    let s = Sandbox::new();
    s.tools(NODE);
    let path = s.cderun_yaml("defaults:\n  mountcderun: true\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    exact(
        &s,
        cmd,
        &format!(
            "{}:2:3: unknown key 'mountcderun' in 'defaults'",
            path.display()
        ),
        Some(
            "did you mean 'mountCderun'? valid keys: tty, interactive, network, remove, user, \
             mountCwd, mountCderun, volumes, env, workdir, strictEnv",
        ),
    );
}

#[test]
fn an_unknown_top_level_key_in_cderun_yaml_suggests_the_nearest_key() {
    let s = Sandbox::new();
    s.tools(NODE);
    let path = s.cderun_yaml("runtime: docker\nmaxdepth: 3\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    let (m, h) = error(&s, cmd);
    assert_eq!(m, format!("{}:2:1: unknown key 'maxdepth'", path.display()));
    let h = h.unwrap();
    assert!(
        h.starts_with("did you mean 'maxDepth'? valid keys: "),
        "{h}"
    );
}

#[test]
fn an_image_in_defaults_is_an_unknown_key() {
    let s = Sandbox::new();
    s.tools(NODE);
    let path = s.cderun_yaml("defaults:\n  image: alpine\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    let (m, _) = error(&s, cmd);
    assert_eq!(
        m,
        format!("{}:2:3: unknown key 'image' in 'defaults'", path.display())
    );
}

#[test]
fn a_config_error_in_a_file_is_an_error_even_for_another_tool() {
    // Nothing is silently ignored: the broken entry is not the one run.
    let s = Sandbox::new();
    s.tools("node:\n  image: node:20\nbroken:\n  image: x\n  volums: []\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    let (m, h) = error(&s, cmd);
    assert!(m.ends_with("unknown key 'volums' in 'broken'"), "{m}");
    assert!(h.unwrap().starts_with("did you mean 'volumes'?"));
}

// ------------------------------------------------------ CDERUN_* values

#[test]
fn invalid_cderun_variables_name_the_variable() {
    let cases = [
        (
            "CDERUN_TTY",
            "maybe",
            "'maybe' is not one of true, false, auto",
        ),
        (
            "CDERUN_INTERACTIVE",
            "sometimes",
            "'sometimes' is not one of true, false, auto",
        ),
        (
            "CDERUN_REMOVE",
            "2",
            "'2' is not a boolean (use true/false, 1/0 or yes/no)",
        ),
        (
            "CDERUN_REMOVE",
            "",
            "'' is not a boolean (use true/false, 1/0 or yes/no)",
        ),
        (
            "CDERUN_MOUNT_CWD",
            "on",
            "'on' is not a boolean (use true/false, 1/0 or yes/no)",
        ),
        (
            "CDERUN_MOUNT_CDERUN",
            "x",
            "'x' is not a boolean (use true/false, 1/0 or yes/no)",
        ),
        (
            "CDERUN_DRY_RUN",
            "perhaps",
            "'perhaps' is not a boolean (use true/false, 1/0 or yes/no)",
        ),
        (
            "CDERUN_RUNTIME",
            "lxc",
            "'lxc' is not one of docker, podman, nerdctl",
        ),
        (
            "CDERUN_DRY_RUN_FORMAT",
            "xml",
            "'xml' is not one of yaml, json, simple, command",
        ),
        (
            "CDERUN_LOG_LEVEL",
            "loud",
            "'loud' is not one of error, warn, info, debug, trace",
        ),
        ("CDERUN_LOG_FORMAT", "xml", "'xml' is not one of text, json"),
        (
            "CDERUN_MAX_DEPTH",
            "x",
            "'x' is not a non-negative whole number",
        ),
        (
            "CDERUN_MAX_DEPTH",
            "-1",
            "'-1' is not a non-negative whole number",
        ),
    ];
    for (var, value, why) in cases {
        let s = Sandbox::new();
        s.tools(NODE);
        let mut cmd = s.cmd();
        cmd.arg("node").env(var, value);
        let (m, h) = error(&s, cmd);
        assert_eq!(m, format!("invalid {var}={value}: {why}"), "{var}={value}");
        assert_eq!(h, Some(format!("fix or unset {var}")), "{var}={value}");
    }
}

#[test]
fn invalid_flag_values_are_errors() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["--tty=maybe", "node"],
            "invalid value 'maybe' for '--tty[=<BOOL>]': 'maybe' is not one of true, false, auto",
        ),
        (
            &["--remove=2", "node"],
            "invalid value '2' for '--remove[=<BOOL>]': '2' is not a boolean (use true/false, 1/0 or yes/no)",
        ),
        (
            &["--runtime", "lxc", "node"],
            "invalid value 'lxc' for '--runtime <RUNTIME>'",
        ),
        (
            &["--dry-run", "-f", "xml", "node"],
            "invalid value 'xml' for '--dry-run-format <FORMAT>'",
        ),
        (
            &["--dry-run-format=bogus", "node"],
            "invalid value 'bogus' for '--dry-run-format <FORMAT>'",
        ),
        (
            &["--log-format", "xml", "node"],
            "invalid value 'xml' for '--log-format <FORMAT>'",
        ),
    ];
    for (args, message) in cases {
        let s = Sandbox::new();
        s.tools(NODE);
        let mut cmd = s.cmd();
        cmd.args(args);
        let (m, _) = error(&s, cmd);
        assert_eq!(m, message, "{args:?}");
    }
}

#[test]
fn an_invalid_override_value_is_an_error() {
    let s = Sandbox::new();
    s.tools(NODE);
    let mut cmd = s.cmd();
    cmd.args(["node", "--cderun-tty=maybe"]);
    let (m, _) = error(&s, cmd);
    assert_eq!(
        m,
        "invalid value 'maybe' for '--cderun-tty[=<BOOL>]': 'maybe' is not one of true, false, auto"
    );
}

#[test]
fn an_unknown_flag_is_an_error_with_the_similar_one() {
    let s = Sandbox::new();
    s.tools(NODE);
    let mut cmd = s.cmd();
    cmd.args(["--imag", "x", "node"]);
    exact(
        &s,
        cmd,
        "unexpected argument '--imag' found",
        Some("a similar argument exists: '--image'"),
    );
}

#[test]
fn an_unknown_short_flag_is_an_error() {
    let s = Sandbox::new();
    s.tools(NODE);
    let mut cmd = s.cmd();
    cmd.args(["-x", "node"]);
    let (m, _) = error(&s, cmd);
    assert_eq!(m, "unexpected argument '-x' found");
}

#[test]
fn a_value_flag_without_its_value_is_an_error() {
    let s = Sandbox::new();
    let mut cmd = s.cmd();
    cmd.arg("--image");
    let (m, _) = error(&s, cmd);
    assert_eq!(
        m,
        "a value is required for '--image <IMAGE>' but none was supplied"
    );
}

// ---------------------------------------------------------------- volumes

#[test]
fn malformed_volumes_name_the_entry_and_where_it_came_from() {
    let reasons = [
        ("/data", "no container path"),
        ("/a:data", "the container path must be absolute"),
        ("/a:./data", "the container path must be absolute"),
        ("/a:/b:rx", "unknown mode 'rx' (use ro or rw)"),
        (":/b", "empty part"),
        ("/a:", "empty part"),
        ("/a:/b:", "empty part"),
    ];
    let hint = "write HOST:CONTAINER[:ro|rw], for example ./data:/data:ro";
    for (spec, why) in reasons {
        // --volume, --cderun-volume, the tool entry, defaults.
        let s = Sandbox::new();
        s.tools(NODE);
        let mut cmd = s.cmd();
        cmd.args(["-v", spec, "node"]);
        exact(
            &s,
            cmd,
            &format!("invalid volume '{spec}' from --volume: {why}"),
            Some(hint),
        );

        let s = Sandbox::new();
        s.tools(NODE);
        let mut cmd = s.cmd();
        cmd.args(["node", "--cderun-volume", spec]);
        exact(
            &s,
            cmd,
            &format!("invalid volume '{spec}' from --cderun-volume: {why}"),
            Some(hint),
        );

        let s = Sandbox::new();
        let path = s.tools(&format!("node:\n  image: node:20\n  volumes: ['{spec}']\n"));
        let mut cmd = s.cmd();
        cmd.arg("node");
        exact(
            &s,
            cmd,
            &format!(
                "invalid volume '{spec}' from tool 'node' in {}: {why}",
                path.display()
            ),
            Some(hint),
        );

        let s = Sandbox::new();
        s.tools(NODE);
        let path = s.cderun_yaml(&format!("defaults:\n  volumes: ['{spec}']\n"));
        let mut cmd = s.cmd();
        cmd.arg("node");
        exact(
            &s,
            cmd,
            &format!(
                "invalid volume '{spec}' from defaults in {}: {why}",
                path.display()
            ),
            Some(hint),
        );
    }
}

// ------------------------------------------------------------------- env

#[test]
fn strict_env_with_an_unset_key_is_an_error_naming_key_and_origin() {
    let s = Sandbox::new();
    let path = s.tools("node:\n  image: node:20\n  strictEnv: true\n  env: [SET, NPM_TOKEN]\n");
    let mut cmd = s.cmd();
    cmd.arg("node").env("SET", "1");
    exact(
        &s,
        cmd,
        &format!(
            "environment variable 'NPM_TOKEN' (from tool 'node' in {}) is not set",
            path.display()
        ),
        Some("set it, write KEY=value, or turn off strictEnv"),
    );
}

#[test]
fn strict_env_from_defaults_applies_to_env_flags() {
    let s = Sandbox::new();
    s.tools(NODE);
    s.cderun_yaml("defaults:\n  strictEnv: true\n");
    let mut cmd = s.cmd();
    cmd.args(["-e", "MISSING", "node"]);
    exact(
        &s,
        cmd,
        "environment variable 'MISSING' (from --env) is not set",
        Some("set it, write KEY=value, or turn off strictEnv"),
    );
}

#[test]
fn an_env_entry_without_a_name_is_an_error() {
    let s = Sandbox::new();
    s.tools(NODE);
    let mut cmd = s.cmd();
    cmd.args(["-e", "=v", "node"]);
    exact(
        &s,
        cmd,
        "invalid env entry '=v' from --env: the variable name is empty",
        Some("write KEY=value or KEY"),
    );
}

// ---------------------------------------------------------------- workdir

#[test]
fn a_relative_workdir_is_an_error_from_every_source() {
    let message = "workdir 'rel/dir' must be an absolute path in the container";
    let hint = Some("write it as /path, for example --workdir /workspace");

    let s = Sandbox::new();
    s.tools(NODE);
    let mut cmd = s.cmd();
    cmd.args(["--workdir", "rel/dir", "node"]);
    exact(&s, cmd, message, hint);

    let s = Sandbox::new();
    s.tools(NODE);
    let mut cmd = s.cmd();
    cmd.args(["node", "--cderun-workdir=rel/dir"]);
    exact(&s, cmd, message, hint);

    let s = Sandbox::new();
    s.tools(NODE);
    let mut cmd = s.cmd();
    cmd.arg("node").env("CDERUN_WORKDIR", "rel/dir");
    exact(&s, cmd, message, hint);

    let s = Sandbox::new();
    s.tools("node:\n  image: node:20\n  workdir: rel/dir\n");
    let mut cmd = s.cmd();
    cmd.arg("node");
    exact(&s, cmd, message, hint);
}

// ---------------------------------------------------------------- logging

#[test]
fn an_unopenable_log_file_is_an_error() {
    let s = Sandbox::new();
    s.tools(NODE);
    let blocker = s.write("blocker", "a file, not a directory");
    let log = blocker.join("cderun.log");
    let mut cmd = s.cmd();
    cmd.arg("--log-file").arg(&log).arg("node");
    let (m, h) = error(&s, cmd);
    assert!(
        m.starts_with(&format!("cannot open log file {}: ", log.display())),
        "{m}"
    );
    assert_eq!(
        h.as_deref(),
        Some("fix --log-file / CDERUN_LOG_FILE / logging.file")
    );
}

// ------------------------------------------------------- runtime missing

#[test]
fn docker_pointing_at_a_missing_path_exits_127() {
    let s = Sandbox::new();
    s.tools(NODE);
    let missing = s.root().join("no/such/docker");
    let mut cmd = s.cmd();
    cmd.arg("node").env("DOCKER", &missing);
    let (m, h) = error_with_code(&s, cmd, 127);
    assert_eq!(
        m,
        format!(
            "runtime binary not found: DOCKER={} is not an executable file",
            missing.display()
        )
    );
    assert_eq!(
        h.as_deref(),
        Some("set DOCKER to the runtime's path, or unset it")
    );
}

#[test]
fn docker_pointing_at_a_non_executable_file_exits_127() {
    let s = Sandbox::new();
    s.tools(NODE);
    let plain = s.write("plain-file", "#!/bin/sh\n");
    let mut cmd = s.cmd();
    cmd.arg("node").env("DOCKER", &plain);
    let (m, _) = error_with_code(&s, cmd, 127);
    assert_eq!(
        m,
        format!(
            "runtime binary not found: DOCKER={} is not an executable file",
            plain.display()
        )
    );
}

#[test]
fn no_docker_variable_and_no_docker_on_path_exits_127() {
    let s = Sandbox::new();
    s.tools(NODE);
    let empty = s.root().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let mut cmd = s.cmd();
    // transport cli: with `auto` cderun would fall back to this machine's
    // Engine API socket (covered by the runtime selection unit tests).
    cmd.args(["--transport", "cli", "node"])
        .env_remove("DOCKER")
        .env("PATH", &empty);
    exact_127(
        &s,
        cmd,
        "runtime binary not found: 'docker' is not on PATH, DOCKER is not set and no runtimePath is configured",
        "install docker, or set DOCKER / runtimePath to its path, or pick another --runtime",
    );
}

#[test]
fn the_runtime_name_is_what_is_looked_up_on_path() {
    let s = Sandbox::new();
    s.tools(NODE);
    let empty = s.root().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let mut cmd = s.cmd();
    cmd.args(["--runtime", "podman", "--transport=cli", "node"])
        .env_remove("DOCKER")
        .env("PATH", &empty);
    exact_127(
        &s,
        cmd,
        "runtime binary not found: 'podman' is not on PATH, DOCKER is not set and no runtimePath is configured",
        "install podman, or set DOCKER / runtimePath to its path, or pick another --runtime",
    );
}

#[test]
fn a_missing_runtime_path_exits_127() {
    let s = Sandbox::new();
    s.tools(NODE);
    let missing = s.root().join("nope/docker");
    s.cderun_yaml(&format!("runtimePath: {}\n", missing.display()));
    let mut cmd = s.cmd();
    cmd.arg("node").env_remove("DOCKER");
    exact_127(
        &s,
        cmd,
        &format!(
            "runtime binary not found: runtimePath {} is not an executable file",
            missing.display()
        ),
        "fix runtimePath in .cderun.yaml, or remove it to search PATH",
    );
}

fn exact_127(s: &Sandbox, cmd: Command, message: &str, hint: &str) {
    let (m, h) = error_with_code(s, cmd, 127);
    assert_eq!(m, message);
    assert_eq!(h.as_deref(), Some(hint));
}
