//! Data-driven configuration tests: every file in `tests/cases/invalid/` must be
//! rejected with exactly the messages in its insta snapshot; every file in
//! `tests/cases/valid/` must load. Add a case by adding a file, then review the
//! new snapshot (`INSTA_UPDATE=always cargo test -p palisade-config` writes it).

use std::path::{Path, PathBuf};

fn case_files(dir: &str) -> Vec<PathBuf> {
    // Relative to the crate directory (cargo's working directory for tests), so
    // paths in messages are the same on every machine.
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new("tests/cases").join(dir))
        .expect("case directory exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .map(|path| {
            Path::new("tests/cases")
                .join(dir)
                .join(path.file_name().expect("file name"))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases in tests/cases/{dir}");
    files
}

#[test]
fn invalid_configurations_are_rejected_with_located_messages() {
    for path in case_files("invalid") {
        let error = match palisade_config::load(&path) {
            Ok(config) => panic!("{} was accepted: {config:?}", path.display()),
            Err(error) => error,
        };
        let rendered = error.to_string();
        // Every line names the file and a line:column.
        for line in rendered.lines() {
            let prefix = format!("{}:", path.display());
            let rest = line
                .strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("no file name in {line:?}"));
            let mut position = rest.splitn(3, ':');
            for part in [position.next(), position.next()] {
                assert!(
                    part.is_some_and(|p| p.parse::<usize>().is_ok()),
                    "no line:column in {line:?}"
                );
            }
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name")
            .to_owned();
        insta::with_settings!({ snapshot_path => "cases/snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, rendered);
        });
    }
}

#[test]
fn valid_configurations_load() {
    for path in case_files("valid") {
        if let Err(error) = palisade_config::load(&path) {
            panic!("{} was rejected:\n{error}", path.display());
        }
    }
}

#[test]
fn relative_paths_are_anchored_at_the_config_directory() {
    let config =
        palisade_config::load(Path::new("tests/cases/valid/tls_site.toml")).expect("valid");
    let tls = config.sites[0].tls.as_ref().expect("tls");
    assert_eq!(tls.cert, Path::new("tests/cases/valid/../files/cert.pem"));
    assert_eq!(
        config.data_dir,
        Path::new("tests/cases/valid/palisade-data")
    );
    assert_eq!(config.sites[0].routes[0].block_status, 429);
    assert_eq!(
        config.sites[0].routes[0].mode,
        palisade_config::RouteMode::Detect
    );
}

#[test]
fn the_documented_example_loads() {
    let example = Path::new("../../docs/palisade.example.toml");
    let text = std::fs::read_to_string(example).expect("docs/palisade.example.toml exists");
    // The example refers to certificates under /etc; check it with the TLS paths
    // pointed at the test fixtures, keeping every other line (and so every key) as is.
    let text = text
        .replace(
            "/etc/palisade/tls/example.com.crt",
            "tests/cases/files/cert.pem",
        )
        .replace(
            "/etc/palisade/tls/example.com.key",
            "tests/cases/files/key.pem",
        )
        .replace(
            "/etc/palisade/tls/clients-ca.pem",
            "tests/cases/files/cert.pem",
        );
    if let Err(error) = palisade_config::parse(&text, Path::new("palisade.example.toml")) {
        panic!("docs/palisade.example.toml is invalid:\n{error}");
    }
}

#[test]
fn missing_and_oversized_files_are_reported_with_their_path() {
    let error = palisade_config::load(Path::new("tests/cases/does-not-exist.toml")).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("tests/cases/does-not-exist.toml: cannot read the configuration file:"),
        "{error}"
    );
    assert!(error.diagnostics().is_empty());

    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.toml");
    std::fs::write(
        &big,
        "#".repeat(palisade_config::MAX_CONFIG_BYTES as usize + 1),
    )
    .expect("write");
    let error = palisade_config::load(&big).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("is larger than 1048576 bytes; expected a small TOML file"),
        "{error}"
    );
}

#[test]
fn invalid_utf8_is_located() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"[log]\nlevel = \"caf\xe9\"\n").expect("write");
    let error = palisade_config::load(&path).unwrap_err();
    let diagnostic = &error.diagnostics()[0];
    assert_eq!((diagnostic.line(), diagnostic.column()), (2, 13));
    assert_eq!(
        diagnostic.message(),
        "the file is not valid UTF-8; expected a UTF-8 TOML document"
    );
}
