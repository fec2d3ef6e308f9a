//! The two config files as serde types (SPEC §3). Every field is optional
//! (absent ≠ false) and unknown keys are errors, so nothing in a file is ever
//! silently ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::value::{LogFormat, LogLevel, RuntimeKind, Switch, Transport};

/// Declares a struct holding the per-tool settings that both a `.tools.yaml`
/// entry and `.cderun.yaml` `defaults` accept, plus `extra` fields. serde's
/// `flatten` cannot be combined with `deny_unknown_fields`, so the shared
/// fields are spelled once here instead.
macro_rules! tool_settings {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// Allocate a pseudo-TTY: true, false or auto.
            pub tty: Option<Switch>,
            /// Keep stdin attached: true, false or auto.
            pub interactive: Option<Switch>,
            /// Network name.
            pub network: Option<String>,
            /// Remove the container on exit.
            pub remove: Option<bool>,
            /// `uid[:gid]`, a name, or `host`.
            pub user: Option<String>,
            /// Mount the current directory.
            pub mount_cwd: Option<bool>,
            /// Mount cderun into the container (SPEC §8).
            pub mount_cderun: Option<bool>,
            /// `host:container[:ro|rw]` entries.
            pub volumes: Option<Vec<String>>,
            /// `KEY=value` or `KEY` entries.
            pub env: Option<Vec<String>>,
            /// Working directory in the container.
            pub workdir: Option<PathBuf>,
            /// An unset `KEY` in `env` is an error instead of `KEY=`.
            pub strict_env: Option<bool>,
        }

        impl $name {
            /// The settings shared with the other per-tool source.
            pub fn settings(&self) -> Settings<'_> {
                Settings {
                    tty: self.tty,
                    interactive: self.interactive,
                    network: self.network.as_deref(),
                    remove: self.remove,
                    user: self.user.as_deref(),
                    mount_cwd: self.mount_cwd,
                    mount_cderun: self.mount_cderun,
                    volumes: self.volumes.as_deref().unwrap_or_default(),
                    env: self.env.as_deref().unwrap_or_default(),
                    workdir: self.workdir.as_deref(),
                    strict_env: self.strict_env,
                }
            }
        }
    };
}

/// The per-tool settings of a tool entry or of `defaults`, borrowed, so the
/// resolver handles both sources with one function.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// `tty`.
    pub tty: Option<Switch>,
    /// `interactive`.
    pub interactive: Option<Switch>,
    /// `network`.
    pub network: Option<&'a str>,
    /// `remove`.
    pub remove: Option<bool>,
    /// `user`.
    pub user: Option<&'a str>,
    /// `mountCwd`.
    pub mount_cwd: Option<bool>,
    /// `mountCderun`.
    pub mount_cderun: Option<bool>,
    /// `volumes` (empty when absent).
    pub volumes: &'a [String],
    /// `env` (empty when absent).
    pub env: &'a [String],
    /// `workdir`.
    pub workdir: Option<&'a Path>,
    /// `strictEnv`.
    pub strict_env: Option<bool>,
}

tool_settings!(
    /// One entry of `.tools.yaml`.
    ToolEntry {
        /// The image to run (the only required key).
        image: String,
        /// argv prefix run in the container; default `[<tool>]`.
        command: Option<Vec<String>>,
        /// `--entrypoint` override; `""` resets the image's entrypoint.
        entrypoint: Option<String>,
    }
);

tool_settings!(
    /// `defaults` in `.cderun.yaml`: a tool entry's keys except image, command
    /// and entrypoint.
    Defaults {}
);

/// `.tools.yaml`: tool name → entry, in name order.
pub type ToolsFile = BTreeMap<String, ToolEntry>;

/// `logging` in `.cderun.yaml`.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Logging {
    /// error | warn | info | debug | trace.
    pub level: Option<LogLevel>,
    /// Log file instead of stderr.
    pub file: Option<PathBuf>,
    /// text | json.
    pub format: Option<LogFormat>,
}

/// `.cderun.yaml`: cderun's own settings.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CderunFile {
    /// Runtime family.
    pub runtime: Option<RuntimeKind>,
    /// CLI, Engine API, or auto.
    pub transport: Option<Transport>,
    /// Path of the runtime CLI (after `DOCKER`, before PATH).
    pub runtime_path: Option<PathBuf>,
    /// Binary mounted by `--mount-cderun` (after `CDERUN_BINARY`).
    pub cderun_binary: Option<PathBuf>,
    /// Nesting limit.
    pub max_depth: Option<u32>,
    /// Settings for every tool, below the tool's own entry.
    pub defaults: Option<Defaults>,
    /// Logging settings.
    pub logging: Option<Logging>,
}
