//! Shared helpers.

use emulator::{Emulator, EmulatorBuilder};
use serde_json::Value;

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Both emulators with small seed data and no rate limits, so tests are fast and independent.
pub(crate) async fn start() -> Emulator {
    builder().start().await.expect("start")
}

pub(crate) fn builder() -> EmulatorBuilder {
    EmulatorBuilder::new()
        .hubdb_rows(2500)
        .acton_records(2500)
        .hubspot_rate_limit(0)
        .acton_rate_limit(0)
        .acton_auth_limit(0)
}

pub(crate) async fn get_json(c: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let r = c.get(url).bearer_auth(token).send().await.expect("send");
    let status = r.status().as_u16();
    let body = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// HubSpot OAuth with auto-approve: returns the token response.
pub(crate) async fn hubspot_oauth(emu: &Emulator, scope: &str) -> Value {
    let c = client();
    let hs = emu.hubspot().info();
    let r = c
        .get(&hs.authorize_url)
        .query(&[
            ("client_id", hs.client_id.as_str()),
            ("redirect_uri", hs.redirect_uri.as_str()),
            ("scope", scope),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), 302, "auto-approve redirects");
    let loc = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let code = query_param(&loc, "code").expect("code");
    let r = c
        .post(&hs.token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &hs.client_id),
            ("client_secret", &hs.client_secret),
            ("redirect_uri", &hs.redirect_uri),
            ("code", &code),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

pub(crate) async fn acton_password_token(emu: &Emulator) -> Value {
    let a = emu.acton().info();
    let r = client()
        .post(&a.token_url)
        .form(&[
            ("grant_type", "password"),
            ("username", &a.user),
            ("password", &a.password),
            ("client_id", &a.client_id),
            ("client_secret", &a.client_secret),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}
