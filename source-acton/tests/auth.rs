//! Password grant, then scans that outlive the access token, with two connections sharing one
//! OAuth settings file: one grant, one refresh, and no refresh token presented twice.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use emulator::{Emulator, EmulatorBuilder};
use futures::{StreamExt, TryStreamExt};
use source_acton::{ActOnOptions, ActOnSource};
use source_core::{DataSource, ScanRequest};

fn connection(emu: &Emulator, settings: &std::path::Path) -> source_acton::ActOnConfig {
    let info = emu.acton().info();
    let text = format!(
        "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation='{}';OAuthSettingsPassphrase='correct horse battery staple';Pagesize=250",
        info.user,
        info.password,
        info.client_id,
        info.client_secret,
        info.base_url,
        settings.display()
    );
    let cs: connstr::ConnectionString = text.parse().unwrap();
    source_acton::validate(&cs).unwrap()
}

fn connect(config: &source_acton::ActOnConfig) -> ActOnSource {
    let tokens = source_acton::token_provider(config).unwrap();
    let options = ActOnOptions {
        requests_per_second: 0,
        ..ActOnOptions::default()
    };
    ActOnSource::connect_with(config, tokens, options).unwrap()
}

async fn count(source: &ActOnSource, table: &str) -> usize {
    let batches: Vec<_> = source
        .scan(table, ScanRequest::all())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    batches.iter().map(|b| b.num_rows()).sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn password_grant_then_refresh_mid_scan_shared_by_two_connections() {
    let emu = EmulatorBuilder::new()
        .acton_records(3000)
        .acton_rate_limit(0)
        .token_ttl(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = connection(&emu, &dir.path().join("OAuthSettings.txt"));

    // The first connection logs in with the password grant and stores the tokens.
    let first = connect(&config);
    assert_eq!(count(&first, "List_Customers").await, 3000);
    // The second one (as another process would) finds them in the settings file.
    let second = connect(&config);
    assert_eq!(count(&second, "Messages").await, 17);
    assert_eq!(emu.acton().stats().token_grants.password, 1);

    // Both scan; the access token dies after the first pages of each.
    let mut a = first
        .scan("List_Customers", ScanRequest::all())
        .await
        .unwrap();
    let mut b = second
        .scan("List_Customers", ScanRequest::all())
        .await
        .unwrap();
    let mut rows =
        a.next().await.unwrap().unwrap().num_rows() + b.next().await.unwrap().unwrap().num_rows();
    assert!(emu.acton().expire_tokens() > 0);
    let (rest_a, rest_b) = tokio::join!(a.try_collect::<Vec<_>>(), b.try_collect::<Vec<_>>());
    rows += rest_a
        .unwrap()
        .iter()
        .chain(rest_b.unwrap().iter())
        .map(|b| b.num_rows())
        .sum::<usize>();
    assert_eq!(rows, 6000, "both scans continue after the refresh");

    let stats = emu.acton().stats();
    assert_eq!(stats.token_grants.password, 1, "no second password grant");
    assert_eq!(
        stats.token_grants.refresh_token, 1,
        "one refresh for both connections"
    );
    assert_eq!(stats.token_errors, 0, "no refresh token presented twice");
    let statuses: Vec<u16> = emu
        .acton()
        .requests_to("/api/1/")
        .iter()
        .map(|r| r.status)
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&401),
        "the expired token was refused mid-scan"
    );
    emu.shutdown().await;
}
