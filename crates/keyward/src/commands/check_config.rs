//! `keyward check-config`: print the effective settings, secrets masked.

use keyward_core::settings::Settings;

use super::CommandError;

pub fn run(settings: &Settings) -> Result<(), CommandError> {
    for (key, value) in settings.describe() {
        println!("{key} = {value}");
    }
    println!("# The settings are valid.");
    Ok(())
}
