//! Command-line parsing (SPEC §2).
//!
//! `cderun [cderun-flags] <tool> [passthrough-args...]`
//!
//! clap knows the flags; this module only decides where cderun's part of the
//! command line ends. Which flags consume the next argument is read from the
//! clap definition itself (`FlagTable`), so the split, the `--cderun-*`
//! twins and clap's own parsing can never disagree. The pieces:
//!
//! 1. polyglot entry: an executable not named `cderun`/`cderun-*` is the tool;
//! 2. `split_at_tool`: the first positional argument is the tool;
//! 3. clap parses what came before it (P2);
//! 4. `lift_overrides`: `--cderun-X` anywhere after the tool is taken out
//!    of the passthrough arguments and parsed by the same clap definition (P1).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};

use crate::error::{Error, Result, nearest};
use crate::value::{DryRunFormat, LogFormat, LogLevel, RuntimeKind, Switch, Transport, parse_bool};

/// Prefix of the P1 override twins.
pub const OVERRIDE_PREFIX: &str = "cderun-";

/// Flags that are not settings and therefore have no `--cderun-*` twin.
const NOT_TWINNED: &[&str] = &["help", "version", "list_tools", "tool", "args"];

/// cderun's flags. Every field is optional or empty by default, so a flag
/// counts only when the user wrote it (SPEC §4): a flag's built-in default is
/// never P2.
#[derive(Parser, Debug, Default, Clone, PartialEq)]
#[command(
    name = "cderun",
    version,
    about = "Run command-line tools in throw-away containers.",
    override_usage = "cderun [FLAGS] <TOOL> [ARGS]...\n       <TOOL> [ARGS]...   (a symlink or copy of cderun named after the tool)",
    after_help = "Everything after <TOOL> goes to the tool unchanged, except --cderun-<flag> \
overrides (for example --cderun-tty=false), which take priority over everything else.\n\
Config: .cderun.yaml and .tools.yaml (see the README). Exit codes: the tool's own; \
125 for cderun's errors; 127 when no runtime binary is found.",
    disable_help_subcommand = true,
    args_override_self = true,
    max_term_width = 100
)]
pub struct Flags {
    /// Allocate a pseudo-TTY (true, false or auto)
    #[arg(short = 't', long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = Switch::parse, help_heading = "Container")]
    pub tty: Option<Switch>,

    /// Keep stdin attached (true, false or auto)
    #[arg(short = 'i', long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = Switch::parse, help_heading = "Container")]
    pub interactive: Option<Switch>,

