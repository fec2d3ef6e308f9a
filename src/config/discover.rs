//! Finding the config files (SPEC §3). First hit wins; files of one kind are
//! never merged:
//!
//! 1. `CDERUN_CONFIG` / `CDERUN_TOOLS` (an explicit path; missing = error);
//! 2. `.cderun.yaml` / `.tools.yaml` in the current directory, then in each
//!    parent up to `/`;
//! 3. `$XDG_CONFIG_HOME/cderun/config.yaml` / `tools.yaml`
//!    (default `~/.config/cderun/`);
//! 4. `/etc/cderun/config.yaml` / `tools.yaml`.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::host::Host;

/// Which of the two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `.cderun.yaml`: cderun's own settings.
    Cderun,
    /// `.tools.yaml`: the tool entries.
    Tools,
}

impl Kind {
    /// The variable holding an explicit path.
    pub fn env_var(self) -> &'static str {
        match self {
            Kind::Cderun => "CDERUN_CONFIG",
            Kind::Tools => "CDERUN_TOOLS",
        }
    }

    /// The name looked for in the current directory and its parents.
    pub fn project_name(self) -> &'static str {
        match self {
            Kind::Cderun => ".cderun.yaml",
            Kind::Tools => ".tools.yaml",
        }
    }

    /// The name in the XDG and system directories.
    pub fn global_name(self) -> &'static str {
        match self {
            Kind::Cderun => "config.yaml",
            Kind::Tools => "tools.yaml",
        }
    }
}

/// The file of `kind` that applies, or `None` when there is none.
pub fn find(kind: Kind, host: &Host) -> Result<Option<PathBuf>> {
    if let Some(explicit) = host.non_empty_var(kind.env_var()) {
        let path = host.cwd.join(explicit);
        if !path.is_file() {
            return Err(Error::new(format!(
                "{} points to {}, which is not a file",
                kind.env_var(),
                path.display()
            ))
            .with_hint(format!(
                "create the file or unset {} to use the normal search",
                kind.env_var()
            )));
        }
        return Ok(Some(path));
    }
    let project = host
        .cwd
        .ancestors()
        .map(|dir| dir.join(kind.project_name()));
    let xdg = host
        .non_empty_var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| host.home().map(|h| h.join(".config")))
        .map(|dir| dir.join("cderun").join(kind.global_name()));
    let system = host.system_config_dir.join(kind.global_name());
    Ok(project
        .chain(xdg)
        .chain(std::iter::once(system))
        .find(|p| p.is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::fs;

    fn host(cwd: PathBuf, env: &[(&str, &str)], etc: PathBuf) -> Host {
        Host {
            env: env
                .iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect::<BTreeMap<_, _>>(),
            cwd,
            uid: 1000,
            gid: 1000,
            stdin_tty: false,
            stdout_tty: false,
            current_exe: None,
            system_config_dir: etc,
            container_id: None,
        }
    }

    #[test]
    fn search_order_cwd_parent_xdg_home_system() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let deep = root.join("proj/sub/dir");
        fs::create_dir_all(&deep).unwrap();
        let etc = root.join("etc");
        let xdg = root.join("xdg");
        let home = root.join("home");
        for d in [&etc, &xdg.join("cderun"), &home.join(".config/cderun")] {
            fs::create_dir_all(d).unwrap();
        }
        let env = [
            ("XDG_CONFIG_HOME", xdg.to_str().unwrap()),
            ("HOME", home.to_str().unwrap()),
        ];
        let h = host(deep.clone(), &env, etc.clone());
        assert_eq!(find(Kind::Tools, &h).unwrap(), None);

        fs::write(etc.join("tools.yaml"), "").unwrap();
        assert_eq!(find(Kind::Tools, &h).unwrap(), Some(etc.join("tools.yaml")));

        fs::write(home.join(".config/cderun/tools.yaml"), "").unwrap();
        let home_only = host(deep.clone(), &env[1..], etc.clone());
        assert_eq!(
            find(Kind::Tools, &home_only).unwrap(),
            Some(home.join(".config/cderun/tools.yaml"))
        );

        fs::write(xdg.join("cderun/tools.yaml"), "").unwrap();
        assert_eq!(
            find(Kind::Tools, &h).unwrap(),
            Some(xdg.join("cderun/tools.yaml"))
        );

        fs::write(root.join("proj/.tools.yaml"), "").unwrap();
        assert_eq!(
            find(Kind::Tools, &h).unwrap(),
            Some(root.join("proj/.tools.yaml"))
        );

        fs::write(deep.join(".tools.yaml"), "").unwrap();
        assert_eq!(
            find(Kind::Tools, &h).unwrap(),
            Some(deep.join(".tools.yaml"))
        );

        // The other kind is independent.
        assert_eq!(find(Kind::Cderun, &h).unwrap(), None);
    }

    #[test]
    fn explicit_path_wins_and_must_exist() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join(".cderun.yaml"), "").unwrap();
        fs::write(t.path().join("mine.yaml"), "").unwrap();
        let h = host(
            t.path().into(),
            &[("CDERUN_CONFIG", "mine.yaml")],
            t.path().join("etc"),
        );
        assert_eq!(
            find(Kind::Cderun, &h).unwrap(),
            Some(t.path().join("mine.yaml"))
        );

        let h = host(
            t.path().into(),
            &[("CDERUN_CONFIG", "gone.yaml")],
            t.path().join("etc"),
        );
        let e = find(Kind::Cderun, &h).unwrap_err();
        assert_eq!(
            e.message(),
            format!(
                "CDERUN_CONFIG points to {}, which is not a file",
                t.path().join("gone.yaml").display()
            )
        );
    }
}
