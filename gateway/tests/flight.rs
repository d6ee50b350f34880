//! The gateway through the Rust Flight SQL client: `GetPrimaryKeys`, the health action,
//! TLS, anonymous access, cancelled streams and graceful shutdown, logs without secrets, and
//! a prepared UNION over two accounts whose scans run at once.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_flight::Action;
use arrow_flight::sql::CommandGetPrimaryKeys;
use arrow_flight::sql::client::FlightSqlServiceClient;
use common::{ALICE, Harness};
use futures::TryStreamExt;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// Every log line of this test binary (one global subscriber per process).
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .with_env_filter("info")
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn client(uri: &str) -> FlightSqlServiceClient<Channel> {
    let uri = uri.replace("grpc://", "http://");
    let channel = Endpoint::from_shared(uri).unwrap().connect().await.unwrap();
    FlightSqlServiceClient::new(channel)
}

async fn query(client: &mut FlightSqlServiceClient<Channel>, sql: &str) -> Vec<RecordBatch> {
    let info = client.execute(sql.to_owned(), None).await.unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    client
        .do_get(ticket)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

fn cell(batches: &[RecordBatch], column: &str, row: usize) -> String {
    let array = batches[0].column_by_name(column).unwrap();
    arrow_cast_string(array, row)
}

fn arrow_cast_string(array: &arrow_array::ArrayRef, row: usize) -> String {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    match array.data_type() {
        arrow_schema::DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        arrow_schema::DataType::Int32 => array
            .as_primitive::<arrow_array::types::Int32Type>()
            .value(row)
            .to_string(),
        arrow_schema::DataType::Int64 => array
            .as_primitive::<arrow_array::types::Int64Type>()
            .value(row)
            .to_string(),
        other => format!("{other} (len {})", array.len()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn primary_keys_health_and_logs_without_secrets() {
    let logs = captured_logs();
    let h = Harness::start(emulator::Emulator::builder()).await;

    // The health action needs no credentials.
    let mut anonymous = client(&h.uri).await;
    let mut answer = anonymous
        .do_action(Action::new(gateway::HEALTH_ACTION, ""))
        .await
        .unwrap();
    let body = answer.message().await.unwrap().unwrap().body;
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        body.starts_with("{\"status\":\"serving\",\"connections\":2,\"uptime_s\":"),
        "{body}"
    );
    // Anything else does.
    let err = anonymous
        .execute("SELECT 1".to_owned(), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains(gateway::NO_CREDENTIALS), "{err}");

    let mut alice = client(&h.uri).await;
    alice.handshake(ALICE.0, ALICE.1).await.unwrap();
    let info = alice
        .get_primary_keys(CommandGetPrimaryKeys {
            catalog: None,
            db_schema: Some("portal_eu".to_owned()),
            table: "events".to_owned(),
        })
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let keys: Vec<RecordBatch> = alice
        .do_get(ticket)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys[0].num_rows(), 1);
    assert_eq!(
        (
            cell(&keys, "catalog_name", 0),
            cell(&keys, "db_schema_name", 0),
            cell(&keys, "table_name", 0),
            cell(&keys, "column_name", 0),
            cell(&keys, "key_sequence", 0)
        ),
        (
            "CData".to_owned(),
            "portal_eu".to_owned(),
            "events".to_owned(),
            "Id".to_owned(),
            "1".to_owned()
        )
    );

    // A statement with a secret-looking literal, and a refused password: neither reaches the log.
    let rows = query(
        &mut alice,
        "SELECT COUNT(*) AS n FROM portal_eu.events WHERE title = 'lit-CANARY'",
    )
    .await;
    assert_eq!(cell(&rows, "n", 0), "0");
    let mut intruder = client(&h.uri).await;
    let err = intruder
        .handshake("alice", "pw-CANARY-wrong")
        .await
        .unwrap_err();
    assert!(err.to_string().contains(gateway::BAD_PASSWORD), "{err}");
    h.stop().await.unwrap();

    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("statement user=alice statement=SELECT parameters=0"),
        "{text}"
    );
    assert!(text.contains("authentication refused user=alice"), "{text}");
    assert!(text.contains("outcome=\"complete\""), "{text}");
    for secret in ["CANARY", ALICE.1, common::ETL_TOKEN] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_goes_away_mid_stream_cancels_its_scan_and_shutdown_is_graceful() {
    // 20 slow pages: a full scan takes seconds, the client leaves after the first batch.
    let builder = emulator::Emulator::builder()
        .hubdb_rows(20_000)
        .latency(Duration::from_millis(100));
    let h = Harness::start_with(builder, |mut c| {
        c.shutdown_grace = Duration::from_secs(2);
        c
    })
    .await;
    let mut alice = client(&h.uri).await;
    alice.handshake(ALICE.0, ALICE.1).await.unwrap();
    let info = alice
        .execute("SELECT * FROM portal_eu.events".to_owned(), None)
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let mut stream = alice.do_get(ticket).await.unwrap();
    let first = stream.try_next().await.unwrap().unwrap();
    assert!(first.num_rows() > 0);
    drop(stream);
    drop(alice);
    // Long enough for the whole scan (20 pages × 100 ms) had it gone on.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pages = h
        .emu
        .hubspot()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/rows"))
        .count();
    // A few pages were read ahead (HTTP/2 flow-control buffers), never the whole table.
    assert!(
        pages < 10,
        "{pages} of 20 pages were read after the client left"
    );
    // The ticket cannot be read twice.
    let mut again = client(&h.uri).await;
    again.handshake(ALICE.0, ALICE.1).await.unwrap();
    let err = again.do_get(info.endpoint[0].ticket.clone().unwrap()).await;
    let err = match err {
        Ok(s) => s.try_collect::<Vec<_>>().await.unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("no result for this ticket"), "{err}");
    let started = std::time::Instant::now();
    h.stop().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_with_a_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl makes the test certificate");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let files = gateway::TlsFiles {
        certificate: cert.clone(),
        key,
    };
    let h = Harness::start_with(emulator::Emulator::builder(), move |mut c| {
        c.tls = Some(files);
        c
    })
    .await;
    assert!(h.uri.starts_with("grpc+tls://127.0.0.1:"), "{}", h.uri);
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(&cert).unwrap()))
        .domain_name("localhost");
    let channel = Endpoint::from_shared(format!("https://{}", h.addr))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut alice = FlightSqlServiceClient::new(channel);
    alice.handshake(ALICE.0, ALICE.1).await.unwrap();
    let rows = query(
        &mut alice,
        "SELECT COUNT(*) AS n FROM acton_main.List_Customers",
    )
    .await;
    assert_eq!(cell(&rows, "n", 0), "2500");
    h.stop().await.unwrap();

    // A key that is not PEM is refused at start, naming the file.
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a key").unwrap();
    let accounts = gateway::Accounts::new(Vec::new()).unwrap_err();
    assert_eq!(
        accounts.to_string(),
        "no connections to serve: the profiles file defines no profile"
    );
    let emu = emulator::Emulator::builder().start().await.unwrap();
    let profiles = dir.path().join("profiles.toml");
    std::fs::write(&profiles, common::profiles_text(&emu, "tls-bad")).unwrap();
    let config = gateway::Config {
        tls: Some(gateway::TlsFiles {
            certificate: cert,
            key: bad.clone(),
        }),
        allow_anonymous: true,
        ..Default::default()
    };
    let err = gateway::Gateway::bind(
        config,
        gateway::Accounts::from_profiles(&profiles).unwrap(),
        gateway::Users::none(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "TLS key {}: not a PEM file (no -----BEGIN line)",
            bad.display()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn anonymous_access_only_on_loopback_and_only_when_asked() {
    let emu = emulator::Emulator::builder().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles.toml");
    std::fs::write(&profiles, common::profiles_text(&emu, "anon")).unwrap();
    let accounts = || gateway::Accounts::from_profiles(&profiles).unwrap();

    let mut open = gateway::Config::new("0.0.0.0:0".parse().unwrap());
    open.allow_anonymous = true;
    let err = gateway::Gateway::bind(open, accounts(), gateway::Users::none())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "anonymous access is only allowed on a loopback address, and 0.0.0.0:0 is not one; give a users file instead"
    );
    let err = gateway::Gateway::bind(
        gateway::Config::default(),
        accounts(),
        gateway::Users::none(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no users: pass --users FILE (or --allow-anonymous on a loopback address)"
    );

    let local = gateway::Config {
        allow_anonymous: true,
        ..Default::default()
    };
    let gw = gateway::Gateway::bind(local, accounts(), gateway::Users::none())
        .await
        .unwrap();
    let uri = gw.uri();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(gw.serve(async move {
        let _ = stopped.await;
    }));
    let mut anonymous = client(&uri).await;
    let rows = query(&mut anonymous, "SELECT COUNT(*) AS n FROM sys_schemas").await;
    assert_eq!(cell(&rows, "n", 0), "2");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// When the rows requests of one service reached its emulator: `(first, last)` in the
/// emulators' shared clock, milliseconds.
fn row_requests_span(
    requests: &[emulator::RequestRecord],
    rows_path: fn(&str) -> bool,
) -> (i64, i64) {
    let at: Vec<i64> = requests
        .iter()
        .filter(|r| rows_path(&r.path))
        .map(|r| r.at_ms)
        .collect();
    assert!(!at.is_empty(), "no row requests in {requests:?}");
    (*at.iter().min().unwrap(), *at.iter().max().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_union_across_two_accounts_reads_both_at_once() {
    // Every page takes 150 ms: read one account after the other, their requests could not
    // overlap in time.
    let builder = emulator::Emulator::builder().latency(Duration::from_millis(150));
    let h = Harness::start(builder).await;
    let mut alice = client(&h.uri).await;
    alice.handshake(ALICE.0, ALICE.1).await.unwrap();
    let sql = "SELECT 'portal_eu' AS account, title AS name FROM portal_eu.events \
               UNION ALL SELECT 'acton_main', ContactId FROM acton_main.List_Customers";

    // Prepared through the Rust client: the schemas come back before anything is read.
    let mut prepared = alice.prepare(sql.to_owned(), None).await.unwrap();
    let result: Vec<String> = prepared
        .dataset_schema()
        .unwrap()
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect();
    assert_eq!(result, ["account: Utf8", "name: Utf8"]);
    assert_eq!(prepared.parameter_schema().unwrap().fields().len(), 0);
    // What the emulators logged so far is the session's table lists, read on first use.
    h.emu.hubspot().clear_requests();
    h.emu.acton().clear_requests();

    let info = prepared.execute().await.unwrap();
    let batches: Vec<RecordBatch> = alice
        .do_get(info.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let mut per_account = std::collections::BTreeMap::<String, usize>::new();
    for batch in &batches {
        let accounts = batch.column_by_name("account").unwrap();
        for row in 0..batch.num_rows() {
            *per_account
                .entry(arrow_cast_string(accounts, row))
                .or_default() += 1;
        }
    }
    assert_eq!(
        per_account.into_iter().collect::<Vec<_>>(),
        [
            ("acton_main".to_owned(), 2500),
            ("portal_eu".to_owned(), 2500)
        ]
    );

    // Each account's first page was asked for before the other account's last one: the two
    // scans ran side by side (in sequence, one would start only after the other ended).
    let hubdb = row_requests_span(&h.emu.hubspot().requests(), |p| p.ends_with("/rows"));
    let acton = row_requests_span(&h.emu.acton().requests(), |p| p == "/api/1/list/l-0001");
    assert!(
        hubdb.0 < acton.1 && acton.0 < hubdb.1,
        "HubDB pages {hubdb:?}, Act-On pages {acton:?} (ms)"
    );
    h.stop().await.unwrap();
}
