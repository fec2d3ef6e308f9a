//! The precedence matrix of SPEC §4, for a bool (`remove`), a string
//! (`network`) and the two lists (`env`, `volumes`):
//!
//! P1 `--cderun-X` > P2 `--X` > P3 `CDERUN_X` > P4 the tool's entry >
//! P5 `.cderun.yaml` `defaults` > P6 built-in.
//!
//! Each matrix test sets layers k..=P5 with alternating (or distinct) values
//! and expects layer k's value: so layer k beats every layer below it, and
//! (from the run for k-1) loses to the one above.

use std::ffi::OsString;
use std::path::Path;

use crate::support::*;

const LAYERS: [&str; 6] = ["P1", "P2", "P3", "P4", "P5", "P6"];

/// The whole argv for tool `t` (image `img`, args `a b`) with the given
/// `--rm`, network, extra volumes and env.
fn expected(
    cwd: &Path,
    remove: bool,
    network: &str,
    volumes: &[String],
    env: &[&str],
) -> Vec<OsString> {
    let p = cwd.display().to_string();
    let mut v = os(&["run"]);
    if remove {
        v.extend(os(&["--rm"]));
    }
    v.extend(os(&["--network", network, "-v", &format!("{p}:{p}")]));
    for vol in volumes {
        v.extend(os(&["-v", vol]));
    }
    for e in env {
        v.extend(os(&["-e", e]));
    }
    v.extend(os(&[
        "-w",
        &p,
        "--label",
        "io.cderun.depth=1",
        "--label",
        "io.cderun.tool=t",
        "img",
        "t",
        "a",
        "b",
    ]));
    v
}

/// One value per layer P1..P5 (`None` = the layer says nothing), spelled
/// for that layer.
struct Setup<'a> {
    /// `.cderun.yaml` `defaults:` body lines (P5).
    defaults: Vec<String>,
    /// Tool entry lines (P4).
    entry: Vec<String>,
    /// `CDERUN_*` variables (P3).
    env: Vec<(&'a str, String)>,
    /// Flags before the tool (P2).
    flags: Vec<String>,
    /// Overrides after the tool (P1), written between the tool's arguments.
    overrides: Vec<String>,
}

impl Setup<'_> {
    fn new() -> Self {
        Setup {
            defaults: vec![],
            entry: vec![],
            env: vec![],
            flags: vec![],
            overrides: vec![],
        }
    }

    /// Runs `t a b` with this setup in a fresh sandbox and returns its argv.
    fn run(&self) -> (Sandbox, Vec<OsString>) {
        let s = Sandbox::new();
        let mut tools = "t:\n  image: img\n".to_owned();
        for line in &self.entry {
            tools.push_str(&format!("  {line}\n"));
        }
        s.tools(&tools);
        if !self.defaults.is_empty() {
            let mut y = "defaults:\n".to_owned();
            for line in &self.defaults {
                y.push_str(&format!("  {line}\n"));
            }
            s.cderun_yaml(&y);
        }
        let mut cmd = s.cmd();
        cmd.args(&self.flags).arg("t").arg("a");
        cmd.args(&self.overrides).arg("b");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.assert().success().stdout("").stderr("");
        let argv = s.call().argv;
        (s, argv)
    }
}

// ------------------------------------------------------------------ bool

/// `remove` per layer, alternating so that each layer differs from the one
/// below (P6 is true).
const REMOVE: [bool; 6] = [false, true, false, true, false, true];

fn remove_setup(top: usize) -> Setup<'static> {
    let mut s = Setup::new();
    let word = |b: bool| if b { "true" } else { "false" };
    for (layer, &v) in REMOVE.iter().enumerate().take(5).skip(top) {
        match layer {
            0 => s.overrides.push(format!("--cderun-remove={}", word(v))),
            1 => s.flags.push(format!("--remove={}", word(v))),
            2 => s.env.push(("CDERUN_REMOVE", word(v).to_owned())),
            3 => s.entry.push(format!("remove: {}", word(v))),
            4 => s.defaults.push(format!("remove: {}", word(v))),
            _ => unreachable!(),
        }
    }
    s
}

#[test]
fn remove_each_layer_beats_the_one_below_and_loses_to_the_one_above() {
    for top in 0..6 {
        let (s, argv) = remove_setup(top).run();
        assert_eq!(
            argv,
            expected(&s.proj, REMOVE[top], "bridge", &[], &[]),
            "with layers {}..=P5 set, {} must win",
            LAYERS[top],
            LAYERS[top]
        );
    }
}

