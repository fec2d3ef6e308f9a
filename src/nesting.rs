//! Recursive execution (SPEC §8): how deep we are, and how paths seen by this
//! execution host map to paths on the base host, whose runtime resolves every
//! bind-mount source.
//!
//! A container that cderun starts with itself mounted receives:
//! - `CDERUN_DEPTH`: that container's depth (the base host is depth 0);
//! - `CDERUN_HOST_MOUNTS`: a JSON object, container path → base-host path,
//!   for every bind mount of that container, already translated;
//! - `CDERUN_MOUNT_SOCKET` and `DOCKER_HOST`/`CONTAINER_HOST`: the socket.
//!
//! A cderun running inside such a container rewrites each host path through
//! the longest matching container-path prefix of `CDERUN_HOST_MOUNTS`
//! (whole components: `/work` does not match `/workspace`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::err;
use crate::error::Result;
use crate::host::Host;

/// Variable holding the depth of the container it is set in.
pub const DEPTH_VAR: &str = "CDERUN_DEPTH";
/// Variable holding the container-path → base-host-path map.
pub const HOST_MOUNTS_VAR: &str = "CDERUN_HOST_MOUNTS";
/// Variable holding the runtime socket path (also P3 for `--mount-socket`).
pub const SOCKET_VAR: &str = "CDERUN_MOUNT_SOCKET";
/// Where `--mount-cderun` puts the binary.
pub const BINARY_IN_CONTAINER: &str = "/usr/local/bin/cderun";
/// Where `--mount-tools` puts the shims.
pub const SHIM_DIR: &str = "/usr/local/bin";

/// Where this execution host sits in a chain of cderun containers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Nesting {
    /// Depth of the execution host (0 on the base host).
    pub depth: u32,
    /// How to reach base-host paths; `None` on the base host (paths are
    /// already base-host paths).
    pub host_mounts: Option<HostMounts>,
}

impl Nesting {
    /// Reads `CDERUN_DEPTH` and `CDERUN_HOST_MOUNTS`; invalid values are
    /// errors, since guessing would mount the wrong thing.
    pub fn from_host(host: &Host) -> Result<Nesting> {
        let depth = match host.var(DEPTH_VAR) {
            None => 0,
            Some(v) => v
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
                .ok_or_else(|| {
                    err!(
                        "invalid {DEPTH_VAR}={}: not a non-negative whole number",
                        v.to_string_lossy()
                    )
                    .with_hint(format!(
                        "{DEPTH_VAR} is set by an outer cderun; unset it on the base host"
                    ))
                })?,
        };
        let host_mounts = match host.var(HOST_MOUNTS_VAR) {
            None => None,
            Some(v) => Some(HostMounts::parse(&v.to_string_lossy())?),
        };
        Ok(Nesting { depth, host_mounts })
    }

    /// Checks that a container one level below this host may start.
    pub fn check_depth(&self, max_depth: u32) -> Result<u32> {
        let next = self.depth.saturating_add(1);
        if next > max_depth {
            return Err(err!(
                "nesting depth {next} exceeds the limit of {max_depth}"
            )
            .with_hint(
                "raise maxDepth in .cderun.yaml or CDERUN_MAX_DEPTH if this is intended; otherwise look for a tool that starts itself",
            ));
        }
        Ok(next)
    }

    /// The base-host path for `path`, or an error when the runtime cannot
    /// see it. On the base host every path is its own translation.
    pub fn translate(&self, path: &Path) -> Result<PathBuf> {
        let Some(mounts) = &self.host_mounts else {
            return Ok(path.to_path_buf());
        };
        mounts.translate(path).ok_or_else(|| {
            err!(
                "{} exists only inside this container; the runtime cannot mount it",
                path.display()
            )
            .with_hint(format!(
                "use a path under one of the directories mounted from the base host: {}",
                mounts.container_paths().join(", ")
            ))
        })
    }
}

/// `CDERUN_HOST_MOUNTS`: container path → base-host path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostMounts(BTreeMap<PathBuf, PathBuf>);

impl HostMounts {
    /// Parses the JSON object; every path must be absolute.
    pub fn parse(json: &str) -> Result<HostMounts> {
        let bad = |why: String| {
            err!("invalid {HOST_MOUNTS_VAR}: {why}").with_hint(format!(
                "{HOST_MOUNTS_VAR} is set by an outer cderun; unset it on the base host"
            ))
        };
        let map: BTreeMap<PathBuf, PathBuf> =
            serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        if let Some((c, h)) = map
            .iter()
            .find(|(c, h)| !c.is_absolute() || !h.is_absolute())
        {
            return Err(bad(format!(
                "'{}' → '{}' is not a pair of absolute paths",
                c.display(),
                h.display()
            )));
        }
        Ok(HostMounts(map))
    }