    /// Image to run, instead of the tool's mapping in .tools.yaml
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "IMAGE",
        help_heading = "Container"
    )]
    pub image: Option<String>,

    /// Network: bridge, host, none or a network name [default: bridge]
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "NETWORK",
        help_heading = "Container"
    )]
    pub network: Option<String>,

    /// Remove the container when it exits [default: true]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_bool, help_heading = "Container")]
    pub remove: Option<bool>,

    /// Runtime family [default: docker]
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "RUNTIME",
        help_heading = "Container"
    )]
    pub runtime: Option<RuntimeKind>,

    /// How to reach the runtime: auto (its CLI if found, else the Engine API socket), cli, api [default: auto]
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "TRANSPORT",
        help_heading = "Container"
    )]
    pub transport: Option<Transport>,

    /// Set an environment variable: KEY=value, or KEY to pass the host's value (repeatable)
    #[arg(
        allow_hyphen_values = true,
        short = 'e',
        long,
        value_name = "KEY[=VALUE]",
        help_heading = "Container"
    )]
    pub env: Vec<OsString>,

    /// Bind mount host:container[:ro|rw] (repeatable)
    #[arg(
        allow_hyphen_values = true,
        short = 'v',
        long,
        value_name = "HOST:CONTAINER[:MODE]",
        help_heading = "Container"
    )]
    pub volume: Vec<OsString>,

    /// Working directory inside the container [default: the current directory, when it is mounted]
    #[arg(
        allow_hyphen_values = true,
        short = 'w',
        long,
        value_name = "DIR",
        help_heading = "Container"
    )]
    pub workdir: Option<PathBuf>,

    /// User to run as: `uid[:gid]`, a name, or 'host' for your own uid:gid
    #[arg(
        allow_hyphen_values = true,
        short = 'u',
        long,
        value_name = "USER",
        help_heading = "Container"
    )]
    pub user: Option<String>,

    /// Mount the current directory at the same path [default: true]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_bool, help_heading = "Container")]
    pub mount_cwd: Option<bool>,

    /// Mount the runtime socket (PATH or unix://PATH) and point DOCKER_HOST (podman: CONTAINER_HOST) at it
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "SOCKET",
        help_heading = "Recursive execution"
    )]
    pub mount_socket: Option<OsString>,

    /// Mount cderun itself read-only at /usr/local/bin/cderun (needs a socket)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_bool,
          help_heading = "Recursive execution")]
    pub mount_cderun: Option<bool>,

    /// Also mount cderun as these tools, comma-separated (implies --mount-cderun)
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "TOOL,...",
        value_delimiter = ',',
        help_heading = "Recursive execution"
    )]
    pub mount_tools: Vec<String>,

    /// Mount cderun as every tool in .tools.yaml (implies --mount-cderun)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_bool,
          help_heading = "Recursive execution")]
    pub mount_all_tools: Option<bool>,

    /// Print the resolved container instead of running it
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_bool, help_heading = "Dry run")]
    pub dry_run: Option<bool>,

    /// Dry-run output: yaml, json, simple, or command (the exact runtime argv)
    #[arg(
        allow_hyphen_values = true,
        short = 'f',
        long,
        value_name = "FORMAT",
        help_heading = "Dry run"
    )]
    pub dry_run_format: Option<DryRunFormat>,

    /// More logging: once info, twice debug, three times trace
    #[arg(long, action = ArgAction::Count, help_heading = "Logging")]
    pub verbose: u8,

    /// Log level: error, warn, info, debug, trace [default: warn]
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "LEVEL",
        help_heading = "Logging"
    )]
    pub log_level: Option<LogLevel>,

    /// Write logs to this file instead of stderr
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "PATH",
        help_heading = "Logging"
    )]
    pub log_file: Option<PathBuf>,

    /// Log format: text or json [default: text]
    #[arg(
        allow_hyphen_values = true,
        long,
        value_name = "FORMAT",
        help_heading = "Logging"
    )]
    pub log_format: Option<LogFormat>,

    /// List the tools in .tools.yaml and exit
    #[arg(long, help_heading = "Management")]
    pub list_tools: bool,

    /// The tool to run: a key of .tools.yaml
    #[arg(value_name = "TOOL")]
    pub tool: Option<OsString>,

    /// Arguments passed to the tool unchanged
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<OsString>,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// Print this text on stdout and exit 0 (`--help`, `--version`, no tool).
    Print(String),
    /// Print the configured tools and exit 0.
    ListTools(Parsed),
    /// Run a tool.
    Run(Parsed),
}

/// A command line split into its parts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// The tool (first positional argument, or the polyglot name).
    pub tool: OsString,
    /// Passthrough arguments with the overrides taken out, byte for byte.
    pub args: Vec<OsString>,
    /// Standard flags written before the tool (P2).
    pub flags: Flags,
    /// `--cderun-*` overrides written after the tool (P1).
    pub overrides: Flags,
    /// True when entered through a symlink or copy named after the tool.
    pub polyglot: bool,
}

/// How a flag consumes values, read from the clap definition.
#[derive(Debug, Clone)]
struct FlagInfo {
    id: String,
    long: Option<String>,
    short: Option<char>,
    /// `--flag VALUE` (true) versus `--flag` / `--flag=VALUE` only (false).
    separate_value: bool,
}

/// The single source of truth for the argument split: the clap command for
/// [`Flags`], and for each flag whether it consumes the following argument.
struct FlagTable {
    cmd: clap::Command,
    flags: Vec<FlagInfo>,
}

impl FlagTable {
    fn new() -> FlagTable {
        let mut cmd = Flags::command();
        cmd.build();
        let flags = cmd
            .get_arguments()
            .filter(|a| !a.is_positional())
            .map(|a| {
                let takes_values = a.get_action().takes_values();
                let min = a.get_num_args().map_or(1, |r| r.min_values());
                FlagInfo {
                    id: a.get_id().to_string(),
                    long: a.get_long().map(str::to_owned),
                    short: a.get_short(),
                    separate_value: takes_values && !a.is_require_equals_set() && min > 0,
                }
            })
            .collect();
        FlagTable { cmd, flags }
    }