#[test]
fn remove_bare_flag_and_other_boolean_spellings() {
    // `--remove` alone means true; P3 accepts yes/no/1/0 in any case.
    let mut setup = Setup::new();
    setup.env.push(("CDERUN_REMOVE", "No".into()));
    setup.flags.push("--remove".into());
    let (s, argv) = setup.run();
    assert_eq!(argv, expected(&s.proj, true, "bridge", &[], &[]));

    let mut setup = Setup::new();
    setup.env.push(("CDERUN_REMOVE", "0".into()));
    let (s, argv) = setup.run();
    assert_eq!(argv, expected(&s.proj, false, "bridge", &[], &[]));

    let mut setup = Setup::new();
    setup.overrides.push("--cderun-remove=NO".into());
    setup.env.push(("CDERUN_REMOVE", "YES".into()));
    let (s, argv) = setup.run();
    assert_eq!(argv, expected(&s.proj, false, "bridge", &[], &[]));
}

// ---------------------------------------------------------------- string

const NETWORK: [&str; 6] = ["net-p1", "net-p2", "net-p3", "net-p4", "net-p5", "bridge"];

fn network_setup(top: usize) -> Setup<'static> {
    let mut s = Setup::new();
    for (layer, &v) in NETWORK.iter().enumerate().take(5).skip(top) {
        match layer {
            0 => {
                s.overrides.push("--cderun-network".into());
                s.overrides.push(v.into());
            }
            1 => {
                s.flags.push("--network".into());
                s.flags.push(v.into());
            }
            2 => s.env.push(("CDERUN_NETWORK", v.to_owned())),
            3 => s.entry.push(format!("network: {v}")),
            4 => s.defaults.push(format!("network: {v}")),
            _ => unreachable!(),
        }
    }
    s
}

#[test]
fn network_each_layer_beats_the_one_below_and_loses_to_the_one_above() {
    for top in 0..6 {
        let (s, argv) = network_setup(top).run();
        assert_eq!(
            argv,
            expected(&s.proj, true, NETWORK[top], &[], &[]),
            "with layers {}..=P5 set, {} must win",
            LAYERS[top],
            LAYERS[top]
        );
    }
}

#[test]
fn network_a_higher_layer_wins_even_when_the_layers_between_are_silent() {
    // P1 over P5 only, and P3 over P4 only.
    let mut setup = Setup::new();
    setup.overrides.push("--cderun-network=net-p1".into());
    setup.defaults.push("network: net-p5".into());
    let (s, argv) = setup.run();
    assert_eq!(argv, expected(&s.proj, true, "net-p1", &[], &[]));

    let mut setup = Setup::new();
    setup.env.push(("CDERUN_NETWORK", "net-p3".into()));
    setup.entry.push("network: net-p4".into());
    let (s, argv) = setup.run();
    assert_eq!(argv, expected(&s.proj, true, "net-p3", &[], &[]));
}

// ----------------------------------------------------------------- lists

/// Env per layer: every layer sets `A` and a key of its own. P3 has no env
/// list, so the env layers are P1, P2, P4, P5.
fn env_setup(top: usize) -> Setup<'static> {
    let mut s = Setup::new();
    for (layer, name) in LAYERS.iter().enumerate().take(5).skip(top) {
        let (a, own) = (format!("A={name}"), format!("K{name}=x"));
        match layer {
            0 => s
                .overrides
                .extend(["--cderun-env".into(), a, format!("--cderun-env={own}")]),
            1 => s.flags.extend(["-e".into(), a, format!("--env={own}")]),
            2 => {}
            3 => s.entry.push(format!("env: [{a}, {own}]")),
            4 => s.defaults.push(format!("env: [{a}, {own}]")),
            _ => unreachable!(),
        }
    }
    s
}

#[test]
fn env_lists_concatenate_and_the_highest_value_of_a_key_wins_at_its_first_position() {
    for top in [0, 1, 3, 4] {
        let (s, argv) = env_setup(top).run();
        let winner = format!("A={}", LAYERS[top]);
        let mut env = vec![winner.as_str()];
        // Own keys in the order defaults, entry, P2, P1.
        let own: Vec<String> = (top..5)
            .rev()
            .filter(|&l| l != 2)
            .map(|l| format!("K{}=x", LAYERS[l]))
            .collect();
        env.extend(own.iter().map(String::as_str));
        assert_eq!(
            argv,
            expected(&s.proj, true, "bridge", &[], &env),
            "with env layers {}..=P5 set",
            LAYERS[top]
        );
    }
}

