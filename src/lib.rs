//! cderun runs command-line tools in throw-away containers.
//!
//! The pipeline, one module per step:
//!
//! ```text
//! argv ─> cli ─> config (discover + load) ─> config::resolve (P1..P6)
//!      ─> container::plan (terminals, cwd, nesting, self-mounts)
//!      ─> dryrun (print) | runtime (exec the runtime CLI, or the Engine API)
//! ```

pub mod cli;
pub mod config;
pub mod container;
pub mod dryrun;
pub mod error;
pub mod host;
pub mod logging;
pub mod nesting;
pub mod paths;
pub mod runtime;
pub mod value;

use std::ffi::OsString;
use std::io::Write;

use tracing::{debug, info, warn};

use crate::cli::{Invocation, Parsed};
use crate::config::ConfigFiles;
use crate::config::resolve;
use crate::error::Result;
use crate::host::Host;

/// Runs cderun with a whole command line (`argv[0]` included) and returns
/// the process exit code. With the CLI transport a real run does not return:
/// the process becomes the runtime. With the Engine API transport it returns
/// the container's exit code.
pub fn run(argv: Vec<OsString>) -> i32 {
    match try_run(argv) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            e.exit_code()
        }
    }
}

fn try_run(argv: Vec<OsString>) -> Result<i32> {
    let parsed = match cli::parse(argv)? {
        Invocation::Print(text) => {
            emit(text.as_bytes());
            return Ok(0);
        }
        Invocation::ListTools(parsed) => {
            let host = read_host()?;
            let files = ConfigFiles::load(&host, None)?;
            setup_logging(&parsed, &files, &host)?;
            emit(list_tools(&files).as_bytes());
            return Ok(0);
        }
        Invocation::Run(parsed) => parsed,
    };
    let host = read_host()?;
    let files = ConfigFiles::load(&host, parsed.tool.to_str())?;
    let layer = setup_logging(&parsed, &files, &host)?;
    let resolved = resolve::finish(layer, &parsed, &files, &host)?;
    let plan = container::plan(&resolved, &host)?;

    if let Some(format) = resolved.dry_run {
        let shown = match runtime::locate_cli(&resolved, &host) {
            Ok(b) => b.into_os_string(),
            Err(missing) => {
                warn!(
                    "{}; showing '{}'",
                    missing.error.message(),
                    resolved.runtime.name()
                );
                resolved.runtime.name().into()
            }
        };
        emit(&dryrun::render(&plan.config, format, &shown)?);
        return Ok(0);
    }

    let choice = runtime::choose(&resolved, &host)?;
    debug!("{}", choice.why);
    for dir in &plan.create_dirs {
        debug!("creating missing volume directory {}", dir.display());
        std::fs::create_dir_all(dir).map_err(|e| {
            err!("cannot create the volume directory {}: {e}", dir.display())
                .with_hint("create it yourself or fix the volume's host path")
        })?;
    }
    info!(
        "running '{}' in {}",
        resolved.tool.to_string_lossy(),
        plan.config.image
    );
    choice.runtime().run(&plan.config)
}

fn read_host() -> Result<Host> {
    Host::from_process().map_err(|e| {
        err!("cannot read the current directory: {e}")
            .with_hint("cd into an existing directory and try again")
    })
}

/// Stacks the layers, then starts logging from them, so that everything
/// after this point (starting with which files were used) can be logged.
fn setup_logging(parsed: &Parsed, files: &ConfigFiles, host: &Host) -> Result<resolve::Layer> {
    let layer = resolve::merge(parsed, files, host)?;
    logging::init(&resolve::logging(&layer))?;
    let show =
        |p: Option<&std::path::Path>| p.map_or("none".to_owned(), |p| p.display().to_string());
    debug!(
        "config files: .cderun.yaml: {}, .tools.yaml: {}",
        show(files.cderun.as_ref().map(|f| f.path.as_path())),
        show(files.tools.as_ref().map(|f| f.path.as_path()))
    );
    if !files.tools_cache.is_empty() {
        debug!("tools cache: {}", files.tools_cache);
    }
    Ok(layer)
}

/// `--list-tools`: one `name<TAB>image` line per configured tool.
fn list_tools(files: &ConfigFiles) -> String {
    let Some(tools) = &files.tools else {
        return String::new();
    };
    tools
        .value
        .entries
        .iter()
        .map(|(name, entry)| format!("{name}\t{}\n", entry.image))
        .collect()
}

/// Writes to stdout; a closed stdout (`cderun --help | head -1`) is not an
/// error worth a panic.
fn emit(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}