    fn long(&self, name: &str) -> Option<&FlagInfo> {
        self.flags.iter().find(|f| f.long.as_deref() == Some(name))
    }

    fn short(&self, c: char) -> Option<&FlagInfo> {
        self.flags.iter().find(|f| f.short == Some(c))
    }

    /// Runs clap on cderun's own flags (no tool, no passthrough).
    fn parse(&mut self, args: &[OsString]) -> std::result::Result<Flags, clap::Error> {
        let argv = std::iter::once(OsString::from("cderun")).chain(args.iter().cloned());
        let matches = self.cmd.try_get_matches_from_mut(argv)?;
        Flags::from_arg_matches(&matches)
    }

    /// Long names that have a `--cderun-*` twin.
    fn twinned(&self) -> impl Iterator<Item = &FlagInfo> {
        self.flags
            .iter()
            .filter(|f| f.long.is_some() && !NOT_TWINNED.contains(&f.id.as_str()))
    }
}

/// Is this executable cderun itself, rather than a tool name (polyglot)?
pub fn is_cderun_name(name: &OsStr) -> bool {
    let b = name.as_bytes();
    b == b"cderun" || b.starts_with(b"cderun-")
}

/// Parses a whole command line, `argv[0]` included.
pub fn parse(argv: Vec<OsString>) -> Result<Invocation> {
    let mut table = FlagTable::new();
    let mut argv = argv.into_iter();
    let argv0 = argv.next().unwrap_or_else(|| OsString::from("cderun"));
    let rest: Vec<OsString> = argv.collect();

    let exe_name = Path::new(&argv0)
        .file_name()
        .map(OsStr::to_os_string)
        .unwrap_or_else(|| argv0.clone());
    if !is_cderun_name(&exe_name) {
        let (args, overrides) = lift_overrides(&mut table, rest)?;
        return Ok(Invocation::Run(Parsed {
            tool: exe_name,
            args,
            flags: Flags::default(),
            overrides,
            polyglot: true,
        }));
    }

    let (before, tool, after) = split_at_tool(&table, rest);
    reject_early_overrides(&table, &before)?;
    let flags = match table.parse(&before) {
        Ok(flags) => flags,
        Err(e) if is_print(&e) => return Ok(Invocation::Print(e.render().to_string())),
        Err(e) => return Err(clap_error(e)),
    };
    let Some(tool) = tool else {
        if flags.list_tools {
            return Ok(Invocation::ListTools(Parsed {
                flags,
                ..Parsed::default()
            }));
        }
        return Ok(Invocation::Print(help_text()));
    };
    let (args, overrides) = lift_overrides(&mut table, after)?;
    let parsed = Parsed {
        tool,
        args,
        flags,
        overrides,
        polyglot: false,
    };
    if parsed.flags.list_tools {
        return Ok(Invocation::ListTools(parsed));
    }
    Ok(Invocation::Run(parsed))
}

/// The full `--help` text.
pub fn help_text() -> String {
    Flags::command().render_help().to_string()
}

/// Splits arguments (without argv[0]) into cderun's flags, the tool, and the
/// passthrough arguments. `--` ends cderun's flags; the argument after it is
/// the tool. Unknown flags are left in cderun's part for clap to reject.
fn split_at_tool(
    table: &FlagTable,
    args: Vec<OsString>,
) -> (Vec<OsString>, Option<OsString>, Vec<OsString>) {
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_bytes();
        if arg == b"--" {
            let mut rest = args;
            let after = rest.split_off(i + 1);
            rest.pop(); // the `--` itself
            let mut after = after.into_iter();
            let tool = after.next();
            return (rest, tool, after.collect());
        }
        i += if let Some(long) = arg.strip_prefix(b"--") {
            let consumes = !long.contains(&b'=')
                && std::str::from_utf8(long)
                    .ok()
                    .and_then(|name| table.long(name))
                    .is_some_and(|f| f.separate_value);
            1 + usize::from(consumes)
        } else if arg.len() > 1 && arg[0] == b'-' {
            1 + usize::from(short_cluster_consumes_next(table, &arg[1..]))
        } else {
            let mut before = args;
            let mut after = before.split_off(i).into_iter();
            let tool = after.next();
            return (before, tool, after.collect());
        };
    }
    (args, None, Vec::new())
}

