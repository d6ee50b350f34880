//! Project automation, run as `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks — formatting, clippy, `tidy`, the whole test suite and the
//!   end-to-end checks — in the order that fails fastest.
//! - `tidy`: the architecture rules (dependency direction, one TLS stack).
//! - `bench [--quick]`: the benchmarks, written to `target/bench/`.
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

/// A benchmark program: it prints one JSON object on stdout and a human table on stderr.
struct Bench {
    package: &'static str,
    example: &'static str,
    args: &'static [&'static str],
    quick_args: &'static [&'static str],
    /// For scans at a rate limit: the largest acceptable `ratio` (time ÷ the floor the limit
    /// allows), checked only when the program reports one. Generous, so that noise never fails
    /// a run, but a real regression does.
    max_ratio: Option<f64>,
}

const BENCHES: &[Bench] = &[
    Bench {
        package: "token-store",
        example: "bench",
        args: &[],
        quick_args: &["--quick"],
        max_ratio: None,
    },
    Bench {
        package: "source-hubdb",
        example: "bench_scan",
        // 500 pages: well past HubSpot's 100-request burst, so the steady rate decides.
        args: &[
            "--rows",
            "50000",
            "--pagesize",
            "100",
            "--latency-ms",
            "100",
        ],
        quick_args: &[
            "--rows",
            "20000",
            "--pagesize",
            "100",
            "--rate",
            "20",
            "--window-ms",
            "1000",
            "--latency-ms",
            "50",
        ],
        max_ratio: Some(1.5),
    },
    Bench {
        package: "source-acton",
        example: "bench_list",
        // 100,000 records at 5 requests per second and 100 ms latency (floor: 20 s).
        args: &[],
        quick_args: &["--quick"],
        max_ratio: Some(1.5),
    },
];

fn bench(quick: bool) -> Result<(), String> {
    let root = workspace_root();
    let out_dir = root.join("target").join("bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("cannot create {out_dir:?}: {e}"))?;
    // A lighter release profile would still rebuild everything; benchmarks need optimised code,
    // and only the benchmark crates (never DataFusion) are built here.
    let mut results = Vec::new();
    let mut regressions = Vec::new();
    for bench in BENCHES {
        let (package, example) = (bench.package, bench.example);
        let mut cmd = cargo();
        cmd.args([
            "run",
            "--release",
            "--quiet",
            "-p",
            package,
            "--example",
            example,
            "--",
        ]);
        cmd.args(if quick { bench.quick_args } else { bench.args });
        eprintln!("\n==> bench {package}/{example}");
        let started = Instant::now();
        let output = cmd
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run the {package} benchmark: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "benchmark {package}/{example} failed ({})",
                output.status
            ));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let value: serde_json::Value = serde_json::from_str(text.trim())
            .map_err(|e| format!("benchmark {package}/{example} printed no JSON object: {e}"))?;
        eprintln!(
            "<== bench {package}/{example}: {:.1}s",
            started.elapsed().as_secs_f64()
        );
        if let (Some(max), Some(ratio)) = (bench.max_ratio, value["ratio"].as_f64())
            && ratio > max
        {
            regressions.push(format!("{package}/{example}: ratio {ratio:.2} > {max}"));
        }
        if value["rate_limited"].as_u64().is_some_and(|n| n > 0) {
            regressions.push(format!(
                "{package}/{example}: {} requests were rate limited (429)",
                value["rate_limited"]
            ));
        }
        results.push(serde_json::json!({"package": package, "example": example, "result": value}));
    }
    let stamp = std::time::UNIX_EPOCH
        .elapsed()
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let path = out_dir.join(format!("bench-{stamp}.json"));
    let report = serde_json::json!({"quick": quick, "benches": results});
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&report).unwrap_or_default(),
    )
    .map_err(|e| format!("cannot write {path:?}: {e}"))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    eprintln!("\nxtask bench: results written to {}", path.display());
    if regressions.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "benchmark targets missed:\n  {}",
            regressions.join("\n  ")
        ))
    }
}
