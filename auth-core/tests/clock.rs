//! Wall-clock jumps (reliability catalogue F-CLK rows 2 and 3) against the Act-On emulator.
//!
//! Two clocks are in play, as in life: the client's wall clock (an injected
//! [`ManualTimeSource`], which every expiry decision reads) and the server's (the emulator's
//! own clock, which decides whether a token still works). A suspend/resume moves both; a clock
//! corrected backwards moves only the client's.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::provider::{ClientAuth, Provider};
use auth_core::time::{ManualTimeSource, SystemTimeSource, TimeSource};
use auth_core::{Authenticator, Grant, Secret, TokenProvider};
use connstr::validate::InitiateOAuth;
use emulator::{Emulator, RefreshRotation};
use token_store::{KeyConfig, Location, TokenStore, open_store};

const HOUR_MS: u64 = 3_600_000;

struct Fixture {
    emu: Emulator,
    clock: Arc<ManualTimeSource>,
    store: Arc<dyn TokenStore>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let emu = Emulator::builder()
        .hubdb_rows(1)
        .acton_records(1)
        .acton_refresh_rotation(RefreshRotation::RotateRevokeOnReuse)
        .start()
        .await
        .expect("emulator starts");
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(
        &Location::File(dir.path().join("s.txt")),
        KeyConfig::key_file(dir.path().join("settings.key")).with_iterations(1_000),
    );
    Fixture {
        emu,
        clock: Arc::new(ManualTimeSource::new(SystemTimeSource.now_ms())),
        store,
        _dir: dir,
    }
}

impl Fixture {
    fn authenticator(&self) -> Authenticator {
        let info = self.emu.acton().info();
        let mut p =
            Provider::new("Act-On", "Act-On", &info.authorize_url, &info.token_url).unwrap();
        p.client_auth = ClientAuth::RequestBody;
        p.default_scopes = vec!["PRODUCTION".into()];
        p.single_use_refresh_tokens = true;
        p.default_expires_in = Some(3600);
        Authenticator::builder(p)
            .client(
                info.client_id.clone(),
                Some(Secret::new(info.client_secret.clone())),
            )
            .initiate(InitiateOAuth::GetAndRefresh)
            .grant(Grant::Password {
                user: info.user.clone(),
                password: Secret::new(info.password.clone()),
            })
            .store(self.store.clone())
            .time_source(self.clock.clone())
            .build()
            .unwrap()
    }

    /// The status of an Act-On API call with `token`, by the server's clock.
    async fn api_status(&self, token: &Secret) -> u16 {
        reqwest::Client::new()
            .get(format!(
                "{}/api/1/account",
                self.emu.acton().info().base_url
            ))
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    fn refreshes(&self) -> u64 {
        self.emu.acton().stats().token_grants.refresh_token
    }
}

#[tokio::test]
async fn clk_2_a_two_hour_jump_forward_refreshes_before_the_next_use() {
    let f = fixture().await;
    let auth = f.authenticator();
    let old = auth.access_token().await.unwrap();
    assert_eq!(f.api_status(&old).await, 200);
    // Suspend and resume: both clocks are two hours later.
    f.clock.advance_ms(2 * HOUR_MS);
    f.emu.advance_clock(Duration::from_millis(2 * HOUR_MS));
    assert_eq!(f.api_status(&old).await, 401, "the old token is expired");
    // The very next use gets a new token: the expired one is never handed out.
    let new = auth.access_token().await.unwrap();
    assert!(!new.ct_eq(&old), "an expired token was handed out");
    assert_eq!(f.api_status(&new).await, 200);
    assert_eq!(f.refreshes(), 1);
    // And it is stored, so another connection after the jump does not refresh again.
    let other = f.authenticator();
    assert!(other.access_token().await.unwrap().ct_eq(&new));
    assert_eq!(f.refreshes(), 1);
}

#[tokio::test]
async fn clk_2_a_jump_forward_while_tasks_wait_yields_one_refresh() {
    let f = fixture().await;
    let auth = Arc::new(f.authenticator());
    let old = auth.access_token().await.unwrap();
    f.clock.advance_ms(2 * HOUR_MS);
    f.emu.advance_clock(Duration::from_millis(2 * HOUR_MS));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.access_token().await.unwrap() })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap());
    }
    assert!(tokens.iter().all(|t| t.ct_eq(&tokens[0]) && !t.ct_eq(&old)));
    // (One API call: the emulator enforces Act-On's per-second rate limit.)
    assert_eq!(f.api_status(&tokens[0]).await, 200);
    assert_eq!(f.refreshes(), 1);
}

#[tokio::test]
async fn clk_3_a_two_hour_jump_backward_is_recovered_by_the_401_retry() {
    let f = fixture().await;
    let auth = f.authenticator();
    let old = auth.access_token().await.unwrap();
    let obtained = f.clock.now_ms();
    // The client's wall clock is set back two hours; then real time passes beyond the token's
    // life: the server sees it expired, the client still a token with an hour left.
    f.clock.set_ms(obtained - 2 * HOUR_MS);
    f.clock.advance_ms(HOUR_MS + 60_000);
    f.emu.advance_clock(Duration::from_millis(HOUR_MS + 60_000));
    let believed = auth.access_token().await.unwrap();
    assert!(
        believed.ct_eq(&old),
        "the token is considered valid longer (expected with a clock set back)"
    );
    assert_eq!(f.refreshes(), 0);
    assert_eq!(f.api_status(&believed).await, 401);
    // The 401 path recovers: one forced refresh, and the new token works.
    let retry = auth.on_unauthorized(&believed).await.unwrap();
    assert!(!retry.ct_eq(&old));
    assert_eq!(f.api_status(&retry).await, 200);
    assert_eq!(f.refreshes(), 1);
    // Later uses keep the new token without refreshing again.
    assert!(auth.access_token().await.unwrap().ct_eq(&retry));
    assert_eq!(f.refreshes(), 1);
    // The stored token is the new one too.
    assert!(f.store.load().unwrap().access_token.ct_eq(&retry));
}