/// Whether a short cluster such as `-ti`, `-eK=V` or `-te` takes the next
/// argument as its value: only when its last flag takes a value and nothing
/// is attached to it.
fn short_cluster_consumes_next(table: &FlagTable, cluster: &[u8]) -> bool {
    let Ok(cluster) = std::str::from_utf8(cluster) else {
        return false;
    };
    let mut chars = cluster.chars().peekable();
    while let Some(c) = chars.next() {
        match table.short(c) {
            Some(f) if f.separate_value => return chars.peek().is_none(),
            Some(_) if chars.peek() == Some(&'=') => return false,
            Some(_) => {}
            None => return false,
        }
    }
    false
}

/// `--cderun-X` before the tool is a mistake worth its own message.
fn reject_early_overrides(table: &FlagTable, before: &[OsString]) -> Result<()> {
    for arg in before {
        let Some(name) = override_name(arg) else {
            continue;
        };
        let plain = format!("--{}", name.strip_prefix(OVERRIDE_PREFIX).unwrap_or(name));
        let mut e = Error::new(format!(
            "override '--{name}' must be written after the tool"
        ));
        if table.long(&plain[2..]).is_some() {
            e = e.with_hint(format!(
                "move it after the tool (cderun <tool> --{name} ...), or use '{plain}' before the tool"
            ));
        } else {
            e = e.with_hint("move it after the tool: cderun <tool> --cderun-<flag> ...");
        }
        return Err(e);
    }
    Ok(())
}

/// `Some("cderun-tty")` for `--cderun-tty=false`.
fn override_name(arg: &OsStr) -> Option<&str> {
    let long = arg.as_bytes().strip_prefix(b"--")?;
    if !long.starts_with(OVERRIDE_PREFIX.as_bytes()) {
        return None;
    }
    let name = long.split(|&b| b == b'=').next().unwrap_or(long);
    std::str::from_utf8(name).ok()
}

/// Takes every `--cderun-X[=V]` (and its value argument, for flags that take
/// one) out of the passthrough arguments, and parses them as P1 flags.
fn lift_overrides(table: &mut FlagTable, args: Vec<OsString>) -> Result<(Vec<OsString>, Flags)> {
    let mut kept = Vec::with_capacity(args.len());
    let mut lifted: Vec<OsString> = Vec::new();
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        let Some(name) = override_name(&arg) else {
            kept.push(arg);
            continue;
        };
        let plain = &name[OVERRIDE_PREFIX.len()..];
        let Some(info) = table.twinned().find(|f| f.long.as_deref() == Some(plain)) else {
            let mut e = Error::new(format!("unknown override '--{name}'"));
            if let Some(best) = nearest(plain, table.twinned().filter_map(|f| f.long.as_deref())) {
                e = e.with_hint(format!("did you mean '--{OVERRIDE_PREFIX}{best}'?"));
            }
            return Err(e);
        };
        // `--cderun-env=K=V` → `--env=K=V`: keep everything after the prefix.
        let mut plain_arg = OsString::from("--");
        plain_arg.push(OsStr::from_bytes(
            &arg.as_bytes()[2 + OVERRIDE_PREFIX.len()..],
        ));
        let attached = arg.as_bytes().contains(&b'=');
        if info.separate_value && !attached {
            let value = iter.next().ok_or_else(|| {
                Error::new(format!("override '--{name}' needs a value"))
                    .with_hint(format!("write '--{name}=VALUE' or '--{name} VALUE'"))
            })?;
            // Attached, so a value such as `-x` is never taken for a flag.
            plain_arg.push("=");
            plain_arg.push(value);
        }
        lifted.push(plain_arg);
    }
    if lifted.is_empty() {
        return Ok((kept, Flags::default()));
    }
    let overrides = table.parse(&lifted).map_err(|e| {
        // clap names the plain flag; the user wrote the override.
        let e = clap_error(e);
        let message = e.message().replace("'--", &format!("'--{OVERRIDE_PREFIX}"));
        Error::new(message).with_hint(e.hint().unwrap_or_default().to_owned())
    })?;
    Ok((kept, overrides))
}

/// `--help` and `--version` reach us as clap "errors"; they are prints.
fn is_print(e: &clap::Error) -> bool {
    use clap::error::ErrorKind;
    matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
}

