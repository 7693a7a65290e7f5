//! A whole sandbox in one process: both fakes started, a configuration pointed at them and
//! freshly generated webhook credentials, shared by `demo` and `serve --sandbox`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use rand::RngCore as _;

use super::faults::RandomFaults;
use super::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use super::tovuti::FakeTovuti;
use crate::config::{Config, OptionalSecret};
use crate::store::Cipher;

/// The id of the workflow the shipped mapping names, as the sandbox location defines it.
pub const EXAMPLE_WORKFLOW_ID: &str = "wf-new-enrollment";

/// The GHL location the sandbox connection syncs.
pub const LOCATION: &str = "sandbox-location";

/// Environment variable naming faults for both fakes' writes (`SHARE[:KIND,...]`, see
/// [`RandomFaults`]); outside `BRIDGE_`, as it configures the fakes, not the service.
pub const FAULTS_VAR: &str = "SANDBOX_FAULTS";

/// Environment variable asking for that many learners already in the fake Tovuti, each
/// enrolled in the example course, as a tenant has before the service is connected (what
/// a backfill brings over); outside `BRIDGE_` like [`FAULTS_VAR`].
pub const LEARNERS_VAR: &str = "SANDBOX_LEARNERS";

/// The bearer token the fake Tovuti accepts; nothing real is behind it.
const TOVUTI_TOKEN: &str = "sandbox|tovuti-token";

/// Running fakes and the credentials a sender needs to reach the service.
pub struct Sandbox {
    pub ghl: FakeGhl,
    pub tovuti: FakeTovuti,
    /// Signs GHL deliveries; the service verifies with its public half.
    pub ghl_signing_key: SigningKey,
    /// Signs Tovuti deliveries (Standard Webhooks).
    pub tovuti_secret: String,
}

impl Sandbox {
    /// Starts both fakes on `127.0.0.1`, port 0, with fresh webhook credentials, failing
    /// a share of their writes when [`FAULTS_VAR`] asks for it.
    pub async fn start() -> anyhow::Result<Self> {
        let ghl = FakeGhl::start(FakeSettings::default())
            .await
            .context("starting the sandbox GHL")?;
        let tovuti = FakeTovuti::start(TOVUTI_TOKEN)
            .await
            .context("starting the sandbox Tovuti")?;
        tovuti.insert_example_catalog();
        ghl.define_automation(true, EXAMPLE_WORKFLOW_ID, "New enrollment");
        if let Ok(count) = std::env::var(LEARNERS_VAR) {
            let count: u64 = count
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{LEARNERS_VAR}: a number of learners"))?;
            seed_learners(&tovuti, count.min(10_000))?;
        }
        if let Ok(spec) = std::env::var(FAULTS_VAR) {
            let faults: RandomFaults = spec
                .parse()
                .map_err(|e| anyhow::anyhow!("{FAULTS_VAR}: {e}"))?;
            ghl.inject_randomly(faults.clone());
            tovuti.inject_randomly(RandomFaults {
                seed: faults.seed.wrapping_add(1),
                ..faults
            });
        }
        Ok(Self {
            ghl,
            tovuti,
            ghl_signing_key: SigningKey::from_bytes(&random_bytes()),
            tovuti_secret: format!("whsec_{}", STANDARD.encode(random_bytes())),
        })
    }

    /// Points the platforms and webhook verification of `config` at the sandbox; an
    /// encryption key is generated when none is configured.
    pub fn configure(&self, config: &mut Config) -> anyhow::Result<()> {
        config.ghl.base_url = self.ghl.base_url();
        config.ghl.location_id = LOCATION.to_owned();
        config.ghl.token = OptionalSecret::new(self.ghl.issue_token(LOCATION, ALL_SCOPES));
        config.tovuti.base_url = self.tovuti.base_url();
        config.tovuti.token = OptionalSecret::new(TOVUTI_TOKEN);
        config.webhooks.ghl.public_key = self
            .ghl_signing_key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .context("encoding the sandbox GHL public key")?;
        config.webhooks.tovuti.secrets = OptionalSecret::new(self.tovuti_secret.clone());
        if !config.security.encryption_key.is_set() {
            config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
        }
        Ok(())
    }

    /// The GHL signing key as PKCS#8 PEM, the form `send-test-event --key` reads.
    pub fn ghl_private_key_pem(&self) -> anyhow::Result<String> {
        let pem = self
            .ghl_signing_key
            .to_pkcs8_pem(LineEnding::LF)
            .context("encoding the sandbox GHL private key")?;
        Ok(pem.as_str().to_owned())
    }
}

/// `count` learners `learner{n}@example.com`, each enrolled in the example course.
fn seed_learners(tovuti: &FakeTovuti, count: u64) -> anyhow::Result<()> {
    let course = super::tovuti::EXAMPLE_COURSES[0].0;
    for n in 1..=count {
        let id = super::tovuti::FIRST_ID + n;
        let user = serde_json::from_value(serde_json::json!({
            "id": id,
            "name": format!("Learner {n}"),
            "email": format!("learner{n}@example.com"),
            "status": "active",
        }))
        .context("a sample learner")?;
        tovuti.insert_user(user);
        tovuti.enroll(id, course);
    }
    Ok(())
}

/// 32 bytes from the operating system: an Ed25519 seed or a webhook secret.
fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A fresh directory under the system's temporary directory, removed with everything in it
/// when dropped, so a sandbox run leaves no database or key behind.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn create(prefix: &str) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir is harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
