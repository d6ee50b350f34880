//! What lives between two calls of one client: results waiting for their `DoGet`, and
//! prepared statements with their bound parameters. Each entry belongs to the user who made it;
//! another user presenting its handle is told it does not exist.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use source_core::Value;

use crate::error::Result;

/// A result not fetched within this time is dropped (its scan never started).
const PENDING_TTL: Duration = Duration::from_secs(5 * 60);

/// A statement's result, waiting for the client's `DoGet`.
pub(crate) struct Pending {
    pub(crate) owner: String,
    pub(crate) result: sql::QueryResult,
    created: Instant,
}

/// A prepared statement: its text and the parameter rows last bound.
#[derive(Clone)]
pub(crate) struct Prepared {
    pub(crate) owner: String,
    pub(crate) sql: String,
    pub(crate) params: Vec<Vec<Value>>,
}

#[derive(Default)]
pub(crate) struct Store {
    pending: Mutex<HashMap<String, Pending>>,
    prepared: Mutex<HashMap<String, Prepared>>,
}

impl Store {
    /// Keeps `result` for `owner`; the returned handle goes into the ticket.
    pub(crate) fn park(&self, owner: &str, result: sql::QueryResult) -> Result<String> {
        let handle = crate::users::random_token()?;
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|_, p| p.created.elapsed() < PENDING_TTL);
        pending.insert(
            handle.clone(),
            Pending {
                owner: owner.to_owned(),
                result,
                created: Instant::now(),
            },
        );
        Ok(handle)
    }

    /// Takes the result of `handle` if `owner` parked it.
    pub(crate) fn take(&self, owner: &str, handle: &str) -> Option<Pending> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.get(handle) {
            Some(p) if p.owner == owner => pending.remove(handle),
            _ => None,
        }
    }

    pub(crate) fn prepare(&self, owner: &str, sql: String) -> Result<String> {
        let handle = crate::users::random_token()?;
        let mut prepared = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        prepared.insert(
            handle.clone(),
            Prepared {
                owner: owner.to_owned(),
                sql,
                params: Vec::new(),
            },
        );
        Ok(handle)
    }

    pub(crate) fn prepared(&self, owner: &str, handle: &str) -> Option<Prepared> {
        let prepared = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        prepared.get(handle).filter(|p| p.owner == owner).cloned()
    }

    /// Binds parameter rows to a prepared statement; false when it is not `owner`'s.
    pub(crate) fn bind(&self, owner: &str, handle: &str, params: Vec<Vec<Value>>) -> bool {
        let mut prepared = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        match prepared.get_mut(handle) {
            Some(p) if p.owner == owner => {
                p.params = params;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn close(&self, owner: &str, handle: &str) {
        let mut prepared = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        if prepared.get(handle).is_some_and(|p| p.owner == owner) {
            prepared.remove(handle);
        }
    }
}
