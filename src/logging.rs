//! Logging (SPEC §10): silent by default (level `warn`), to stderr or a
//! file, as text or JSON lines. Errors that end the run are not logs: they
//! are printed by `main` as `cderun: error: ...` whatever the settings.

use std::fs::OpenOptions;
use std::sync::Mutex;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use crate::config::resolve::LogSettings;
use crate::err;
use crate::error::Result;
use crate::value::{LogFormat, LogLevel};

/// Installs the global logger. Called once, as soon as the log settings are
/// known (after the config files are read).
pub fn init(settings: &LogSettings) -> Result<()> {
    let level = match settings.level {
        LogLevel::Error => LevelFilter::ERROR,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Trace => LevelFilter::TRACE,
    };
    let writer = match &settings.file {
        Some(path) => {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| {
                    err!("cannot open log file {}: {e}", path.display())
                        .with_hint("fix --log-file / CDERUN_LOG_FILE / logging.file")
                })?;
            BoxMakeWriter::new(Mutex::new(file))
        }
        None => BoxMakeWriter::new(std::io::stderr),
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(writer)
        .with_target(false)
        .with_ansi(false);
    // A second init (only possible in tests) keeps the first logger.
    let _ = match settings.format {
        LogFormat::Text if settings.file.is_none() => builder.without_time().try_init(),
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    Ok(())
}
