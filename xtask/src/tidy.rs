//! `cargo xtask tidy`: the architecture rules, checked against `cargo metadata` and `cargo tree`.
//!
//! - Layers point one way: `connstr` → `token-store`, `source-core` → `auth-core` →
//!   `source-http` → `source-plugin` → the sources → `sources`, `sql` → `gateway`, `python`,
//!   `bench` → `cli`. A crate's normal dependencies may only be crates of a lower layer.
//! - The sources are derived from the registration list: every `source-*` dependency of the
//!   `sources` crate. A workspace crate in no layer (and not one of the tools that stand apart)
//!   is an error, so a new crate cannot skip these rules.
//! - `connstr` depends on no internal crate; no source crate depends on another source crate.
//! - `source-core` (the trait-only contract) pulls in no HTTP client, OAuth stack or token store.
//! - `emulator` stands apart: it depends on no product crate, and only `cli`, `python` and
//!   `xtask` may depend on it outside `[dev-dependencies]`.
//! - DataFusion appears only in `sql` and above.
//! - One HTTP and TLS stack: no duplicate reqwest, hyper, rustls or ring, and no native-tls,
//!   openssl or aws-lc.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The layer of each product crate but the sources; a crate may depend only on lower layers.
const LAYERS: &[(&str, u32)] = &[
    ("connstr", 0),
    ("token-store", 1),
    ("source-core", 1),
    ("auth-core", 2),
    ("source-http", 3),
    ("source-plugin", 4),
    ("sources", 6),
    ("sql", 6),
    ("sync", 6),
    ("gateway", 7),
    ("cli", 8),
    ("python", 7),
    ("bench", 7),
];
/// The layer of every registered source (a `source-*` dependency of `sources`).
const SOURCE_LAYER: u32 = 5;
/// Crates that stand apart from the layers (checked by their own rules below).
const APART: &[&str] = &["emulator", "xtask"];
/// What the trait-only contract must not pull in.
const NOT_IN_CONTRACT: &[&str] = &["reqwest", "oauth2", "token-store", "tokio"];

const MAY_USE_EMULATOR: &[&str] = &["cli", "python", "xtask", "bench"];
const MAY_USE_DATAFUSION: &[&str] = &["sql", "gateway", "cli", "python", "xtask"];
const SINGLE_VERSION: &[&str] = &["reqwest", "hyper", "rustls", "ring", "tokio", "arrow"];
const FORBIDDEN: &[&str] = &[
    "native-tls",
    "openssl",
    "openssl-sys",
    "aws-lc-rs",
    "aws-lc-sys",
];

struct Package {
    name: String,
    /// (dependency name, is a dev-dependency)
    internal_deps: Vec<(String, bool)>,
}

