//! Failures: scopes, expired tokens mid-scan, 429 storms, 5xx bursts, pacing, timeouts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_core::{BoxFuture, Secret, TokenProvider};
use emulator::{Fault, FaultKind, FaultTarget, HubSpotToken, PrivateApp};
use source_core::{DataSource, ScanRequest};
use source_hubdb::HubDbSource;

use crate::common::{self, builder, ids, read, rows, source};

#[tokio::test]
async fn missing_scopes_are_named() {
    let emu = builder()
        .private_app(PrivateApp {
            token: "pat-na1-owners-only".into(),
            scopes: vec!["crm.objects.owners.read".into()],
            app_id: 4_000_777,
        })
        .start()
        .await
        .unwrap();
    let cs: connstr::ConnectionString = format!(
        "AuthScheme=PrivateApp;PrivateAppToken=pat-na1-owners-only;APIBaseURL={};APIVersion={}",
        emu.hubspot().base_url(),
        common::api_version()
    )
    .parse()
    .unwrap();
    let config = source_hubdb::validate(&cs).unwrap();
    let s = HubDbSource::connect(&config, source_hubdb::token_provider(&config).unwrap()).unwrap();
    let err = s.list_tables().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("listing tables")
            && text.contains("required scopes")
            && text.contains("hubdb"),
        "{text}"
    );
    assert_eq!(err.kind(), source_core::ErrorKind::Auth);
    let hub = err
        .source_error()
        .and_then(|e| e.downcast_ref::<source_hubdb::Error>())
        .unwrap();
    assert!(
        matches!(hub, source_hubdb::Error::MissingScopes { required, .. } if required.iter().any(|s| s == "hubdb"))
    );
    emu.shutdown().await;
}

/// An OAuth token provider that refreshes through the emulator's v3 token endpoint.
#[derive(Debug)]
struct Refreshing {
    token_url: String,
    client_id: String,
    client_secret: String,
    refresh_token: String,
    /// Held across a refresh, so concurrent 401s refresh once.
    current: tokio::sync::Mutex<Secret>,
    refreshes: Mutex<u32>,
}

impl TokenProvider for Refreshing {
    fn access_token(&self) -> BoxFuture<'_, auth_core::Result<Secret>> {
        Box::pin(async move { Ok(self.current.lock().await.clone()) })
    }

    fn on_unauthorized<'a>(
        &'a self,
        failed: &'a Secret,
    ) -> BoxFuture<'a, auth_core::Result<Secret>> {
        Box::pin(async move {
            // Only one refresh per failed token, however many pages saw the 401.
            let mut current = self.current.lock().await;
            if !current.ct_eq(failed) {
                return Ok(current.clone());
            }
            let body: serde_json::Value = reqwest::Client::new()
                .post(&self.token_url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", &self.client_id),
                    ("client_secret", &self.client_secret),
                    ("refresh_token", &self.refresh_token),
                ])
                .send()
                .await
                .expect("token endpoint reachable")
                .json()
                .await
                .expect("token response is JSON");
            *current = Secret::new(
                body["access_token"]
                    .as_str()
                    .expect("access_token in the response"),
            );
            *self.refreshes.lock().expect("not poisoned") += 1;
            Ok(current.clone())
        })
    }
}

