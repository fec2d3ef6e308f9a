//! Resolution: every input becomes one [`Resolved`] value (SPEC §4).
//!
//! Precedence, highest first:
//!
//! | layer | source |
//! |---|---|
//! | P1 | `--cderun-*` overrides written after the tool |
//! | P2 | standard flags written before the tool |
//! | P3 | `CDERUN_*` environment variables |
//! | P4 | the tool's entry in `.tools.yaml` |
//! | P5 | `.cderun.yaml` (`defaults` and its top-level keys) |
//! | P6 | built-in defaults |
//!
//! Each source becomes a [`Layer`] in which every setting is optional (a flag
//! counts only when written, a YAML key only when present). [`Layer::over`]
//! stacks two layers: a scalar takes the higher layer's value when it has
//! one, a list (`env`, `volumes`, `mount_tools`) is the lower list followed by
//! the higher one. [`finish`] then applies P6 and the checks that need the
//! whole picture. Nothing here reads the process environment: it comes in
//! through [`Host`].

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::cli::{Flags, Parsed};
use crate::config::ConfigFiles;
use crate::config::schema::{CderunFile, Settings, ToolEntry};
use crate::err;
use crate::error::Result;
use crate::host::Host;
use crate::paths::{absolutize, normalize};
use crate::value::{
    DryRunFormat, LogFormat, LogLevel, RuntimeKind, Switch, Transport, parse_bool, parse_enum,
};

/// Where a list entry came from: for error messages, and the directory its
/// relative paths are relative to.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// For messages: `--volume`, `tool 'node' in /p/.tools.yaml`, ...
    pub what: String,
    /// Relative host paths are joined to this directory.
    pub base: PathBuf,
}

/// One `env` or `volumes` entry with its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The entry as written.
    pub text: OsString,
    /// Where it was written.
    pub origin: Rc<Origin>,
}

