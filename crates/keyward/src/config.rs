//! Loading settings: defaults, then the TOML file (`--config`), then
//! environment variables `KEYWARD_<SECTION>__<KEY>`; validated once into the
//! core's typed `Settings`. Unknown keys and bad values stop start-up with a
//! message naming the setting.

use config::{Config, Environment, File, FileFormat};
use std::collections::HashMap;
use std::path::Path;

use keyward_core::settings::Settings;

/// Loads and validates settings. The message of an error names the setting.
pub fn load(file: Option<&Path>) -> Result<Settings, String> {
    load_from(file, std::env::vars())
}

pub fn load_from(
    file: Option<&Path>,
    vars: impl Iterator<Item = (String, String)>,
) -> Result<Settings, String> {
    let mut builder = Config::builder();
    if let Some(path) = file {
        if !path.is_file() {
            return Err(format!(
                "the settings file {} does not exist",
                path.display()
            ));
        }
        builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
    }
    // Only KEYWARD_<SECTION>__<KEY> variables are settings; others such as
    // KEYWARD_CONFIG or test variables are not, and must not be mistaken for
    // unknown settings.
    let overrides: HashMap<String, String> = vars
        .filter(|(key, _)| key.starts_with("KEYWARD_") && key.contains("__"))
        .collect();
    builder = builder.add_source(
        Environment::with_prefix("KEYWARD")
            .prefix_separator("_")
            .separator("__")
            .source(Some(overrides)),
    );
    let settings: Settings = builder
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(|err| format!("invalid settings: {}", one_line(&err.to_string())))?;
    settings.validate().map_err(|err| err.to_string())
}

/// The TOML parser's message shows the offending source over several lines
/// (`1 | [server` and a `^` marker); keep its sentences, on one line.
fn one_line(message: &str) -> String {
    let mut out = String::new();
    for line in message.lines().map(str::trim) {
        let excerpt = line.starts_with('|')
            || line.starts_with('^')
            || line.split_once('|').is_some_and(|(number, _)| {
                !number.trim().is_empty() && number.trim().bytes().all(|b| b.is_ascii_digit())
            });
        if line.is_empty() || excerpt {
            continue;
        }
        if !out.is_empty() {
            out.push_str(if line.starts_with("in ") { " " } else { ": " });
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn vars(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn environment_overrides_the_file_and_defaults() {
        let mut file = tempfile::NamedTempFile::with_suffix(".toml").unwrap();
        writeln!(
            file,
            "[server]\nbind = \"127.0.0.1:9000\"\n[hashing]\niterations = 3"
        )
        .unwrap();
        let settings = load_from(
            Some(file.path()),
            vars(&[
                ("KEYWARD_SERVER__BIND", "127.0.0.1:9100"),
                ("KEYWARD_SESSION__IDLE_TIMEOUT", "30m"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.server.bind.to_string(), "127.0.0.1:9100");
        assert_eq!(settings.hashing.iterations, 3);
        assert_eq!(settings.session.idle_timeout.as_secs(), 1800);
    }

    #[test]
    fn unknown_setting_is_named() {
        let err = load_from(None, vars(&[("KEYWARD_SERVER__BINDD", "x")])).unwrap_err();
        assert!(err.contains("bindd"), "{err}");
        let mut file = tempfile::NamedTempFile::with_suffix(".toml").unwrap();
        writeln!(file, "[nonsense]\nx = 1").unwrap();
        let err = load_from(Some(file.path()), vars(&[])).unwrap_err();
        assert!(err.contains("nonsense"), "{err}");
    }

    #[test]
    fn invalid_values_are_named() {
        let err = load_from(None, vars(&[("KEYWARD_HASHING__ITERATIONS", "lots")])).unwrap_err();
        assert!(err.contains("iterations"), "{err}");
        let err = load_from(None, vars(&[("KEYWARD_DATABASE__URL", "mysql://x/y")])).unwrap_err();
        assert!(err.contains("database.url"), "{err}");
        let err = load_from(None, vars(&[("KEYWARD_SESSION__IDLE_TIMEOUT", "soon")])).unwrap_err();
        assert!(
            err.contains("idle_timeout") || err.contains("duration"),
            "{err}"
        );
    }

    #[test]
    fn every_declared_key_is_read_from_its_environment_variable() {
        let defaults = Settings::default().validate().unwrap().describe();
        let overlay: Vec<(String, String)> = defaults
            .iter()
            .map(|(key, value)| {
                let name = format!("KEYWARD_{}", key.to_uppercase().replace('.', "__"));
                (name, value.clone())
            })
            .collect();
        assert_eq!(overlay.len(), Settings::keys().len());
        let loaded = load_from(None, overlay.into_iter()).unwrap();
        assert_eq!(loaded.describe(), defaults);
        for key in Settings::keys() {
            let name = format!("KEYWARD_{}X", key.to_uppercase().replace('.', "__"));
            let err = load_from(None, vars(&[(&name, "1")])).unwrap_err();
            assert!(err.contains("unknown field"), "{name}: {err}");
        }
    }

    #[test]
    fn unrelated_keyward_variables_are_ignored() {
        assert!(
            load_from(
                None,
                vars(&[
                    ("KEYWARD_TEST_POSTGRES_URL", "postgres://x"),
                    ("KEYWARD_CONFIG", "")
                ])
            )
            .is_ok()
        );
    }

    #[test]
    fn a_toml_syntax_error_is_one_line() {
        let mut file = tempfile::NamedTempFile::with_suffix(".toml").unwrap();
        writeln!(file, "[server\nbind = 1").unwrap();
        let err = load_from(Some(file.path()), vars(&[])).unwrap_err();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("line 1"), "{err}");
        assert!(err.contains("unclosed table"), "{err}");
    }

    #[test]
    fn a_missing_settings_file_is_reported() {
        let err = load_from(Some(Path::new("/nonexistent/keyward.toml")), vars(&[])).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
    }
}
