//! `connector demo`: both emulators in-process, and a walk through what the product does.
//! It needs no account and no network: the README's first command.

use std::sync::Arc;
use std::time::Instant;

use connstr::Source;
use source_core::format::{Format, write_batches};

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

async fn query(
    session: &sql::Session,
    statement: &str,
) -> Result<Vec<arrow_array::RecordBatch>, Failure> {
    println!("sql> {statement}");
    let started = Instant::now();
    let result = session.execute(statement, &[]).await.map_err(fail)?;
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

pub(crate) async fn run() -> Result<(), Failure> {
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
    let acton_cs: connstr::ConnectionString = format!(
        "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation=memory://demo-acton",
        ao.user, ao.password, ao.client_id, ao.client_secret, ao.base_url
    )
    .parse()
    .map_err(fail)?;
    println!("connection: {acton_cs}");
    let acton_config = connstr::validate::acton(&acton_cs).map_err(fail)?;
    let tokens = source_acton::token_provider(&acton_config).map_err(fail)?;
    tokens.access_token().await.map_err(fail)?;
    println!(
        "authenticated; password grants so far: {}",
        emu.acton().stats().token_grants.password
    );

    step(3, "HubDB: a private app token (AuthScheme=PrivateApp)");
    let pat_cs: connstr::ConnectionString = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}",
        hs.private_app_token, hs.base_url
    )
    .parse()
    .map_err(fail)?;
    println!("connection: {pat_cs}");

    step(
        4,
        "HubDB: the OAuth web flow without a browser (EXEC GetOAuthAuthorizationURL / GetOAuthAccessToken)",
    );
    let app_cs: connstr::ConnectionString = format!(
        "OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthAuthorizationURL={};CallbackURL={}",
        hs.client_id, hs.client_secret, hs.base_url, hs.authorize_url, hs.redirect_uri
    )
    .parse()
    .map_err(fail)?;
    let registry = procedures::Registry::hubdb(&connstr::validate::hubdb(&app_cs).map_err(fail)?)
        .map_err(fail)?;
    let url = registry
        .execute_sql("EXEC GetOAuthAuthorizationURL", &[], &[])
        .await
        .map_err(fail)?;
    let url = url.first("URL").unwrap_or_default().to_owned();
    println!("authorization URL: {}…", &url[..url.len().min(90)]);
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
    let got = registry
        .execute_sql(
            "EXEC GetOAuthAccessToken AuthMode='WEB', Verifier=?",
            &[procedures::exec::Value::Text(callback)],
            &[],
        )
        .await
        .map_err(fail)?;
    println!(
        "access token obtained (ExpiresIn={} s); it is shown here only as ********",
        got.first("ExpiresIn").unwrap_or("?")
    );
    let oauth_cs: connstr::ConnectionString = format!(
        "InitiateOAuth=OFF;OAuthAccessToken='{}';APIBaseURL={}",
        got.first("OAuthAccessToken").unwrap_or_default(),
        hs.base_url
    )
    .parse()
    .map_err(fail)?;

    step(5, "One SQL session over both sources");
    let mut session = sql::Session::new();
    let hub = crate::data::open_source_for(Source::HubDb, &oauth_cs, true).await?;
    session
        .register_source(
            "hubdb",
            hub,
            sql::SessionOptions::from_connection(Source::HubDb, &oauth_cs),
        )
        .await
        .map_err(fail)?;
    let act = crate::data::open_source_for(Source::ActOn, &acton_cs, true).await?;
    session
        .register_source(
            "acton",
            act,
            sql::SessionOptions::from_connection(Source::ActOn, &acton_cs),
        )
        .await
        .map_err(fail)?;
    let pat_registry =
        procedures::Registry::hubdb(&connstr::validate::hubdb(&pat_cs).map_err(fail)?)
            .map_err(fail)?;
    session.register_procedures("hubdb", Arc::new(sql::RegistryProcedures(pat_registry)));
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

    step(7, "Write a draft row and publish it");
    query(&session, "INSERT INTO hubdb.events_Draft (title, city, attendees) VALUES ('Connector demo launch', 'Lisbon', 999)").await?;
    query(&session, "EXEC PublishTable TableName='events'").await?;
    query(
        &session,
        "SELECT Id, title, city, attendees FROM hubdb.events WHERE title = 'Connector demo launch'",
    )
    .await?;

    let stats = emu.hubspot().stats();
    println!(
        "\nDone: HubSpot served {} API requests ({} rate limited); Act-On {}.",
        stats.api_requests,
        stats.rate_limited,
        emu.acton().stats().api_requests
    );
    emu.shutdown().await;
    Ok(())
}
