//! Scenario 8: containers are labelled, and label-based cleanup removes them
//! even when a run is killed or a test panics. (Every other test also ends
//! with `Case::finish`, which asserts that none of its containers is left.)

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::harness::{Case, containers};

/// SIGKILL the host-side cderun (by then the `docker run` process it exec'd
/// into) while a nested `sleep` runs: both containers are left running,
/// attributable by their labels, and cleanup by label removes them all.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn killed_run_is_cleaned_up_by_label() {
    let case = Case::new("killed");
    let env = case.env();
    let (outer, sleeper) = (case.tool("outer"), case.tool("sleeper"));
    case.tools_yaml(&format!(
        "{outer}:\n  image: {}\n  mountCderun: true\n  command: [cderun, {sleeper}]\n\
         {sleeper}:\n  image: {}\n  command: [sleep, '300']\n",
        env.docker, env.busybox
    ));
    let mut child = case
        .cderun()
        .args(case.socket_args())
        .arg(&outer)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn cderun");
    let running = |tool: &str| {
        containers(&[
            format!("label=io.cderun.tool={tool}"),
            "status=running".into(),
        ])
    };
    crate::harness::wait_until(Duration::from_secs(60), "the nested sleep", || {
        running(&sleeper).len() == 1
    });
    // cderun replaced itself with the runtime (SPEC §9): the process we
    // started is now `docker`.
    let exe: PathBuf = std::fs::read_link(format!("/proc/{}/exe", child.id())).expect("exe");
    assert_eq!(
        exe.file_name().and_then(|n| n.to_str()),
        Some("docker"),
        "the host process is {}",
        exe.display()
    );
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );

    // Killing the client does not stop the containers: that is what the
    // labels are for.
    assert_eq!(running(&outer).len(), 1, "the level-1 container still runs");
    assert_eq!(
        running(&sleeper).len(),
        1,
        "the level-2 container still runs"
    );
    for (tool, depth) in [(&outer, "1"), (&sleeper, "2")] {
        let labels = crate::harness::docker(&[
            "inspect",
            "--format",
            "{{index .Config.Labels \"io.cderun.depth\"}}",
            &running(tool)[0],
        ]);
        assert_eq!(labels.trim(), depth, "io.cderun.depth of {tool}");
    }
    case.cleanup();
    assert_eq!(case.leftovers(), Vec::<String>::new(), "after cleanup");
    case.finish();
}

/// The guard is `Drop`: a test that panics with a cderun container running
/// still removes it on the way out, and also a testcontainers execution host
/// whose own cleanup never ran (found by the suite's test label).
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn guard_removes_containers_when_a_test_panics() {
    let mut tool = String::new();
    let mut exec_host = String::new();
    let mut child = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let case = Case::new("panics");
        let env = case.env();
        tool = case.tool("sleeper");
        case.tools_yaml(&format!(
            "{tool}:\n  image: {}\n  command: [sleep, '300']\n",
            env.busybox
        ));
        let host = case.exec_host();
        exec_host = host.id().to_owned();
        // As if testcontainers' own Drop never ran.
        std::mem::forget(host);
        child = Some(
            case.cderun()
                .arg(&tool)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn cderun"),
        );
        crate::harness::wait_until(Duration::from_secs(60), "the sleep", || {
            !containers(&[
                format!("label=io.cderun.tool={tool}"),
                "status=running".into(),
            ])
            .is_empty()
        });
        panic!("deliberate panic with {tool} running (expected in this test's output)");
    }));
    assert!(result.is_err(), "the closure panicked");
    assert!(
        containers(&[format!("label=io.cderun.tool={tool}")]).is_empty(),
        "the guard left {tool} behind"
    );
    assert!(
        containers(&[format!("id={exec_host}")]).is_empty(),
        "the execution host is still there"
    );
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
}
