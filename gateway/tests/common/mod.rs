//! A gateway on a real loopback port over both emulators, as the tests use it: a profiles
//! file with `portal_eu` (HubDB) and `acton_main` (Act-On), and a users file with alice
//! (password, every connection), bob (password, only acton_main) and etl (a bearer token).
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use tokio::sync::oneshot;

pub const ALICE: (&str, &str) = ("alice", "alice-CANARY-pw");
pub const BOB: (&str, &str) = ("bob", "bob-CANARY-pw");
pub const ETL_TOKEN: &str = "etl-CANARY-token";

pub struct Harness {
    pub emu: emulator::Emulator,
    pub uri: String,
    pub addr: std::net::SocketAddr,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<gateway::Result<()>>>,
}

pub fn profiles_text(emu: &emulator::Emulator, store: &str) -> String {
    let hs = emu.hubspot().info();
    let ao = emu.acton().info();
    format!(
        "[profiles.portal_eu]\nsource = \"hubdb\"\nconnection = \"AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}\"\n\n\
         [profiles.acton_main]\nsource = \"acton\"\nconnection = \"AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation=memory://{store}\"\n",
        hs.private_app_token,
        hs.base_url,
        ao.user,
        ao.password,
        ao.client_id,
        ao.client_secret,
        ao.base_url
    )
}

pub fn users_text() -> String {
    // Few iterations: the tests hash and verify often, and strength is not under test here.
    let alice = gateway::hash_password(ALICE.1, 1_000).unwrap();
    let bob = gateway::hash_password(BOB.1, 1_000).unwrap();
    format!(
        "[users.alice]\npassword_hash = \"{alice}\"\nconnections = [\"*\"]\n\n\
         [users.bob]\npassword_hash = \"{bob}\"\nconnections = [\"acton_main\"]\n\n\
         [users.etl]\ntoken_sha256 = \"{}\"\nconnections = [\"portal_eu\", \"acton_main\"]\n",
        gateway::token_sha256(ETL_TOKEN)
    )
}

impl Harness {
    pub async fn start(builder: emulator::EmulatorBuilder) -> Self {
        Self::start_with(builder, |c| c).await
    }

    pub async fn start_with(
        builder: emulator::EmulatorBuilder,
        configure: impl FnOnce(gateway::Config) -> gateway::Config,
    ) -> Self {
        let emu = builder.start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let profiles = dir.path().join("profiles.toml");
        let store = format!("gateway-test-{}", gateway::random_token().unwrap());
        std::fs::write(&profiles, profiles_text(&emu, &store)).unwrap();
        let users = dir.path().join("users.toml");
        std::fs::write(&users, users_text()).unwrap();
        let accounts = gateway::Accounts::from_profiles(&profiles).unwrap();
        let users = gateway::Users::load(&users, &accounts.names()).unwrap();
        let gw = gateway::Gateway::bind(configure(gateway::Config::default()), accounts, users)
            .await
            .unwrap();
        let (uri, addr) = (gw.uri(), gw.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(gw.serve(async move {
            let _ = stopped.await;
        }));
        Self {
            emu,
            uri,
            addr,
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Signals shutdown and waits for the gateway to stop.
    pub async fn stop(mut self) -> gateway::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap(),
            None => Ok(()),
        }
    }
}

/// The test virtualenv's Python (made by scripts/setup.sh, with adbc-driver-flightsql).
pub fn python() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv/bin/python");
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh (it installs adbc-driver-flightsql)",
        path.display()
    );
    path
}

/// Runs a script of gateway/tests/python against the gateway; its stdout as JSON.
pub async fn run_python(
    h: &Harness,
    script: &str,
    extra_env: &[(&str, String)],
) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let mut command = tokio::process::Command::new(python());
    command
        .arg(&script)
        .env("GATEWAY_URI", &h.uri)
        .env("ALICE_USER", ALICE.0)
        .env("ALICE_PASSWORD", ALICE.1)
        .env("BOB_USER", BOB.0)
        .env("BOB_PASSWORD", BOB.1)
        .env("ETL_TOKEN", ETL_TOKEN);
    for (k, v) in extra_env {
        command.env(k, v);
    }
    let output = command.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{} failed:\n{stdout}\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}
