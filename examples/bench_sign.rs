//! Pre-signs unique deliveries for `bench/intake.sh`: the load tool cannot sign, so every
//! request it sends is read from these files, one file per load-generator thread.
//!
//! Usage: `bench_sign ghl|tovuti COUNT THREADS OUT_PREFIX KEY LOCATION`
//! (`BENCH_DISTINCT_LEARNERS=1`: each Tovuti delivery about a learner of its own)
//! where KEY is an Ed25519 PKCS#8 PEM file (ghl) or a `whsec_` secret (tovuti). Each line is
//! tab-separated: `signature<TAB>body` (ghl) or `id<TAB>timestamp<TAB>signature<TAB>body`.

use std::fs::File;
use std::io::{BufWriter, Write as _};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use jiff::Timestamp;
use tovuti_ghl_bridge::platforms::tovuti::WebhookSecret;
use tovuti_ghl_bridge::sandbox::samples;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [platform, count, threads, prefix, key, location] = args.as_slice() else {
        bail!("usage: bench_sign ghl|tovuti COUNT THREADS OUT_PREFIX KEY LOCATION");
    };
    let count: usize = count.parse().context("COUNT")?;
    let threads: usize = threads.parse().context("THREADS")?;
    let mut files = (0..threads)
        .map(|t| File::create(format!("{prefix}.{t}")).map(BufWriter::new))
        .collect::<Result<Vec<_>, _>>()?;
    let now = Timestamp::now();
    let run = uuid::Uuid::now_v7().simple().to_string();
    let line = line_writer(platform, key, location, now)?;
    for n in 0..count {
        let text = line(&format!("bench_{run}_{n}"));
        writeln!(files[n % threads], "{text}")?;
    }
    for mut file in files {
        file.flush()?;
    }
    Ok(())
}

type LineFn = Box<dyn Fn(&str) -> String>;

fn line_writer(
    platform: &str,
    key: &str,
    location: &str,
    now: Timestamp,
) -> anyhow::Result<LineFn> {
    let location = location.to_owned();
    match platform {
        "ghl" => {
            let pem = std::fs::read_to_string(key).with_context(|| format!("reading {key}"))?;
            let key =
                ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).context("Ed25519 PKCS#8 PEM")?;
            Ok(Box::new(move |id| {
                let body = samples::ghl("ContactUpdate", &location, id, now).to_string();
                let signature = STANDARD.encode(key.sign(body.as_bytes()).to_bytes());
                format!("{signature}\t{body}")
            }))
        }
        "tovuti" => {
            let secret = WebhookSecret::parse(key)?;
            // Each delivery about a learner of its own when asked (a drain without
            // coalescing); otherwise all about the sample learner.
            let distinct = std::env::var_os("BENCH_DISTINCT_LEARNERS").is_some();
            let learners = std::cell::Cell::new(100_000_u64);
            Ok(Box::new(move |id| {
                let mut body = samples::tovuti("user.updated", id, now);
                if distinct {
                    let learner = learners.get();
                    learners.set(learner + 1);
                    body["data"]["user"]["id"] = serde_json::json!(learner);
                    body["data"]["user"]["email"] =
                        serde_json::json!(format!("learner{learner}@bench.example"));
                }
                let body = body.to_string();
                let signature = secret.sign(id, now.as_second(), body.as_bytes());
                format!("{id}\t{}\t{signature}\t{body}", now.as_second())
            }))
        }
        other => bail!("unknown platform {other}"),
    }
}
