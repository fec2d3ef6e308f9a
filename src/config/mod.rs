//! Config files: where they are ([`discover`]), what they hold ([`schema`]),
//! and how they combine with flags and the environment ([`resolve`]).

pub mod cache;
pub mod discover;
pub mod resolve;
pub mod schema;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess, Visitor};

use crate::error::{Error, Result, nearest};
use crate::host::Host;
use discover::Kind;
use schema::{CderunFile, ToolEntry, ToolsFile};

/// A parsed config file and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T> {
    /// The file, as found.
    pub path: PathBuf,
    /// Its parsed content.
    pub value: T,
}

/// The config files that apply to this invocation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigFiles {
    /// `.cderun.yaml`, if one was found.
    pub cderun: Option<Loaded<CderunFile>>,
    /// `.tools.yaml`, if one was found.
    pub tools: Option<Loaded<Tools>>,
    /// What the [`cache`] did for `.tools.yaml`, for the debug log (the
    /// logger starts only after the files are read).
    pub tools_cache: String,
}

/// What cderun took from `.tools.yaml`: every tool's name, and the entries
/// that were asked for (the file itself is always validated in full, but a
/// cached file only deserializes the entries that are needed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tools {
    /// Every tool name, in order.
    pub names: Vec<String>,
    /// The requested entries.
    pub entries: ToolsFile,
}

impl Tools {
    fn all(entries: ToolsFile) -> Tools {
        Tools {
            names: entries.keys().cloned().collect(),
            entries,
        }
    }
}

impl ConfigFiles {
    /// Finds and parses both files. `tool` is the one tool entry needed, or
    /// `None` for all of them.
    pub fn load(host: &Host, tool: Option<&str>) -> Result<ConfigFiles> {
        let cderun = match discover::find(Kind::Cderun, host)? {
            Some(path) => Some(parse_file::<CderunFile>(path)?),
            None => None,
        };
        let (tools, tools_cache) = match discover::find(Kind::Tools, host)? {
            Some(path) => {
                let (tools, cache) = load_tools(path, host, tool)?;
                (Some(tools), cache)
            }
            None => (None, String::new()),
        };
        Ok(ConfigFiles {
            cderun,
            tools,
            tools_cache,
        })
    }

    /// The names of all configured tools, in order.
    pub fn tool_names(&self) -> Vec<&str> {
        self.tools
            .as_ref()
            .map(|t| t.value.names.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The entry for `tool`, if `.tools.yaml` has one (and it was loaded).
    pub fn tool(&self, tool: &str) -> Option<&ToolEntry> {
        self.tools.as_ref().and_then(|t| t.value.entries.get(tool))
    }
}

/// `.tools.yaml` through the [`cache`]: parsed and validated in full when
/// the file changed, read back from the cache otherwise.
/// Also says what the cache did.
fn load_tools(path: PathBuf, host: &Host, tool: Option<&str>) -> Result<(Loaded<Tools>, String)> {
    let text = read_text(&path)?;
    let stamp = cache::Stamp::of(&path, &text);
    let Some(entry) = cache::location(&path, host) else {
        let value = Tools::all(parse_text::<UniqueTools>(&path, &text)?.0);
        return Ok((Loaded { path, value }, "off (no HOME)".to_owned()));
    };
    if let Some(value) = cache::read(&entry, &stamp, tool) {
        return Ok((Loaded { path, value }, format!("hit {}", entry.display())));
    }
    let value = parse_text::<UniqueTools>(&path, &text)?.0;
    let outcome = match cache::write(&entry, &stamp, &value) {
        Ok(()) => format!("parsed, stored in {}", entry.display()),
        Err(e) => format!("parsed, not stored in {}: {e}", entry.display()),
    };
    let value = Tools::all(value);
    Ok((Loaded { path, value }, outcome))
}

/// Reads and parses one file; every failure names the file (and the line and
/// column when the YAML parser knows them).
fn parse_file<T: DeserializeOwned + Default>(path: PathBuf) -> Result<Loaded<T>> {
    let text = read_text(&path)?;
    let value = parse_text(&path, &text)?;
    Ok(Loaded { path, value })
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        Error::new(format!("cannot read {}: {e}", path.display()))
            .with_hint("check the file's permissions and that it is UTF-8 text")
    })
}

/// A file holding only comments or whitespace is an empty config.
fn parse_text<T: DeserializeOwned + Default>(path: &Path, text: &str) -> Result<T> {
    match serde_yaml::from_str::<Option<T>>(text) {
        Ok(v) => Ok(v.unwrap_or_default()),
        Err(e) => Err(yaml_error(path, &e)),
    }
}

