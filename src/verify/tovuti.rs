//! The Tovuti half of `check` and `mapping validate --online`: the token works, users can
//! be read, and every custom field, group and course the mapping names exists.

use std::collections::HashMap;

use super::needs::TovutiNeed;
use crate::mapping::model::same_name;
use crate::platforms::tovuti::client::{
    CatalogItem, CatalogKind, TovutiApi, TovutiCatalog, TovutiError,
};

/// An address no user has: looking it up reads `/users` without touching anyone.
const PROBE_EMAIL: &str = "bridge-check@example.invalid";

/// What the Tovuti checks found: lines that passed and problems, each one line of text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TovutiReport {
    pub ok: Vec<String>,
    pub problems: Vec<String>,
}

impl TovutiReport {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Token and users: one `GET /users` for an address nobody has.
pub async fn check_access(api: &dyn TovutiApi, report: &mut TovutiReport) -> bool {
    match api.find_user_by_email(PROBE_EMAIL).await {
        Ok(_) => {
            report
                .ok
                .push("tovuti users.read: ok (token accepted)".into());
            true
        }
        Err(error) => {
            report.problems.push(access_problem(&error));
            false
        }
    }
}

fn access_problem(error: &TovutiError) -> String {
    match error.status() {
        Some(401) => format!("tovuti token: unauthorized (Tovuti refused the token: {error})"),
        Some(403) => format!("tovuti users.read: forbidden ({error})"),
        _ => format!("tovuti users.read: failed ({error})"),
    }
}

/// Checks each record `needs` names against the tenant's lists (each list read once).
pub async fn check_catalog(
    catalog: &dyn TovutiCatalog,
    needs: &[TovutiNeed],
    file: &str,
    report: &mut TovutiReport,
) {
    let lists = read_lists(catalog, needs, &mut report.problems).await;
    for need in needs {
        match lists.find(need) {
            None => {}
            Some(Found::Same((id, title))) => report.ok.push(format!(
                "tovuti {} {id} ({title}): ok, `{}`",
                need.kind.noun(),
                need.key
            )),
            Some(other) => report.problems.extend(other.problem(file, need)),
        }
    }
}

/// The tenant's custom fields, groups and courses as `(id, title)`, by kind; a kind no
/// need names is not read, and one that cannot be read is absent (and a problem).
pub struct Lists(HashMap<CatalogKind, Vec<(u64, String)>>);

/// Reads each list `needs` names once; a list that fails is reported in `problems`.
pub async fn read_lists(
    catalog: &dyn TovutiCatalog,
    needs: &[TovutiNeed],
    problems: &mut Vec<String>,
) -> Lists {
    let mut lists = HashMap::new();
    for kind in [
        CatalogKind::CustomFields,
        CatalogKind::Groups,
        CatalogKind::Courses,
    ] {
        if !needs.iter().any(|n| n.kind == kind) {
            continue;
        }
        match catalog.list(kind).await {
            Ok(items) => {
                let items = items
                    .iter()
                    .map(|i| (i.id.0, i.label().unwrap_or("").to_owned()));
                lists.insert(kind, items.collect());
            }
            Err(why) => {
                let noun = kind.noun();
                problems.push(format!("tovuti {noun}s: cannot list them: {why}"));
            }
        }
    }
    Lists(lists)
}

/// What the tenant has for one need.
pub enum Found<'a> {
    /// The record, as named.
    Same(&'a (u64, String)),
    /// The id exists but is titled otherwise than the mapping names it.
    Retitled(&'a (u64, String)),
    Absent,
}

impl Lists {
    /// `None` when the need's list could not be read.
    pub fn find(&self, need: &TovutiNeed) -> Option<Found<'_>> {
        let items = self.0.get(&need.kind)?;
        let by_name =
            |(_, title): &&(u64, String)| need.name.as_deref().is_some_and(|n| same_name(title, n));
        let found = match need.id {
            Some(want) => items.iter().find(|(id, _)| *id == want),
            None => items.iter().find(by_name),
        };
        Some(match found {
            Some(item) if need.id.is_some() && need.name.is_some() && !by_name(&item) => {
                Found::Retitled(item)
            }
            Some(item) => Found::Same(item),
            None => Found::Absent,
        })
    }
}

impl Found<'_> {
    /// The problem line for `need` (in `file`); `None` when the record is as named.
    pub fn problem(&self, file: &str, need: &TovutiNeed) -> Option<String> {
        let at = format!("{file}:{}: `{}`", need.line, need.key);
        let noun = need.kind.noun();
        Some(match self {
            Found::Same(_) => return None,
            Found::Retitled((id, title)) => format!(
                "{at}: Tovuti's {noun} with id {id} is titled \"{title}\", not {}",
                need.describe()
            ),
            Found::Absent => format!(
                "{at}: Tovuti has no {noun} {}",
                match need.id {
                    Some(id) => format!("with id {id}"),
                    None => format!("named {}", need.describe()),
                }
            ),
        })
    }
}

/// Any Tovuti API read as a catalog; a client that cannot read catalogs says so as an
/// unreachable list rather than as a list with nothing in it.
pub struct ApiCatalog<'a>(pub &'a dyn TovutiApi);

#[async_trait::async_trait]
impl TovutiCatalog for ApiCatalog<'_> {
    async fn list(&self, kind: CatalogKind) -> Result<Vec<CatalogItem>, TovutiError> {
        self.0.catalog(kind).await.unwrap_or_else(|| {
            Err(TovutiError::Unreachable {
                endpoint: kind.endpoint(),
                detail: "this client cannot read the tenant's catalog".into(),
            })
        })
    }
}
