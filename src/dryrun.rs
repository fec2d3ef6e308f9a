//! `--dry-run` output (SPEC §7): the ContainerConfig as YAML, JSON, `Key:
//! value` lines, or the exact runtime command line.

use std::ffi::{OsStr, OsString};

use crate::container::ContainerConfig;
use crate::err;
use crate::error::Result;
use crate::runtime::cli::{run_argv, shell_join};
use crate::value::DryRunFormat;

/// Renders `cfg` in `format`; `binary` is the runtime binary shown by the
/// `command` format. The result ends with a newline.
pub fn render(cfg: &ContainerConfig, format: DryRunFormat, binary: &OsStr) -> Result<String> {
    let mut out = match format {
        DryRunFormat::Yaml => {
            serde_yaml::to_string(cfg).map_err(|e| err!("cannot print YAML: {e}"))?
        }
        DryRunFormat::Json => {
            serde_json::to_string_pretty(cfg).map_err(|e| err!("cannot print JSON: {e}"))?
        }
        DryRunFormat::Simple => simple(cfg),
        DryRunFormat::Command => {
            let argv = run_argv(cfg);
            shell_join(std::iter::once(binary).chain(argv.iter().map(OsString::as_os_str)))
        }
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// One `Key: value` line per field; lists are shell-quoted words.
fn simple(cfg: &ContainerConfig) -> String {
    let words = |items: &[OsString]| shell_join(items.iter().map(OsString::as_os_str));
    let mounts: Vec<OsString> = cfg
        .volumes
        .iter()
        .map(|m| {
            let mut s = m.host_path.clone().into_os_string();
            s.push(":");
            s.push(&m.container_path);
            if m.read_only {
                s.push(":ro");
            }
            s
        })
        .collect();
    let labels: Vec<OsString> = cfg
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}").into())
        .collect();
    let opt = |o: Option<&str>| o.unwrap_or("").to_owned();
    let lines = [
        ("Image", cfg.image.clone()),
        ("Command", words(&cfg.command)),
        ("Args", words(&cfg.args)),
        ("Tty", cfg.tty.to_string()),
        ("Interactive", cfg.interactive.to_string()),
        ("Remove", cfg.remove.to_string()),
        ("Network", cfg.network.clone()),
        ("Volumes", words(&mounts)),
        ("Env", words(&cfg.env)),
        (
            "Workdir",
            cfg.workdir
                .as_ref()
                .map(|w| w.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        ("User", opt(cfg.user.as_deref())),
        (
            "Entrypoint",
            cfg.entrypoint
                .as_deref()
                .map(|e| shell_join([OsStr::new(e)]))
                .unwrap_or_default(),
        ),
        ("Labels", words(&labels)),
    ];
    lines.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
}
