//! Introspection of dead tokens: on v3 (whose spec answers every introspection with a
//! 200 token-info object whose `active` is required) and on the date versions 2026-03 and
//! 2026-09, an unknown, expired, revoked or rotated-away token is 200 `{"active": false}`.

use std::time::Duration;

use emulator::RefreshRotation;
use serde_json::{Value, json};

use super::common::{builder, client, hubspot_oauth};

const VERSIONS: [&str; 3] = ["v3", "2026-03", "2026-09"];

async fn introspect(emu: &emulator::Emulator, version: &str, token: &str) -> (u16, Value) {
    let info = emu.hubspot().info();
    let r = client()
        .post(format!(
            "{}/oauth/{version}/token/introspect",
            info.base_url
        ))
        .form(&[
            ("client_id", info.client_id.as_str()),
            ("client_secret", info.client_secret.as_str()),
            ("token", token),
        ])
        .send()
        .await
        .expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.expect("json"))
}

#[tokio::test]
async fn dead_tokens_introspect_as_inactive_on_every_version() {
    let emu = builder()
        .auto_approve(true)
        .refresh_rotation(RefreshRotation::Rotate)
        .start()
        .await
        .expect("start");
    let info = emu.hubspot().info().clone();
    let first = hubspot_oauth(&emu, "oauth hubdb").await;
    let at = first["access_token"].as_str().expect("at").to_string();
    let rt = first["refresh_token"].as_str().expect("rt").to_string();
    for v in VERSIONS {
        let (s, b) = introspect(&emu, v, &at).await;
        assert_eq!((s, b["active"].clone()), (200, json!(true)), "{v}");
    }
    // A refresh rotates the refresh token away (the old one is now dead).
    let r = client()
        .post(&info.token_url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", info.client_id.as_str()),
            ("client_secret", info.client_secret.as_str()),
            ("refresh_token", rt.as_str()),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let second: Value = r.json().await.expect("json");
    let live_rt = second["refresh_token"].as_str().expect("rt").to_string();
    assert_ne!(live_rt, rt);
    // Expire every access token by moving the clock past their 30-minute lifetime.
    emu.advance_clock(Duration::from_secs(1801));
    let revoked = hubspot_oauth(&emu, "oauth hubdb").await;
    let revoked_rt = revoked["refresh_token"].as_str().expect("rt").to_string();
    assert_eq!(emu.hubspot().revoke_token(&revoked_rt), 1);
    for v in VERSIONS {
        for (what, token) in [
            ("unknown", "not-a-token"),
            ("empty", ""),
            ("expired access", at.as_str()),
            ("rotated refresh", rt.as_str()),
            ("revoked refresh", revoked_rt.as_str()),
        ] {
            let (s, b) = introspect(&emu, v, token).await;
            assert_eq!((s, b), (200, json!({"active": false})), "{v} {what}");
        }
        // The live refresh token still introspects as active.
        let (s, b) = introspect(&emu, v, &live_rt).await;
        assert_eq!(
            (s, b["active"].clone(), b["token_use"].clone()),
            (200, json!(true), json!("refresh_token")),
            "{v}"
        );
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn introspection_with_a_bad_client_is_an_error_not_inactive() {
    let emu = builder().start().await.expect("start");
    let info = emu.hubspot().info().clone();
    for v in VERSIONS {
        let r = client()
            .post(format!("{}/oauth/{v}/token/introspect", info.base_url))
            .form(&[
                ("client_id", info.client_id.as_str()),
                ("client_secret", "wrong"),
                ("token", "anything"),
            ])
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 400, "{v}");
        let b: Value = r.json().await.expect("json");
        assert_eq!(
            (
                b["status"].clone(),
                b["category"].clone(),
                b["error"].clone()
            ),
            (
                json!("BAD_CLIENT_SECRET"),
                json!("VALIDATION_ERROR"),
                json!("invalid_client")
            ),
            "{v}"
        );
    }
    emu.shutdown().await;
}
