//! Project automation, run as `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks — formatting, clippy, `tidy`, the whole test suite, the
//!   end-to-end checks and the Python wheel's pytest suite — in the order that fails fastest.
//! - `tidy`: the architecture rules (dependency direction, one TLS stack).
//! - `catalogue`: `docs/fault-catalogue.md` lists every reliability fault ID with tests that
//!   exist and are named after it.
//! - `bench [--quick]`: the benchmarks of `docs/benchmarks.md`, written to `target/bench/`.
//! - `fuzz [SECONDS]`: every cargo-fuzz target of `fuzz/` for SECONDS each (default 60), with a
//!   summary line per target; see `docs/fuzzing.md`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod catalogue;
mod tidy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("tidy") => tidy::run(&workspace_root()),
        Some("catalogue") => catalogue::run(&workspace_root()),
        Some("fuzz") => fuzz(args.get(1).map(String::as_str).unwrap_or("60")),
        Some("bench") => bench(args.iter().any(|a| a == "--quick")),
        _ => Err(
            "usage: cargo xtask <ci | tidy | catalogue | bench [--quick] | fuzz [SECONDS]>"
                .to_owned(),
        ),
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
    catalogue::run(&workspace_root())?;

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

    // The same HubDB suite over the legacy paths: both API versions must pass it.
    let mut legacy = cargo();
    legacy
        .args(["test", "-p", "source-hubdb", "--test", "hubdb"])
        .env("HUBDB_API_VERSION", "v3");
    step("HubDB suite with APIVersion=v3", legacy)?;

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

/// The fuzz crate, outside the workspace (the root `Cargo.toml` excludes it).
const FUZZ_DIR: &str = "fuzz";

/// What every fuzz build uses: optimised, with debug assertions and overflow checks, without
/// a sanitizer (the code under test is safe Rust, and AddressSanitizer would halve the speed).
const FUZZ_BUILD_FLAGS: &[&str] = &["--release", "--debug-assertions", "--sanitizer", "none"];

/// `cargo xtask fuzz [SECONDS]`: builds every target of `fuzz/` (installing cargo-fuzz first if
/// needed), runs each for `seconds` on a copy of its checked-in seed corpus
/// (`target/fuzz-corpus/<target>`, which keeps what the fuzzer adds), and prints one line per
/// target. Fails when a target crashed, naming the input libFuzzer saved.
fn fuzz(seconds: &str) -> Result<(), String> {
    let seconds: u64 = seconds
        .parse()
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("fuzz: SECONDS must be a positive number, not {seconds:?}"))?;
    let root = workspace_root();
    let fuzz_dir = root.join(FUZZ_DIR);
    ensure_cargo_fuzz()?;
    let targets = fuzz_targets(&fuzz_dir)?;
    let work = target_dir()?;

    let mut build = cargo_fuzz(&fuzz_dir, "build");
    build.args(FUZZ_BUILD_FLAGS);
    step("build fuzz targets", build)?;

    let mut results = Vec::new();
    for target in &targets {
        let corpus = work.join("fuzz-corpus").join(target);
        copy_seeds(&fuzz_dir.join("corpus").join(target), &corpus)?;
        let log = work.join("fuzz-logs").join(format!("{target}.log"));
        let mut run = cargo_fuzz(&fuzz_dir, "run");
        run.args(FUZZ_BUILD_FLAGS)
            .arg(target)
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            // A single input running this long is a hang, saved as a `timeout-` artifact.
            .arg("-timeout=25")
            .arg("-print_final_stats=1");
        results.push(run_fuzzer(target, run, &log)?);
    }

    println!(
        "\n{:<18} {:>12} {:>8} {:>8}",
        "target", "executions", "crashes", "seconds"
    );
    for r in &results {
        println!(
            "{:<18} {:>12} {:>8} {:>8}",
            r.target,
            r.executions.map_or("?".to_owned(), |n| n.to_string()),
            r.artifacts.len(),
            r.seconds
        );
    }
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| {
            if let Some(artifact) = r.artifacts.first() {
                Some(format!(
                    "{} crashed on {} (reproduce: cargo fuzz run --fuzz-dir fuzz {} {} {artifact}; log {})",
                    r.target,
                    artifact,
                    FUZZ_BUILD_FLAGS.join(" "),
                    r.target,
                    r.log.display()
                ))
            } else if !r.success {
                Some(format!(
                    "{} failed without saving an input (see {})",
                    r.target,
                    r.log.display()
                ))
            } else {
                None
            }
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzz: {}", failures.join("\n      ")))
    }
}

