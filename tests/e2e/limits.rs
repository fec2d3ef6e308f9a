//! Scenarios 5 and 6: cderun's own refusals inside containers. Each one
//! exits 125 with its message on stderr and starts no container.

use crate::harness::{Case, q};

/// A tool that starts itself again is stopped by `maxDepth` from the
/// project's `.cderun.yaml` (found by every nested cderun): depths 1 and 2
/// run, depth 3 is refused before anything starts.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn depth_limit_from_cderun_yaml_stops_runaway_recursion() {
    let case = Case::new("depth-yaml");
    let env = case.env();
    let tool = case.tool("loop");
    case.write(".cderun.yaml", "maxDepth: 2\n");
    case.tools_yaml(&format!(
        "{tool}:\n  image: {}\n  mountCderun: true\n  command: [sh, -c, {}]\n",
        env.docker,
        q(&format!(
            r#"echo "loop at depth $CDERUN_DEPTH"; exec cderun {tool}"#
        ))
    ));
    case.run_nested(&[&tool])
        .expect(125, "loop at depth 1\nloop at depth 2\n")
        .stderr_has("cderun: error: nesting depth 3 exceeds the limit of 2");
    let label = format!("io.cderun.tool={tool}");
    assert_eq!(case.created(&[&label]), 2, "containers created");
    assert_eq!(case.created(&[&label, "io.cderun.depth=3"]), 0);
    case.finish();
}

/// `command: [cderun, <same tool>]` with no limit configured: the built-in
/// `maxDepth: 5` ends the recursion at depth 6.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn default_depth_limit_stops_a_tool_that_runs_itself() {
    let case = Case::new("depth-default");
    let env = case.env();
    let tool = case.tool("self");
    case.tools_yaml(&format!(
        "{tool}:\n  image: {}\n  mountCderun: true\n  command: [cderun, {tool}]\n",
        env.docker
    ));
    case.run_nested(&[&tool])
        .expect(125, "")
        .stderr_has("nesting depth 6 exceeds the limit of 5");
    let label = format!("io.cderun.tool={tool}");
    assert_eq!(case.created(&[&label]), 5, "containers created");
    assert_eq!(case.created(&[&label, "io.cderun.depth=6"]), 0);
    case.finish();
}

/// `CDERUN_MAX_DEPTH` on the base host, and passed down through the tool's
/// `env`, is the limit at every level.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn depth_limit_from_cderun_max_depth() {
    let case = Case::new("depth-env");
    let env = case.env();
    let tool = case.tool("self");
    case.tools_yaml(&format!(
        "{tool}:\n  image: {}\n  mountCderun: true\n  env: [CDERUN_MAX_DEPTH]\n  command: [cderun, {tool}]\n",
        env.docker
    ));
    let run_with = |limit: &str| {
        let mut c = case.cderun();
        c.env("CDERUN_MAX_DEPTH", limit)
            .args(case.socket_args())
            .arg(&tool);
        crate::harness::run(c, None)
    };
    // 0: not even the first container may start.
    run_with("0")
        .expect(125, "")
        .stderr_has("nesting depth 1 exceeds the limit of 0");
    let label = format!("io.cderun.tool={tool}");
    assert_eq!(case.created(&[&label]), 0, "containers created");
    // 2: depths 1 and 2 start, depth 3 is refused inside depth 2.
    run_with("2")
        .expect(125, "")
        .stderr_has("nesting depth 3 exceeds the limit of 2");
    assert_eq!(case.created(&[&label]), 2, "containers created");
    case.finish();
}

/// A volume whose source exists only inside the level-1 container cannot be
/// mounted by the daemon: the nested cderun says so, exits 125, and creates
/// no container. The automatic cwd mount of such a directory is skipped
/// instead (SPEC §8), so the same tool runs from there without the volume.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn untranslatable_path_fails_and_starts_nothing() {
    let case = Case::new("untranslatable");
    let env = case.env();
    let (outer, inner, plain) = (case.tool("outer"), case.tool("inner"), case.tool("plain"));
    case.tools_yaml(&format!(
        "{outer}:\n  image: {docker}\n  mountCderun: true\n  command: [sh, -c]\n\
         {inner}:\n  image: {busybox}\n  volumes: ['/tmp/inside:/inside']\n  command: [cat, /inside/f]\n\
         {plain}:\n  image: {busybox}\n  command: [sh, -c, 'echo \"plain in $(pwd)\"']\n",
        docker = env.docker,
        busybox = env.busybox,
    ));
    let script = format!("mkdir -p /tmp/inside && echo x > /tmp/inside/f && exec cderun {inner}");
    case.run_nested(&[&outer, &script])
        .expect(125, "")
        .stderr_has(
            "cderun: error: /tmp/inside exists only inside this container; the runtime cannot mount it",
        );
    assert!(
        crate::harness::containers(&[format!("label=io.cderun.tool={inner}")]).is_empty(),
        "a container for {inner} exists"
    );
    assert_eq!(
        case.created(&[&format!("io.cderun.tool={inner}")]),
        0,
        "a container for {inner} was created"
    );

    // The cwd /tmp/inside is untranslatable too, but the automatic cwd mount
    // is skipped, not an error (CDERUN_TOOLS points at the project's file).
    let tools = case.proj.join(".tools.yaml").display().to_string();
    let script =
        format!("mkdir -p /tmp/inside && cd /tmp/inside && CDERUN_TOOLS={tools} cderun {plain}");
    case.run_nested(&[&outer, &script])
        .expect(0, "plain in /\n");
    case.finish();
}
