//! `mapping validate [FILE] [--online]` (online checks in `mapping_online`) and `mapping preview [--mapping FILE] EVENT.json [--json]`:
//! check a mapping file, and show what an event would do, without sending anything.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::mapping::file::read_source;
use crate::mapping::{self, Plan};
use crate::verify::preview::plan_event;

use super::{EXIT_CONFIG, load_or_report, mapping_online as online};

/// sysexits EX_DATAERR: the event file is not an event.
const EXIT_DATA: u8 = 65;

#[derive(Debug, clap::Subcommand)]
pub enum MappingCommand {
    /// Validate a mapping file (default: the configured one) and report every problem.
    Validate(ValidateArgs),
    /// Print the actions a sample event would plan, without sending anything.
    Preview(PreviewArgs),
    /// List what the mapping needs that GHL and Tovuti lack; `--apply` creates the missing
    /// GHL custom fields (Tovuti's are listed for an admin to create).
    Provision(super::provision::ProvisionArgs),
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The mapping file; default `mapping.file` from the configuration, else the built-in example.
    pub file: Option<PathBuf>,
    /// Also check that what it names exists: GHL custom fields in the configured location,
    /// Tovuti custom fields, groups and courses in the configured tenant.
    #[arg(long)]
    pub online: bool,
}

#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// The mapping file; default as for `validate`.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// A GHL webhook body or a Tovuti event (`{id, type, data}`), as JSON.
    pub event: PathBuf,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(config: Option<&Path>, command: MappingCommand) -> ExitCode {
    match command {
        MappingCommand::Validate(args) => validate(config, &args).await,
        MappingCommand::Preview(args) => preview(config, &args),
        MappingCommand::Provision(args) => super::provision::run(config, &args).await,
    }
}

/// The mapping named on the command line, else the configured one, else the built-in example.
fn source(explicit: Option<&Path>, config: Option<&Path>) -> Result<(String, String), ExitCode> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let loaded = load_or_report(config)?;
            Some(PathBuf::from(loaded.config.mapping.file)).filter(|p| !p.as_os_str().is_empty())
        }
    };
    read_source(path.as_deref()).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

async fn validate(config: Option<&Path>, args: &ValidateArgs) -> ExitCode {
    let (name, text) = match source(args.file.as_deref(), config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let m = match mapping::load(&name, &text) {
        Ok(m) => m,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    println!("{name}: valid ({} field pairs)", m.file.fields.len());
    if !args.online {
        return ExitCode::SUCCESS;
    }
    match load_or_report(config) {
        Ok(loaded) => online::run(&m, &text, &loaded.config).await,
        Err(code) => code,
    }
}

fn preview(config: Option<&Path>, args: &PreviewArgs) -> ExitCode {
    let (name, text) = match source(args.mapping.as_deref(), config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let m = match mapping::load(&name, &text) {
        Ok(m) => m,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let body = match std::fs::read(&args.event) {
        Ok(body) => body,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.event.display());
            return ExitCode::from(EXIT_DATA);
        }
    };
    match plan_event(&m, &body, jiff::Timestamp::now()) {
        Ok(plan) if args.json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&plan).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(plan) => {
            print!("{}", render(&plan));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_DATA)
        }
    }
}