#[tokio::test]
async fn an_expired_token_mid_scan_is_refreshed_and_the_scan_continues() {
    let scopes: Vec<String> = ["hubdb", "crm.objects.owners.read", "oauth"]
        .map(String::from)
        .to_vec();
    let emu = builder()
        .hubspot_token(HubSpotToken {
            access_token: Some("at-1".into()),
            refresh_token: Some("rt-1".into()),
            scopes,
            expires_in_s: 3600,
        })
        .start()
        .await
        .unwrap();
    let info = emu.hubspot().info().clone();
    let provider = Arc::new(Refreshing {
        token_url: format!("{}/oauth/v3/token", info.base_url),
        client_id: info.client_id.clone(),
        client_secret: info.client_secret.clone(),
        refresh_token: "rt-1".into(),
        current: tokio::sync::Mutex::new(Secret::new("at-1")),
        refreshes: Mutex::new(0),
    });
    let cs: connstr::ConnectionString = format!(
        "AuthScheme=OAuth;OAuthClientId={};OAuthClientSecret={};APIBaseURL={};Pagesize=200;APIVersion={}",
        info.client_id,
        info.client_secret,
        info.base_url,
        common::api_version()
    )
    .parse()
    .unwrap();
    let config = source_hubdb::validate(&cs).unwrap();
    let options = source_hubdb::HubDbOptions {
        concurrency: 4,
        ..Default::default()
    };
    let s = HubDbSource::connect_with(&config, provider.clone(), options).unwrap();
    let mut stream = s
        .scan("events", ScanRequest::all().project(["Id"]))
        .await
        .unwrap();
    let first = futures::StreamExt::next(&mut stream)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(emu.hubspot().expire_tokens(), 1);
    let mut all = ids(std::slice::from_ref(&first));
    while let Some(b) = futures::StreamExt::next(&mut stream).await {
        all.extend(ids(&[b.unwrap()]));
    }
    assert_eq!(all.len(), 2500);
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(*provider.refreshes.lock().unwrap(), 1);
    assert_eq!(emu.hubspot().stats().token_grants.refresh_token, 1);
    assert!(
        emu.hubspot()
            .requests_to("/cms/")
            .iter()
            .any(|r| r.status == 401)
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_is_ridden_out() {
    let emu = builder().start().await.unwrap();
    let s = source(&emu, "Pagesize=500");
    s.table("events").await.unwrap();
    emu.hubspot()
        .inject(Fault::too_many_requests(Some(1), 4).on(FaultTarget::Api));
    emu.hubspot()
        .inject(Fault::too_many_requests(None, 3).on(FaultTarget::Api));
    let started = Instant::now();
    let batches = read(&s, "events", ScanRequest::all().project(["Id"])).await;
    assert_eq!(rows(&batches), 2500);
    assert!(
        emu.hubspot().faults().is_empty(),
        "every injected 429 was met"
    );
    // Retry-After: 1 paused the whole app at least once.
    assert!(started.elapsed() >= Duration::from_secs(1));
    emu.shutdown().await;
}

#[tokio::test]
async fn bursts_of_5xx_and_broken_connections_are_retried() {
    let emu = builder().start().await.unwrap();
    let s = source(&emu, "Pagesize=500");
    s.table("events").await.unwrap();
    let hs = emu.hubspot();
    hs.inject(Fault::status(503, 2).on(FaultTarget::Api));
    hs.inject(Fault::status(500, 1).on(FaultTarget::Api));
    hs.inject(Fault::new(FaultKind::Reset, 1).on(FaultTarget::Api));
    hs.inject(Fault::new(FaultKind::Truncate, 1).on(FaultTarget::Api));
    let batches = read(&s, "events", ScanRequest::all().project(["Id", "title"])).await;
    assert_eq!(rows(&batches), 2500);
    assert!(hs.faults().is_empty());

    hs.inject(Fault::status(502, 50).on(FaultTarget::Api));
    let err = match s.scan("events", ScanRequest::all()).await {
        Ok(stream) => futures::TryStreamExt::try_collect::<Vec<_>>(stream)
            .await
            .unwrap_err(),
        Err(e) => e,
    };
    assert!(
        err.to_string().contains("reading `events`: HTTP 502"),
        "{err}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn requests_are_paced_below_the_limit() {
    let emu = builder()
        .hubspot_settings(|s| {
            s.rate_limit = 10;
            s.rate_window_ms = 1000;
        })
        .start()
        .await
        .unwrap();
    let s = source(&emu, "Pagesize=100");
    let started = Instant::now();
    let batches = read(&s, "events", ScanRequest::all().project(["Id"])).await;
    assert_eq!(rows(&batches), 2500);
    // 2 table listings + 25 pages at 10 per second.
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(
        emu.hubspot().stats().rate_limited,
        0,
        "no 429 from the server"
    );
    assert_eq!(s.rate_limiter().limit(), (10, Duration::from_secs(1)));
    emu.shutdown().await;
}

#[tokio::test]
async fn timeout_names_the_table() {
    let emu = builder().start().await.unwrap();
    let s = source(&emu, "Timeout=1");
    s.table("events").await.unwrap();
    emu.hubspot()
        .inject(Fault::new(FaultKind::Delay { ms: 2500 }, 10).on(FaultTarget::Api));
    let err = match s.scan("events", ScanRequest::all()).await {
        Ok(stream) => futures::TryStreamExt::try_collect::<Vec<_>>(stream)
            .await
            .unwrap_err(),
        Err(e) => e,
    };
    assert!(
        err.to_string().contains("reading `events`: timed out"),
        "{err}"
    );
    emu.shutdown().await;
}
