//! A cache of parsed `.tools.yaml` files.
//!
//! YAML parsing dominates cderun's start-up: a 200-tool file takes ~20 M
//! instructions in libyaml, about 3 ms, on every invocation. Each file is
//! therefore fully parsed and validated once, and the result is kept as JSON
//! in `$XDG_CACHE_HOME/cderun/` (default `~/.cache/cderun/`), stamped with
//! the file's path, size and a hash of its content, and with cderun's
//! version. The stamp depends on the bytes, not on timestamps, so an edit is
//! seen however quickly it follows the last run. A file with errors is never
//! cached, so its errors are reported on every run. The cache is best effort:
//! an unreadable, corrupt or unwritable cache only means parsing again.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Tools;
use crate::config::schema::{ToolEntry, ToolsFile};
use crate::host::Host;

/// Bumped whenever the cached shape changes, so a development build never
/// reads an entry written by another shape under the same version number.
const FORMAT: u32 = 1;

/// Identifies one content of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    version: String,
    path: PathBuf,
    size: usize,
    hash: u64,
}

impl Stamp {
    /// The stamp of the file at `path` whose content is `text`.
    pub fn of(path: &Path, text: &str) -> Stamp {
        let mut h = DefaultHasher::new();
        text.hash(&mut h);
        Stamp {
            version: format!("{}/{FORMAT}", env!("CARGO_PKG_VERSION")),
            path: path.to_path_buf(),
            size: text.len(),
            hash: h.finish(),
        }
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
    Some(Tools {
        names: header.names,
        entries,
    })
}

/// Stores `tools` for the file with `stamp`. A failure only means the next
/// run parses again; the caller logs it.
pub fn write(entry: &Path, stamp: &Stamp, tools: &ToolsFile) -> std::io::Result<()> {
    (|| -> std::io::Result<()> {
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
    })()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::ToolEntry;

    #[test]
    fn a_changed_file_misses_the_cache() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join(".tools.yaml");
        let entry = t.path().join("cache/tools.json");
        let stamp = Stamp::of(&file, "a: {image: x}\n");
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
        write(&entry, &stamp, &tools).unwrap();
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
        let new = Stamp::of(&file, "b: {image: x}\n");
        assert_ne!(new, stamp);
        assert_eq!(read(&entry, &new, None), None);

        // A corrupt entry is a miss, not an error.
        std::fs::write(&entry, "{not json").unwrap();
        assert_eq!(read(&entry, &stamp, None), None);
    }
}