#[test]
fn env_last_value_wins_keeping_the_first_seen_position() {
    let mut setup = Setup::new();
    setup
        .defaults
        .push("env: [A=defaults, B=defaults, HOSTVAR]".into());
    setup.entry.push("env: [C=entry, A=entry]".into());
    setup
        .flags
        .extend(["-e".into(), "B=p2".into(), "-e".into(), "HOSTVAR=p2".into()]);
    setup.overrides.extend([
        "--cderun-env=A=p1".into(),
        "--cderun-env".into(),
        "D=p1".into(),
    ]);
    setup.env.push(("HOSTVAR", "from-host".into()));
    let (s, argv) = setup.run();
    assert_eq!(
        argv,
        expected(
            &s.proj,
            true,
            "bridge",
            &[],
            &["A=p1", "B=p2", "HOSTVAR=p2", "C=entry", "D=p1"]
        )
    );
}

#[test]
fn env_bare_keys_take_the_host_value_or_empty() {
    let mut setup = Setup::new();
    setup.entry.push("env: [SET, UNSET, EMPTY]".into());
    setup.env.push(("SET", "v a l".into()));
    setup.env.push(("EMPTY", String::new()));
    let (s, argv) = setup.run();
    assert_eq!(
        argv,
        expected(
            &s.proj,
            true,
            "bridge",
            &[],
            &["SET=v a l", "UNSET=", "EMPTY="]
        )
    );
}

#[test]
fn volumes_concatenate_and_the_last_mount_of_a_container_path_wins() {
    // A sandbox of its own for the paths; `run` makes another, so the host
    // directories live outside both projects.
    let paths = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(paths.path()).unwrap();
    let r = root.display();
    let mut setup = Setup::new();
    setup
        .defaults
        .push(format!("volumes: ['{r}/d:/data', '{r}/dv:/dv']"));
    setup
        .entry
        .push(format!("volumes: ['{r}/e:/data:ro', '{r}/ev:/ev']"));
    setup.flags.extend([
        "-v".into(),
        format!("{r}/p2:/data"),
        "--volume".into(),
        format!("{r}/p2v:/p2v:ro"),
    ]);
    setup.overrides.extend([
        format!("--cderun-volume={r}/p1:/data:ro"),
        "--cderun-volume".into(),
        format!("{r}/ev2:/ev"),
    ]);
    let (s, argv) = setup.run();
    assert_eq!(
        argv,
        expected(
            &s.proj,
            true,
            "bridge",
            &[
                format!("{r}/p1:/data:ro"),
                format!("{r}/dv:/dv"),
                format!("{r}/ev2:/ev"),
                format!("{r}/p2v:/p2v:ro")
            ],
            &[]
        )
    );
}

#[test]
fn volumes_each_layer_beats_the_one_below() {
    let paths = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(paths.path()).unwrap();
    let r = root.display();
    for top in [0, 1, 3, 4] {
        let mut setup = Setup::new();
        for (layer, name) in LAYERS.iter().enumerate().take(5).skip(top) {
            let spec = format!("{r}/{name}:/data");
            match layer {
                0 => setup.overrides.push(format!("--cderun-volume={spec}")),
                1 => setup.flags.extend(["-v".into(), spec]),
                2 => {}
                3 => setup.entry.push(format!("volumes: ['{spec}']")),
                4 => setup.defaults.push(format!("volumes: ['{spec}']")),
                _ => unreachable!(),
            }
        }
        let (s, argv) = setup.run();
        assert_eq!(
            argv,
            expected(
                &s.proj,
                true,
                "bridge",
                &[format!("{r}/{}:/data", LAYERS[top])],
                &[]
            ),
            "with volume layers {}..=P5 set",
            LAYERS[top]
        );
    }
}

