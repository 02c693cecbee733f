//! The names of settings: the ones this version reads, the ones SPEC §1
//! names that are not built yet, and "did you mean" suggestions for the
//! rest. A typo in a TOML key or a `LIVEREC_*` variable is reported at
//! start-up instead of being dropped without a word.

use std::fmt;
use std::sync::OnceLock;

/// Every setting of [`super::Config`], as a TOML key (the environment
/// variable is `LIVEREC_` + the upper-case name). Taken from the struct
/// itself, so a new field cannot be forgotten here.
pub(super) fn known() -> &'static [String] {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN.get_or_init(|| match serde_json::to_value(super::Config::default()) {
        Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
        _ => Vec::new(),
    })
}

fn is_known(key: &str) -> bool {
    known().iter().any(|k| k == key)
}

/// Settings SPEC §1 names that this version does not implement yet.
const PLANNED: &[&str] = &[];

/// `LIVEREC_*` variables that are not settings of [`super::Config`] but
/// are read elsewhere (`LIVEREC_LOG_FORMAT` by the command line).
const OTHER_ENV: &[&str] = &["log_format"];

/// Prefixes of `LIVEREC_*` variables that belong to the project's test and
/// benchmark tools, not to the server.
const TOOL_ENV_PREFIXES: &[&str] = &["test_", "bench_"];

/// Where an unknown setting was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A `LIVEREC_*` environment variable.
    Env,
    /// A key of the TOML file.
    File,
}

/// A setting liverec does not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// Where it was found.
    pub source: Source,
    /// The name as written (the variable's full name for [`Source::Env`]).
    pub name: String,
    /// What it probably meant.
    pub hint: Hint,
}

/// What an unknown setting probably meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hint {
    /// SPEC §1 names it, but this version does not implement it.
    NotYet,
    /// The closest known setting.
    Closest(&'static str),
    /// Nothing close.
    Nothing,
}

impl Unknown {
    fn new(source: Source, name: String, key: &str) -> Unknown {
        let hint = if PLANNED.contains(&key) {
            Hint::NotYet
        } else {
            closest(key).map_or(Hint::Nothing, Hint::Closest)
        };
        Unknown { source, name, hint }
    }

    fn spelled(&self, key: &str) -> String {
        match self.source {
            Source::Env => format!("LIVEREC_{}", key.to_ascii_uppercase()),
            Source::File => key.to_string(),
        }
    }
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.source {
            Source::Env => "environment variable",
            Source::File => "configuration key",
        };
        match &self.hint {
            Hint::NotYet => write!(
                f,
                "{what} {} is not supported by this liverec version yet",
                self.name
            ),
            Hint::Closest(k) => write!(
                f,
                "unknown {what} {}; did you mean {}?",
                self.name,
                self.spelled(k)
            ),
            Hint::Nothing => write!(f, "unknown {what} {}", self.name),
        }
    }
}

/// The `LIVEREC_*` variables among `vars` that liverec does not read.
pub fn unknown_env(vars: impl IntoIterator<Item = (String, String)>) -> Vec<Unknown> {
    let mut out: Vec<Unknown> = vars
        .into_iter()
        .filter_map(|(name, _)| {
            let key = name.strip_prefix("LIVEREC_")?.to_ascii_lowercase();
            let ours = is_known(&key)
                || OTHER_ENV.contains(&key.as_str())
                || TOOL_ENV_PREFIXES.iter().any(|p| key.starts_with(p));
            (!ours).then(|| Unknown::new(Source::Env, name.clone(), &key))
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The keys among `keys` (of a TOML file) that liverec does not read.
pub(super) fn unknown_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<Unknown> {
    keys.into_iter()
        .filter(|k| !is_known(k))
        .map(|k| Unknown::new(Source::File, k.to_string(), &k.to_ascii_lowercase()))
        .collect()
}

/// The known setting nearest to `key` by edit distance, if it is near
/// enough to be a typo (at most a third of the name's length, and ≥ 2).
fn closest(key: &str) -> Option<&'static str> {
    let limit = (key.len() / 3).max(2);
    known()
        .iter()
        .map(|k| (levenshtein(key, k), k.as_str()))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Edit distance (insertions, deletions, substitutions) between two
/// ASCII-ish names; names are short, so the quadratic table is fine.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| (n.to_string(), "x".to_string()))
            .collect()
    }

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("abc", "abc"), 0);
        assert_eq!(levenshtein("abc", "abd"), 1);
        assert_eq!(levenshtein("abc", "ab"), 1);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }

    #[test]
    fn typos_name_the_closest_setting() {
        let u = unknown_env(env(&["LIVEREC_PREROL_SECONDS", "LIVEREC_API_LISTN"]));
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].hint, Hint::Closest("api_listen"));
        assert_eq!(
            u[0].to_string(),
            "unknown environment variable LIVEREC_API_LISTN; did you mean LIVEREC_API_LISTEN?"
        );
        assert_eq!(u[1].hint, Hint::Closest("preroll_seconds"));
        let k = unknown_keys(["preroll_secs"]);
        assert_eq!(
            k[0].to_string(),
            "unknown configuration key preroll_secs; did you mean preroll_seconds?"
        );
    }

    #[test]
    fn planned_and_far_names() {
        let cases = [(
            "LIVEREC_ZZZZZZZZZZZZ",
            Hint::Nothing,
            "unknown environment variable LIVEREC_ZZZZZZZZZZZZ",
        )];
        for (name, hint, text) in cases {
            let u = unknown_env(env(&[name]));
            assert_eq!((&u[0].hint, u[0].to_string().as_str()), (&hint, text));
        }
        // The S3 settings are built now.
        assert!(unknown_keys(["s3_region", "s3_endpoint", "s3_path_style"]).is_empty());
        assert!(
            unknown_keys([
                "callback_url",
                "callback_key",
                "callback_retry_seconds",
                "reconnect_window_seconds"
            ])
            .is_empty()
        );
    }

    #[test]
    fn known_tool_and_foreign_variables_are_quiet() {
        let u = unknown_env(env(&[
            "LIVEREC_DATA_DIR",
            "LIVEREC_data_dir",
            "LIVEREC_LOG_FORMAT",
            "LIVEREC_TEST_PYTHON",
            "LIVEREC_BENCH_REEXEC",
            "PATH",
            "LIVERECX_FOO",
        ]));
        assert_eq!(u, []);
        assert!(unknown_keys(known().iter().map(String::as_str)).is_empty());
        assert!(known().iter().any(|k| k == "rtmp_write_timeout_seconds"));
        for k in ["tls_cert", "tls_key", "rtmps_listen"] {
            assert!(known().iter().any(|n| n == k), "{k}");
        }
        assert!(known().len() > 30, "{:?}", known());
    }
}
