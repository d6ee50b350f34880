//! Runs both emulators like `connector emulator` does: `cargo run -p emulator --example emulator -- --auto-approve`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "emulator", about = "Act-On and HubSpot emulators on 127.0.0.1")]
struct Cli {
    #[command(flatten)]
    args: emulator::cli::EmulatorArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match emulator::cli::run(cli.args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emulator: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
