//! Scenarios 1 and 2: a nested cderun finds the project's `.tools.yaml`
//! through the mounted project and starts a sibling container; three levels
//! deep, every level reads the project through translated mounts.

use std::collections::BTreeMap;

use crate::harness::{Case, q};

/// Host cderun → container (docker CLI + cderun mounted) → `cderun hello`,
/// run from a subdirectory so the nested cderun walks up to `.tools.yaml`.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn one_level_from_the_host() {
    let case = Case::new("one-level");
    let env = case.env();
    let (sh, hello) = (case.tool("sh"), case.tool("hello"));
    case.write("sub/.keep", "");
    case.tools_yaml(&format!(
        "{sh}:\n  image: {}\n  command: [sh]\n  mountCderun: true\n\
         {hello}:\n  image: {}\n  command: [echo, 'hello:']\n",
        env.docker, env.busybox
    ));
    let script = format!(r#"cd sub && cderun {hello} "from a sibling of depth $CDERUN_DEPTH""#);
    let run = case.run_nested(&[&sh, "-c", &script]);
    run.expect(0, "hello: from a sibling of depth 1\n");
    // Silent on success (SPEC §10): nothing of cderun's own on stderr.
    assert_eq!(run.stderr, "", "stderr on success");
    assert_eq!(
        case.created(&[&format!("io.cderun.tool={hello}"), "io.cderun.depth=2"]),
        1,
        "the sibling was started at depth 2"
    );
    case.finish();
}

/// An execution host started by testcontainers like a user's own container
/// (cderun and the socket mounted, no CDERUN_* variables): `cderun TOOL`
/// exec'd in it starts a sibling container and returns its output and
/// exit code, finding `.tools.yaml` through the mounted project.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn one_level_from_a_testcontainers_exec_host() {
    let case = Case::new("exec-host");
    let env = case.env();
    let (hello, code) = (case.tool("hello"), case.tool("code"));
    case.write("sub/msg.txt", "read from the project\n");
    case.tools_yaml(&format!(
        "{hello}:\n  image: {}\n  command: [sh, -c, {}, sh]\n\
         {code}:\n  image: {}\n  command: [sh, -c, 'exit \"$1\"', sh]\n",
        env.busybox,
        q(r#"echo "hello $1 in $(pwd): $(cat msg.txt)""#),
        env.busybox
    ));
    let host = case.exec_host();
    // The execution host itself: no CDERUN_* variables, cderun on PATH.
    host.exec(&["sh", "-c", "env | grep -c ^CDERUN_ || true"])
        .expect(0, "0\n");

    let sub = case.proj.join("sub").display().to_string();
    let script = format!("cd {sub} && cderun {hello} world");
    host.exec(&["sh", "-c", &script])
        .expect(0, &format!("hello world in {sub}: read from the project\n"));
    host.exec(&["cderun", &code, "7"]).expect(7, "");
    host.exec(&["cderun", &code, "0"]).expect(0, "");
    drop(host);
    case.finish();
}

/// Host → l1 → l2 → l3. Each level reads the project file through the cwd
/// mount and through a volume whose source is the previous level's mount
/// point (/data1 → /data2 → /data3), which only works if every nested cderun
/// translates it back to the base host; each level prints its depth.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn three_levels_read_the_project_through_translated_mounts() {
    let case = Case::new("three-levels");
    let env = case.env();
    let (l1, l2, l3) = (case.tool("l1"), case.tool("l2"), case.tool("l3"));
    case.write("data/msg.txt", "M");
    let level = |n: u32, next: Option<&str>| {
        let mut s = format!(
            r#"echo "L{n} depth=$CDERUN_DEPTH pwd=$(pwd) cwd=$(cat data/msg.txt) vol=$(cat /data{n}/msg.txt)""#
        );
        match next {
            Some(next) => s.push_str(&format!(" && exec cderun {next}")),
            None => s.push_str(r#" && echo "$CDERUN_HOST_MOUNTS""#),
        }
        q(&s)
    };
    case.tools_yaml(&format!(
        "{l1}:\n  image: {docker}\n  mountCderun: true\n  volumes: ['./data:/data1:ro']\n  command: [sh, -c, {s1}]\n\
         {l2}:\n  image: {docker}\n  mountCderun: true\n  volumes: ['/data1:/data2:ro']\n  command: [sh, -c, {s2}]\n\
         {l3}:\n  image: {busybox}\n  mountCderun: true\n  volumes: ['/data2:/data3:ro']\n  command: [sh, -c, {s3}]\n",
        docker = env.docker,
        busybox = env.busybox,
        s1 = level(1, Some(&l2)),
        s2 = level(2, Some(&l3)),
        s3 = level(3, None),
    ));
    let run = case.run_nested(&[&l1]);
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
    // What the level-3 container was told about its mounts: every source is
    // a base-host path, whatever path the level above saw it at.
    let mounts: BTreeMap<String, String> =
        serde_json::from_str(lines[3]).expect("CDERUN_HOST_MOUNTS is a JSON object");
    let data = case.proj.join("data").display().to_string();
    let want = BTreeMap::from([
        ("/data3".to_owned(), data),
        (proj.to_string(), proj.to_string()),
        (
            "/usr/local/bin/cderun".to_owned(),
            env.binary.display().to_string(),
        ),
        (
            env.socket.display().to_string(),
            env.socket.display().to_string(),
        ),
    ]);
    assert_eq!(mounts, want, "CDERUN_HOST_MOUNTS at depth 3");
    case.finish();
}
