//! `ipt.toml`: the level of each lint, by code, name or category.
//!
//! ```toml
//! [lints]
//! IPT101 = "error"          # by code
//! log-without-prefix = "warn" # by name
//! style = "warn"            # a whole category
//! ```
//!
//! A code or name wins over its category, which wins over the category's default. ipt looks for
//! `ipt.toml` in the linted file's directory and each directory above it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{Category, Level, Lint};

/// Levels set by the user.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Lowercase code, name or category → level.
    levels: HashMap<String, Level>,
    /// The file it came from.
    pub path: Option<PathBuf>,
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(code(ipt::config::unreadable), help("check the path and its permissions"))]
    Unreadable { path: String, reason: String },

    #[error("`{path}` is not valid TOML: {reason}")]
    #[diagnostic(code(ipt::config::syntax), help("see docs/lint.md for the format of ipt.toml"))]
    Syntax { path: String, reason: String },

    #[error("`{path}`: {message}")]
    #[diagnostic(code(ipt::config::bad_entry), help("{help}"))]
    BadEntry { path: String, message: String, help: String },
}

impl Config {
    /// The level of a lint: its code, then its name, then its category, then the default.
    pub fn level(&self, lint: &Lint) -> Level {
        [lint.code, lint.name, lint.category.as_str()]
            .iter()
            .find_map(|key| self.levels.get(&key.to_ascii_lowercase()).copied())
            .unwrap_or_else(|| lint.category.default_level())
    }

    /// Sets a level from the command line (`--warn style`, `--allow IPT101`).
    pub fn set(&mut self, key: &str, level: Level) -> Result<(), String> {
        let key = key.to_ascii_lowercase();
        let known = super::find(&key).is_some() || Category::ALL.iter().any(|c| c.as_str() == key);
        if !known {
            return Err(format!("no lint or category is called `{key}`"));
        }
        self.levels.insert(key, level);
        Ok(())
    }

    /// Reads an `ipt.toml`.
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Unreadable { path: name.clone(), reason: e.to_string() })?;
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let name = path.display().to_string();
        let table: toml::Table =
            toml::from_str(text).map_err(|e| ConfigError::Syntax { path: name.clone(), reason: e.to_string() })?;
        let mut config = Config { levels: HashMap::new(), path: Some(path.to_path_buf()) };
        for (section, value) in &table {
            if section != "lints" {
                return Err(ConfigError::BadEntry {
                    path: name,
                    message: format!("unknown section `[{section}]`"),
                    help: "ipt.toml has one section, `[lints]`".into(),
                });
            }
            let Some(lints) = value.as_table() else {
                return Err(ConfigError::BadEntry {
                    path: name,
                    message: "`lints` is not a table".into(),
                    help: "write `[lints]` and then `CODE = \"warn\"` lines".into(),
                });
            };
            for (key, level) in lints {
                let level = level.as_str().and_then(Level::parse).ok_or_else(|| ConfigError::BadEntry {
                    path: name.clone(),
                    message: format!("`{key}` has no level {level:?}"),
                    help: "a level is \"allow\", \"warn\" or \"error\"".into(),
                })?;
                config.set(key, level).map_err(|message| ConfigError::BadEntry {
                    path: name.clone(),
                    message,
                    help: "`ipt rule --list` lists the codes and names".into(),
                })?;
            }
        }
        Ok(config)
    }

    /// The `ipt.toml` in `file`'s directory or the nearest one above it.
    pub fn find_for(file: &Path) -> Option<PathBuf> {
        let start = std::fs::canonicalize(file).ok()?;
        start.ancestors().skip(1).map(|dir| dir.join("ipt.toml")).find(|p| p.is_file())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules;

    #[test]
    fn a_code_wins_over_its_name_and_category() {
        let lint = &rules::log_without_prefix::LINT;
        let config = Config::parse("[lints]\nstyle = \"warn\"\n", Path::new("ipt.toml")).unwrap();
        assert_eq!(config.level(lint), Level::Warn);
        let text = format!("[lints]\nstyle = \"warn\"\n{} = \"error\"\n{} = \"allow\"\n", lint.name, lint.code);
        assert_eq!(Config::parse(&text, Path::new("ipt.toml")).unwrap().level(lint), Level::Allow);
        assert_eq!(Config::default().level(lint), Level::Allow);
    }

    #[test]
    fn unknown_keys_and_levels_are_errors() {
        let bad = |text: &str| Config::parse(text, Path::new("ipt.toml")).unwrap_err().to_string();
        assert!(bad("[lints]\nIPT999 = \"warn\"\n").contains("no lint or category is called `ipt999`"));
        assert!(bad("[lints]\nstyle = \"loud\"\n").contains("has no level"));
        assert!(bad("[other]\n").contains("unknown section"));
        assert!(bad("[lints\n").contains("not valid TOML"));
    }
}