pub(crate) fn run(root: &Path) -> Result<(), String> {
    eprintln!("\n==> tidy: dependency direction and TLS stack");
    let metadata = cargo_json(root, &["metadata", "--format-version", "1"])?;
    let members: BTreeSet<String> = metadata["workspace_members"]
        .as_array()
        .ok_or("cargo metadata: no workspace_members")?
        .iter()
        .filter_map(|m| m.as_str().map(str::to_owned))
        .collect();
    let mut packages = Vec::new();
    let mut member_names = BTreeSet::new();
    for pkg in metadata["packages"]
        .as_array()
        .ok_or("cargo metadata: no packages")?
    {
        let id = pkg["id"].as_str().unwrap_or_default();
        if !members.contains(id) {
            continue;
        }
        let name = pkg["name"].as_str().unwrap_or_default().to_owned();
        member_names.insert(name.clone());
        let internal_deps = pkg["dependencies"]
            .as_array()
            .map(|deps| {
                deps.iter()
                    .filter(|d| d["path"].is_string())
                    .map(|d| {
                        (
                            d["name"].as_str().unwrap_or_default().to_owned(),
                            d["kind"].as_str() == Some("dev"),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        packages.push(Package {
            name,
            internal_deps,
        });
    }

    let mut layers: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut problems = Vec::new();
    let registered: Vec<String> = packages
        .iter()
        .find(|p| p.name == "sources")
        .map(|p| {
            p.internal_deps
                .iter()
                .filter(|(d, dev)| !dev && d.starts_with("source-") && d != "source-plugin")
                .map(|(d, _)| d.clone())
                .collect()
        })
        .unwrap_or_default();
    for source in &registered {
        layers.insert(source.as_str(), SOURCE_LAYER);
    }
    for name in &member_names {
        if !layers.contains_key(name.as_str()) && !APART.contains(&name.as_str()) {
            problems.push(format!(
                "{name} is in no layer: register it in sources/Cargo.toml if it is a source, else add it to LAYERS in xtask/src/tidy.rs"
            ));
        }
    }
    let is_source = |n: &str| registered.iter().any(|r| r == n);
    for pkg in &packages {
        for (dep, dev) in &pkg.internal_deps {
            if is_source(&pkg.name) && is_source(dep) {
                problems.push(format!(
                    "{} depends on {dep}: sources never depend on each other",
                    pkg.name
                ));
            }
            if pkg.name == "connstr" && !dev {
                problems.push(format!(
                    "connstr depends on {dep}: connstr depends on no internal crate"
                ));
            }
            if pkg.name == "emulator" && layers.contains_key(dep.as_str()) && dep != "connstr" {
                problems.push(format!(
                    "emulator depends on {dep}: the emulator stands apart from the product crates"
                ));
            }
            if dep == "emulator" && !dev && !MAY_USE_EMULATOR.contains(&pkg.name.as_str()) {
                problems.push(format!(
                    "{} depends on emulator outside [dev-dependencies]",
                    pkg.name
                ));
            }
            if let (Some(&from), Some(&to)) =
                (layers.get(pkg.name.as_str()), layers.get(dep.as_str()))
                && !dev
                && to >= from
            {
                {
                    problems.push(format!(
                        "{} (layer {from}) depends on {dep} (layer {to}): dependencies must point down the layers",
                        pkg.name
                    ));
                }
            }
        }
    }

    // The contract crate stays trait-only.
    let contract = cargo_text(
        root,
        &[
            "tree",
            "-p",
            "source-core",
            "-e",
            "normal",
            "--prefix",
            "none",
        ],
    )?;
    for line in contract.lines() {
        if let Some(name) = line.split_whitespace().next()
            && NOT_IN_CONTRACT.contains(&name)
        {
            problems.push(format!(
                "source-core pulls in {name}: the DataSource contract must build without the HTTP runtime"
            ));
        }
    }

    // DataFusion only where SQL lives: check each member's normal dependency tree.
    for name in &member_names {
        if MAY_USE_DATAFUSION.contains(&name.as_str()) {
            continue;
        }
        let tree = cargo_text(
            root,
            &["tree", "-p", name, "-e", "normal", "--prefix", "none"],
        )?;
        if tree.lines().any(|l| l.starts_with("datafusion ")) {
            problems.push(format!(
                "{name} pulls in DataFusion: only sql and the crates above it may"
            ));
        }
    }

    // One HTTP/TLS stack.
    let all = cargo_text(
        root,
        &[
            "tree",
            "--workspace",
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ],
    )?;
    let mut versions: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for line in all.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        if FORBIDDEN.contains(&name) {
            problems.push(format!(
                "{name} is in the dependency tree: use rustls with ring"
            ));
        }
        if let Some(tracked) = SINGLE_VERSION.iter().find(|n| **n == name) {
            versions
                .entry(tracked)
                .or_default()
                .insert(version.to_owned());
        }
    }
    for (name, found) in versions {
        if found.len() > 1 {
            problems.push(format!("{name} appears in several versions: {found:?}"));
        }
    }

    problems.sort();
    problems.dedup();
    if problems.is_empty() {
        eprintln!("<== tidy: ok ({} workspace crates)", packages.len());
        Ok(())
    } else {
        Err(format!(
            "tidy found {} problems:\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

fn cargo_text(root: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .current_dir(root)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run cargo {}: {e}", args.join(" ")))?;
    if !output.status.success() {
        return Err(format!(
            "cargo {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn cargo_json(root: &Path, args: &[&str]) -> Result<serde_json::Value, String> {
    let text = cargo_text(root, args)?;
    serde_json::from_str(&text).map_err(|e| format!("cargo {}: bad JSON: {e}", args.join(" ")))
}
