//! Finding `.tools.yaml` and `.cderun.yaml` (SPEC §3), and relative paths in
//! them being relative to the file's own directory (SPEC §6).
//!
//! Which file was used shows in the argv: each candidate `.tools.yaml` maps
//! `t` to a different image, each `.cderun.yaml` sets a different network.

use std::ffi::OsString;
use std::path::Path;

use crate::support::*;

/// The whole argv for `t` with `image`, `network`, run from `cwd`.
fn argv(cwd: &Path, image: &str, network: &str) -> Vec<OsString> {
    let p = cwd.display().to_string();
    os(&[
        "run",
        "--rm",
        "--network",
        network,
        "-v",
        &format!("{p}:{p}"),
        "-w",
        &p,
        "--label",
        "io.cderun.depth=1",
        "--label",
        "io.cderun.tool=t",
        image,
        "t",
    ])
}

fn tools(image: &str) -> String {
    format!("t:\n  image: {image}\n")
}

fn config(network: &str) -> String {
    format!("defaults:\n  network: {network}\n")
}

#[test]
fn both_files_are_found_in_the_current_directory() {
    let s = Sandbox::new();
    s.tools(&tools("cwd-img"));
    s.cderun_yaml(&config("cwd-net"));
    s.cmd().arg("t").assert().success().stdout("").stderr("");
    assert_eq!(s.call().argv, argv(&s.proj, "cwd-img", "cwd-net"));
}

#[test]
fn both_files_are_found_in_a_parent_directory() {
    let s = Sandbox::new();
    s.tools(&tools("parent-img"));
    s.cderun_yaml(&config("parent-net"));
    let sub = s.proj.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    s.cmd().arg("t").current_dir(&sub).assert().success();
    assert_eq!(s.call().argv, argv(&sub, "parent-img", "parent-net"));
}

