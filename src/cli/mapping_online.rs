//! `mapping validate --online`: checks that what a valid mapping names exists — GHL contact
//! custom fields in the configured location, Tovuti custom fields, groups and courses in
//! the configured tenant — each problem with the file line that names it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::process::ExitCode;
use std::time::Duration;

use super::EXIT_CONFIG;
use crate::config::Config;
use crate::mapping::model::{ContactRule, same_name};
use crate::mapping::source::Source;
use crate::mapping::{self, Mapping};
use crate::platforms::ghl::client::AutomationKind;
use crate::platforms::ghl::custom_fields::{self, CustomFieldDef};
use crate::platforms::tovuti::client::TovutiClient;
use crate::verify::needs::tovuti_needs;
use crate::verify::tovuti::{TovutiReport, check_access, check_catalog};

/// The shipped mapping's calendar id, which every install must replace.
const CALENDAR_PLACEHOLDER: &str = "replace-with-your-calendar-id";

/// What the online checks found, one line each.
#[derive(Debug, Default)]
pub struct Online {
    pub ok: Vec<String>,
    pub notes: Vec<String>,
    pub problems: Vec<String>,
}

/// Prints the findings; exit 0 when nothing is missing.
pub async fn run(m: &Mapping, text: &str, config: &Config) -> ExitCode {
    let found = match check(m, text, config).await {
        Ok(found) => found,
        Err((message, code)) => {
            eprintln!("error: {message}");
            return code;
        }
    };
    for line in &found.ok {
        println!("ok: {line}");
    }
    for line in &found.notes {
        println!("note: {line}");
    }
    for p in &found.problems {
        eprintln!("error: {p}");
    }
    if found.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CONFIG)
    }
}

/// Both platforms; an error only when GHL cannot be asked at all.
pub async fn check(m: &Mapping, text: &str, config: &Config) -> Result<Online, (String, ExitCode)> {
    let defs = fetch_ghl_fields(config).await?;
    let mut online = check_with(m, text, config, Some(defs)).await?;
    check_automations(m, Source::new(&m.source_name, text), config, &mut online).await;
    Ok(online)
}

/// Every campaign and workflow the rules name by name, against the location's lists.
async fn check_automations(m: &Mapping, src: Source<'_>, config: &Config, online: &mut Online) {
    let named = named_automations(m);
    if named.is_empty() {
        return;
    }
    let ghl = match super::check::connect(config).await {
        Ok(ghl) => ghl,
        Err(e) => {
            let message = format!("GHL campaigns and workflows: cannot connect: {e:#}");
            online.problems.push(message);
            return;
        }
    };
    let mut lists = HashMap::new();
    for (section, index, key, kind, name) in named {
        if let Entry::Vacant(slot) = lists.entry(kind) {
            slot.insert(ghl.automations(kind).await.map_err(|e| e.to_string()));
        }
        let dotted = match index {
            Some(i) => format!("{section}[{i}].{key}"),
            None => format!("{section}.{key}"),
        };
        let line = src.locate(section, index, Some(key));
        let at = format!("{}:{line}: `{dotted}`", src.file);
        let noun = kind.noun();
        match &lists[&kind] {
            Ok(items) if items.iter().any(|a| same_name(&a.name, &name)) => {
                online
                    .ok
                    .push(format!("GHL {noun} \"{name}\": ok, `{dotted}`"));
            }
            Ok(_) => online
                .problems
                .push(format!("{at}: GHL has no {noun} named \"{name}\"")),
            Err(e) => online
                .problems
                .push(format!("{at}: cannot list the GHL {noun}s: {e}")),
        }
    }
}

/// Where a rule names a campaign or workflow by name: section, index, key, kind, name.
type NamedAutomation = (
    &'static str,
    Option<usize>,
    &'static str,
    AutomationKind,
    String,
);