/// The plan as readable text: one numbered action per block, then problems and notes.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let n = plan.actions.len();
    let _ = writeln!(
        out,
        "event {} ({}): {n} action{}",
        plan.event_id,
        plan.event_type,
        if n == 1 { "" } else { "s" }
    );
    for (i, action) in plan.actions.iter().enumerate() {
        let _ = writeln!(out, "{:>3}. {}  [{}]", i + 1, action.name(), action.key());
        let mut detail = serde_json::to_value(action).unwrap_or_default();
        if let Some(o) = detail.as_object_mut() {
            o.remove("action");
            o.remove("key");
        }
        for line in serde_json::to_string_pretty(&detail)
            .unwrap_or_default()
            .lines()
        {
            let _ = writeln!(out, "       {line}");
        }
    }
    for p in &plan.problems {
        let _ = writeln!(out, "problem: {}: {}", p.field, p.message);
    }
    for note in &plan.notes {
        let _ = writeln!(out, "note: {note}");
    }
    if let Some(f) = &plan.source_fingerprint {
        let _ = writeln!(out, "fingerprint: {f}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Mapping;

    fn example() -> Mapping {
        mapping::load(mapping::EXAMPLE_NAME, mapping::EXAMPLE).unwrap()
    }

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
    }

    #[test]
    fn a_tovuti_event_previews_as_numbered_actions() {
        let now = "2026-11-29T00:00:00Z".parse().unwrap();
        let plan = plan_event(
            &example(),
            &fixture("tests/fixtures/tovuti/course.completed.json"),
            now,
        )
        .unwrap();
        let text = render(&plan);
        assert!(text.starts_with("event evt_"), "{text}");
        assert!(
            text.contains("  1. upsert_contact  [upsert_contact:"),
            "{text}"
        );
        assert!(text.contains("  2. create_task  [create_task:"), "{text}");
        assert!(
            text.contains("\"dueDate\": \"2026-12-01T00:00:00Z\""),
            "{text}"
        );
    }

    #[test]
    fn a_ghl_webhook_is_recognised_and_previewed() {
        let now = "2026-11-29T00:00:00Z".parse().unwrap();
        let plan = plan_event(
            &example(),
            &crate::platforms::ghl::spec_files::webhook_example("ContactDelete")
                .unwrap_or_else(|message| panic!("{message}")),
            now,
        )
        .unwrap();
        assert_eq!(plan.event_type, "ContactDelete");
        assert_eq!(plan.actions[0].name(), "unlink");
    }

    #[test]
    fn a_broken_file_fails_with_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        std::fs::write(
            &path,
            "version = 1\n[[fields]]\nghl = \"email\"\ntovuti = \"email\"\ntpye = \"email\"\n",
        )
        .unwrap();
        let (name, text) = read_source(Some(&path)).unwrap();
        let err = mapping::load(&name, &text).unwrap_err().to_string();
        assert!(
            err.contains("m.toml:5: `fields[0].tpye`: unknown field `tpye`"),
            "{err}"
        );
    }

    #[test]
    fn the_subcommands_parse() {
        use clap::Parser as _;
        let cli = crate::cli::Cli::try_parse_from([
            "bridge", "mapping", "validate", "m.toml", "--online",
        ])
        .unwrap();
        let Some(crate::cli::Command::Mapping(MappingCommand::Validate(v))) = cli.command else {
            panic!()
        };
        assert!(v.online);
        assert_eq!(v.file.as_deref(), Some(Path::new("m.toml")));
        let cli = crate::cli::Cli::try_parse_from([
            "bridge",
            "mapping",
            "preview",
            "--mapping",
            "m.toml",
            "e.json",
            "--json",
        ])
        .unwrap();
        let Some(crate::cli::Command::Mapping(MappingCommand::Preview(p))) = cli.command else {
            panic!()
        };
        assert!(p.json);
        assert_eq!(p.event, Path::new("e.json"));
    }

    #[test]
    fn the_configured_default_is_the_built_in_example() {
        let (name, text) = read_source(None).unwrap();
        assert_eq!(name, mapping::EXAMPLE_NAME);
        assert!(mapping::load(&name, &text).is_ok());
    }

    #[test]
    fn the_configured_mapping_file_is_validated_for_serve() {
        let broken =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mapping/broken.toml");
        let env = [(
            "BRIDGE_MAPPING_FILE".to_owned(),
            broken.display().to_string(),
        )];
        let loaded = crate::config::load_from(None, env).unwrap();
        let err = crate::mapping::file::load_configured(&loaded.config).unwrap_err();
        assert!(err.contains("broken.toml:17: `fields[2].type`"), "{err}");
        let loaded = crate::config::load_from(None, Vec::<(String, String)>::new()).unwrap();
        assert!(crate::mapping::file::load_configured(&loaded.config).is_ok());
    }

    #[test]
    fn garbage_is_not_an_event() {
        let now = jiff::Timestamp::UNIX_EPOCH;
        assert!(plan_event(&example(), b"[]", now).is_err());
        assert!(plan_event(&example(), b"{\"type\": \"user.created\"}", now).is_err());
    }
}