/// Turns clap's multi-line error into cderun's one line + hint.
fn clap_error(e: clap::Error) -> Error {
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let message = first.strip_prefix("error: ").unwrap_or(first);
    // clap follows the message with a `tip: ...` or `[possible values: ...]`.
    let hint = lines
        .find_map(|l| {
            l.strip_prefix("tip: ").map(str::to_owned).or_else(|| {
                l.strip_prefix('[')
                    .and_then(|l| l.strip_suffix(']'))
                    .map(str::to_owned)
            })
        })
        .unwrap_or_else(|| "see 'cderun --help'".to_owned());
    Error::new(message.to_owned()).with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn run(argv: &[&str]) -> Parsed {
        match parse(os(argv)).unwrap() {
            Invocation::Run(p) => p,
            other => panic!("expected a run, got {other:?}"),
        }
    }

    #[test]
    fn value_flags_consume_the_next_argument() {
        let p = run(&["cderun", "--image", "alpine:3", "sh", "-c", "echo hi"]);
        assert_eq!(p.tool, "sh");
        assert_eq!(p.args, os(&["-c", "echo hi"]));
        assert_eq!(p.flags.image.as_deref(), Some("alpine:3"));

        let p = run(&["cderun", "-e", "FOO", "--network", "host", "node"]);
        assert_eq!(p.tool, "node");
        assert_eq!(p.flags.env, os(&["FOO"]));
        assert_eq!(p.flags.network.as_deref(), Some("host"));
    }

    #[test]
    fn bool_flags_never_consume_the_next_argument() {
        let p = run(&["cderun", "--tty", "node", "x.js"]);
        assert_eq!(p.tool, "node");
        assert_eq!(p.flags.tty, Some(Switch::On));
        let p = run(&["cderun", "--remove=false", "--tty=auto", "node"]);
        assert_eq!(p.flags.remove, Some(false));
        assert_eq!(p.flags.tty, Some(Switch::Auto));
    }

    #[test]
    fn short_clusters_and_attached_values() {
        let p = run(&["cderun", "-ti", "node"]);
        assert_eq!(
            (p.flags.tty, p.flags.interactive),
            (Some(Switch::On), Some(Switch::On))
        );
        let p = run(&["cderun", "-eK=V", "-te", "X", "node"]);
        assert_eq!(p.flags.env, os(&["K=V", "X"]));
        assert_eq!(p.flags.tty, Some(Switch::On));
        assert_eq!(p.tool, "node");
        let p = run(&["cderun", "--image=x", "-t=false", "node"]);
        assert_eq!(p.flags.image.as_deref(), Some("x"));
        assert_eq!(p.flags.tty, Some(Switch::Off));
    }

    #[test]
    fn everything_after_the_tool_is_passthrough() {
        let p = run(&["cderun", "node", "--help", "-t", "--", "", "--tty", "a b"]);
        assert_eq!(p.args, os(&["--help", "-t", "--", "", "--tty", "a b"]));
        assert_eq!(p.flags, Flags::default());
    }

    #[test]
    fn double_dash_ends_cderun_flags() {
        let p = run(&["cderun", "-t", "--", "--weird-tool", "x"]);
        assert_eq!(p.tool, "--weird-tool");
        assert_eq!(p.args, os(&["x"]));
    }

    #[test]
    fn overrides_are_lifted_from_anywhere_after_the_tool() {
        let p = run(&[
            "cderun",
            "node",
            "a",
            "--cderun-tty=false",
            "b",
            "--cderun-env",
            "K=V",
            "--cderun-image=img",
        ]);
        assert_eq!(p.args, os(&["a", "b"]));
        assert_eq!(p.overrides.tty, Some(Switch::Off));
        assert_eq!(p.overrides.env, os(&["K=V"]));
        assert_eq!(p.overrides.image.as_deref(), Some("img"));
    }

    #[test]
    fn override_before_tool_is_an_error() {
        let e = parse(os(&["cderun", "--cderun-tty", "node"])).unwrap_err();
        assert_eq!(
            e.message(),
            "override '--cderun-tty' must be written after the tool"
        );
        assert_eq!(e.exit_code(), 125);
    }

    #[test]
    fn unknown_override_suggests_nearest() {
        let e = parse(os(&["cderun", "node", "--cderun-imag=x"])).unwrap_err();
        assert_eq!(e.message(), "unknown override '--cderun-imag'");
        assert_eq!(e.hint(), Some("did you mean '--cderun-image'?"));
    }

    #[test]
    fn values_that_look_like_flags_are_values() {
        let p = run(&[
            "cderun",
            "-e",
            "-x",
            "--image",
            "--weird",
            "node",
            "--cderun-env",
            "-y",
        ]);
        assert_eq!(p.tool, "node");
        assert_eq!(p.flags.env, os(&["-x"]));
        assert_eq!(p.flags.image.as_deref(), Some("--weird"));
        assert_eq!(p.overrides.env, os(&["-y"]));
        assert!(p.args.is_empty());
    }

    #[test]
    fn a_repeated_flag_keeps_the_last_value_and_lists_accumulate() {
        let p = run(&[
            "cderun",
            "--tty",
            "--tty=false",
            "--network=a",
            "--network",
            "b",
            "-e",
            "A",
            "-e",
            "B",
            "node",
        ]);
        assert_eq!(p.flags.tty, Some(Switch::Off));
        assert_eq!(p.flags.network.as_deref(), Some("b"));
        assert_eq!(p.flags.env, os(&["A", "B"]));
        let p = run(&["cderun", "node", "--cderun-network=a", "--cderun-network=b"]);
        assert_eq!(p.overrides.network.as_deref(), Some("b"));
    }

    #[test]
    fn override_missing_value() {
        let e = parse(os(&["cderun", "node", "--cderun-env"])).unwrap_err();
        assert_eq!(e.message(), "override '--cderun-env' needs a value");
    }

    #[test]
    fn polyglot_entry_uses_the_executable_name() {
        let p = run(&["/usr/local/bin/node", "--cderun-tty=false", "--version"]);
        assert!(p.polyglot);
        assert_eq!(p.tool, "node");
        assert_eq!(p.args, os(&["--version"]));
        assert_eq!(p.overrides.tty, Some(Switch::Off));
        // --help belongs to the tool in polyglot mode.
        let p = run(&["python3", "--help"]);
        assert_eq!(p.args, os(&["--help"]));
    }

    #[test]
    fn cderun_names_are_not_polyglot() {
        assert!(is_cderun_name(OsStr::new("cderun")));
        assert!(is_cderun_name(OsStr::new("cderun-linux-amd64")));
        assert!(!is_cderun_name(OsStr::new("cderunx")));
        assert!(!is_cderun_name(OsStr::new("node")));
    }

    #[test]
    fn no_tool_prints_help() {
        match parse(os(&["cderun"])).unwrap() {
            Invocation::Print(h) => assert!(h.contains("Usage: cderun [FLAGS] <TOOL>")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn help_and_version_before_the_tool_are_cderuns() {
        let v = parse(os(&["cderun", "--version", "node"])).unwrap();
        assert_eq!(
            v,
            Invocation::Print(concat!("cderun ", env!("CARGO_PKG_VERSION"), "\n").into())
        );
        match parse(os(&["cderun", "-h"])).unwrap() {
            Invocation::Print(h) => assert!(h.contains("--mount-socket <SOCKET>")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_flag_is_one_line_with_hint() {
        let e = parse(os(&["cderun", "--imag", "x", "node"])).unwrap_err();
        assert_eq!(e.message(), "unexpected argument '--imag' found");
        assert_eq!(e.exit_code(), 125);
        assert!(e.hint().unwrap().contains("--image"), "{:?}", e.hint());
    }

    #[test]
    fn flag_table_knows_value_flags_from_clap() {
        let t = FlagTable::new();
        for takes in [
            "image",
            "network",
            "env",
            "volume",
            "workdir",
            "user",
            "mount-socket",
            "mount-tools",
            "dry-run-format",
            "log-level",
            "log-file",
            "log-format",
            "runtime",
        ] {
            assert!(t.long(takes).unwrap().separate_value, "{takes}");
        }
        for flag in [
            "tty",
            "interactive",
            "remove",
            "mount-cwd",
            "mount-cderun",
            "mount-all-tools",
            "dry-run",
            "verbose",
            "help",
            "version",
            "list-tools",
        ] {
            assert!(!t.long(flag).unwrap().separate_value, "{flag}");
        }
    }
}