fn named_automations(m: &Mapping) -> Vec<NamedAutomation> {
    let tovuti = &m.file.tovuti;
    let mut rules: Vec<(&'static str, Option<usize>, ContactRule)> = Vec::new();
    for (section, rule) in [
        ("lms.user_created", &tovuti.user_created),
        ("lms.enrollment_created", &tovuti.enrollment_created),
    ] {
        rules.extend(rule.clone().map(|r| (section, None, r)));
    }
    for (i, c) in tovuti.courses.iter().enumerate() {
        rules.push(("lms.courses", Some(i), c.as_contact_rule()));
    }
    let mut named = Vec::new();
    for (section, index, rule) in rules {
        if let Some(name) = rule.campaign {
            named.push((section, index, "campaign", AutomationKind::Campaign, name));
        }
        if let Some(name) = rule.workflow {
            named.push((section, index, "workflow", AutomationKind::Workflow, name));
        }
    }
    named
}

/// What `serve` checks at startup: as [`check`], but a platform that is not configured
/// for it (GHL without a Private Integration Token) is noted rather than an error, and
/// a platform that cannot be reached is a problem.
pub async fn preflight(m: &Mapping, text: &str, config: &Config) -> Online {
    let ghl = config.ghl.token.is_set() && !config.ghl.location_id.is_empty();
    let defs = match ghl {
        true => match fetch_ghl_fields(config).await {
            Ok(defs) => Ok(Some(defs)),
            Err((message, _)) => Err(format!("GHL custom fields: cannot list them: {message}")),
        },
        false => Ok(None),
    };
    let failed = defs.as_ref().err().cloned();
    let reached = matches!(defs, Ok(Some(_)));
    let result = check_with(m, text, config, defs.unwrap_or(None)).await;
    let mut online = result.unwrap_or_else(|(message, _)| Online {
        problems: vec![message],
        ..Online::default()
    });
    online.problems.extend(failed);
    if reached {
        check_automations(m, Source::new(&m.source_name, text), config, &mut online).await;
    }
    if !ghl {
        online.notes.push(
            "GHL was not checked: it needs a Private Integration Token and a location              (BRIDGE_GHL_TOKEN, BRIDGE_GHL_LOCATION_ID)"
                .to_owned(),
        );
    }
    online
}

async fn check_with(
    m: &Mapping,
    text: &str,
    config: &Config,
    defs: Option<Vec<CustomFieldDef>>,
) -> Result<Online, (String, ExitCode)> {
    let src = Source::new(&m.source_name, text);
    let mut online = Online::default();
    if let Some(rule) = &m.file.tovuti.event_registered
        && rule.calendar_id == CALENDAR_PLACEHOLDER
    {
        let line = src.locate("lms.event_registered", None, Some("calendar_id"));
        online.problems.push(format!(
            "{}:{line}: `lms.event_registered.calendar_id`: still the shipped placeholder; \
             put the id of the GHL calendar that registrations should book",
            src.file
        ));
    }
    if let Some(defs) = defs {
        let ghl = mapping::remote::check_ghl(m, &defs);
        online.ok = ghl.found;
        let problems = ghl.problems.iter().map(|p| with_line(src, p));
        online.problems.extend(problems);
    }
    let client = TovutiClient::from_config(&config.tovuti).map_err(|e| {
        (
            format!("the Tovuti API configuration is unusable: {e}"),
            ExitCode::from(EXIT_CONFIG),
        )
    })?;
    let Some(client) = client else {
        online.notes.push(
            "Tovuti was not checked: no Tovuti API is configured \
             (BRIDGE_TOVUTI_BASE_URL, BRIDGE_TOVUTI_TOKEN)"
                .to_owned(),
        );
        return Ok(online);
    };
    let mut tovuti = TovutiReport::default();
    if check_access(&client, &mut tovuti).await {
        check_catalog(&client, &tovuti_needs(m, src), src.file, &mut tovuti).await;
    }
    online.ok.extend(tovuti.ok);
    online.problems.extend(tovuti.problems);
    Ok(online)
}

/// `` `fields[4].ghl`: … `` becomes `` m.toml:57: `fields[4].ghl`: … ``.
fn with_line(src: Source<'_>, problem: &str) -> String {
    let key = problem.strip_prefix('`').and_then(|r| r.split('`').next());
    let Some((section, key)) = key.and_then(|k| k.rsplit_once('.')) else {
        return problem.to_owned();
    };
    let (section, index) = match section.strip_suffix(']').and_then(|s| s.split_once('[')) {
        Some((name, i)) => (name, i.parse().ok()),
        None => (section, None),
    };
    let line = src.locate(section, index, Some(key));
    format!("{}:{line}: {problem}", src.file)
}

async fn fetch_ghl_fields(config: &Config) -> Result<Vec<CustomFieldDef>, (String, ExitCode)> {
    let ghl = &config.ghl;
    let (Some(token), false) = (ghl.token.expose(), ghl.location_id.is_empty()) else {
        let message = "--online needs a Private Integration Token and a location \
                       (BRIDGE_GHL_TOKEN, BRIDGE_GHL_LOCATION_ID)";
        return Err((message.to_owned(), ExitCode::from(EXIT_CONFIG)));
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .user_agent(concat!("tovuti-ghl-bridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            (
                format!("cannot build an HTTP client: {e}"),
                ExitCode::FAILURE,
            )
        })?;
    custom_fields::list_contact_fields(&http, &ghl.base_url, token, &ghl.location_id)
        .await
        .map_err(|e| (e.to_string(), ExitCode::FAILURE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OptionalSecret;
    use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
    use crate::sandbox::tovuti::FakeTovuti;

    const TEXT: &str = "version = 1\n\n[[fields]]\nghl = { key = \"contact.level\" }\n\
                        tovuti = { field_id = 23 }\ndirection = \"to_ghl\"\n\n[ghl]\nnew_user_group_ids = [2]\n\n\
                        [[lms.courses]]\ncourse_id = 101\n";

    #[tokio::test]
    async fn both_platforms_are_checked_and_each_problem_has_its_line() {
        let ghl = FakeGhl::start(FakeSettings::default()).await.unwrap();
        let tovuti = FakeTovuti::start("6|t").await.unwrap();
        tovuti.insert_group(2, "Registered");
        let mut config = Config::defaults();
        config.ghl.base_url = ghl.base_url();
        config.ghl.location_id = "loc-1".into();
        config.ghl.token = OptionalSecret::new(ghl.issue_token("loc-1", ALL_SCOPES));
        config.tovuti.base_url = tovuti.base_url();
        config.tovuti.token = OptionalSecret::new("6|t");
        let m = mapping::load("m.toml", TEXT).unwrap();

        let found = check(&m, TEXT, &config).await.unwrap();
        assert_eq!(
            found.problems,
            [
                "m.toml:4: `fields[0].ghl`: GHL has no contact custom field with key `contact.level`",
                "m.toml:5: `fields[0].tovuti`: Tovuti has no custom field with id 23",
                "m.toml:12: `lms.courses[0].course_id`: Tovuti has no course with id 101",
            ]
        );
        assert!(
            found
                .ok
                .iter()
                .any(|l| l.contains("user group 2 (Registered)")),
            "{found:?}"
        );

        config.tovuti.base_url = String::new();
        let found = check(&m, TEXT, &config).await.unwrap();
        assert_eq!(found.problems.len(), 1);
        assert!(
            found.notes[0].starts_with("Tovuti was not checked"),
            "{found:?}"
        );
    }

    #[tokio::test]
    async fn a_workflow_named_by_name_must_exist_in_the_location() {
        let ghl = FakeGhl::start(FakeSettings::default()).await.unwrap();
        ghl.define_automation(true, "wf-1", "New enrollment");
        let mut config = Config::defaults();
        config.ghl.base_url = ghl.base_url();
        config.ghl.location_id = "loc-1".into();
        config.ghl.token = OptionalSecret::new(ghl.issue_token("loc-1", ALL_SCOPES));
        let text = "version = 1\n\n[lms.enrollment_created]\nworkflow = \"new enrollment\"\n\n\
                    [[lms.courses]]\ncourse_id = 5\nworkflow = \"Gone\"\n";
        let m = mapping::load("m.toml", text).unwrap();

        let found = check(&m, text, &config).await.unwrap();
        assert_eq!(
            found.problems,
            ["m.toml:8: `lms.courses[0].workflow`: GHL has no workflow named \"Gone\""]
        );
        assert!(
            found
                .ok
                .iter()
                .any(|l| l.contains("workflow \"new enrollment\": ok")),
            "{found:?}"
        );
    }
}