#[test]
fn the_nearest_file_wins_and_files_of_one_kind_are_not_merged() {
    let s = Sandbox::new();
    s.tools("t:\n  image: parent-img\nonly-in-parent:\n  image: x\n");
    s.cderun_yaml("defaults:\n  network: parent-net\n  remove: false\n");
    let sub = s.proj.join("sub");
    s.write("proj/sub/.tools.yaml", &tools("sub-img"));
    s.write("proj/sub/.cderun.yaml", &config("sub-net"));
    // `remove: false` from the parent's .cderun.yaml must not leak in.
    s.cmd().arg("t").current_dir(&sub).assert().success();
    assert_eq!(s.call().argv, argv(&sub, "sub-img", "sub-net"));
    // Nor does a tool only the parent's .tools.yaml knows.
    s.cmd()
        .arg("only-in-parent")
        .current_dir(&sub)
        .assert()
        .code(125)
        .stdout("")
        .stderr(
            "cderun: error: no image configured for tool 'only-in-parent'\n\
             hint: add 'only-in-parent: {image: ...}' to .tools.yaml or pass --image\n",
        );
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn the_two_kinds_are_found_independently() {
    // .tools.yaml in the parent, .cderun.yaml in the cwd.
    let s = Sandbox::new();
    s.tools(&tools("parent-img"));
    let sub = s.proj.join("sub");
    s.write("proj/sub/.cderun.yaml", &config("sub-net"));
    s.cmd().arg("t").current_dir(&sub).assert().success();
    assert_eq!(s.call().argv, argv(&sub, "parent-img", "sub-net"));
}

#[test]
fn xdg_config_home_holds_the_user_files() {
    let s = Sandbox::new();
    let xdg = s.root().join("xdg");
    s.write("xdg/cderun/tools.yaml", &tools("xdg-img"));
    s.write("xdg/cderun/config.yaml", &config("xdg-net"));
    // XDG beats ~/.config when XDG_CONFIG_HOME is set.
    s.write("home/.config/cderun/tools.yaml", &tools("home-img"));
    s.write("home/.config/cderun/config.yaml", &config("home-net"));
    s.cmd()
        .arg("t")
        .env("XDG_CONFIG_HOME", &xdg)
        .assert()
        .success();
    assert_eq!(s.call().argv, argv(&s.proj, "xdg-img", "xdg-net"));
}

#[test]
fn home_dot_config_is_used_when_xdg_config_home_is_unset_or_empty() {
    let s = Sandbox::new();
    s.write("home/.config/cderun/tools.yaml", &tools("home-img"));
    s.write("home/.config/cderun/config.yaml", &config("home-net"));
    s.cmd().arg("t").assert().success();
    s.cmd()
        .arg("t")
        .env("XDG_CONFIG_HOME", "")
        .assert()
        .success();
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    for call in calls {
        assert_eq!(call.argv, argv(&s.proj, "home-img", "home-net"));
    }
}

#[test]
fn a_set_xdg_config_home_replaces_home_dot_config() {
    // XDG_CONFIG_HOME set but empty of cderun files: ~/.config is not read.
    let s = Sandbox::new();
    let xdg = s.root().join("xdg");
    std::fs::create_dir_all(&xdg).unwrap();
    s.write("home/.config/cderun/tools.yaml", &tools("home-img"));
    s.cmd()
        .arg("t")
        .env("XDG_CONFIG_HOME", &xdg)
        .assert()
        .code(125)
        .stdout("")
        .stderr(
            "cderun: error: no image configured for tool 't'\n\
             hint: add 't: {image: ...}' to .tools.yaml or pass --image\n",
        );
    s.assert_no_call();
}

#[test]
fn project_files_beat_the_user_files() {
    let s = Sandbox::new();
    let xdg = s.root().join("xdg");
    s.write("xdg/cderun/tools.yaml", &tools("xdg-img"));
    s.write("xdg/cderun/config.yaml", &config("xdg-net"));
    s.tools(&tools("proj-img"));
    s.cderun_yaml(&config("proj-net"));
    let sub = s.proj.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    s.cmd()
        .arg("t")
        .current_dir(&sub)
        .env("XDG_CONFIG_HOME", &xdg)
        .assert()
        .success();
    assert_eq!(s.call().argv, argv(&sub, "proj-img", "proj-net"));
}

#[test]
fn explicit_paths_win_over_the_files_in_the_current_directory() {
    let s = Sandbox::new();
    s.tools(&tools("cwd-img"));
    s.cderun_yaml(&config("cwd-net"));
    let t = s.write("elsewhere/my-tools.yaml", &tools("explicit-img"));
    let c = s.write("elsewhere/my-config.yaml", &config("explicit-net"));
    s.cmd()
        .arg("t")
        .env("CDERUN_TOOLS", &t)
        .env("CDERUN_CONFIG", &c)
        .assert()
        .success();
    assert_eq!(s.call().argv, argv(&s.proj, "explicit-img", "explicit-net"));
}

#[test]
fn relative_explicit_paths_are_relative_to_the_current_directory() {
    let s = Sandbox::new();
    s.tools(&tools("cwd-img"));
    s.write("proj/conf/t.yaml", &tools("explicit-img"));
    s.write("proj/conf/c.yaml", &config("explicit-net"));
    s.cmd()
        .arg("t")
        .env("CDERUN_TOOLS", "conf/t.yaml")
        .env("CDERUN_CONFIG", "./conf/c.yaml")
        .assert()
        .success();
    assert_eq!(s.call().argv, argv(&s.proj, "explicit-img", "explicit-net"));
}

#[test]
fn a_missing_explicit_tools_file_is_an_error() {
    let s = Sandbox::new();
    s.tools(&tools("cwd-img"));
    let gone = s.root().join("gone/tools.yaml");
    s.cmd()
        .arg("t")
        .env("CDERUN_TOOLS", &gone)
        .assert()
        .code(125)
        .stdout("")
        .stderr(format!(
            "cderun: error: CDERUN_TOOLS points to {}, which is not a file\n\
             hint: create the file or unset CDERUN_TOOLS to use the normal search\n",
            gone.display()
        ));
    s.assert_no_call();
}

#[test]
fn a_missing_explicit_config_file_is_an_error() {
    let s = Sandbox::new();
    s.tools(&tools("cwd-img"));
    s.cderun_yaml(&config("cwd-net"));
    s.cmd()
        .arg("t")
        .env("CDERUN_CONFIG", "missing.yaml")
        .assert()
        .code(125)
        .stdout("")
        .stderr(format!(
            "cderun: error: CDERUN_CONFIG points to {}, which is not a file\n\
             hint: create the file or unset CDERUN_CONFIG to use the normal search\n",
            s.proj.join("missing.yaml").display()
        ));
    s.assert_no_call();
}

#[test]
fn an_explicit_path_to_a_directory_is_an_error() {
    let s = Sandbox::new();
    s.tools(&tools("cwd-img"));
    s.cmd()
        .arg("t")
        .env("CDERUN_TOOLS", &s.proj)
        .assert()
        .code(125)
        .stdout("")
        .stderr(format!(
            "cderun: error: CDERUN_TOOLS points to {}, which is not a file\n\
             hint: create the file or unset CDERUN_TOOLS to use the normal search\n",
            s.proj.display()
        ));
    s.assert_no_call();
}

#[test]
fn relative_volumes_in_a_tools_file_are_relative_to_its_directory() {
    let s = Sandbox::new();
    s.tools(
        "t:\n  image: img\n  volumes: ['.:/workspace', './data:/data:ro', '../shared:/shared', 'cache:/cache', '~/.npm:/root/.npm']\n",
    );
    let sub = s.proj.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    // A relative path on the command line is relative to the cwd instead.
    s.cmd()
        .args(["-v", "./out:/out", "t"])
        .current_dir(&sub)
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let (p, d, r, h) = (
        s.proj.display().to_string(),
        sub.display().to_string(),
        s.root().display().to_string(),
        s.home.display().to_string(),
    );
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "bridge",
            "-v",
            &format!("{d}:{d}"),
            "-v",
            &format!("{p}:/workspace"),
            "-v",
            &format!("{p}/data:/data:ro"),
            "-v",
            &format!("{r}/shared:/shared"),
            "-v",
            &format!("{p}/cache:/cache"),
            "-v",
            &format!("{h}/.npm:/root/.npm"),
            "-v",
            &format!("{d}/out:/out"),
            "-w",
            &d,
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=t",
            "img",
            "t",
        ])
    );
    // Missing host directories were created (SPEC §6), where the file said.
    for dir in [
        s.proj.join("data"),
        s.root().join("shared"),
        s.proj.join("cache"),
        sub.join("out"),
    ] {
        assert!(dir.is_dir(), "{} was not created", dir.display());
    }
    assert!(
        !sub.join("data").exists(),
        "data was resolved against the cwd"
    );
}