/// `cargo fuzz <subcommand>` on the fuzz crate, building into `fuzz/target` (never the
/// workspace's target directory: the instrumented build would evict its artifacts).
fn cargo_fuzz(fuzz_dir: &Path, subcommand: &str) -> Command {
    let mut cmd = cargo();
    cmd.arg("fuzz")
        .arg(subcommand)
        .arg("--fuzz-dir")
        .arg(fuzz_dir)
        .arg("--target-dir")
        .arg(fuzz_dir.join("target"));
    // Without a sanitizer cargo-fuzz passes only stable rustc flags: no nightly toolchain, no
    // RUSTC_BOOTSTRAP.
    cmd
}

/// Installs cargo-fuzz when `cargo fuzz` is not there (it is not part of CI).
fn ensure_cargo_fuzz() -> Result<(), String> {
    let installed = cargo()
        .args(["fuzz", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed {
        return Ok(());
    }
    eprintln!(
        "xtask fuzz: `cargo fuzz` is not installed; installing it with `cargo install cargo-fuzz --locked`"
    );
    let mut install = cargo();
    install.args(["install", "cargo-fuzz", "--locked"]);
    step("install cargo-fuzz", install)
        .map_err(|e| format!("{e}; install it by hand with `cargo install cargo-fuzz --locked`"))
}

/// The fuzz targets: the files of `fuzz/fuzz_targets/`, sorted.
fn fuzz_targets(fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let dir = fuzz_dir.join("fuzz_targets");
    let mut targets: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    targets.sort();
    if targets.is_empty() {
        return Err(format!("no fuzz targets in {}", dir.display()));
    }
    Ok(targets)
}

/// Copies the checked-in seeds into the corpus the fuzzer runs on (and grows).
fn copy_seeds(seeds: &Path, corpus: &Path) -> Result<(), String> {
    std::fs::create_dir_all(corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let entries = match std::fs::read_dir(seeds) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot list {}: {e}", seeds.display())),
    };
    for entry in entries.flatten() {
        let from = entry.path();
        if from.is_file() {
            std::fs::copy(&from, corpus.join(entry.file_name()))
                .map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
        }
    }
    Ok(())
}

/// What one fuzzer run did.
struct FuzzRun {
    target: String,
    /// From libFuzzer's `Done N runs in S second(s)` (or its final stats after a crash).
    executions: Option<u64>,
    seconds: u64,
    /// The inputs libFuzzer saved (`Test unit written to …`): crashes, hangs, out-of-memory.
    artifacts: Vec<String>,
    success: bool,
    log: PathBuf,
}

/// Runs one fuzzer, echoing its output (without the per-input progress lines) and keeping all
/// of it in `log`.
fn run_fuzzer(target: &str, mut cmd: Command, log: &Path) -> Result<FuzzRun, String> {
    use std::io::{BufRead, BufReader, Write};

    eprintln!("\n==> fuzz {target}: {cmd:?}");
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut log_file =
        std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let started = Instant::now();
    let mut child = cmd
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("fuzz {target}: cannot start: {e}"))?;
    let mut run = FuzzRun {
        target: target.to_owned(),
        executions: None,
        seconds: 0,
        artifacts: Vec::new(),
        success: false,
        log: log.to_owned(),
    };
    let mut done_seconds = None;
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).split(b'\n').map_while(Result::ok) {
            let line = String::from_utf8_lossy(&line);
            let _ = writeln!(log_file, "{line}");
            // `#1234 NEW cov: …` and `REDUCE` lines: one per interesting input, far too many.
            let progress =
                line.starts_with('#') && (line.contains(" NEW ") || line.contains(" REDUCE "));
            if !progress {
                eprintln!("{line}");
            }
            if let Some((runs, secs)) = parse_done(&line) {
                run.executions = Some(runs);
                done_seconds = Some(secs);
            } else if let Some(n) = line
                .strip_prefix("stat::number_of_executed_units:")
                .and_then(|n| n.trim().parse().ok())
            {
                run.executions.get_or_insert(n);
            }
            if let Some((_, path)) = line.split_once("Test unit written to ") {
                run.artifacts.push(path.trim().to_owned());
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("fuzz {target}: cannot wait: {e}"))?;
    run.success = status.success();
    run.seconds = done_seconds.unwrap_or_else(|| started.elapsed().as_secs());
    eprintln!(
        "<== fuzz {target}: {} in {:.1}s",
        if run.success && run.artifacts.is_empty() {
            "ok"
        } else {
            "FAILED"
        },
        started.elapsed().as_secs_f64()
    );
    Ok(run)
}

/// `Done 123456 runs in 60 second(s)` → (123456, 60).
fn parse_done(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("Done ")?;
    let (runs, rest) = rest.split_once(" runs in ")?;
    let (secs, _) = rest.split_once(' ')?;
    Some((runs.parse().ok()?, secs.parse().ok()?))
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
/// micro-benchmarks and then the orchestrator (`bench/src/main.rs`), which runs the seven scenarios
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