    /// Builds the map handed to a child container.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (PathBuf, PathBuf)>) -> HostMounts {
        HostMounts(pairs.into_iter().collect())
    }

    /// The JSON passed in `CDERUN_HOST_MOUNTS`.
    pub fn to_json(&self) -> Result<String> {
        if let Some(p) = self
            .0
            .iter()
            .flat_map(|(c, h)| [c, h])
            .find(|p| p.to_str().is_none())
        {
            return Err(err!(
                "cannot pass the non-UTF-8 path {} to a nested cderun",
                p.display()
            )
            .with_hint("rename the path, or do not mount cderun into this container"));
        }
        serde_json::to_string(&self.0).map_err(|e| err!("cannot encode {HOST_MOUNTS_VAR}: {e}"))
    }

    /// Longest container-path prefix on whole components, rewritten to its
    /// base-host path.
    pub fn translate(&self, path: &Path) -> Option<PathBuf> {
        let (container, host) = self
            .0
            .iter()
            .filter(|(c, _)| path.starts_with(c))
            .max_by_key(|(c, _)| c.components().count())?;
        let rest = path.strip_prefix(container).ok()?;
        Some(if rest.as_os_str().is_empty() {
            host.clone()
        } else {
            host.join(rest)
        })
    }

    /// The container paths, for hints.
    pub fn container_paths(&self) -> Vec<String> {
        self.0.keys().map(|p| p.display().to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(pairs: &[(&str, &str)]) -> HostMounts {
        HostMounts::from_pairs(pairs.iter().map(|(c, h)| (c.into(), h.into())))
    }

    fn tr(m: &HostMounts, p: &str) -> Option<String> {
        m.translate(Path::new(p)).map(|p| p.display().to_string())
    }

    #[test]
    fn longest_prefix_wins() {
        let m = mounts(&[("/work", "/home/u/proj"), ("/work/cache", "/var/cache/x")]);
        assert_eq!(
            tr(&m, "/work/src/a.py").as_deref(),
            Some("/home/u/proj/src/a.py")
        );
        assert_eq!(tr(&m, "/work/cache/k").as_deref(), Some("/var/cache/x/k"));
        assert_eq!(tr(&m, "/work").as_deref(), Some("/home/u/proj"));
    }

    #[test]
    fn prefixes_match_whole_components_only() {
        let m = mounts(&[("/work", "/h/w")]);
        assert_eq!(tr(&m, "/workspace/x"), None);
        assert_eq!(tr(&m, "/wor"), None);
    }

    #[test]
    fn file_mounts_translate_exactly() {
        let m = mounts(&[
            ("/usr/local/bin/cderun", "/home/u/bin/cderun-linux"),
            ("/var/run/docker.sock", "/run/user/1000/docker.sock"),
        ]);
        assert_eq!(
            tr(&m, "/usr/local/bin/cderun").as_deref(),
            Some("/home/u/bin/cderun-linux")
        );
        assert_eq!(
            tr(&m, "/var/run/docker.sock").as_deref(),
            Some("/run/user/1000/docker.sock")
        );
        assert_eq!(tr(&m, "/usr/local/bin/cderun2"), None);
        assert_eq!(tr(&m, "/usr/local/bin"), None);
    }

    #[test]
    fn a_root_mount_catches_everything() {
        let m = mounts(&[("/", "/srv/root"), ("/a", "/x")]);
        assert_eq!(tr(&m, "/b/c").as_deref(), Some("/srv/root/b/c"));
        assert_eq!(tr(&m, "/a/c").as_deref(), Some("/x/c"));
    }

    #[test]
    fn untranslatable_paths_are_errors_only_when_nested() {
        let base = Nesting::default();
        assert_eq!(
            base.translate(Path::new("/tmp/x")).unwrap(),
            PathBuf::from("/tmp/x")
        );
        let nested = Nesting {
            depth: 1,
            host_mounts: Some(mounts(&[("/work", "/h/w")])),
        };
        let e = nested.translate(Path::new("/tmp/x")).unwrap_err();
        assert_eq!(
            e.message(),
            "/tmp/x exists only inside this container; the runtime cannot mount it"
        );
        assert_eq!(
            e.hint(),
            Some("use a path under one of the directories mounted from the base host: /work")
        );
    }

    #[test]
    fn json_round_trip_and_validation() {
        let m = HostMounts::parse(r#"{"/work":"/h/w","/usr/local/bin/cderun":"/b/c"}"#).unwrap();
        assert_eq!(
            m,
            mounts(&[("/work", "/h/w"), ("/usr/local/bin/cderun", "/b/c")])
        );
        assert_eq!(
            m.to_json().unwrap(),
            r#"{"/usr/local/bin/cderun":"/b/c","/work":"/h/w"}"#
        );
        assert!(HostMounts::parse("[1]").is_err());
        let e = HostMounts::parse(r#"{"work":"/h"}"#).unwrap_err();
        assert!(
            e.message().contains("not a pair of absolute paths"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn depth_limit_allows_the_limit_and_refuses_one_more() {
        let at = |depth| Nesting {
            depth,
            host_mounts: None,
        };
        assert_eq!(at(0).check_depth(5).unwrap(), 1);
        assert_eq!(at(4).check_depth(5).unwrap(), 5);
        let e = at(5).check_depth(5).unwrap_err();
        assert_eq!(e.message(), "nesting depth 6 exceeds the limit of 5");
        assert!(at(0).check_depth(0).is_err());
    }
}