/// Declares [`Layer`] and its stacking rule from one field list, so adding a
/// setting cannot forget the merge.
macro_rules! layer {
    (
        scalars { $($(#[$sm:meta])* $s:ident : $st:ty,)* }
        lists { $($(#[$lm:meta])* $l:ident : $lt:ty,)* }
    ) => {
        /// One source's settings; `None`/empty = this source says nothing.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct Layer {
            $($(#[$sm])* pub $s: Option<$st>,)*
            $($(#[$lm])* pub $l: Vec<$lt>,)*
        }

        impl Layer {
            /// `self` stacked over `lower`: scalars from `self` when set,
            /// lists concatenated lower-first.
            pub fn over(self, lower: Layer) -> Layer {
                Layer {
                    $($s: self.$s.or(lower.$s),)*
                    $($l: { let mut v = lower.$l; v.extend(self.$l); v },)*
                }
            }
        }
    };
}

layer! {
    scalars {
        /// Image reference.
        image: String,
        /// Pseudo-TTY.
        tty: Switch,
        /// Keep stdin attached.
        interactive: Switch,
        /// Network name.
        network: String,
        /// `--rm`.
        remove: bool,
        /// Runtime family.
        runtime: RuntimeKind,
        /// CLI, Engine API, or auto.
        transport: Transport,
        /// Working directory in the container.
        workdir: PathBuf,
        /// `--user` value as written (`host` not yet expanded).
        user: String,
        /// Mount the current directory.
        mount_cwd: bool,
        /// Runtime socket; `Some(None)` = explicitly none (`--mount-socket=`).
        mount_socket: Option<PathBuf>,
        /// Mount cderun itself.
        mount_cderun: bool,
        /// Mount cderun as every configured tool.
        mount_all_tools: bool,
        /// Print instead of run.
        dry_run: bool,
        /// What to print.
        dry_run_format: DryRunFormat,
        /// Log level.
        log_level: LogLevel,
        /// Log file (absolute).
        log_file: PathBuf,
        /// Log format.
        log_format: LogFormat,
        /// Unset `KEY` entries are errors.
        strict_env: bool,
        /// argv prefix in the container.
        command: Vec<String>,
        /// `--entrypoint`.
        entrypoint: String,
        /// Nesting limit.
        max_depth: u32,
        /// Runtime CLI path from `.cderun.yaml`.
        runtime_path: PathBuf,
        /// Binary to mount for `--mount-cderun`.
        cderun_binary: PathBuf,
    }
    lists {
        /// `KEY=value` / `KEY` entries.
        env: Item,
        /// `host:container[:mode]` entries.
        volumes: Item,
        /// Tool names to mount cderun as.
        mount_tools: String,
    }
}

/// The built-in defaults (P6) of settings that always have a value.
pub mod defaults {
    use crate::value::{LogFormat, LogLevel, RuntimeKind, Switch, Transport};
    /// `tty: false`.
    pub const TTY: Switch = Switch::Off;
    /// `interactive: false`.
    pub const INTERACTIVE: Switch = Switch::Off;
    /// `network: bridge`.
    pub const NETWORK: &str = "bridge";
    /// `remove: true`.
    pub const REMOVE: bool = true;
    /// `mountCwd: true`.
    pub const MOUNT_CWD: bool = true;
    /// `runtime: docker`.
    pub const RUNTIME: RuntimeKind = RuntimeKind::Docker;
    /// `transport: auto`.
    pub const TRANSPORT: Transport = Transport::Auto;
    /// `maxDepth: 5`.
    pub const MAX_DEPTH: u32 = 5;
    /// `logging.level: warn`.
    pub const LOG_LEVEL: LogLevel = LogLevel::Warn;
    /// `logging.format: text`.
    pub const LOG_FORMAT: LogFormat = LogFormat::Text;
}

impl Layer {
    /// P1 or P2: flags as the user wrote them. `what_prefix` is `--` or
    /// `--cderun-`, used to name the origin of list entries.
    pub fn from_flags(flags: &Flags, what_prefix: &str, host: &Host) -> Result<Layer> {
        let origin = |flag: &str| {
            Rc::new(Origin {
                what: format!("{what_prefix}{flag}"),
                base: host.cwd.clone(),
            })
        };
        let items = |values: &[OsString], flag: &str| {
            let origin = origin(flag);
            values
                .iter()
                .map(|text| Item {
                    text: text.clone(),
                    origin: origin.clone(),
                })
                .collect::<Vec<_>>()
        };
        let verbose = match flags.verbose {
            0 => None,
            1 => Some(LogLevel::Info),
            2 => Some(LogLevel::Debug),
            _ => Some(LogLevel::Trace),
        };
        Ok(Layer {
            image: flags.image.clone(),
            tty: flags.tty,
            interactive: flags.interactive,
            network: flags.network.clone(),
            remove: flags.remove,
            runtime: flags.runtime,
            transport: flags.transport,
            workdir: flags.workdir.clone(),
            user: flags.user.clone(),
            mount_cwd: flags.mount_cwd,
            mount_socket: match &flags.mount_socket {
                Some(s) => Some(socket_path(s, &host.cwd)?),
                None => None,
            },
            mount_cderun: flags.mount_cderun,
            mount_all_tools: flags.mount_all_tools,
            dry_run: flags.dry_run,
            dry_run_format: flags.dry_run_format,
            log_level: flags.log_level.or(verbose),
            log_file: match &flags.log_file {
                Some(p) => Some(absolutize(
                    p.as_os_str(),
                    &host.cwd,
                    host.home().as_deref(),
                )?),
                None => None,
            },
            log_format: flags.log_format,
            env: items(&flags.env, "env"),
            volumes: items(&flags.volume, "volume"),
            mount_tools: flags.mount_tools.clone(),
            ..Layer::default()
        })
    }

    /// P3: the `CDERUN_*` variables. An invalid value is an error naming the
    /// variable, never ignored.
    pub fn from_env(host: &Host) -> Result<Layer> {
        let get = |name: &'static str| host.var(name).map(|v| (name, v));
        fn text<'a>((name, v): (&str, &'a OsStr)) -> Result<&'a str> {
            v.to_str().ok_or_else(|| err!("{name} is not valid UTF-8"))
        }
        fn parsed<T>(
            var: Option<(&'static str, &OsStr)>,
            parse: impl Fn(&str) -> std::result::Result<T, String>,
        ) -> Result<Option<T>> {
            var.map(|(name, v)| {
                let s = text((name, v))?;
                parse(s).map_err(|why| {
                    err!("invalid {name}={s}: {why}").with_hint(format!("fix or unset {name}"))
                })
            })
            .transpose()
        }
        let string = |name| {
            get(name)
                .map(text)
                .transpose()
                .map(|o| o.map(str::to_owned))
        };
        let home = host.home();
        Ok(Layer {
            image: string("CDERUN_IMAGE")?,
            tty: parsed(get("CDERUN_TTY"), Switch::parse)?,
            interactive: parsed(get("CDERUN_INTERACTIVE"), Switch::parse)?,
            network: string("CDERUN_NETWORK")?,
            remove: parsed(get("CDERUN_REMOVE"), parse_bool)?,
            runtime: parsed(get("CDERUN_RUNTIME"), parse_enum)?,
            transport: parsed(get("CDERUN_TRANSPORT"), parse_enum)?,
            mount_socket: get("CDERUN_MOUNT_SOCKET")
                .map(|(_, v)| socket_path(v, &host.cwd))
                .transpose()?,
            mount_cderun: parsed(get("CDERUN_MOUNT_CDERUN"), parse_bool)?,
            mount_cwd: parsed(get("CDERUN_MOUNT_CWD"), parse_bool)?,
            workdir: get("CDERUN_WORKDIR").map(|(_, v)| PathBuf::from(v)),
            user: string("CDERUN_USER")?,
            dry_run: parsed(get("CDERUN_DRY_RUN"), parse_bool)?,
            dry_run_format: parsed(get("CDERUN_DRY_RUN_FORMAT"), parse_enum)?,
            log_level: parsed(get("CDERUN_LOG_LEVEL"), parse_enum)?,
            log_file: get("CDERUN_LOG_FILE")
                .map(|(_, v)| absolutize(v, &host.cwd, home.as_deref()))
                .transpose()?,
            log_format: parsed(get("CDERUN_LOG_FORMAT"), parse_enum)?,
            max_depth: parsed(get("CDERUN_MAX_DEPTH"), |s| {
                s.parse::<u32>()
                    .map_err(|_| format!("'{s}' is not a non-negative whole number"))
            })?,
            cderun_binary: get("CDERUN_BINARY")
                .map(|(_, v)| absolutize(v, &host.cwd, home.as_deref()))
                .transpose()?,
            ..Layer::default()
        })
    }

    /// P4: the tool's `.tools.yaml` entry.
    pub fn from_tool(name: &str, entry: &ToolEntry, file: &Path) -> Layer {
        let what = format!("tool '{name}' in {}", file.display());
        Layer {
            image: Some(entry.image.clone()),
            command: entry.command.clone(),
            entrypoint: entry.entrypoint.clone(),
            ..settings_layer(what, file, entry.settings())
        }
    }

    /// P5: `.cderun.yaml`'s `defaults` and top-level settings.
    pub fn from_cderun_file(file: &CderunFile, path: &Path, home: Option<&Path>) -> Result<Layer> {
        let base = path.parent().unwrap_or(Path::new("/"));
        let abs = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| absolutize(p.as_os_str(), base, home))
                .transpose()
        };
        let defaults = file.defaults.clone().unwrap_or_default();
        let logging = file.logging.clone().unwrap_or_default();
        Ok(Layer {
            runtime: file.runtime,
            transport: file.transport,
            runtime_path: abs(&file.runtime_path)?,
            cderun_binary: abs(&file.cderun_binary)?,
            max_depth: file.max_depth,
            log_level: logging.level,
            log_file: abs(&logging.file)?,
            log_format: logging.format,
            ..settings_layer(
                format!("defaults in {}", path.display()),
                path,
                defaults.settings(),
            )
        })
    }
}

/// A layer from the settings a tool entry and `defaults` share; relative
/// paths in them are relative to `file`'s directory.
fn settings_layer(what: String, file: &Path, s: Settings<'_>) -> Layer {
    let origin = Rc::new(Origin {
        what,
        base: file.parent().unwrap_or(Path::new("/")).to_path_buf(),
    });
    let items = |list: &[String]| {
        list.iter()
            .map(|t| Item {
                text: t.into(),
                origin: origin.clone(),
            })
            .collect()
    };
    Layer {
        tty: s.tty,
        interactive: s.interactive,
        network: s.network.map(str::to_owned),
        remove: s.remove,
        user: s.user.map(str::to_owned),
        mount_cwd: s.mount_cwd,
        mount_cderun: s.mount_cderun,
        volumes: items(s.volumes),
        env: items(s.env),
        workdir: s.workdir.map(Path::to_path_buf),
        strict_env: s.strict_env,
        ..Layer::default()
    }
}

/// `--mount-socket` value: `PATH` or `unix://PATH`; empty = no socket.
fn socket_path(raw: &OsStr, cwd: &Path) -> Result<Option<PathBuf>> {
    let bytes = raw.as_bytes();
    if bytes.is_empty() {
        return Ok(None);
    }
    let path = match bytes.strip_prefix(b"unix://") {
        Some(p) => p,
        None if bytes.contains(&b':') && !bytes.starts_with(b"/") => {
            return Err(err!(
                "unsupported socket '{}': only unix sockets can be mounted",
                raw.to_string_lossy()
            )
            .with_hint("pass a path such as /var/run/docker.sock or unix:///var/run/docker.sock"));
        }
        None => bytes,
    };
    Ok(Some(normalize(&cwd.join(OsStr::from_bytes(path)))))
}

/// Stacks every layer for this invocation, highest first.
pub fn merge(parsed: &Parsed, files: &ConfigFiles, host: &Host) -> Result<Layer> {
    let p1 = Layer::from_flags(&parsed.overrides, "--cderun-", host)?;
    let p2 = Layer::from_flags(&parsed.flags, "--", host)?;
    let p3 = Layer::from_env(host)?;
    let p4 = match (parsed.tool.to_str(), &files.tools) {
        (Some(name), Some(tools)) => files
            .tool(name)
            .map(|entry| Layer::from_tool(name, entry, &tools.path))
            .unwrap_or_default(),
        _ => Layer::default(),
    };
    let p5 = match &files.cderun {
        Some(f) => Layer::from_cderun_file(&f.value, &f.path, host.home().as_deref())?,
        None => Layer::default(),
    };
    Ok(p1.over(p2.over(p3.over(p4.over(p5)))))
}

/// Logging settings after P1..P6.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    /// Level.
    pub level: LogLevel,
    /// File, or stderr when `None`.
    pub file: Option<PathBuf>,
    /// Format.
    pub format: LogFormat,
}

/// Logging is resolved before everything else so the rest can be logged.
pub fn logging(layer: &Layer) -> LogSettings {
    LogSettings {
        level: layer.log_level.unwrap_or(defaults::LOG_LEVEL),
        file: layer.log_file.clone(),
        format: layer.log_format.unwrap_or(defaults::LOG_FORMAT),
    }
}

/// A bind mount with an absolute host path, as written by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    /// Absolute path on the execution host.
    pub host: PathBuf,
    /// Absolute path in the container.
    pub container: PathBuf,
    /// `:ro`.
    pub read_only: bool,
}

/// Everything decided, nothing optional that has a default.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The tool as invoked.
    pub tool: OsString,
    /// Passthrough arguments.
    pub args: Vec<OsString>,
    /// Image reference.
    pub image: String,
    /// argv prefix (default `[<tool>]`).
    pub command: Vec<OsString>,
    /// `--entrypoint`, if set.
    pub entrypoint: Option<String>,
    /// TTY mode before looking at the terminals.
    pub tty: Switch,
    /// Interactive mode before looking at the terminals.
    pub interactive: Switch,
    /// Network.
    pub network: String,
    /// `--rm`.
    pub remove: bool,
    /// Runtime family.
    pub runtime: RuntimeKind,
    /// CLI, Engine API, or auto.
    pub transport: Transport,
    /// Working directory, if set.
    pub workdir: Option<PathBuf>,
    /// `--user` value, `host` already expanded to uid:gid.
    pub user: Option<String>,
    /// Mount the current directory.
    pub mount_cwd: bool,
    /// Socket to mount.
    pub mount_socket: Option<PathBuf>,
    /// Mount cderun (also true when shims are asked for).
    pub mount_cderun: bool,
    /// Shim names, validated, without the tool itself.
    pub mount_tools: Vec<String>,
    /// `KEY=value`, merged.
    pub env: Vec<OsString>,
    /// Bind mounts, merged (last mount of a container path wins).
    pub volumes: Vec<VolumeSpec>,
    /// `Some(format)` for a dry run.
    pub dry_run: Option<DryRunFormat>,
    /// Nesting limit.
    pub max_depth: u32,
    /// Runtime CLI path from `.cderun.yaml`.
    pub runtime_path: Option<PathBuf>,
    /// Binary to mount: `CDERUN_BINARY` or `cderunBinary`.
    pub cderun_binary: Option<PathBuf>,
}

/// Applies P6 and the checks that need every layer.
pub fn finish(layer: Layer, parsed: &Parsed, files: &ConfigFiles, host: &Host) -> Result<Resolved> {
    let tool_display = parsed.tool.to_string_lossy().into_owned();
    let image = layer.image.clone().ok_or_else(|| {
        err!("no image configured for tool '{tool_display}'").with_hint(format!(
            "add '{tool_display}: {{image: ...}}' to .tools.yaml or pass --image"
        ))
    })?;
    if image.is_empty() {
        return Err(err!("empty image for tool '{tool_display}'")
            .with_hint("set a non-empty image in .tools.yaml or with --image"));
    }
    let network = layer
        .network
        .clone()
        .unwrap_or_else(|| defaults::NETWORK.to_owned());
    if network.is_empty() {
        return Err(err!("empty network for tool '{tool_display}'")
            .with_hint("use bridge, host, none or a network name"));
    }
    let workdir = layer.workdir.clone();
    if let Some(w) = workdir.as_ref().filter(|w| !w.is_absolute()) {
        return Err(err!(
            "workdir '{}' must be an absolute path in the container",
            w.display()
        )
        .with_hint("write it as /path, for example --workdir /workspace"));
    }
    let user = layer.user.as_deref().map(|u| match u {
        "host" => format!("{}:{}", host.uid, host.gid),
        other => other.to_owned(),
    });
    let strict_env = layer.strict_env.unwrap_or(false);
    let env = merge_env(&layer.env, strict_env, host)?;
    let volumes = merge_volumes(&layer.volumes, host)?;
    let mount_tools = shim_names(&layer, parsed, files)?;
    let shims = if layer.mount_all_tools.unwrap_or(false) {
        Some("--mount-all-tools")
    } else if !layer.mount_tools.is_empty() {
        Some("--mount-tools")
    } else {
        None
    };
    let mount_cderun = layer.mount_cderun.unwrap_or(false) || shims.is_some();
    let mount_socket = layer.mount_socket.clone().flatten();
    if mount_cderun && mount_socket.is_none() {
        // Name the flag the user wrote: shims imply --mount-cderun.
        let asked = shims.unwrap_or("--mount-cderun");
        return Err(err!("{asked} requires --mount-socket").with_hint(
            "pass --mount-socket /var/run/docker.sock (or set CDERUN_MOUNT_SOCKET) so cderun inside the container can reach the runtime",
        ));
    }
    let command = match &layer.command {
        Some(c) => c.iter().map(OsString::from).collect(),
        None => vec![parsed.tool.clone()],
    };
    // `-f FORMAT` written on the command line asks for a dry run by itself;
    // a format from the environment or a file only shapes one.
    let format_flag =
        parsed.flags.dry_run_format.is_some() || parsed.overrides.dry_run_format.is_some();
    let dry_run = layer
        .dry_run
        .unwrap_or(format_flag)
        .then(|| layer.dry_run_format.unwrap_or(DryRunFormat::Yaml));
    Ok(Resolved {
        tool: parsed.tool.clone(),
        args: parsed.args.clone(),
        image,
        command,
        entrypoint: layer.entrypoint,
        tty: layer.tty.unwrap_or(defaults::TTY),
        interactive: layer.interactive.unwrap_or(defaults::INTERACTIVE),
        network,
        remove: layer.remove.unwrap_or(defaults::REMOVE),
        runtime: layer.runtime.unwrap_or(defaults::RUNTIME),
        transport: layer.transport.unwrap_or(defaults::TRANSPORT),
        workdir,
        user,
        mount_cwd: layer.mount_cwd.unwrap_or(defaults::MOUNT_CWD),
        mount_socket,
        mount_cderun,
        mount_tools,
        env,
        volumes,
        dry_run,
        max_depth: layer.max_depth.unwrap_or(defaults::MAX_DEPTH),
        runtime_path: layer.runtime_path,
        cderun_binary: layer.cderun_binary,
    })
}

/// `KEY=value` kept as is, `KEY` takes the host's value (SPEC §5). The last
/// value of a key wins, at the position the key was first seen.
fn merge_env(items: &[Item], strict: bool, host: &Host) -> Result<Vec<OsString>> {
    let mut out: Vec<OsString> = Vec::new();
    for item in items {
        let bytes = item.text.as_bytes();
        let (key, value) = match bytes.iter().position(|&b| b == b'=') {
            Some(eq) => (
                &bytes[..eq],
                OsString::from(OsStr::from_bytes(&bytes[eq + 1..])),
            ),
            None => {
                let key = OsStr::from_bytes(bytes);
                let value = match host.env.get(key) {
                    Some(v) => v.clone(),
                    None if strict => {
                        return Err(err!(
                            "environment variable '{}' (from {}) is not set",
                            key.to_string_lossy(),
                            item.origin.what
                        )
                        .with_hint("set it, write KEY=value, or turn off strictEnv"));
                    }
                    None => OsString::new(),
                };
                (bytes, value)
            }
        };
        if key.is_empty() {
            return Err(err!(
                "invalid env entry '{}' from {}: the variable name is empty",
                item.text.to_string_lossy(),
                item.origin.what
            )
            .with_hint("write KEY=value or KEY"));
        }
        let mut entry = OsStr::from_bytes(key).to_os_string();
        entry.push("=");
        entry.push(value);
        out.push(entry);
    }
    Ok(last_wins(out, |e| env_key(e).to_vec()))
}

/// The variable name of a `KEY=value` entry.
pub fn env_key(entry: &OsStr) -> &[u8] {
    let bytes = entry.as_bytes();
    bytes.split(|&b| b == b'=').next().unwrap_or(bytes)
}

/// Keeps, for each key, the last item with that key, at the position where
/// the key first appeared: the merge rule for env (by name) and for mounts
/// (by container path).
pub fn last_wins<T, K: PartialEq>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        let k = key(&item);
        match out.iter_mut().find(|o| key(o) == k) {
            Some(slot) => *slot = item,
            None => out.push(item),
        }
    }
    out
}

