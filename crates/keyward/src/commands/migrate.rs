//! `keyward migrate`: bring the schema up to date and exit.

use keyward_core::settings::Settings;

use super::{CommandError, open};

pub async fn run(settings: Settings) -> Result<(), CommandError> {
    let kw = open(settings).await?;
    println!("The {} database is up to date.", kw.db().backend().name());
    kw.db().close().await;
    Ok(())
}
