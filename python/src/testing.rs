//! Both emulators inside the extension, for tests and demos (`connector.testing.Emulator`).
//!
//! They run on the extension's runtime, so they keep answering while Python code blocks
//! (for example in `urllib.request` playing the browser of the OAuth web flow).

use std::sync::Mutex;
use std::time::Duration;

use pyo3::prelude::*;

use crate::errors::{Class, DbError};
use crate::runtime;

/// The HubSpot and Act-On emulators on loopback ports. Use `connector.testing.Emulator`,
/// which wraps this class.
#[pyclass(module = "connector._native", name = "Emulator", frozen)]
pub(crate) struct Emulator {
    running: Mutex<Option<emulator::Emulator>>,
    info_json: String,
}

fn failed(e: impl std::fmt::Display) -> PyErr {
    DbError::new(Class::Operational, format!("emulator: {e}")).into()
}

impl Emulator {
    fn with<T>(&self, f: impl FnOnce(&emulator::Emulator) -> T) -> PyResult<T> {
        let guard = self.running.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(emu) => Ok(f(emu)),
            None => Err(DbError::new(Class::Interface, "the emulator is stopped").into()),
        }
    }
}

#[pymethods]
impl Emulator {
    /// Starts both emulators. `auto_approve`: the authorization pages redirect at once to the
    /// callback with a code (no login form). `hubdb_rows` / `acton_records`: generated rows
    /// of the HubDB `events` table and the Act-On `Customers` list (2,500 each by default).
    /// `latency_ms`: added to every API answer. `token_ttl_s`: access-token lifetime.
    #[new]
    #[pyo3(signature = (auto_approve=true, hubdb_rows=None, acton_records=None, seed=None, latency_ms=None, token_ttl_s=None))]
    fn new(
        py: Python<'_>,
        auto_approve: bool,
        hubdb_rows: Option<u64>,
        acton_records: Option<u64>,
        seed: Option<u64>,
        latency_ms: Option<u64>,
        token_ttl_s: Option<u64>,
    ) -> PyResult<Self> {
        let mut builder = emulator::Emulator::builder().auto_approve(auto_approve);
        if let Some(s) = token_ttl_s {
            builder = builder.token_ttl(Duration::from_secs(s));
        }
        if let Some(n) = hubdb_rows {
            builder = builder.hubdb_rows(n);
        }
        if let Some(n) = acton_records {
            builder = builder.acton_records(n);
        }
        if let Some(s) = seed {
            builder = builder.seed(s);
        }
        if let Some(ms) = latency_ms {
            builder = builder.latency(Duration::from_millis(ms));
        }
        let emu = runtime::block_on(py, builder.start())?.map_err(failed)?;
        let info_json = serde_json::to_string(&emu.connection_info()).map_err(failed)?;
        Ok(Self {
            running: Mutex::new(Some(emu)),
            info_json,
        })
    }

    /// The connection details as JSON (what `connector emulator` prints).
    #[getter]
    fn info_json(&self) -> String {
        self.info_json.clone()
    }

    /// One service's counters (`hubspot` or `acton`) as JSON.
    fn stats_json(&self, service: &str) -> PyResult<String> {
        let stats = self.with(|emu| match service {
            "hubspot" => Ok(emu.hubspot().stats()),
            "acton" => Ok(emu.acton().stats()),
            other => Err(unknown_service(other)),
        })??;
        serde_json::to_string(&stats).map_err(failed)
    }

    /// One service's request log as JSON (oldest first).
    fn requests_json(&self, service: &str) -> PyResult<String> {
        let requests = self.with(|emu| match service {
            "hubspot" => Ok(emu.hubspot().requests()),
            "acton" => Ok(emu.acton().requests()),
            other => Err(unknown_service(other)),
        })??;
        serde_json::to_string(&requests).map_err(failed)
    }

    /// Makes the next `count` matching requests of `service` answer HTTP `status`.
    /// `target`: `api` (data endpoints), `token` (token endpoints) or `any`.
    #[pyo3(signature = (service, status, count, target="api"))]
    fn inject_status(&self, service: &str, status: u16, count: u32, target: &str) -> PyResult<()> {
        let target = match target {
            "api" => emulator::FaultTarget::Api,
            "token" => emulator::FaultTarget::Token,
            "any" => emulator::FaultTarget::Any,
            other => {
                return Err(DbError::new(
                    Class::Programming,
                    format!("unknown fault target {other:?}: use api, token or any"),
                )
                .into());
            }
        };
        let fault = emulator::Fault::status(status, count).on(target);
        self.with(|emu| match service {
            "hubspot" => {
                emu.hubspot().inject(fault);
                Ok(())
            }
            "acton" => {
                emu.acton().inject(fault);
                Ok(())
            }
            other => Err(unknown_service(other)),
        })?
    }

    /// Queues a fault given as the JSON of `POST /_emulator/faults` (e.g.
    /// `{"kind":"delay","ms":500,"count":1,"target":"token"}`).
    fn inject_json(&self, service: &str, fault: &str) -> PyResult<()> {
        let fault: emulator::Fault = serde_json::from_str(fault).map_err(|e| {
            DbError::new(Class::Programming, format!("not a fault description: {e}"))
        })?;
        self.with(|emu| match service {
            "hubspot" => {
                emu.hubspot().inject(fault);
                Ok(())
            }
            "acton" => {
                emu.acton().inject(fault);
                Ok(())
            }
            other => Err(unknown_service(other)),
        })?
    }

    /// Stops both emulators and waits for them (idempotent).
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(emu) = running {
            runtime::block_on(py, emu.shutdown())?;
        }
        Ok(())
    }

    /// Whether `stop()` was called.
    #[getter]
    fn stopped(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }
}

fn unknown_service(name: &str) -> PyErr {
    DbError::new(
        Class::Programming,
        format!("unknown service {name:?}: use hubspot or acton"),
    )
    .into()
}
