//! `--dry-run` output (SPEC §7): the ContainerConfig as YAML, JSON, `Key:
//! value` lines, or the exact runtime command line.
//!
//! `command` and `simple` keep non-UTF-8 arguments byte for byte; YAML and
//! JSON are text formats and show such bytes as U+FFFD.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::container::ContainerConfig;
use crate::err;
use crate::error::Result;
use crate::runtime::cli::{run_argv, shell_join};
use crate::value::DryRunFormat;

/// Renders `cfg` in `format`; `binary` is the runtime binary shown by the
/// `command` format. The result ends with a newline.
pub fn render(cfg: &ContainerConfig, format: DryRunFormat, binary: &OsStr) -> Result<Vec<u8>> {
    let mut out = match format {
        DryRunFormat::Yaml => serde_yaml::to_string(cfg)
            .map_err(|e| err!("cannot print YAML: {e}"))?
            .into_bytes(),
        DryRunFormat::Json => {
            serde_json::to_vec_pretty(cfg).map_err(|e| err!("cannot print JSON: {e}"))?
        }
        DryRunFormat::Simple => simple(cfg),
        DryRunFormat::Command => {
            let argv = run_argv(cfg);
            shell_join(std::iter::once(binary).chain(argv.iter().map(OsString::as_os_str)))
                .into_vec()
        }
    };
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    Ok(out)
}

/// One `Key: value` line per field; lists are shell-quoted words.
fn simple(cfg: &ContainerConfig) -> Vec<u8> {
    let words = |items: &[OsString]| shell_join(items.iter().map(OsString::as_os_str));
    let text = |s: &str| OsString::from(s);
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
    let lines = [
        ("Image", text(&cfg.image)),
        ("Command", words(&cfg.command)),
        ("Args", words(&cfg.args)),
        ("Tty", text(&cfg.tty.to_string())),
        ("Interactive", text(&cfg.interactive.to_string())),
        ("Remove", text(&cfg.remove.to_string())),
        ("Network", text(&cfg.network)),
        ("Volumes", words(&mounts)),
        ("Env", words(&cfg.env)),
        (
            "Workdir",
            cfg.workdir.clone().map(Into::into).unwrap_or_default(),
        ),
        ("User", text(cfg.user.as_deref().unwrap_or(""))),
        (
            "Entrypoint",
            cfg.entrypoint
                .as_deref()
                .map(|e| shell_join([OsStr::new(e)]))
                .unwrap_or_default(),
        ),
        ("Labels", words(&labels)),
    ];
    let mut out = Vec::new();
    for (key, value) in lines {
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out
}
