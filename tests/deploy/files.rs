//! Reading the kit: the manifests of each layout, the rules file, the dashboard.

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every YAML document of the files in `dir` (not recursive), with the file it came from.
pub fn documents(dir: &str) -> Vec<(String, Value)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    let mut docs = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            docs.push((name.clone(), serde::Deserialize::deserialize(doc).unwrap()));
        }
    }
    docs
}

/// The files a layout's kustomization lists, its base's included, as documents.
pub fn layout(name: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    collect(&format!("deploy/k8s/{name}"), &mut docs);
    docs
}

fn collect(dir: &str, docs: &mut Vec<Value>) {
    let kustomization: Value =
        serde_yaml_ng::from_str(&read(&format!("{dir}/kustomization.yaml"))).unwrap();
    let resources = kustomization["resources"].as_sequence().unwrap();
    for resource in resources.iter().map(|r| r.as_str().unwrap()) {
        let path = format!("{dir}/{resource}");
        if repo(&path).is_dir() {
            collect(&path, docs);
        } else {
            let text = read(&path);
            for doc in serde_yaml_ng::Deserializer::from_str(&text) {
                docs.push(serde::Deserialize::deserialize(doc).unwrap());
            }
        }
    }
}

pub fn kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

/// The serving workload of a layout: its StatefulSet or Deployment.
pub fn workload(docs: &[Value]) -> &Value {
    docs.iter()
        .find(|d| d["kind"] == "StatefulSet" || d["kind"] == "Deployment")
        .unwrap()
}

/// Every workload of every layout with its pod spec: (what, pod spec).
pub fn pod_specs() -> Vec<(String, Value)> {
    let mut specs = Vec::new();
    for layout_name in ["sqlite", "postgres"] {
        for doc in documents(&format!("deploy/k8s/{layout_name}"))
            .into_iter()
            .map(|(_, d)| d)
        {
            let spec = &doc["spec"]["template"]["spec"];
            if spec.is_mapping() {
                let what = format!("{layout_name}/{}", doc["kind"].as_str().unwrap());
                specs.push((what, spec.clone()));
            }
        }
    }
    specs
}

/// `bridge_*` metric names in a PromQL expression.
pub fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = expr.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while let Some(found) = expr[i..].find("bridge_") {
        let start = i + found;
        let mut end = start;
        while end < bytes.len() && word(bytes[end]) {
            end += 1;
        }
        if start == 0 || !word(bytes[start - 1]) {
            names.push(expr[start..end].to_owned());
        }
        i = end;
    }
    names
}
