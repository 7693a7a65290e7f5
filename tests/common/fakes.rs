//! The sandbox's fake GHL and fake Tovuti, started and wired into a configuration (for
//! the service in process) or into `BRIDGE_*` variables (for the real binary).

use std::time::Duration;

use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings, Limits};
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;

/// A fake GHL whose quota no test reaches.
pub fn roomy_ghl() -> FakeSettings {
    FakeSettings {
        limits: Limits {
            burst_max: 1_000_000,
            interval: Duration::from_secs(10),
            daily_max: 100_000_000,
        },
        ..FakeSettings::default()
    }
}

/// Points `config` at `ghl` for `location`, with a token holding every scope.
pub fn wire_ghl(config: &mut Config, ghl: &FakeGhl, location: &str) {
    config.ghl.base_url = ghl.base_url();
    config.ghl.location_id = location.to_owned();
    config.ghl.token = OptionalSecret::new(ghl.issue_token(location, ALL_SCOPES));
}

/// Points `config` at `tovuti`, which accepts `token`.
pub fn wire_tovuti(config: &mut Config, tovuti: &FakeTovuti, token: &str) {
    config.tovuti.base_url = tovuti.base_url();
    config.tovuti.token = OptionalSecret::new(token);
}

/// The binary's variables pointing it at `ghl` for `location`, with every scope.
pub fn ghl_env(ghl: &FakeGhl, location: &str) -> Vec<(&'static str, String)> {
    vec![
        ("BRIDGE_GHL_BASE_URL", ghl.base_url()),
        ("BRIDGE_GHL_LOCATION_ID", location.to_owned()),
        ("BRIDGE_GHL_TOKEN", ghl.issue_token(location, ALL_SCOPES)),
    ]
}

/// The binary's variables pointing it at `tovuti`, which accepts `token`.
pub fn tovuti_env(tovuti: &FakeTovuti, token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("BRIDGE_TOVUTI_BASE_URL", tovuti.base_url()),
        ("BRIDGE_TOVUTI_TOKEN", token.to_owned()),
    ]
}
