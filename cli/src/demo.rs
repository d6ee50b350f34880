//! `connector demo`: both emulators in-process, and a walk through what the product does.
//! It needs no account and no network: the README's first command.

use std::time::Instant;

use source_core::Value;
use source_core::format::{Format, write_batches};
use source_plugin::Connection;

use crate::Failure;

fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

fn fail(e: impl std::fmt::Display) -> Failure {
    Failure::new(1, format!("demo step failed: {e}"))
}

fn show(batches: &[arrow_array::RecordBatch]) -> Result<(), Failure> {
    let Some(first) = batches.first() else {
        println!("(no rows)");
        return Ok(());
    };
    let mut out = std::io::stdout();
    write_batches(Format::Table, &first.schema(), batches, &mut out).map_err(fail)
}

/// A connection of the registered source `name`, validated once.
fn connect(name: &str, text: &str) -> Result<Connection, Failure> {
    let source = sources::find(name).map_err(fail)?;
    let cs: connstr::ConnectionString = text.parse().map_err(fail)?;
    println!("connection: {cs}");
    source.configure(&cs).map_err(fail)
}

async fn query(
    session: &sql::Session,
    statement: &str,
) -> Result<Vec<arrow_array::RecordBatch>, Failure> {
    query_with(session, statement, &[]).await
}

async fn query_with(
    session: &sql::Session,
    statement: &str,
    params: &[Value],
) -> Result<Vec<arrow_array::RecordBatch>, Failure> {
    println!("sql> {statement}");
    let started = Instant::now();
    let result = session.execute(statement, params).await.map_err(fail)?;
    if let Some(n) = result.affected() {
        println!(
            "{n} rows affected ({:.0} ms)",
            started.elapsed().as_secs_f64() * 1000.0
        );
        return Ok(Vec::new());
    }
    let batches = result.collect().await.map_err(fail)?;
    show(&batches)?;
    println!("({:.0} ms)", started.elapsed().as_secs_f64() * 1000.0);
    Ok(batches)
}

