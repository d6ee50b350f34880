//! Faults: 5xx and 429 are retried, a refused static token is reported, timeouts.

use emulator::{Fault, FaultKind, FaultTarget};
use source_core::{DataSource, ScanRequest};

use crate::common::{builder, read, rows, scan_error, source};

#[tokio::test]
async fn server_errors_and_resets_are_retried() {
    let emu = builder().acton_records(2500).start().await.unwrap();
    let s = source(&emu, "");
    s.table("List_Customers").await.unwrap();
    emu.acton()
        .inject(Fault::status(503, 2).on(FaultTarget::Api));
    emu.acton()
        .inject(Fault::new(FaultKind::Reset, 1).on(FaultTarget::Api));
    let batches = read(&s, "List_Customers", ScanRequest::all()).await;
    assert_eq!(rows(&batches), 2500);
    assert_eq!(emu.acton().stats().faults_injected, 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_429_pauses_and_retries_after_retry_after() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    emu.acton()
        .inject(Fault::too_many_requests(Some(1), 1).on(FaultTarget::Api));
    let started = std::time::Instant::now();
    let batches = read(&s, "Users", ScanRequest::all()).await;
    assert_eq!(rows(&batches), 3);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let statuses: Vec<u16> = emu.acton().requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200]);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_refused_static_token_is_reported_not_retried_forever() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    emu.acton().revoke_tokens();
    let err = scan_error(&s, "Users", ScanRequest::all()).await;
    let text = err.to_string();
    assert!(text.contains("Act-On reading `Users`"), "{text}");
    assert!(text.contains("OAuthAccessToken"), "{text}");
    assert_eq!(emu.acton().requests().len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn api_errors_name_the_view_and_status() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let err = scan_error(
        &s,
        "Reports",
        ScanRequest::all().filter(source_core::Filter::new(
            "MessageId",
            source_core::Op::Eq,
            "s-9999-9999",
        )),
    )
    .await;
    assert_eq!(
        err.to_string(),
        "Act-On reading `Reports`: HTTP 400: message `s-9999-9999` does not exist or was deleted \
         (Act-On error 10030: Invalid or deleted message); reports exist for SENT and TRIGGERED \
         messages: SELECT Id FROM Messages WHERE Type = 'SENT'"
    );
    assert_eq!(err.kind(), source_core::ErrorKind::NotFound);
    let acton = err
        .source_error()
        .and_then(|e| e.downcast_ref::<source_acton::Error>());
    assert_eq!(acton.and_then(source_acton::Error::status), Some(400));
    assert_eq!(acton.and_then(source_acton::Error::code), Some("10030"));
    emu.shutdown().await;
}
