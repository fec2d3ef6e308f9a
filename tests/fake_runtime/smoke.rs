//! The baseline: one tool, defaults everywhere.

use crate::support::*;

#[test]
fn runs_the_mapped_image_with_the_exact_argv_and_exit_code() {
    let s = Sandbox::new();
    s.tools("node:\n  image: node:20-alpine\n");
    s.cmd()
        .args(["node", "--version"])
        .env("FAKE_DOCKER_STDOUT", "v20.0.0\n")
        .env("FAKE_DOCKER_EXIT", "42")
        .assert()
        .code(42)
        .stdout("v20.0.0\n")
        .stderr("");
    let call = s.call();
    assert_eq!(
        call.argv,
        default_argv(&s.proj, "node:20-alpine", &["node"], &["--version"], "node")
    );
    assert_eq!(call.argv0, fake_docker().into_os_string());
}