/// Turns a serde_yaml error into `FILE:LINE:COL: message`, with a "did you
/// mean" hint for unknown keys.
fn yaml_error(path: &Path, e: &serde_yaml::Error) -> Error {
    let mut msg = e.to_string();
    let mut place = path.display().to_string();
    if let Some(loc) = e.location() {
        // The place is already in front; drop serde_yaml's own copy of it.
        let at = format!(" at line {} column {}", loc.line(), loc.column());
        msg = msg.replacen(&at, "", 1);
        place = format!("{place}:{}:{}", loc.line(), loc.column());
    }
    if let Some((context, key, valid)) = unknown_key(&msg) {
        let within = if context.is_empty() {
            String::new()
        } else {
            format!(" in '{context}'")
        };
        let list = valid.join(", ");
        let hint = match nearest(key, valid.iter().copied()) {
            Some(best) => format!("did you mean '{best}'? valid keys: {list}"),
            None => format!("valid keys: {list}"),
        };
        return Error::new(format!("{place}: unknown key '{key}'{within}")).with_hint(hint);
    }
    Error::new(format!("{place}: {msg}"))
}

/// Picks apart serde's "ctx: unknown field `k`, expected one of `a`, `b`"
/// into (ctx, k, [a, b]).
fn unknown_key(msg: &str) -> Option<(&str, &str, Vec<&str>)> {
    let at = msg.find("unknown field `")?;
    let context = msg[..at].trim_end_matches(": ").trim_end();
    let rest = &msg[at + "unknown field `".len()..];
    let (key, rest) = rest.split_once('`')?;
    let valid = rest.split('`').skip(1).step_by(2).collect::<Vec<_>>();
    Some((context, key, valid))
}

/// `.tools.yaml` with duplicate tool names rejected (a YAML map that names a
/// tool twice would otherwise silently keep the last one).
#[derive(Default)]
struct UniqueTools(ToolsFile);

impl<'de> Deserialize<'de> for UniqueTools {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = UniqueTools;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of tool name to tool entry")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut tools = ToolsFile::new();
                while let Some(name) = map.next_key_seed(NewName(&tools))? {
                    let entry = map.next_value::<ToolEntry>()?;
                    tools.insert(name, entry);
                }
                Ok(UniqueTools(tools))
            }
        }
        d.deserialize_map(Entries)
    }
}

/// A tool name not seen before. The check runs inside the key's own
/// deserialization so the YAML error points at the second definition.
struct NewName<'a>(&'a ToolsFile);

impl<'de> DeserializeSeed<'de> for NewName<'_> {
    type Value = String;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for NewName<'_> {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a tool name")
    }
    fn visit_str<E: serde::de::Error>(self, name: &str) -> std::result::Result<String, E> {
        if self.0.contains_key(name) {
            return Err(E::custom(format!("tool '{name}' is defined twice")));
        }
        Ok(name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: DeserializeOwned + Default>(text: &str) -> Result<T> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.yaml");
        std::fs::write(&path, text).unwrap();
        parse_file::<T>(path.clone()).map(|l| l.value).map_err(|e| {
            Error::new(e.message().replace(&path.display().to_string(), "F"))
                .with_hint(e.hint().unwrap_or(""))
        })
    }

    #[test]
    fn unknown_key_names_file_line_column_and_nearest_key() {
        let e = parse::<UniqueTools>("node:\n  image: x\n  mountcderun: true\n")
            .err()
            .unwrap();
        assert_eq!(e.message(), "F:3:3: unknown key 'mountcderun' in 'node'");
        assert!(
            e.hint().unwrap().starts_with(
                "did you mean 'mountCderun'? valid keys: image, command, entrypoint, tty"
            ),
            "{:?}",
            e.hint()
        );

        let e = parse::<CderunFile>("maxdepth: 3\n").err().unwrap();
        assert_eq!(e.message(), "F:1:1: unknown key 'maxdepth'");
        assert!(e.hint().unwrap().starts_with("did you mean 'maxDepth'?"));

        let e = parse::<CderunFile>("defaults:\n  image: x\n")
            .err()
            .unwrap();
        assert_eq!(e.message(), "F:2:3: unknown key 'image' in 'defaults'");
    }

    #[test]
    fn wrong_types_and_bad_yaml_name_the_place() {
        let e = parse::<UniqueTools>("node:\n  image: x\n  remove: maybe\n")
            .err()
            .unwrap();
        assert_eq!(
            e.message(),
            "F:3:11: node.remove: invalid type: string \"maybe\", expected a boolean"
        );
        let e = parse::<UniqueTools>("node:\n  tty: true\n").err().unwrap();
        assert_eq!(e.message(), "F:2:3: node: missing field `image`");
        let e = parse::<CderunFile>("runtime: [\n").err().unwrap();
        assert!(e.message().starts_with("F:"), "{}", e.message());
    }

    #[test]
    fn duplicate_tools_are_rejected() {
        let e = parse::<UniqueTools>("a:\n  image: x\na:\n  image: y\n")
            .err()
            .unwrap();
        assert!(
            e.message().contains("tool 'a' is defined twice"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn empty_and_comment_only_files_are_empty_configs() {
        assert_eq!(parse::<CderunFile>("").unwrap(), CderunFile::default());
        assert_eq!(
            parse::<UniqueTools>("# nothing yet\n").unwrap().0,
            ToolsFile::new()
        );
    }
}
