//! Path helpers: `~` expansion and lexical normalisation, so every host path
//! in a ContainerConfig is absolute and clean (SPEC §6) without touching the
//! filesystem (a volume's host directory may not exist yet).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Makes `raw` absolute: `~` and `~/x` are the home directory, a relative
/// path is joined to `base`; the result is normalised lexically.
pub fn absolutize(raw: &OsStr, base: &Path, home: Option<&Path>) -> Result<PathBuf> {
    let bytes = raw.as_bytes();
    let joined = if bytes == b"~" || bytes.starts_with(b"~/") {
        let home = home.ok_or_else(|| {
            Error::new(format!(
                "cannot expand '{}': HOME is not set",
                raw.to_string_lossy()
            ))
            .with_hint("set HOME or write the path without '~'")
        })?;
        let rest = &bytes[1..];
        let slashes = rest.iter().take_while(|&&b| b == b'/').count();
        home.join(OsStr::from_bytes(&rest[slashes..]))
    } else {
        base.join(raw)
    };
    Ok(normalize(&joined))
}

/// Removes `.`, resolves `..` against the preceding component and drops
/// repeated or trailing slashes, without following symlinks.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // `/..` is `/`.
                if out.parent().is_some() {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abs(raw: &str) -> PathBuf {
        absolutize(
            OsStr::new(raw),
            Path::new("/base/dir"),
            Some(Path::new("/home/u")),
        )
        .unwrap()
    }

    #[test]
    fn expands_home_and_relative_paths() {
        assert_eq!(abs("~"), PathBuf::from("/home/u"));
        assert_eq!(abs("~/.npm"), PathBuf::from("/home/u/.npm"));
        assert_eq!(abs("."), PathBuf::from("/base/dir"));
        assert_eq!(abs("./data/../x/"), PathBuf::from("/base/dir/x"));
        assert_eq!(abs("../up"), PathBuf::from("/base/up"));
        assert_eq!(abs("data"), PathBuf::from("/base/dir/data"));
        assert_eq!(abs("/abs//p/./q"), PathBuf::from("/abs/p/q"));
        assert_eq!(abs("/../.."), PathBuf::from("/"));
        // `~user` is not expanded: it is a relative name.
        assert_eq!(abs("~bob"), PathBuf::from("/base/dir/~bob"));
    }

    #[test]
    fn tilde_without_home_is_an_error() {
        let e = absolutize(OsStr::new("~/x"), Path::new("/"), None).unwrap_err();
        assert_eq!(e.message(), "cannot expand '~/x': HOME is not set");
    }
}