/// The third source (`source-files`): registered by one line in `sources/Cargo.toml`, it
/// joins HubDB in the same session with no code here that knows it.
async fn files_step(session: &mut sql::Session) -> Result<(), Failure> {
    let names: Vec<&str> = sources::ALL.iter().map(|s| s.info().name).collect();
    println!("registered sources: {}", names.join(", "));
    let dir = std::env::temp_dir().join(format!("connector-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let cities =
        "city,country,population_m\nBerlin,Germany,3.6\nLisbon,Portugal,0.5\nBoston,USA,0.7\n";
    std::fs::write(dir.join("cities.csv"), cities).map_err(fail)?;
    let files = connect("files", &format!("Folder='{}'", dir.display()))?;
    let result = async {
        session.add_connection(&files).await.map_err(fail)?;
        query(session, "SELECT c.country, COUNT(*) AS events, MAX(e.attendees) AS biggest FROM hubdb.events e JOIN files.cities c ON e.city = c.city WHERE c.population_m > 0.6 GROUP BY c.country ORDER BY c.country").await
    }
    .await;
    // The folder is the demo's own: remove it whatever happened.
    let _ = std::fs::remove_dir_all(&dir);
    result.map(|_| ())
}

/// The text of `column` in the first row of `batches`.
fn cell(batches: &[arrow_array::RecordBatch], column: &str) -> Option<String> {
    let batch = batches.first()?;
    let array = batch.column_by_name(column)?;
    arrow_cast::display::array_value_to_string(array, 0).ok()
}

/// Runs `statement` and returns `column` of its first row (procedure results).
async fn first_text(
    session: &sql::Session,
    statement: &str,
    params: &[Value],
    column: &str,
) -> Result<String, Failure> {
    let batches = session
        .execute(statement, params)
        .await
        .map_err(fail)?
        .collect()
        .await
        .map_err(fail)?;
    Ok(cell(&batches, column).unwrap_or_default())
}

/// The query parameters the emulator received for HubDB row requests since `mark`.
fn pushed_params(emu: &emulator::Emulator, mark: usize) -> Vec<String> {
    emu.hubspot()
        .requests()
        .into_iter()
        .skip(mark)
        .filter(|r| r.path.contains("/rows"))
        .map(|r| format!("GET {}?{}", r.path, r.query.unwrap_or_default()))
        .collect()
}

/// The web flow of `app` (a HubDB connection with client id, secret and callback) against an
/// auto-approving emulator, without a browser: the authorization URL and the callback URL the
/// emulator redirected to (with the code), which `GetOAuthAccessToken` or `OAuthVerifier` take.
pub(crate) async fn approve_in_emulator(app: &Connection) -> Result<(String, String), Failure> {
    let mut session = sql::Session::new();
    session.add_procedures(app).map_err(fail)?;
    let url = first_text(&session, "EXEC GetOAuthAuthorizationURL", &[], "URL").await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(fail)?;
    // The auto-approving emulator answers with the redirect a browser would follow.
    let callback = client
        .get(&url)
        .send()
        .await
        .map_err(fail)?
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((url, callback))
}

/// The HubSpot request paths the emulator served, counted by their version prefix
/// (`/cms/hubdb/2026-03`, `/cms/v3/hubdb`, `/oauth/v1`, …): what proves which API version a run spoke.
fn version_prefixes(emu: &emulator::Emulator) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for request in emu.hubspot().requests() {
        let prefix: Vec<&str> = request.path.split('/').skip(1).take(3).collect();
        let prefix = match prefix.as_slice() {
            ["oauth", version, ..] | ["crm", version, ..] if version.starts_with(['v', '2']) => {
                format!("/{}/{version}", prefix[0])
            }
            [a, b, c] => format!("/{a}/{b}/{c}"),
            _ => request.path.clone(),
        };
        *counts.entry(prefix).or_default() += 1;
    }
    counts.into_iter().collect()
}

/// `hubdb_api_version` adds `APIVersion=` to every HubDB connection string (None: the default).
pub(crate) async fn run(hubdb_api_version: Option<String>) -> Result<(), Failure> {
    let version = hubdb_api_version
        .map(|v| format!(";APIVersion={v}"))
        .unwrap_or_default();
    step(1, "Start the HubSpot and Act-On emulators on loopback");
    let emu = emulator::Emulator::builder()
        .auto_approve(true)
        .start()
        .await
        .map_err(fail)?;
    let hs = emu.hubspot().info().clone();
    let ao = emu.acton().info().clone();
    println!("HubSpot: {}\nAct-On:  {}", hs.base_url, ao.base_url);

    step(
        2,
        "Act-On: password grant (AuthScheme=OAuthPassword), tokens in memory://demo",
    );
    let acton = connect(
        "acton",
        &format!(
            "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation=memory://demo-acton",
            ao.user, ao.password, ao.client_id, ao.client_secret, ao.base_url
        ),
    )?;
    let tokens = acton.auth().map_err(fail)?.token_provider().map_err(fail)?;
    if let Some(tokens) = tokens {
        tokens.access_token().await.map_err(fail)?;
    }
    println!(
        "authenticated; password grants so far: {}",
        emu.acton().stats().token_grants.password
    );

    step(3, "HubDB: a private app token (AuthScheme=PrivateApp)");
    let private_app = connect(
        "hubdb",
        &format!(
            "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}{version}",
            hs.private_app_token, hs.base_url
        ),
    )?;

    step(
        4,
        "HubDB: the OAuth web flow without a browser (EXEC GetOAuthAuthorizationURL / GetOAuthAccessToken)",
    );
    let app = connect(
        "hubdb",
        &format!(
            "OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthAuthorizationURL={};CallbackURL={}{version}",
            hs.client_id, hs.client_secret, hs.base_url, hs.authorize_url, hs.redirect_uri
        ),
    )?;
    let (url, callback) = approve_in_emulator(&app).await?;
    println!("authorization URL: {}…", &url[..url.len().min(90)]);
    let mut web_flow = sql::Session::new();
    web_flow.add_procedures(&app).map_err(fail)?;
    let token_statement = "EXEC GetOAuthAccessToken AuthMode='WEB', Verifier=?";
    let callback = [Value::Str(callback)];
    let batches = web_flow
        .execute(token_statement, &callback)
        .await
        .map_err(fail)?
        .collect()
        .await
        .map_err(fail)?;
    let expires_in = cell(&batches, "ExpiresIn").unwrap_or_else(|| "?".to_owned());
    println!("access token obtained (ExpiresIn={expires_in} s); it is shown here only as ********");
    let access_token = cell(&batches, "OAuthAccessToken").unwrap_or_default();
    let oauth = sources::find("hubdb")
        .map_err(fail)?
        .configure(
            &format!(
                "InitiateOAuth=OFF;OAuthAccessToken='{access_token}';APIBaseURL={}{version}",
                hs.base_url
            )
            .parse()
            .map_err(fail)?,
        )
        .map_err(fail)?;

    step(5, "One SQL session over both sources");
    let mut session = sql::Session::new();
    session.add_connection(&oauth).await.map_err(fail)?;
    session.add_connection(&acton).await.map_err(fail)?;
    // The table procedures with the private app's token.
    session.add_procedures(&private_app).map_err(fail)?;
    query(&session, "SELECT TableName, TableType FROM sys_tables WHERE TableName LIKE 'events%' OR TableName LIKE 'List_%' ORDER BY TableName").await?;

    step(
        6,
        "Queries with pushdown (the emulator's request log shows what was sent)",
    );
    let mark = emu.hubspot().requests().len();
    query(&session, "SELECT Id, title, city, attendees FROM hubdb.events WHERE attendees > 400 AND city = 'Berlin' ORDER BY attendees DESC LIMIT 5").await?;
    for line in pushed_params(&emu, mark) {
        println!("  sent: {line}");
    }
    query(&session, "SELECT COUNT(*) AS events FROM hubdb.events").await?;
    query(
        &session,
        "SELECT Type, COUNT(*) AS messages FROM acton.Messages GROUP BY Type ORDER BY Type",
    )
    .await?;
    query(&session, "SELECT * FROM acton.List_Customers LIMIT 3").await?;

    step(
        7,
        "Write a draft row and publish it; add a contact to an Act-On list",
    );
    query(&session, "INSERT INTO hubdb.events_Draft (title, city, attendees) VALUES ('Connector demo launch', 'Lisbon', 999)").await?;
    query(&session, "EXEC PublishTable TableName='events'").await?;
    query(
        &session,
        "SELECT Id, title, city, attendees FROM hubdb.events WHERE title = 'Connector demo launch'",
    )
    .await?;
    // Act-On: a contact added to a list (one POST …/record), read back by its record id.
    query(&session, "INSERT INTO acton.List_Newsletter_Subscribers (\"First Name\", \"E-mail Address\", Company) VALUES ('Demo', 'demo@connector.example', 'Connector')").await?;
    query(
        &session,
        "SELECT * FROM acton.List_Newsletter_Subscribers WHERE ContactId = SCOPE_IDENTITY()",
    )
    .await?;

    step(
        8,
        "Every registered source: a folder of CSV files joined with HubDB",
    );
    files_step(&mut session).await?;

    let stats = emu.hubspot().stats();
    println!(
        "\nDone: HubSpot served {} API requests ({} rate limited); Act-On {}.",
        stats.api_requests,
        stats.rate_limited,
        emu.acton().stats().api_requests
    );
    println!("HubSpot paths by API version:");
    for (prefix, count) in version_prefixes(&emu) {
        let noun = if count == 1 { "request" } else { "requests" };
        // The consent page is a browser page, not an API: HubSpot does not version it.
        let note = if prefix == "/oauth/authorize" {
            " (the consent page: unversioned)"
        } else {
            ""
        };
        println!("  {prefix:<20} {count:>3} {noun}{note}");
    }
    emu.shutdown().await;
    Ok(())
}
