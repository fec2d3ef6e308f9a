//! Small value types shared by flags, environment variables and YAML.
//! Flags and `CDERUN_*` variables share one parser per type (booleans take
//! true/false/1/0/yes/no); YAML keys take YAML's own `true`/`false`, plus
//! `auto` for `tty` and `interactive`.

use clap::ValueEnum;
use serde::{Deserialize, Deserializer, Serialize};

/// Parses a boolean the way every cderun input does: true/false/1/0/yes/no,
/// in any case.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!(
            "'{s}' is not a boolean (use true/false, 1/0 or yes/no)"
        )),
    }
}

/// `tty` and `interactive`: on, off, or decided from the terminals (SPEC §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// Always requested (a TTY is still dropped when there is no terminal).
    On,
    /// Never.
    Off,
    /// Decided from whether stdin/stdout are terminals.
    Auto,
}

impl Switch {
    /// Parses `auto` or any boolean spelling accepted by [`parse_bool`].
    pub fn parse(s: &str) -> Result<Switch, String> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Switch::Auto);
        }
        parse_bool(s)
            .map(Switch::from)
            .map_err(|_| format!("'{s}' is not one of true, false, auto"))
    }
}

impl From<bool> for Switch {
    fn from(b: bool) -> Switch {
        if b { Switch::On } else { Switch::Off }
    }
}

impl Serialize for Switch {
    /// Written the way YAML spells it: `true`, `false` or `auto`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Switch::On => s.serialize_bool(true),
            Switch::Off => s.serialize_bool(false),
            Switch::Auto => s.serialize_str("auto"),
        }
    }
}

impl<'de> Deserialize<'de> for Switch {
    /// YAML writes `tty: true` (a bool) and `tty: auto` (a string); both work.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Switch, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Switch;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("one of true, false, auto")
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Switch, E> {
                Ok(Switch::from(b))
            }
            // YAML's own booleans are true/false; the only word is `auto`.
            fn visit_str<E: serde::de::Error>(self, w: &str) -> Result<Switch, E> {
                if w.eq_ignore_ascii_case("auto") {
                    Ok(Switch::Auto)
                } else {
                    Err(E::custom(format!("'{w}' is not one of true, false, auto")))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The container runtime family (SPEC §2, §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeKind {
    /// Docker.
    Docker,
    /// Podman.
    Podman,
    /// nerdctl (containerd).
    Nerdctl,
}

impl RuntimeKind {
    /// The CLI's name, as looked up on PATH.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeKind::Docker => "docker",
            RuntimeKind::Podman => "podman",
            RuntimeKind::Nerdctl => "nerdctl",
        }
    }

    /// The variable a runtime client inside the container reads to find the
    /// socket (SPEC §8).
    pub fn socket_env(self) -> &'static str {
        match self {
            RuntimeKind::Podman => "CONTAINER_HOST",
            RuntimeKind::Docker | RuntimeKind::Nerdctl => "DOCKER_HOST",
        }
    }
}

/// How cderun talks to the runtime (SPEC §9, §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// The runtime CLI when one is found, else the Engine API over a socket.
    Auto,
    /// Always the runtime CLI (`docker run`).
    Cli,
    /// Always the Docker Engine API over a unix socket.
    Api,
}

/// Output of `--dry-run` (SPEC §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DryRunFormat {
    /// The ContainerConfig as YAML.
    Yaml,
    /// The ContainerConfig as JSON.
    Json,
    /// One `Key: value` line per field.
    Simple,
    /// The exact runtime argv, shell-quoted.
    Command,
}

/// Log verbosity (SPEC §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors (the default).
    Warn,
    /// What cderun decided.
    Info,
    /// Config files used, the runtime argv.
    Debug,
    /// Everything.
    Trace,
}

/// Log line format (SPEC §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Parses a clap `ValueEnum` from an environment variable's text, with the
/// same spelling rules as the flag.
pub fn parse_enum<T: ValueEnum>(s: &str) -> Result<T, String> {
    T::from_str(s, true).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_owned()))
            .collect();
        format!("'{s}' is not one of {}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_every_documented_spelling() {
        for t in ["true", "TRUE", "1", "yes", "Yes"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["false", "False", "0", "no", "NO"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        for bad in ["", "on", "2", "y", "truee"] {
            assert!(parse_bool(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn switch_parses_auto_and_booleans() {
        assert_eq!(Switch::parse("AUTO"), Ok(Switch::Auto));
        assert_eq!(Switch::parse("yes"), Ok(Switch::On));
        assert_eq!(Switch::parse("0"), Ok(Switch::Off));
        assert!(Switch::parse("sometimes").is_err());
    }

    #[test]
    fn switch_deserializes_bool_and_word() {
        let v: Vec<Switch> = serde_yaml::from_str("[true, false, auto, AUTO]").unwrap();
        assert_eq!(v, [Switch::On, Switch::Off, Switch::Auto, Switch::Auto]);
        assert!(serde_yaml::from_str::<Switch>("maybe").is_err());
        // As for every other YAML boolean, words like `yes` are not booleans.
        assert!(serde_yaml::from_str::<Switch>("'yes'").is_err());
        assert!(serde_yaml::from_str::<Switch>("3").is_err());
        let all = [Switch::On, Switch::Off, Switch::Auto];
        let back: Vec<Switch> =
            serde_json::from_str(&serde_json::to_string(&all).unwrap()).unwrap();
        assert_eq!(back, all);
    }

    #[test]
    fn enums_parse_case_insensitively_and_list_choices() {
        assert_eq!(parse_enum::<RuntimeKind>("Podman"), Ok(RuntimeKind::Podman));
        assert_eq!(
            parse_enum::<RuntimeKind>("lxc"),
            Err("'lxc' is not one of docker, podman, nerdctl".to_owned())
        );
    }
}
