//! The procedures against the emulators, run with EXEC through a session that has only a
//! connection's procedures: the OAuth web flow (generic over the provider) for both sources,
//! and the HubDB table procedures (through the source's HTTP client and rate limiter).

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use emulator::{Emulator, RefreshRotation};
use source_core::{ErrorKind, Value};

/// A session with one connection's procedures, and their results as text.
struct Registry(sql::Session);

/// A procedure's result set: column names and text cells.
#[derive(Debug)]
struct Output {
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

impl Output {
    fn first(&self, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.rows.first()?.get(i)?.as_deref()
    }
}

impl Registry {
    fn new(source: &str, cs: &str) -> Self {
        let connection = sources::find(source)
            .unwrap()
            .configure(&cs.parse().unwrap())
            .unwrap();
        let mut session = sql::Session::new();
        session.add_procedures(&connection).unwrap();
        Self(session)
    }

    async fn execute_sql(&self, statement: &str, params: &[Value]) -> Result<Output, sql::Error> {
        let batches = self.0.execute(statement, params).await?.collect().await?;
        let batch = &batches[0];
        let columns = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let rows = (0..batch.num_rows())
            .map(|r| {
                batch
                    .columns()
                    .iter()
                    .map(|c| {
                        let text = arrow_cast::display::array_value_to_string(c, r).unwrap();
                        (!c.is_null(r)).then_some(text)
                    })
                    .collect()
            })
            .collect();
        Ok(Output { columns, rows })
    }
}

/// A SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .hubdb_rows(30)
        .acton_records(10)
        .auto_approve(true)
        .acton_refresh_rotation(RefreshRotation::Rotate)
        .start()
        .await
        .unwrap()
}

fn acton_registry(emu: &Emulator) -> Registry {
    let i = emu.acton().info();
    let cs = format!(
        "OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};CallbackURL={}",
        i.client_id, i.client_secret, i.base_url, i.redirect_uri
    );
    Registry::new("acton", &cs)
}

fn hubdb_registry(emu: &Emulator, extra: &str) -> Registry {
    let i = emu.hubspot().info();
    let cs = format!(
        "OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthAuthorizationURL={};{extra}",
        i.client_id, i.client_secret, i.base_url, i.authorize_url
    );
    Registry::new("hubdb", &cs)
}

