//! The configuration a test starts from: the shipped defaults on a scratch database.

use tovuti_ghl_bridge::config::{Config, DatabaseUrl, OptionalSecret, StoreConfig};
use tovuti_ghl_bridge::store::Cipher;

use super::ScratchDb;

/// The default store settings on the database at `url`.
pub fn store_config(url: &str) -> StoreConfig {
    let mut config = Config::defaults().store;
    config.url = DatabaseUrl::new(url);
    config
}

/// The defaults with the store on `db`.
pub fn config_on(db: &ScratchDb) -> Config {
    let mut config = Config::defaults();
    config.store.url = DatabaseUrl::new(db.url());
    config
}

/// [`config_on`] with a fresh encryption key, so credentials can be stored.
pub fn config_with_key(db: &ScratchDb) -> Config {
    let mut config = config_on(db);
    config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
    config
}
