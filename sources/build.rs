//! Generates `sources::ALL` from this crate's `[dependencies]`: one entry per `source-<name>`
//! line (but `source-plugin`), so that registering a source is one line in `Cargo.toml`.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=Cargo.toml");
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let manifest = match std::fs::read_to_string(dir.join("Cargo.toml")) {
        Ok(text) => text,
        Err(e) => panic!("sources/build.rs: cannot read Cargo.toml: {e}"),
    };
    let mut list = String::from("&[\n");
    for name in registered(&manifest) {
        let _ = writeln!(list, "    {}::SOURCE,", name.replace('-', "_"));
    }
    list.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("registered.rs");
    if let Err(e) = std::fs::write(&out, list) {
        panic!("sources/build.rs: cannot write {}: {e}", out.display());
    }
}

/// The `source-*` dependency names of the `[dependencies]` table, in order.
fn registered(manifest: &str) -> Vec<String> {
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().trim_end_matches(".workspace").trim();
        if in_dependencies && key.starts_with("source-") && key != "source-plugin" {
            names.push(key.to_owned());
        }
    }
    names
}
