//! Project automation, run as `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks — formatting, clippy, `tidy`, the whole test suite, the
//!   end-to-end checks and the Python wheel's pytest suite — in the order that fails fastest.
//! - `tidy`: the architecture rules (dependency direction, one TLS stack).
//! - `bench [--quick]`: the benchmarks of `docs/benchmarks.md`, written to `target/bench/`.
//! - `fuzz [SECONDS]`: the connection-string parser under cargo-fuzz.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod tidy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("tidy") => tidy::run(&workspace_root()),
        Some("fuzz") => fuzz(args.get(1).map(String::as_str).unwrap_or("60")),
        Some("bench") => bench(args.iter().any(|a| a == "--quick")),
        _ => Err("usage: cargo xtask <ci | tidy | bench [--quick] | fuzz [SECONDS]>".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.current_dir(workspace_root());
    cmd
}

/// Runs a command, echoing it and its duration; fails with the step name.
fn step(name: &str, mut cmd: Command) -> Result<(), String> {
    eprintln!("\n==> {name}: {cmd:?}");
    let started = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("{name}: cannot start: {e}"))?;
    eprintln!(
        "<== {name}: {} in {:.1}s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("step `{name}` failed ({status})"))
    }
}

fn ci() -> Result<(), String> {
    let started = Instant::now();
    let mut setup = Command::new("bash");
    setup.current_dir(workspace_root()).arg("scripts/setup.sh");
    step("setup", setup)?;

    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    step("rustfmt", fmt)?;

    tidy::run(&workspace_root())?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    step("clippy", clippy)?;

    let mut test = cargo();
    test.args(["test", "--workspace"]);
    // The emulator is checked against the official HubSpot Python SDK from the setup venv.
    let python = workspace_root().join("target/py-venv/bin/python");
    test.env("HUBSPOT_SDK_PYTHON", &python);
    step("tests", test)?;

    // The Python package as users get it: maturin builds the wheel, pip installs it into a fresh
    // virtualenv, pytest runs against the emulators. `dev` reuses most of the test build.
    let mut python = Command::new("bash");
    python
        .current_dir(workspace_root())
        .arg("python/scripts/test.sh")
        .env("WHEEL_PROFILE", "dev");
    step("python wheel + pytest", python)?;

    eprintln!(
        "\nxtask ci: all steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn fuzz(seconds: &str) -> Result<(), String> {
    let root = workspace_root();
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root.join("connstr"))
        // cargo-fuzz needs nightly flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP.
        .env("RUSTC_BOOTSTRAP", "1")
        .args([
            "fuzz",
            "run",
            "parse",
            "--",
            &format!("-max_total_time={seconds}"),
        ]);
    step("fuzz connstr parser", cmd)
}

/// The benchmark profile: optimised, without a full release build of DataFusion (see the root
/// `Cargo.toml`). Every benchmark binary is built with it, so the quick run in CI reuses the
/// artifacts of the full one.
const BENCH_PROFILE: &str = "bench-lite";

/// The target directory cargo uses here (honours `CARGO_TARGET_DIR` and `.cargo/config.toml`).
fn target_dir() -> Result<PathBuf, String> {
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata: bad JSON: {e}"))?;
    value["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata: no target_directory".to_owned())
}

/// `cargo xtask bench [--quick]`: builds the benchmark binaries, runs the token-store
/// micro-benchmarks and then the orchestrator (`bench/src/main.rs`), which runs the six scenarios
/// of `docs/benchmarks.md` against `connector emulator`, installs the Python and Node SDKs under
/// `target/bench-sdk/` on first use, prints the Markdown table and writes
/// `target/bench/bench-<ts>.json` and `.md`. Fails when a regression guard fails.
fn bench(quick: bool) -> Result<(), String> {
    let started = Instant::now();
    let target = target_dir()?;
    let out_dir = target.join("bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("cannot create {out_dir:?}: {e}"))?;

    let mut build = cargo();
    build.args([
        "build",
        "--profile",
        BENCH_PROFILE,
        "-p",
        "cli",
        "-p",
        "bench",
        "--bins",
    ]);
    let build_started = Instant::now();
    step("build benchmark binaries", build)?;
    let build_seconds = build_started.elapsed().as_secs_f64();

    // In-process token-store numbers (open + decrypt with key file and passphrase, lock + write).
    eprintln!("\n==> bench token-store/bench");
    let mut store = cargo();
    store.args([
        "run",
        "--profile",
        BENCH_PROFILE,
        "--quiet",
        "-p",
        "token-store",
        "--example",
        "bench",
        "--",
    ]);
    if quick {
        store.arg("--quick");
    }
    let output = store
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run the token-store benchmark: {e}"))?;
    if !output.status.success() {
        return Err(format!("token-store benchmark failed ({})", output.status));
    }
    let token_store: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&output.stdout).trim())
            .map_err(|e| format!("token-store benchmark printed no JSON object: {e}"))?;

    let stamp = std::time::UNIX_EPOCH
        .elapsed()
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let json_path = out_dir.join(format!("bench-{stamp}.json"));
    let bin = target.join(BENCH_PROFILE);
    let mut orchestrator = Command::new(bin.join("bench"));
    orchestrator
        .current_dir(workspace_root())
        .arg("--connector")
        .arg(bin.join("connector"))
        .arg("--scan")
        .arg(bin.join("bench-scan"))
        .arg("--sdk-dir")
        .arg(target.join("bench-sdk"))
        .arg("--out")
        .arg(&json_path);
    if quick {
        orchestrator.arg("--quick");
    }
    // The orchestrator prints the table on stdout and writes the JSON even when a guard fails.
    let verdict = step("bench scenarios", orchestrator);

    // Add the token-store results and the build time to the run's JSON and Markdown.
    if let Ok(text) = std::fs::read_to_string(&json_path)
        && let Ok(mut report) = serde_json::from_str::<serde_json::Value>(&text)
    {
        report["token_store"] = token_store.clone();
        report["build_seconds"] = serde_json::json!((build_seconds * 10.0).round() / 10.0);
        report["profile"] = serde_json::json!(BENCH_PROFILE);
        let _ = std::fs::write(
            &json_path,
            serde_json::to_string_pretty(&report).unwrap_or_default(),
        );
    }
    let mut table = String::from(
        "\n### Token store, in process (`token-store/examples/bench.rs`)\n\n| operation | median µs | × plain read |\n|---|---:|---:|\n",
    );
    for b in token_store["benchmarks"].as_array().into_iter().flatten() {
        table.push_str(&format!(
            "| {} | {:.1} | {:.1} |\n",
            b["name"].as_str().unwrap_or_default(),
            b["median_us"].as_f64().unwrap_or_default(),
            b["ratio_vs_baseline"].as_f64().unwrap_or_default()
        ));
    }
    println!("{table}");
    let md_path = json_path.with_extension("md");
    if let Ok(mut md) = std::fs::read_to_string(&md_path) {
        md.push_str(&table);
        md.push_str(&format!(
            "\nBuilt with `--profile {BENCH_PROFILE}` (this run's build step: {build_seconds:.0} s); whole `cargo xtask bench{}`: {:.0} s.\n",
            if quick { " --quick" } else { "" },
            started.elapsed().as_secs_f64()
        ));
        let _ = std::fs::write(&md_path, md);
    }
    eprintln!(
        "\nxtask bench: {} in {:.0}s; results in {} and {}",
        if verdict.is_ok() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64(),
        json_path.display(),
        md_path.display()
    );
    verdict.map_err(|_| "benchmark regression guards failed (see the table above)".to_owned())
}
