//! Scenario 4: `--mount-tools` mounts cderun under tool names, and inside the
//! container those names run the configured tools (polyglot entry, SPEC §2).

use crate::harness::Case;

#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn mount_tools_shims_run_the_configured_tools() {
    let case = Case::new("shims");
    let env = case.env();
    let (sh, hello, upper, fail) = (
        case.tool("sh"),
        case.tool("hello"),
        case.tool("upper"),
        case.tool("fail"),
    );
    case.tools_yaml(&format!(
        "{sh}:\n  image: {docker}\n  command: [sh]\n\
         {hello}:\n  image: {busybox}\n  command: [echo, 'hello:']\n\
         {upper}:\n  image: {busybox}\n  interactive: auto\n  command: [tr, a-z, A-Z]\n\
         {fail}:\n  image: {busybox}\n  command: [sh, -c, 'exit 3']\n",
        docker = env.docker,
        busybox = env.busybox,
    ));
    // The shims are plain names on PATH in the container; `cderun` itself is
    // mounted too (--mount-tools implies --mount-cderun).
    let script = format!(
        "{hello} world && echo abc | {upper} && {{ {fail}; echo \"{fail} exited $?\"; }} \
         && command -v {hello} && command -v cderun"
    );
    let tools = format!("{hello},{upper},{fail}");
    case.run_nested(&["--mount-tools", &tools, &sh, "-c", &script])
        .expect(
            0,
            &format!(
                "hello: world\nABC\n{fail} exited 3\n/usr/local/bin/{hello}\n/usr/local/bin/cderun\n"
            ),
        );

    // --mount-all-tools: every configured tool gets a shim, and a
    // `--cderun-*` override given to a shim applies to the tool it runs
    // (stdin not attached: tr reads nothing).
    let script = format!(
        "echo abc | {upper} --cderun-interactive=false; echo \"{upper} exited $?\"; {hello} all"
    );
    case.run_nested(&["--mount-all-tools", &sh, "-c", &script])
        .expect(0, &format!("{upper} exited 0\nhello: all\n"));
    case.finish();
}