#[test]
fn relative_volumes_in_defaults_are_relative_to_the_config_files_directory() {
    let s = Sandbox::new();
    let xdg = s.root().join("xdg");
    s.write(
        "xdg/cderun/config.yaml",
        "defaults:\n  volumes: ['./cache:/cache']\n",
    );
    s.tools(&tools("img"));
    s.cmd()
        .arg("t")
        .env("XDG_CONFIG_HOME", &xdg)
        .assert()
        .success();
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "bridge",
            "-v",
            &format!("{p}:{p}"),
            "-v",
            &format!("{}/cderun/cache:/cache", xdg.display()),
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
fn relative_volumes_in_an_explicit_tools_file_are_relative_to_that_file() {
    let s = Sandbox::new();
    let t = s.write(
        "shared/conf/tools.yaml",
        "t:\n  image: img\n  volumes: ['.:/conf']\n",
    );
    s.cmd().arg("t").env("CDERUN_TOOLS", &t).assert().success();
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "bridge",
            "-v",
            &format!("{p}:{p}"),
            "-v",
            &format!("{}:/conf", s.root().join("shared/conf").display()),
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
fn the_root_directory_is_not_mounted_as_the_cwd() {
    let s = Sandbox::new();
    let t = s.write("conf/tools.yaml", &tools("img"));
    s.cmd()
        .arg("t")
        .env("CDERUN_TOOLS", &t)
        .current_dir("/")
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "bridge",
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
fn an_edit_right_after_a_run_is_seen_through_the_tools_cache() {
    let s = Sandbox::new();
    s.tools("node:\n  image: node:aa\n");
    s.cmd().arg("node").assert().success();
    // Same size, same second: only the content tells them apart.
    s.tools("node:\n  image: node:bb\n");
    s.cmd().arg("node").assert().success();
    let images: Vec<_> = s
        .calls()
        .iter()
        .map(|c| c.argv[c.argv.len() - 2].clone())
        .collect();
    assert_eq!(images, os(&["node:aa", "node:bb"]));
    // The cache was really used: it holds the file's entry.
    let cached = std::fs::read_dir(s.home.join(".cache/cderun"))
        .unwrap()
        .count();
    assert_eq!(cached, 1);
}
