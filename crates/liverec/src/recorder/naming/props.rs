//! Property tests of recorded files' names: whatever the stream's names and
//! the template's VodFileName, the storage key is one the storage accepts,
//! three directories and a file name, each a safe part.

use proptest::prelude::*;

use super::*;

fn safe_part(p: &str) -> bool {
    !p.is_empty()
        && p != "."
        && p != ".."
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check_key(key: &str) -> Result<(), TestCaseError> {
    let parts: Vec<&str> = key.split('/').collect();
    prop_assert_eq!(parts.len(), 4, "{}", key);
    for p in parts {
        prop_assert!(safe_part(p), "{:?} in {:?}", p, key);
    }
    let dir = tempfile::tempdir().unwrap();
    let storage = crate::storage::Storage::open(dir.path()).unwrap();
    let path = storage.path_of(&format!("{key}.flv")).unwrap();
    prop_assert!(path.starts_with(dir.path()));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn keys_are_path_safe(
        (domain, app, stream) in any::<(String, String, String)>(),
        (task, name) in any::<(String, String)>(),
        (start, end) in any::<(i64, i64)>(),
    ) {
        let key = StreamKey { domain, app, stream };
        check_key(&storage_base(&key, &task, start))?;
        check_key(&named_base(&name, &key, &task, start, end))?;
        check_key(&named_base("{StreamID}/../{Domain}", &key, &task, start, end))?;
    }

    #[test]
    fn escaping_names_stay_inside(
        name in "(\\.\\.|/|\\{StreamID\\}|\\{AppName\\}|\\{Domain\\}|\\\\){1,8}",
        stream in "(\\.\\.|/|\\.){1,4}",
    ) {
        let key = StreamKey { domain: "..".into(), app: "/".into(), stream };
        check_key(&named_base(&name, &key, "", 0, 0))?;
    }
}
