//! The configuration loader of the `keyward` binary (its `config.rs`,
//! compiled in here as it is): any text as the TOML settings file. A refusal
//! is one line that `keyward` can print; settings it accepts, shown as
//! `keyward check-config` shows them and fed back as the environment's
//! `KEYWARD_<SECTION>__<KEY>` variables over the same file, load to the same
//! settings (secrets, which check-config masks, aside).
#![no_main]

#[path = "../../crates/keyward/src/config.rs"]
#[allow(dead_code)]
mod loader;

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::LazyLock;

/// The settings file each input is written to (the loader reads a path):
/// one per process, in `TMPDIR`.
static FILE: LazyLock<PathBuf> = LazyLock::new(|| {
    std::env::temp_dir().join(format!("keyward-fuzz-config-{}.toml", std::process::id()))
});

fn is_masked(value: &str) -> bool {
    value == "****" || value.contains(":****@")
}

fuzz_target!(|text: &str| {
    std::fs::write(&*FILE, text).expect("write the settings file");
    let loaded = loader::load_from(Some(&FILE), std::iter::empty());
    let settings = match loaded {
        Ok(settings) => settings,
        Err(message) => {
            assert!(!message.is_empty());
            assert!(!message.contains('\n'), "{message:?}");
            return;
        }
    };
    let shown = settings.describe();
    let overlay: Vec<(String, String)> = shown
        .iter()
        .filter(|(_, value)| !is_masked(value))
        .map(|(key, value)| {
            let name = format!("KEYWARD_{}", key.to_uppercase().replace('.', "__"));
            (name, value.clone())
        })
        .collect();
    let again = loader::load_from(Some(&FILE), overlay.into_iter())
        .unwrap_or_else(|err| panic!("check-config's values refused: {err}\n{shown:?}"));
    assert_eq!(again.describe(), shown);
});