/// Parses every volume, makes host paths absolute, and keeps the last mount
/// of each container path (at the position it was first seen).
fn merge_volumes(items: &[Item], host: &Host) -> Result<Vec<VolumeSpec>> {
    let specs = items
        .iter()
        .map(|item| parse_volume(item, host))
        .collect::<Result<Vec<_>>>()?;
    Ok(last_wins(specs, |v| v.container.clone()))
}

/// `host:container[:ro|rw]` (SPEC §6).
pub fn parse_volume(item: &Item, host: &Host) -> Result<VolumeSpec> {
    let bad = |why: &str| {
        err!(
            "invalid volume '{}' from {}: {why}",
            item.text.to_string_lossy(),
            item.origin.what
        )
        .with_hint("write HOST:CONTAINER[:ro|rw], for example ./data:/data:ro")
    };
    let parts: Vec<&[u8]> = item.text.as_bytes().split(|&b| b == b':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [_] => return Err(bad("no container path")),
        [src, dst] => (*src, *dst, None),
        [src, dst, mode] => (*src, *dst, Some(*mode)),
        _ => return Err(bad("too many ':'-separated parts")),
    };
    if src.is_empty() || dst.is_empty() || mode.is_some_and(<[u8]>::is_empty) {
        return Err(bad("empty part"));
    }
    if !dst.starts_with(b"/") {
        return Err(bad("the container path must be absolute"));
    }
    let read_only = match mode {
        None | Some(b"rw") => false,
        Some(b"ro") => true,
        Some(other) => {
            return Err(bad(&format!(
                "unknown mode '{}' (use ro or rw)",
                String::from_utf8_lossy(other)
            )));
        }
    };
    Ok(VolumeSpec {
        host: absolutize(
            OsStr::from_bytes(src),
            &item.origin.base,
            host.home().as_deref(),
        )?,
        container: normalize(Path::new(OsStr::from_bytes(dst))),
        read_only,
    })
}

