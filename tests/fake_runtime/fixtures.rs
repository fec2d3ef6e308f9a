//! The files in `fixtures/`: the README's example configs work, and each
//! broken config gives exactly the error in its `.expected` file (`FILE`
//! stands for the config file's path).

use std::path::Path;

use crate::support::*;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
}

#[test]
fn broken_configs_give_their_expected_error_and_start_nothing() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures().join("broken")).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_suffix(".tools.yaml")
        else {
            continue;
        };
        seen += 1;
        let s = Sandbox::new();
        let file = s.tools(&std::fs::read_to_string(&path).unwrap());
        let expected = std::fs::read_to_string(path.with_file_name(format!("{name}.expected")))
            .unwrap()
            .replace("FILE", &file.display().to_string());
        let out = s.cmd().arg("node").output().unwrap();
        assert_eq!(out.status.code(), Some(125), "{name}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), expected, "{name}");
        assert!(out.stdout.is_empty(), "{name}");
        s.assert_no_call();
    }
    assert!(seen >= 6, "only {seen} broken fixtures found");
}

#[test]
fn the_example_configs_resolve() {
    let s = Sandbox::new();
    s.tools(&std::fs::read_to_string(fixtures().join("example/.tools.yaml")).unwrap());
    s.cderun_yaml(&std::fs::read_to_string(fixtures().join("example/.cderun.yaml")).unwrap());
    let out = s.cmd().arg("--list-tools").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "gemini-cli\tgemini-cli:latest\njq\tghcr.io/jqlang/jq:1.7.1\nnode\tnode:20-alpine\npython\tpython:3.12-slim\n"
    );
    s.cmd()
        .args(["node", "--version"])
        .env("NPM_TOKEN", "t0k")
        .assert()
        .success();
    let proj = s.proj.display().to_string();
    let home = s.home.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "-i", // interactive: auto, and the test's stdin is not a terminal
            "--network",
            "bridge",
            "-v",
            &format!("{proj}:{proj}"),
            "-v",
            &format!("{proj}:/workspace"),
            "-v",
            &format!("{home}/.npm:/root/.npm"),
            "-e",
            "TZ=UTC",
            "-e",
            "NODE_ENV=development",
            "-e",
            "NPM_TOKEN=t0k",
            "-w",
            "/workspace",
            "--user",
            &host_ids(),
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=node",
            "node:20-alpine",
            "node",
            "--version",
        ])
    );
    // ~/.npm did not exist: cderun created it as the invoking user.
    assert!(s.home.join(".npm").is_dir());
}

/// `uid:gid` of this test process, which is what `user: host` means.
fn host_ids() -> String {
    // SAFETY: getuid/getgid cannot fail.
    unsafe { format!("{}:{}", libc::getuid(), libc::getgid()) }
}
