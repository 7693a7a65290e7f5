//! `migrate`: apply pending migrations and exit.

use std::path::Path;
use std::process::ExitCode;

use super::load_or_report;
use crate::store::{self, Cipher};

pub async fn run(file: Option<&Path>) -> ExitCode {
    let loaded = match load_or_report(file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let config = &loaded.config.store;
    // Migrations never touch credentials, so no key is needed here.
    let outcome = async {
        let store = store::connect(config, None::<Cipher>).await?;
        store.migrate().await?;
        store.close().await;
        anyhow::Ok(())
    };
    match outcome.await {
        Ok(()) => {
            println!("migrations applied to {}", config.url);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: migrating {} failed: {error:#}", config.url);
            ExitCode::FAILURE
        }
    }
}
