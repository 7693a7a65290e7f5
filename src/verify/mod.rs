//! Verifying a connection for exactly what its mapping needs, shared by `check`,
//! `mapping validate --online`, `mapping provision` (and what the console's Mapping page
//! shows missing) and the admin API's
//! `POST /api/v1/connections/{id}/check`: each GHL capability the rules use, the token's
//! rate limits, and on Tovuti the token, the users list and every custom field, group
//! and course the mapping names; and the sample round trips (`check --sample`, the
//! console's Connection page) through the mapping.

pub mod needs;
pub mod preview;
pub mod provision;
pub mod report;
pub mod sample;
pub mod sample_tovuti;
mod sample_view;
pub mod tovuti;
mod view;

pub use report::Report;
pub use sample_view::{SampleView, Samples, round_trips};
pub use view::CheckView;

use crate::mapping::Mapping;
use crate::mapping::source::Source;
use crate::platforms::ghl::client::LocationApi;
use crate::platforms::tovuti::TovutiApi;

/// Checks both platforms for what `mapping` (read from `source`, for line numbers) needs;
/// `contact` names the GHL contact to sample (else the first one a search finds).
pub async fn check(
    ghl: &LocationApi,
    tovuti_api: Option<&dyn TovutiApi>,
    mapping: &Mapping,
    source: Source<'_>,
    contact: Option<&str>,
) -> Report {
    let ghl = ghl.verify(contact, &needs::ghl_needs(mapping)).await;
    let tovuti = match tovuti_api {
        None => None,
        Some(api) => {
            let mut report = tovuti::TovutiReport::default();
            if tovuti::check_access(api, &mut report).await {
                let wanted = needs::tovuti_needs(mapping, source);
                let catalog = tovuti::ApiCatalog(api);
                tovuti::check_catalog(&catalog, &wanted, source.file, &mut report).await;
            }
            Some(report)
        }
    };
    Report { ghl, tovuti }
}

/// A mapping file's name, text and parsed mapping: `path`, else the embedded example.
pub struct LoadedMapping {
    pub name: String,
    pub text: String,
    pub mapping: Mapping,
}

impl LoadedMapping {
    /// Reads and validates the mapping at `path` (empty: the shipped example).
    pub fn read(path: &str) -> Result<Self, String> {
        let path = (!path.is_empty()).then(|| std::path::Path::new(path));
        let (name, text) = crate::mapping::file::read_source(path)?;
        let mapping = crate::mapping::load(&name, &text).map_err(|e| e.to_string())?;
        Ok(Self {
            name,
            text,
            mapping,
        })
    }

    pub fn source(&self) -> Source<'_> {
        Source::new(&self.name, &self.text)
    }
}
