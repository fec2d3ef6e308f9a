//! A cache of parsed `.tools.yaml` files.
//!
//! YAML parsing dominates cderun's start-up: a 200-tool file takes ~20 M
//! instructions in libyaml, about 3 ms, on every invocation. Each file is
//! therefore fully parsed and validated once, and the result is kept as JSON
//! in `$XDG_CACHE_HOME/cderun/` (default `~/.cache/cderun/`), stamped with
//! the file's device, inode, size, mtime and ctime and with cderun's version.
//! Any change to the file changes the stamp (ctime cannot be set back by
//! users), so a stale entry is never used. A file with errors is never
//! cached, so its errors are reported on every run. The cache is best effort:
//! an unreadable, corrupt or unwritable cache only means parsing again.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tracing::trace;

use crate::config::Tools;
use crate::config::schema::{ToolEntry, ToolsFile};
use crate::host::Host;

/// Bumped whenever the cached shape changes, so a development build never
/// reads an entry written by another shape under the same version number.
const FORMAT: u32 = 1;

/// Identifies one version of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    version: String,
    path: PathBuf,
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    /// The stamp of `path` as it is now.
    pub fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        Some(Stamp {
            version: format!("{}/{FORMAT}", env!("CARGO_PKG_VERSION")),
            path: path.to_path_buf(),
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

/// First line of a cache file.
#[derive(Serialize, Deserialize)]
struct Header {
    stamp: Stamp,
    names: Vec<String>,
}

// A cache file is JSON lines: the header, then one line per tool,
// `"<name as a JSON string>"<TAB><entry as JSON>`. Compact JSON never holds a
// raw newline or tab, so one tool's line is found with a substring search and
// only that line is deserialized.

/// Where the cache entry for `path` lives, if there is a cache directory.
pub fn location(path: &Path, host: &Host) -> Option<PathBuf> {
    let dir = host
        .non_empty_var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| host.home().map(|h| h.join(".cache")))?
        .join("cderun");
    let mut h = DefaultHasher::new();
    path.hash(&mut h);
    Some(dir.join(format!("tools-{:016x}.json", h.finish())))
}

/// The cached tools for a file with this stamp, if the entry is current:
/// every name, and the entry of `wanted` (every entry when `None`).
pub fn read(entry: &Path, stamp: &Stamp, wanted: Option<&str>) -> Option<Tools> {
    let text = std::fs::read_to_string(entry).ok()?;
    let (header, body) = text.split_once('\n')?;
    let header: Header = serde_json::from_str(header).ok()?;
    if header.stamp != *stamp {
        trace!("tools cache {} is stale", entry.display());
        return None;
    }
    let mut entries = ToolsFile::new();
    let lines: Vec<&str> = match wanted {
        Some(name) if header.names.iter().any(|n| n == name) => {
            let key = format!("{}\t", serde_json::to_string(name).ok()?);
            let line = body.split_inclusive('\n').find(|l| l.starts_with(&key))?;
            vec![line]
        }
        Some(_) => Vec::new(),
        None => body.lines().collect(),
    };
    for line in lines {
        let (name, json) = line.trim_end_matches('\n').split_once('\t')?;
        let name: String = serde_json::from_str(name).ok()?;
        entries.insert(name, serde_json::from_str::<ToolEntry>(json).ok()?);
    }
    trace!("tools cache hit: {}", entry.display());
    Some(Tools {
        names: header.names,
        entries,
    })
}

/// Stores `tools` for the file with `stamp`; failures are ignored (logged at
/// trace), since the cache only saves time.
pub fn write(entry: &Path, stamp: &Stamp, tools: &ToolsFile) {
    let result = (|| -> std::io::Result<()> {
        let dir = entry.parent().unwrap_or(Path::new("/"));
        std::fs::create_dir_all(dir)?;
        let header = Header {
            stamp: stamp.clone(),
            names: tools.keys().cloned().collect(),
        };
        let mut text = serde_json::to_string(&header)?;
        for (name, tool) in tools {
            text.push('\n');
            text.push_str(&serde_json::to_string(name)?);
            text.push('\t');
            text.push_str(&serde_json::to_string(tool)?);
        }
        text.push('\n');
        // Write then rename, so a concurrent reader sees old or new, never half.
        let tmp = entry.with_extension(format!("json.{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        drop(f);
        std::fs::rename(&tmp, entry)
    })();
    if let Err(e) = result {
        trace!("not caching tools in {}: {e}", entry.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::ToolEntry;

    #[test]
    fn a_changed_file_misses_the_cache() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join(".tools.yaml");
        std::fs::write(&file, "a: {image: x}\n").unwrap();
        let entry = t.path().join("cache/tools.json");
        let stamp = Stamp::of(&file).unwrap();
        let entry_for = |image: &str| ToolEntry {
            image: image.into(),
            ..ToolEntry::default()
        };
        // Names that need escaping in JSON must still be found.
        let tools = ToolsFile::from([
            ("a".to_owned(), entry_for("x")),
            ("we\"ird\tname".to_owned(), entry_for("y")),
        ]);
        assert_eq!(read(&entry, &stamp, None), None);
        write(&entry, &stamp, &tools);
        let names = vec!["a".to_owned(), "we\"ird\tname".to_owned()];
        let all = Tools {
            names: names.clone(),
            entries: tools.clone(),
        };
        assert_eq!(read(&entry, &stamp, None).as_ref(), Some(&all));
        let one = read(&entry, &stamp, Some("we\"ird\tname")).unwrap();
        assert_eq!(one.names, names);
        assert_eq!(
            one.entries,
            ToolsFile::from([("we\"ird\tname".to_owned(), entry_for("y"))])
        );
        let other = read(&entry, &stamp, Some("zz")).unwrap();
        assert_eq!((other.names, other.entries.len()), (names, 0));

        // Same size, new content: the stamp changes.
        std::fs::write(&file, "b: {image: x}\n").unwrap();
        let new = Stamp::of(&file).unwrap();
        assert_ne!(new, stamp);
        assert_eq!(read(&entry, &new, None), None);

        // A corrupt entry is a miss, not an error.
        std::fs::write(&entry, "{not json").unwrap();
        assert_eq!(read(&entry, &stamp, None), None);
    }
}