#[test]
fn an_explicit_volume_at_the_cwd_replaces_the_cwd_mount() {
    let paths = tempfile::tempdir().unwrap();
    let other = std::fs::canonicalize(paths.path()).unwrap();
    let s = Sandbox::new();
    s.tools("t:\n  image: img\n");
    let spec = format!("{}:{}", other.display(), s.proj.display());
    s.cmd().args(["-v", &spec, "t"]).assert().success();
    let p = s.proj.display().to_string();
    assert_eq!(
        s.call().argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "bridge",
            "-v",
            &spec,
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

// ------------------------------------------------------- absent vs false

#[test]
fn an_absent_key_in_the_entry_keeps_the_defaults_value() {
    let mut setup = Setup::new();
    setup.defaults.push("remove: false".into());
    setup.entry.push("network: host".into());
    let (s, argv) = setup.run();
    assert_eq!(argv, expected(&s.proj, false, "host", &[], &[]));
}

#[test]
fn an_explicit_false_in_the_entry_beats_true_in_the_defaults() {
    let mut setup = Setup::new();
    setup.defaults.push("remove: true".into());
    setup.entry.push("remove: false".into());
    let (s, argv) = setup.run();
    assert_eq!(argv, expected(&s.proj, false, "bridge", &[], &[]));
}

#[test]
fn an_explicit_true_in_the_entry_beats_false_in_the_defaults() {
    let mut setup = Setup::new();
    setup.defaults.push("remove: false".into());
    setup.entry.push("remove: true".into());
    let (s, argv) = setup.run();
    assert_eq!(argv, expected(&s.proj, true, "bridge", &[], &[]));
}

#[test]
fn an_explicit_false_mount_cwd_drops_the_cwd_mount_and_workdir() {
    let mut setup = Setup::new();
    setup.defaults.push("mountCwd: true".into());
    setup.entry.push("mountCwd: false".into());
    let (_s, argv) = setup.run();
    assert_eq!(
        argv,
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
            "a",
            "b",
        ])
    );
}

#[test]
fn the_built_in_default_of_a_flag_is_not_p2() {
    // Nothing written on the command line: P5's false must survive.
    let mut setup = Setup::new();
    setup.defaults.push("remove: false".into());
    setup.defaults.push("network: net-p5".into());
    let (s, argv) = setup.run();
    assert_eq!(argv, expected(&s.proj, false, "net-p5", &[], &[]));
}

// ------------------------------------------------------------ the image

#[test]
fn image_each_layer_beats_the_one_below() {
    // The image has no P5 (defaults cannot hold one) and no P6.
    let images = ["img-p1", "img-p2", "img-p3", "img"];
    for top in 0..4 {
        let mut setup = Setup::new();
        if top == 0 {
            setup.overrides.push("--cderun-image=img-p1".into());
        }
        if top <= 1 {
            setup.flags.extend(["--image".into(), "img-p2".into()]);
        }
        if top <= 2 {
            setup.env.push(("CDERUN_IMAGE", "img-p3".into()));
        }
        let (s, argv) = setup.run();
        let mut want = expected(&s.proj, true, "bridge", &[], &[]);
        let at = want.iter().position(|w| w == "img").unwrap();
        want[at] = images[top].into();
        assert_eq!(argv, want, "with image layers {}..=P4 set", LAYERS[top]);
    }
}

// ------------------------------------------- the other CDERUN_* settings

#[test]
fn p3_user_workdir_and_mount_cwd() {
    let mut setup = Setup::new();
    setup.env.push(("CDERUN_USER", "app".into()));
    setup.env.push(("CDERUN_WORKDIR", "/srv".into()));
    setup.env.push(("CDERUN_MOUNT_CWD", "false".into()));
    setup.entry.push("user: root".into());
    setup.entry.push("workdir: /entry".into());
    let (_s, argv) = setup.run();
    assert_eq!(
        argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "bridge",
            "-w",
            "/srv",
            "--user",
            "app",
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=t",
            "img",
            "t",
            "a",
            "b",
        ])
    );
}

#[test]
fn user_host_is_the_invoking_uid_and_gid() {
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let mut setup = Setup::new();
    setup.defaults.push("user: host".into());
    let (s, argv) = setup.run();
    let p = s.proj.display().to_string();
    assert_eq!(
        argv,
        os(&[
            "run",
            "--rm",
            "--network",
            "bridge",
            "-v",
            &format!("{p}:{p}"),
            "-w",
            &p,
            "--user",
            &format!("{uid}:{gid}"),
            "--label",
            "io.cderun.depth=1",
            "--label",
            "io.cderun.tool=t",
            "img",
            "t",
            "a",
            "b",
        ])
    );
}