/// Is `name` usable as a shim file name in `/usr/local/bin`?
pub fn valid_tool_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
}

/// The tools to mount cderun as (SPEC §8): names checked before anything
/// runs, each one must be in `.tools.yaml`, and the tool being run never gets
/// a shim of itself.
fn shim_names(layer: &Layer, parsed: &Parsed, files: &ConfigFiles) -> Result<Vec<String>> {
    let available = files.tool_names();
    let mut names: Vec<String> = Vec::new();
    for name in &layer.mount_tools {
        check_shim_name(name, "in --mount-tools")?;
        if !available.contains(&name.as_str()) {
            let list = if available.is_empty() {
                "none (no .tools.yaml found)".to_owned()
            } else {
                available.join(", ")
            };
            return Err(err!("unknown tool '{name}' in --mount-tools")
                .with_hint(format!("available tools: {list}")));
        }
        names.push(name.clone());
    }
    if layer.mount_all_tools.unwrap_or(false) {
        for name in available {
            check_shim_name(name, "in .tools.yaml (--mount-all-tools)")?;
            names.push(name.to_owned());
        }
    }
    let mut seen = Vec::new();
    names.retain(|n| {
        let keep = parsed.tool != n.as_str() && !seen.contains(n);
        seen.push(n.clone());
        keep
    });
    Ok(names)
}

