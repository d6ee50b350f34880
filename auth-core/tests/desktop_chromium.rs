//! The desktop flow end to end in a real headless Chromium: the connector "opens the browser"
//! (a BROWSER command that hands the URL to this test), Chromium shows the emulator's login
//! page, fills it and clicks Authorize, the provider redirects to CallbackURL, the loopback
//! listener takes the code, the connector exchanges it, and the tokens land in the store.
//!
//! Not gated: without Chromium and chromedriver this fails, saying `scripts/setup.sh` installs them.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use auth_core::provider::Provider;
use auth_core::{Authenticator, Secret, TokenProvider};
use connstr::validate::InitiateOAuth;
use emulator::Emulator;
use support::webdriver::{WebDriver, approve_in_browser};
use token_store::{KeyConfig, Location, open_store};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn desktop_flow_in_chromium(hubspot: bool) {
    let port = free_port();
    // HubSpot: the bare registered URI (no path), sent byte for byte.
    let callback = if hubspot {
        format!("http://localhost:{port}")
    } else {
        format!("http://localhost:{port}/callback")
    };
    let emu = Emulator::builder()
        .hubdb_rows(5)
        .acton_records(5)
        .redirect_uri(callback.clone())
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("authorize-url");
    let opener = dir.path().join("open-url.sh");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > {}.tmp && mv {0}.tmp {0}\n",
            url_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let (provider, id, secret, login, password) = if hubspot {
        let i = emu.hubspot().info();
        let mut p = Provider::new(
            "HubSpot",
            "HubDB",
            &i.authorize_url,
            &format!("{}/oauth/v3/token", i.base_url),
        )
        .unwrap();
        p.default_scopes = vec![
            "hubdb".into(),
            "crm.objects.owners.read".into(),
            "oauth".into(),
        ];
        (
            p,
            i.client_id.clone(),
            i.client_secret.clone(),
            i.user_email.clone(),
            i.user_password.clone(),
        )
    } else {
        let i = emu.acton().info();
        let mut p = Provider::new("Act-On", "Act-On", &i.authorize_url, &i.token_url).unwrap();
        p.default_scopes = vec!["PRODUCTION".into()];
        (
            p,
            i.client_id.clone(),
            i.client_secret.clone(),
            i.user.clone(),
            i.password.clone(),
        )
    };
    let store = open_store(
        &Location::File(dir.path().join("OAuthSettings.txt")),
        KeyConfig::key_file(dir.path().join("settings.key")).with_iterations(1_000),
    );
    let auth = Arc::new(
        Authenticator::builder(provider)
            .client(id, Some(Secret::new(secret)))
            .initiate(InitiateOAuth::GetAndRefresh)
            .callback_url(callback)
            .browser_command(opener.display().to_string())
            .browser_timeout(Duration::from_secs(60))
            .store(store.clone())
            .build()
            .unwrap(),
    );
    let flow = tokio::spawn({
        let auth = auth.clone();
        async move { auth.access_token().await }
    });
    let mut waited = 0;
    while !url_file.exists() {
        assert!(waited < 200, "the connector never opened the browser");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    let authorize_url = std::fs::read_to_string(&url_file).unwrap();
    let driver = WebDriver::start().await.unwrap();
    approve_in_browser(&driver, &authorize_url, &login, &password)
        .await
        .unwrap();
    let token = tokio::time::timeout(Duration::from_secs(30), flow)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let page = driver.page_source().await.unwrap_or_default();
    driver.quit().await.unwrap();
    assert!(
        store.load().unwrap().access_token.ct_eq(&token),
        "the tokens landed in the store"
    );
    assert!(
        page.to_lowercase().contains("authoriz"),
        "the browser shows the success page: {page}"
    );
    let stats = if hubspot {
        emu.hubspot().stats()
    } else {
        emu.acton().stats()
    };
    assert_eq!(stats.token_grants.authorization_code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn desktop_flow_hubspot_in_headless_chromium() {
    desktop_flow_in_chromium(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn desktop_flow_acton_in_headless_chromium() {
    desktop_flow_in_chromium(false).await;
}