/// Follows the auto-approving authorization page one hop and returns the callback URL.
async fn approve(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client.get(url).send().await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    resp.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn web_flow_through_exec_for_both_sources() {
    let emu = emulator().await;
    for acton in [true, false] {
        let registry = if acton {
            acton_registry(&emu)
        } else {
            hubdb_registry(
                &emu,
                &format!("CallbackURL={}", emu.hubspot().info().redirect_uri),
            )
        };
        let url = registry
            .execute_sql("EXEC GetOAuthAuthorizationURL", &[])
            .await
            .unwrap();
        let url = url.first("URL").unwrap().to_owned();
        assert!(url.contains("code_challenge="), "{url}");
        let callback = approve(&url).await;
        let code = query_param(&callback, "code");
        let state = query_param(&callback, "state");
        // A separate "request": a bare code plus the state, bound as parameters.
        let tokens = registry
            .execute_sql(
                "EXECUTE GetOAuthAccessToken AuthMode='WEB', Verifier=?, State=?",
                &[Value::Str(code), Value::Str(state)],
            )
            .await
            .unwrap();
        let access = tokens.first("OAuthAccessToken").unwrap().to_owned();
        let refresh = tokens.first("OAuthRefreshToken").unwrap().to_owned();
        assert!(tokens.first("ExpiresIn").unwrap().parse::<u64>().unwrap() > 0);
        assert!(
            tokens
                .first("OAuthTokenTimeStamp")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                > 1_600_000_000_000
        );
        let refreshed = registry
            .execute_sql(
                &format!(
                    "EXEC RefreshOAuthAccessToken OAuthRefreshToken={}",
                    quote(&refresh)
                ),
                &[],
            )
            .await
            .unwrap();
        assert_ne!(refreshed.first("OAuthAccessToken").unwrap(), access);
        if acton {
            // Act-On refresh tokens work once.
            let again = registry
                .execute_sql(
                    &format!(
                        "EXEC RefreshOAuthAccessToken OAuthRefreshToken={}",
                        quote(&refresh)
                    ),
                    &[],
                )
                .await
                .unwrap_err();
            assert!(again.to_string().contains("refused"), "{again}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verifier_with_a_forged_state_is_rejected_before_any_token_request() {
    let emu = emulator().await;
    let registry = acton_registry(&emu);
    let url = registry
        .execute_sql("EXEC GetOAuthAuthorizationURL", &[])
        .await
        .unwrap();
    let callback = approve(url.first("URL").unwrap()).await;
    let state = query_param(&callback, "state");
    let (nonce, _) = state.split_once('.').unwrap();
    let forged = format!("{nonce}.AAAAAAAAAAAAAAAAAAAAAA");
    emu.acton().clear_requests();
    let err = registry
        .execute_sql(
            &format!(
                "EXEC GetOAuthAccessToken AuthMode='WEB', Verifier='{}', State='{forged}'",
                query_param(&callback, "code")
            ),
            &[],
        )
        .await
        .unwrap_err();
    match &err {
        sql::Error::Source(e) => {
            assert_eq!(e.kind(), ErrorKind::Auth, "{err}");
            let auth = e
                .source_error()
                .and_then(|e| e.downcast_ref::<auth_core::Error>());
            assert!(
                matches!(auth, Some(auth_core::Error::VerifierMismatch { .. })),
                "{err}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        emu.acton().requests_to("/token").is_empty(),
        "no token request was made"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_errors_name_the_procedure_input_and_allowed_values() {
    let emu = emulator().await;
    let registry = acton_registry(&emu);
    let err = registry
        .execute_sql("EXEC GetOAuthAccesToken", &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean GetOAuthAccessToken?"), "{err}");
    let err = registry
        .execute_sql("EXEC GetOAuthAccessToken Verifer='x'", &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean Verifier?"), "{err}");
    let err = registry
        .execute_sql("EXEC GetOAuthAccessToken AuthMode='PHONE'", &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("APP, WEB"), "{err}");
    let err = registry
        .execute_sql("EXEC GetOAuthAccessToken AuthMode='web'", &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs input Verifier"), "{err}");
    // Secret inputs are never echoed.
    let err = registry
        .execute_sql(
            "EXEC RefreshOAuthAccessToken OAuthRefreshToken='CANARY-RT'",
            &[],
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.contains("CANARY"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn hubdb_table_procedures_round_trip() {
    let emu = emulator().await;
    let token = emu.hubspot().info().private_app_token.clone();
    let registry = hubdb_registry(
        &emu,
        &format!("AuthScheme=PrivateApp;PrivateAppToken={token}"),
    );
    let run = |sql: String| {
        let registry = &registry;
        async move { registry.execute_sql(&sql, &[]).await.unwrap() }
    };
    let created =
        run("EXEC CreateTable Name='books', Columns='title:TEXT, price:NUMBER'".into()).await;
    assert_eq!(created.first("Name"), Some("books"));
    let imported =
        run("EXEC ImportCSV TableName='books', Content='title,price\nDune,9.5\nEmma,4\n'".into())
            .await;
    assert_eq!(imported.first("RowsImported"), Some("2"));
    let client = reqwest::Client::new();
    let published_rows = || async {
        let v: serde_json::Value = client
            .get(emu.hubspot().url("/cms/v3/hubdb/tables/books/rows"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.get("results")
            .and_then(|r| r.as_array())
            .map_or(0, Vec::len)
    };
    run("EXEC PublishTable TableName='books'".into()).await;
    assert_eq!(
        published_rows().await,
        2,
        "publish makes the draft rows visible"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("books.csv");
    let exported = run(format!(
        "EXEC ExportCSV TableName='books', File='{}'",
        file.display()
    ))
    .await;
    assert_eq!(exported.first("Rows"), Some("2"));
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.contains("Dune") && csv.contains("Emma"), "{csv}");
    // Round trip: import the export into a clone.
    run("EXEC CloneTable TableName='books', NewName='books2', CopyRows=false".into()).await;
    let again = run(format!(
        "EXEC ImportCSV TableName='books2', File='{}'",
        file.display()
    ))
    .await;
    assert_eq!(again.first("RowsImported"), Some("2"));

    run("EXEC UnpublishTable TableName='books'".into()).await;
    run("EXEC ResetDraft TableName='books2'".into()).await;
    run("EXEC DeleteTable TableName='books2'".into()).await;
    let err = registry
        .execute_sql("EXEC PublishTable TableName='nope'", &[])
        .await
        .unwrap_err();
    match &err {
        sql::Error::Source(e) => assert_eq!(e.kind(), ErrorKind::NotFound, "{err}"),
        other => panic!("{other:?}"),
    }
}

/// CData's documented headless form: `GetOAuthAuthorizationURL`, then
/// `InitiateOAuth=REFRESH;OAuthVerifier=<the bare code>` in another process. The URL carries a
/// PKCE challenge derived from its state and the bare code carries no state, so the procedure
/// keeps the state in the settings file; the exchange derives the verifier from it, and a server
/// that enforces PKCE (as HubSpot's emulator does) accepts the code.
#[tokio::test(flavor = "multi_thread")]
async fn hl_1_a_bare_code_after_get_oauth_authorization_url_passes_pkce() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let i = emu.hubspot().info();
    let settings = format!(
        "OAuthSettingsLocation='{}';CallbackURL={}",
        dir.path().join("OAuthSettings.txt").display(),
        i.redirect_uri
    );
    let cs = |extra: &str| {
        format!(
            "OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthAuthorizationURL={};{settings};OAuthSettingsPassphrase='correct horse battery staple'{extra}",
            i.client_id, i.client_secret, i.base_url, i.authorize_url,
        )
    };
    let registry = Registry::new("hubdb", &cs(""));
    let url = registry
        .execute_sql("EXEC GetOAuthAuthorizationURL", &[])
        .await
        .unwrap();
    let url = url.first("URL").unwrap().to_owned();
    assert!(url.contains("code_challenge="), "{url}");
    let code = query_param(&approve(&url).await, "code");

    let connect = |extra: &str| {
        sources::find("hubdb")
            .unwrap()
            .configure(&cs(extra).parse().unwrap())
            .unwrap()
    };
    let headless = connect(&format!(";InitiateOAuth=REFRESH;OAuthVerifier={code}"));
    let tokens = headless.auth().unwrap().token_provider().unwrap().unwrap();
    let token = tokens.access_token().await.unwrap();
    assert_eq!(emu.hubspot().stats().token_grants.authorization_code, 1);
    // Later connections use the stored tokens, without the verifier.
    let later = connect(";InitiateOAuth=REFRESH");
    let again = later.auth().unwrap().token_provider().unwrap().unwrap();
    assert!(again.access_token().await.unwrap().ct_eq(&token));
    assert_eq!(emu.hubspot().stats().token_errors, 0);
}

/// `EXEC RefreshOAuthAccessToken` on a connection whose tokens are stored refreshes the stored
/// single-use refresh token under the store's lock and saves its successor: the next
/// connection uses the new pair and never presents the used token.
#[tokio::test(flavor = "multi_thread")]
async fn exec_refresh_saves_the_rotated_stored_tokens() {
    let emu = Emulator::builder()
        .acton_records(1)
        .acton_refresh_rotation(RefreshRotation::RotateRevokeOnReuse)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let i = emu.acton().info();
    let cs = format!(
        "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation='{}';OAuthSettingsPassphrase='correct horse battery staple'",
        i.user,
        i.password,
        i.client_id,
        i.client_secret,
        i.base_url,
        dir.path().join("OAuthSettings.txt").display()
    );
    let token_now = || async {
        let connection = sources::find("acton")
            .unwrap()
            .configure(&cs.parse().unwrap())
            .unwrap();
        let provider = connection
            .auth()
            .unwrap()
            .token_provider()
            .unwrap()
            .unwrap();
        provider.access_token().await.unwrap()
    };
    let first = token_now().await;
    let registry = Registry::new("acton", &cs);
    let out = registry
        .execute_sql("EXEC RefreshOAuthAccessToken", &[])
        .await
        .unwrap();
    let refreshed = out.first("OAuthAccessToken").unwrap().to_owned();
    assert_ne!(refreshed, first.expose());
    let later = token_now().await;
    assert_eq!(later.expose(), refreshed, "the refreshed pair was saved");
    let stats = emu.acton().stats();
    assert_eq!(
        (
            stats.token_grants.password,
            stats.token_grants.refresh_token,
            stats.token_errors
        ),
        (1, 1, 0)
    );
}