/// A shim is a file in `/usr/local/bin` that must run as the tool: a safe
/// file name that cderun does not take for its own name (SPEC §2).
fn check_shim_name(name: &str, place: &str) -> Result<()> {
    if !valid_tool_name(name) {
        return Err(err!("invalid tool name '{name}' {place}").with_hint(
            "tool names start with a letter or digit and use only letters, digits, '.', '_', '+' and '-'",
        ));
    }
    if crate::cli::is_cderun_name(OsStr::new(name)) {
        return Err(
            err!("tool '{name}' {place} cannot be mounted as a shim").with_hint(
                "names 'cderun' and 'cderun-*' run cderun itself, not a tool; rename the tool",
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn host(env: &[(&str, &str)]) -> Host {
        Host {
            env: env
                .iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect::<BTreeMap<_, _>>(),
            cwd: PathBuf::from("/work/proj"),
            uid: 1000,
            gid: 100,
            stdin_tty: false,
            stdout_tty: false,
            current_exe: Some(PathBuf::from("/opt/cderun")),
            system_config_dir: PathBuf::from("/nonexistent"),
            container_id: None,
        }
    }

    fn item(text: &str, what: &str, base: &str) -> Item {
        Item {
            text: text.into(),
            origin: Rc::new(Origin {
                what: what.into(),
                base: base.into(),
            }),
        }
    }

    #[test]
    fn over_prefers_higher_scalars_and_concatenates_lists() {
        let high = Layer {
            tty: Some(Switch::On),
            env: vec![item("A=high", "p2", "/")],
            ..Layer::default()
        };
        let low = Layer {
            tty: Some(Switch::Off),
            network: Some("host".into()),
            env: vec![item("A=low", "p4", "/")],
            ..Layer::default()
        };
        let m = high.over(low);
        assert_eq!(m.tty, Some(Switch::On));
        assert_eq!(m.network.as_deref(), Some("host"));
        let texts: Vec<_> = m.env.iter().map(|i| i.text.clone()).collect();
        assert_eq!(texts, ["A=low", "A=high"]);
    }

    #[test]
    fn env_last_value_wins_at_first_position_and_bare_keys_read_the_host() {
        let h = host(&[("TOKEN", "s3cret")]);
        let items = [
            item("A=1", "x", "/"),
            item("TOKEN", "x", "/"),
            item("UNSET", "x", "/"),
            item("A=2", "x", "/"),
            item("B=x=y", "x", "/"),
        ];
        assert_eq!(
            merge_env(&items, false, &h).unwrap(),
            ["A=2", "TOKEN=s3cret", "UNSET=", "B=x=y"].map(OsString::from)
        );
        let e = merge_env(&items, true, &h).unwrap_err();
        assert_eq!(
            e.message(),
            "environment variable 'UNSET' (from x) is not set"
        );
        let e = merge_env(&[item("=v", "--env", "/")], false, &h).unwrap_err();
        assert_eq!(
            e.message(),
            "invalid env entry '=v' from --env: the variable name is empty"
        );
    }

    #[test]
    fn volumes_are_absolute_and_last_container_path_wins() {
        let h = host(&[("HOME", "/home/u")]);
        let v = merge_volumes(
            &[
                item(".:/workspace", "file", "/p"),
                item("~/.npm:/root/.npm:ro", "file", "/p"),
                item("./other:/workspace:rw", "--volume", "/work/proj"),
            ],
            &h,
        )
        .unwrap();
        assert_eq!(
            v,
            [
                VolumeSpec {
                    host: "/work/proj/other".into(),
                    container: "/workspace".into(),
                    read_only: false
                },
                VolumeSpec {
                    host: "/home/u/.npm".into(),
                    container: "/root/.npm".into(),
                    read_only: true
                },
            ]
        );
    }

    #[test]
    fn malformed_volumes_name_entry_and_origin() {
        let h = host(&[]);
        for (text, why) in [
            ("/data", "no container path"),
            ("/a:data", "the container path must be absolute"),
            ("/a:/b:rx", "unknown mode 'rx' (use ro or rw)"),
            (":/b", "empty part"),
            ("/a:", "empty part"),
            ("/a:/b:", "empty part"),
            ("/a:/b:ro:x", "too many ':'-separated parts"),
        ] {
            let e = parse_volume(&item(text, "--volume", "/"), &h).unwrap_err();
            assert_eq!(
                e.message(),
                format!("invalid volume '{text}' from --volume: {why}")
            );
        }
    }

    #[test]
    fn env_layer_rejects_invalid_values_naming_the_variable() {
        let e = Layer::from_env(&host(&[("CDERUN_TTY", "maybe")])).unwrap_err();
        assert_eq!(
            e.message(),
            "invalid CDERUN_TTY=maybe: 'maybe' is not one of true, false, auto"
        );
        let e = Layer::from_env(&host(&[("CDERUN_REMOVE", "on")])).unwrap_err();
        assert!(e.message().starts_with("invalid CDERUN_REMOVE=on"));
        let e = Layer::from_env(&host(&[("CDERUN_MAX_DEPTH", "-1")])).unwrap_err();
        assert!(e.message().starts_with("invalid CDERUN_MAX_DEPTH=-1"));
        let l = Layer::from_env(&host(&[
            ("CDERUN_REMOVE", "No"),
            ("CDERUN_MOUNT_SOCKET", "unix:///run/d.sock"),
        ]))
        .unwrap();
        assert_eq!(l.remove, Some(false));
        assert_eq!(l.mount_socket, Some(Some(PathBuf::from("/run/d.sock"))));
    }

    #[test]
    fn socket_paths() {
        let cwd = Path::new("/c");
        assert_eq!(
            socket_path(OsStr::new("/var/run/docker.sock"), cwd).unwrap(),
            Some("/var/run/docker.sock".into())
        );
        assert_eq!(
            socket_path(OsStr::new("unix:///x.sock"), cwd).unwrap(),
            Some("/x.sock".into())
        );
        assert_eq!(socket_path(OsStr::new(""), cwd).unwrap(), None);
        assert!(socket_path(OsStr::new("tcp://1.2.3.4:2375"), cwd).is_err());
    }

    #[test]
    fn tool_names_follow_the_shim_rule() {
        for ok in ["node", "python3.11", "g++", "a_b-c", "9x"] {
            assert!(valid_tool_name(ok), "{ok}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "-x", "a b", "é"] {
            assert!(!valid_tool_name(bad), "{bad}");
        }
    }
}
