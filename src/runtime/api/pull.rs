//! Pulling a missing image, with progress on stderr: a bar per layer when
//! stderr is a terminal, one line per layer and status otherwise.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use bollard::Docker;
use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;

use super::request::{daemon_message, pull_reference};
use crate::err;
use crate::error::Result;

/// Pulls `image`, with a progress bar per layer when stderr is a terminal
/// and one line per layer and status otherwise.
pub async fn pull(docker: &Docker, image: &str) -> Result<()> {
    let (name, tag) = pull_reference(image);
    let options = CreateImageOptions {
        from_image: Some(name),
        tag: (!tag.is_empty()).then_some(tag),
        ..CreateImageOptions::default()
    };
    let mut progress = Progress::new(image);
    let mut stream = docker.create_image(Some(options), None, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => progress.update(
                info.id.as_deref(),
                info.status.as_deref().unwrap_or(""),
                info.progress_detail.as_ref().and_then(|d| d.current),
                info.progress_detail.as_ref().and_then(|d| d.total),
            ),
            Err(e) => {
                progress.finish();
                let why = daemon_message(&e);
                return Err(err!("cannot pull image '{image}': {why}").with_hint(
                    "check the image name and that its registry is reachable (private registries need the CLI transport after `docker login`)",
                ));
            }
        }
    }
    progress.finish();
    Ok(())
}

/// Pull progress on stderr.
enum Progress {
    Bars {
        multi: indicatif::MultiProgress,
        bars: HashMap<String, indicatif::ProgressBar>,
    },
    Lines {
        image: String,
        last: HashMap<String, String>,
    },
}

impl Progress {
    fn new(image: &str) -> Progress {
        if std::io::stderr().is_terminal() {
            let multi =
                indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
            let _ = multi.println(format!("Pulling {image}"));
            Progress::Bars {
                multi,
                bars: HashMap::new(),
            }
        } else {
            eprintln_safe(&format!("Pulling {image}"));
            Progress::Lines {
                image: image.to_owned(),
                last: HashMap::new(),
            }
        }
    }

    fn update(&mut self, id: Option<&str>, status: &str, current: Option<i64>, total: Option<i64>) {
        match self {
            Progress::Bars { multi, bars } => {
                let Some(id) = id else {
                    let _ = multi.println(status);
                    return;
                };
                let bar = bars.entry(id.to_owned()).or_insert_with(|| {
                    let bar = multi.add(indicatif::ProgressBar::new(0));
                    bar.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{prefix:12} {msg:20} [{bar:30}] {bytes}/{total_bytes}",
                        )
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                    );
                    bar.set_prefix(id.to_owned());
                    bar
                });
                bar.set_message(status.to_owned());
                if let (Some(c), Some(t)) = (current, total) {
                    bar.set_length(u64::try_from(t).unwrap_or(0));
                    bar.set_position(u64::try_from(c).unwrap_or(0));
                }
            }
            Progress::Lines { image, last } => {
                let key = id.unwrap_or("").to_owned();
                if last.get(&key).map(String::as_str) != Some(status) {
                    match id {
                        Some(id) => eprintln_safe(&format!("{image}: {id}: {status}")),
                        None => eprintln_safe(&format!("{image}: {status}")),
                    }
                    last.insert(key, status.to_owned());
                }
            }
        }
    }

    fn finish(&mut self) {
        if let Progress::Bars { bars, .. } = self {
            for bar in bars.values() {
                bar.finish();
            }
        }
    }
}

fn eprintln_safe(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
